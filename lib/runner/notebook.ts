/**
 * Read, validate and write Jupyter notebooks (nbformat 4, written as 4.5).
 * In memory every multi-line field is one string; on disk sources, stream text and
 * text MIME data are lists of lines, keys are sorted, indent is 1 and the file ends
 * with a newline, exactly like Jupyter's own writer. Writes are atomic.
 */
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { KERNEL_DISPLAY_NAME, KERNEL_NAME } from "./kernel-command";
import { makeDirectory } from "./output-check";

export type JsonObject = Record<string, unknown>;

/** One output of a code cell, as nbformat stores it (multi-line strings joined in memory). */
export type NotebookOutput = JsonObject & { output_type: "stream" | "display_data" | "execute_result" | "error" };

interface CellBase extends JsonObject {
  id: string;
  metadata: JsonObject;
  source: string;
}

export interface CodeCell extends CellBase {
  cell_type: "code";
  execution_count: number | null;
  outputs: NotebookOutput[];
}

export interface TextCell extends CellBase {
  cell_type: "markdown" | "raw";
}

export type Cell = CodeCell | TextCell;

export interface Notebook extends JsonObject {
  nbformat: 4;
  nbformat_minor: number;
  metadata: JsonObject;
  cells: Cell[];
}

/** A notebook file that cannot be read or is not valid nbformat 4; names the file and the problem. */
export class NotebookError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = "NotebookError";
  }
}

const OUTPUT_TYPES = new Set(["stream", "display_data", "execute_result", "error"]);
const CELL_ID_PATTERN = /^[a-zA-Z0-9-_]{1,64}$/;

/** The kernelspec every notebook of this project runs with. */
export const KERNELSPEC_METADATA = { name: KERNEL_NAME, display_name: KERNEL_DISPLAY_NAME, language: "typescript" };

/** language_info for TypeScript as tslab reports it (minus tslab's meaningless version string). */
export const LANGUAGE_INFO_METADATA = {
  name: "typescript",
  file_extension: ".ts",
  mimetype: "text/typescript",
  codemirror_mode: { mode: "typescript", name: "javascript", typescript: true },
};

/** True for MIME types whose payload is JSON and must never be split into lines. */
export function isJsonMime(mime: string): boolean {
  return mime === "application/json" || (mime.startsWith("application/") && mime.endsWith("+json"));
}

/** MIME types that nbformat stores as a list of lines. */
function isSplitMime(mime: string): boolean {
  return mime.startsWith("text/") || mime === "application/javascript" || mime === "image/svg+xml";
}

/** Python's str.splitlines(keepends=True), which nbformat uses to write multi-line strings. */
export function splitLines(text: string): string[] {
  return text.match(/[^\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029]*(?:\r\n|[\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029]|$)/g)?.filter((line) => line !== "") ?? [];
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** A multi-line field: a string or a list of strings (joined); anything else is an error. */
function joinMultiline(value: unknown, where: string, file: string): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value) && value.every((line) => typeof line === "string")) return value.join("");
  throw new NotebookError(file, `${where} must be a string or a list of strings, got ${describe(value)}`);
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing (missing)";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  return `a ${typeof value}`;
}

/** Join the line lists of a MIME bundle, leaving JSON types and non-string payloads alone. */
function rejoinBundle(bundle: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [mime, value] of Object.entries(bundle)) {
    out[mime] = !isJsonMime(mime) && Array.isArray(value) && value.every((line) => typeof line === "string") ? value.join("") : value;
  }
  return out;
}

