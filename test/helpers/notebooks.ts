/**
 * Run a notebook in quick mode on the real tslab kernel (outputs to a temp dir, the
 * source untouched; figures' PNGs from the test run's one chromium) and read back what
 * it showed, for tests that assert on a notebook's outputs: one test file per notebook
 * uses this.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { inject } from "vitest";
import { requireLibBuild } from "./build";
import { CodeCell, Notebook, NotebookOutput, readNotebook } from "../../lib/runner/notebook";
import { NotebookResult, runNotebook } from "../../lib/runner/runner";

export const ROOT = path.resolve(__dirname, "..", "..");

export interface QuickRun {
  result: NotebookResult;
  notebook: Notebook;
  /** The code cells in order, with their outputs. */
  codeCells: CodeCell[];
  /** Every output of every code cell, in order. */
  outputs: NotebookOutput[];
  /** All stdout of the run, joined. */
  stdout: string;
  /** The text/plain of every rich output, joined by newlines. */
  plainText: string;
  /** The text/markdown of every rich output (tables, printed notes), in order. */
  markdown: string[];
}

/** Join a Jupyter multi-line string (string or list of lines). */
export function joinText(value: unknown): string {
  return Array.isArray(value) ? value.join("") : typeof value === "string" ? value : "";
}

/** Body rows of a Markdown table (after its header row and separator), split into trimmed cells. */
export function tableRows(markdown: string): string[][] {
  return markdown.split("\n").filter((l) => l.startsWith("| ") && !/^\| :?-/.test(l)).slice(1)
    .map((l) => l.slice(2, -2).split(" | ").map((c) => c.trim()));
}

/** Execute `notebook` (a path relative to the repo root) in quick mode; throws with the runner's failure report when a cell fails. */
export async function runQuick(notebook: string, options: { cellTimeoutMs?: number; png?: boolean; env?: Record<string, string> } = {}): Promise<QuickRun> {
  await requireLibBuild();
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), "quick-run-"));
  try {
    const outPath = path.join(outDir, path.basename(notebook));
    // The run's one chromium for figures' PNGs (test/setup/png-service.ts), as `npm run notebooks` shares its own.
    const serviceUrl = inject("pngServiceUrl");
    const result = await runNotebook(path.join(ROOT, notebook), {
      mode: "quick", outPath, cellTimeoutMs: options.cellTimeoutMs, png: options.png, env: options.env, warn: () => {}, pngService: serviceUrl ? { url: serviceUrl } : undefined,
    });
    if (!result.ok) {
      const f = result.failure;
      throw new Error(`${notebook} failed (${f?.kind}) at cell ${f?.cellIndex}: ${f?.message}\n${f?.traceback?.join("\n") ?? ""}\n${f?.stderr ?? ""}`);
    }
    const executed = readNotebook(outPath);
    const codeCells = executed.cells.filter((c): c is CodeCell => c.cell_type === "code");
    const outputs = codeCells.flatMap((c) => c.outputs);
    const stdout = outputs.filter((o) => o.output_type === "stream" && o.name === "stdout").map((o) => joinText(o.text)).join("");
    const plainText = outputs
      .filter((o) => o.output_type === "display_data" || o.output_type === "execute_result")
      .map((o) => joinText((o.data as Record<string, unknown>)["text/plain"]))
      .join("\n");
    const markdown = outputs
      .filter((o) => (o.output_type === "display_data" || o.output_type === "execute_result") && "text/markdown" in ((o.data as object) ?? {}))
      .map((o) => joinText((o.data as Record<string, unknown>)["text/markdown"]));
    return { result, notebook: executed, codeCells, outputs, stdout, plainText, markdown };
  } finally {
    fs.rmSync(outDir, { recursive: true, force: true });
  }
}
