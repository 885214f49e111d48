/**
 * Make sense of a failed tslab cell. Our patched tslab (lib/runner/tslab-patch) sends a
 * Jupyter `error` output whose traceback names the cell line ("  line L | source", a caret
 * under the column for compile errors); that is read first. An unpatched tslab puts the
 * explanation only on the stderr stream, either TypeScript diagnostics ("L:C - message",
 * L and C 1-based within the cell, or "file L:C - message" for another file) or a JavaScript stack trace whose line
 * numbers refer to the compiled code ("evalmachine.<anonymous>:N" plus the offending
 * compiled line when the error is synchronous).
 */
import { CellError } from "./outputs";

/** Where in the cell the error points, when it can be told. */
export interface SourceLocation {
  /** 1-based line within the cell source. */
  line: number;
  /** 1-based column, when known. */
  column?: number;
  /** The source line itself. */
  text: string;
}

export interface CellErrorInfo {
  /** One-line summary: the first diagnostic or the thrown error's "Name: message". */
  message: string;
  location: SourceLocation | null;
}

const DIAGNOSTIC = /^(?:(\S+) )?(\d+):(\d+) - (.*)$/;
const SYNC_SNIPPET = /evalmachine\.<anonymous>:\d+\r?\n(.*)\r?\n\s*\^/;
const ERROR_LINE = /^(?:Uncaught )?([A-Za-z_$][\w$]*(?:Error|Exception)|Error)(?: \[[^\]]*\])?: .*/;

/** The cell's line `line` (1-based) as a location, or null when out of range. */
function lineAt(source: string, line: number, column?: number): SourceLocation | null {
  const lines = source.split(/\r?\n/);
  if (line < 1 || line > lines.length) return null;
  return { line, column, text: lines[line - 1] };
}

/** Find the cell line that the compiled snippet came from (statement text usually survives compilation). */
function findSnippet(source: string, snippet: string): SourceLocation | null {
  const wanted = snippet.trim().replace(/;$/, "");
  if (wanted.length < 3) return null;
  const lines = source.split(/\r?\n/);
  const exact = lines.findIndex((line) => line.trim().replace(/;$/, "") === wanted);
  const index = exact >= 0 ? exact : lines.findIndex((line) => line.includes(wanted));
  return index >= 0 ? { line: index + 1, text: lines[index] } : null;
}

const CONTEXT_LINE = /^\s*line (\d+) \| /;
const CARET_LINE = /^\s*\| ( *)\^\s*$/;

/** The message and cell line of a Jupyter `error` output from the patched tslab. */
export function explainErrorOutput(source: string, error: CellError): CellErrorInfo {
  const message = `${error.ename}: ${error.evalue}`;
  const at = error.traceback.findIndex((text) => CONTEXT_LINE.test(text));
  if (at < 0) return { message, location: null };
  const line = Number(CONTEXT_LINE.exec(error.traceback[at])?.[1]);
  const caret = CARET_LINE.exec(error.traceback[at + 1] ?? "");
  return { message, location: lineAt(source, line, caret ? caret[1].length + 1 : undefined) };
}

/** Read the error message and, where possible, the offending cell line out of the error output or tslab's stderr. */
export function explainCellError(source: string, stderr: string, error: CellError | null = null): CellErrorInfo {
  if (error) return explainErrorOutput(source, error);
  const lines = stderr.split(/\r?\n/);
  for (const text of lines) {
    const match = DIAGNOSTIC.exec(text);
    if (!match) continue;
    const [, file, line, column, message] = match;
    if (file) return { message: `${file}:${line}:${column} - ${message}`, location: null };
    return { message: `${line}:${column} - ${message}`, location: lineAt(source, Number(line), Number(column)) };
  }
  const errorLine = lines.find((text) => ERROR_LINE.test(text.trim()));
  const message = errorLine?.trim() ?? (lines.find((text) => text.trim() !== "")?.trim() || "the cell failed (tslab printed nothing)");
  const snippet = SYNC_SNIPPET.exec(stderr);
  return { message, location: snippet ? findSnippet(source, snippet[1]) : null };
}