/** Validate one stored output and join its multi-line fields. */
function readOutput(raw: unknown, where: string, file: string): NotebookOutput {
  if (!isObject(raw)) throw new NotebookError(file, `${where} must be an object, got ${describe(raw)}`);
  const type = raw.output_type;
  if (typeof type !== "string" || !OUTPUT_TYPES.has(type)) {
    throw new NotebookError(file, `${where} has output_type ${JSON.stringify(type)}; expected one of ${[...OUTPUT_TYPES].join(", ")}`);
  }
  const output = { ...raw } as NotebookOutput;
  if (type === "stream") output.text = joinMultiline(raw.text, `${where}.text`, file);
  if (type === "display_data" || type === "execute_result") {
    if (!isObject(raw.data)) throw new NotebookError(file, `${where}.data must be an object (a MIME bundle), got ${describe(raw.data)}`);
    output.data = rejoinBundle(raw.data);
    output.metadata = isObject(raw.metadata) ? raw.metadata : {};
  }
  return output;
}

/**
 * Validate one stored cell, join its multi-line fields and make sure it has an id.
 * `seenIds` holds the ids of earlier cells (duplicates are an error); `takenIds` every id
 * in the file, so that a generated id never collides with a later cell.
 */
function readCell(raw: unknown, index: number, file: string, seenIds: Set<string>, takenIds: Set<string>): Cell {
  const where = `cell ${index}`;
  if (!isObject(raw)) throw new NotebookError(file, `${where} must be an object, got ${describe(raw)}`);
  const type = raw.cell_type;
  if (type !== "code" && type !== "markdown" && type !== "raw") {
    throw new NotebookError(file, `${where} has cell_type ${JSON.stringify(type)}; expected "code", "markdown" or "raw"`);
  }
  if (raw.metadata !== undefined && !isObject(raw.metadata)) throw new NotebookError(file, `${where}.metadata must be an object, got ${describe(raw.metadata)}`);
  const cell = { ...raw, metadata: raw.metadata ?? {}, source: joinMultiline(raw.source, `${where}.source`, file) } as Cell;
  if (raw.id !== undefined) {
    if (typeof raw.id !== "string" || !CELL_ID_PATTERN.test(raw.id)) {
      throw new NotebookError(file, `${where}.id must be 1-64 letters, digits, '-' or '_', got ${JSON.stringify(raw.id)}`);
    }
    if (seenIds.has(raw.id)) throw new NotebookError(file, `${where}.id ${JSON.stringify(raw.id)} is used by an earlier cell; cell ids must be unique`);
  }
  cell.id = typeof raw.id === "string" ? raw.id : newCellId(takenIds);
  seenIds.add(cell.id);
  takenIds.add(cell.id);
  if (cell.cell_type === "code") {
    const outputs = raw.outputs ?? [];
    if (!Array.isArray(outputs)) throw new NotebookError(file, `${where}.outputs must be a list, got ${describe(outputs)}`);
    cell.outputs = outputs.map((output, k) => readOutput(output, `${where} output ${k}`, file));
    const count = raw.execution_count ?? null;
    if (count !== null && (typeof count !== "number" || !Number.isInteger(count))) {
      throw new NotebookError(file, `${where}.execution_count must be an integer or null, got ${JSON.stringify(count)}`);
    }
    cell.execution_count = count;
  }
  return cell;
}

/** A cell id (8 hex digits, like nbformat's) not yet in `usedIds`. */
export function newCellId(usedIds: ReadonlySet<string> = new Set()): string {
  for (;;) {
    const id = randomBytes(4).toString("hex");
    if (!usedIds.has(id)) return id;
  }
}

/** Parse and validate notebook JSON text; `file` names it in errors. Ids are generated where missing. */
export function parseNotebook(text: string, file: string): Notebook {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new NotebookError(file, `not valid JSON (${(error as Error).message})`);
  }
  if (!isObject(raw)) throw new NotebookError(file, `the top level must be a JSON object, got ${describe(raw)}`);
  if (raw.nbformat !== 4) throw new NotebookError(file, `nbformat must be 4, got ${JSON.stringify(raw.nbformat) ?? "nothing"}`);
  const minor = raw.nbformat_minor ?? 0;
  if (typeof minor !== "number" || !Number.isInteger(minor) || minor < 0) {
    throw new NotebookError(file, `nbformat_minor must be a non-negative integer, got ${JSON.stringify(minor)}`);
  }
  if (raw.metadata !== undefined && !isObject(raw.metadata)) throw new NotebookError(file, `metadata must be an object, got ${describe(raw.metadata)}`);
  if (!Array.isArray(raw.cells)) throw new NotebookError(file, `cells must be a list, got ${describe(raw.cells)}`);
  const takenIds = new Set(raw.cells.flatMap((cell) => (isObject(cell) && typeof cell.id === "string" ? [cell.id] : [])));
  const seenIds = new Set<string>();
  const cells = raw.cells.map((cell, index) => readCell(cell, index, file, seenIds, takenIds));
  return { ...raw, nbformat: 4, nbformat_minor: Math.max(5, minor), metadata: raw.metadata ?? {}, cells };
}

/** Read and validate a notebook file; a missing or malformed file throws NotebookError. */
export function readNotebook(file: string): Notebook {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new NotebookError(file, code === "ENOENT" ? "no such file" : `cannot be read (${(error as Error).message})`);
  }
  return parseNotebook(text, file);
}

/** Set the project's kernelspec and TypeScript language_info where the notebook has none. */
export function ensureKernelMetadata(notebook: Notebook): Notebook {
  if (!isObject(notebook.metadata.kernelspec)) notebook.metadata.kernelspec = { ...KERNELSPEC_METADATA };
  if (!isObject(notebook.metadata.language_info)) notebook.metadata.language_info = structuredClone(LANGUAGE_INFO_METADATA);
  return notebook;
}

/** Split a MIME bundle's text payloads into lines, as nbformat writes them. */
function splitBundle(bundle: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [mime, value] of Object.entries(bundle)) out[mime] = typeof value === "string" && isSplitMime(mime) ? splitLines(value) : value;
  return out;
}

/** The on-disk shape of one cell (lists of lines; transient output fields dropped). */
function cellForDisk(cell: Cell): JsonObject {
  const out: JsonObject = { ...cell, source: splitLines(cell.source) };
  if (isObject(cell.attachments)) {
    out.attachments = Object.fromEntries(Object.entries(cell.attachments).map(([name, bundle]) => [name, isObject(bundle) ? splitBundle(bundle) : bundle]));
  }
  if (cell.cell_type === "code") {
    out.outputs = cell.outputs.map((output) => {
      const { transient: _transient, ...stored } = output;
      if (stored.output_type === "stream" && typeof stored.text === "string") return { ...stored, text: splitLines(stored.text) };
      if (isObject(stored.data)) return { ...stored, data: splitBundle(stored.data) };
      return stored;
    });
  }
  return out;
}

/** Recursively sort object keys (Python's json.dumps(sort_keys=True) order for BMP keys). */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const key of Object.keys(value).sort()) {
    if (value[key] !== undefined) out[key] = sortKeys(value[key]);
  }
  return out;
}

/** The notebook as Jupyter writes it: sorted keys, indent 1, lists of lines, trailing newline. */
export function serializeNotebook(notebook: Notebook): string {
  const disk = { ...notebook, cells: notebook.cells.map(cellForDisk) };
  return `${JSON.stringify(sortKeys(disk), null, 1)}\n`;
}

/** Write text to `file` atomically: a temp file in the same folder, fsync, then rename over it. */
export function writeFileAtomic(file: string, text: string): void {
  const dir = path.dirname(path.resolve(file));
  makeDirectory(dir); // never fs.mkdirSync(…, { recursive: true }): it spins forever under /proc
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    const fd = fs.openSync(temp, "w", 0o644);
    try {
      fs.writeFileSync(fd, text, "utf8");
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, file);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
}

/** Serialise and atomically write a notebook. */
export function writeNotebook(file: string, notebook: Notebook): void {
  writeFileAtomic(file, serializeNotebook(notebook));
}
