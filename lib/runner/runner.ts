/**
 * Run notebooks headlessly on the project's tslab kernel: execute code cells in
 * order, record outputs, execution counts and timing, stop at the first failing
 * cell (or on timeout / Ctrl-C), save what ran atomically and always stop the kernel.
 *
 * What a stopped run saves: every cell that ran keeps its fresh outputs (the failing
 * or interrupted cell too, with whatever arrived before it stopped); every code cell
 * after it gets empty outputs and execution_count null, so the saved file never mixes
 * fresh outputs with stale ones from an earlier run.
 */
import * as path from "path";
import { ExecuteStatus } from "./client";
import { CellErrorInfo, explainCellError, SourceLocation } from "./errors";
import { RunningKernel, startKernel } from "./kernel";
import { projectRoot } from "./kernel-command";
import { CodeCell, ensureKernelMetadata, Notebook, NotebookError, readNotebook, writeNotebook } from "./notebook";
import { CellOutputs, DisplayRegistry } from "./outputs";
import { checkOutputLocation } from "./output-check";
import { dropFigureHtml, PngFiller, PngFillResult } from "./plot-png";
import { PNG_OFF, PNG_SERVICE_ENV, startPngService } from "./png-service";
import { startTsService, TS_SERVICE_ENV, TsServiceStats } from "./ts-service";
import { anySignal } from "./timeouts";

export type RunMode = "quick" | "full";

/** How a cell ended: the execute status, or "died" when the kernel process exited while it ran. */
export type CellStatus = ExecuteStatus | "died";

/** Default per-cell limits: 10 min in quick mode, 1 h in full mode. */
export const DEFAULT_CELL_TIMEOUT_MS: Record<RunMode, number> = { quick: 600_000, full: 3_600_000 };

export type ProgressEvent =
  | { kind: "notebook-start"; notebook: string; codeCellCount: number }
  | { kind: "kernel-started"; notebook: string; ms: number }
  | { kind: "cell-start"; notebook: string; cellIndex: number; cellCount: number; codeIndex: number; codeCellCount: number; source: string }
  | { kind: "cell-end"; notebook: string; cellIndex: number; cellCount: number; codeIndex: number; codeCellCount: number; ms: number; status: CellStatus };

export interface RunNotebookOptions {
  /** quick or full; sets AE_MODE for the kernel (default "full"). */
  mode?: RunMode;
  /** Where to write the executed notebook (default: the notebook itself). */
  outPath?: string;
  /** Limit for one cell (default 600 s quick / 3600 s full). */
  cellTimeoutMs?: number;
  /** Limit for the kernel to come up, per attempt (default 30 s; a failed start is tried once more). */
  startTimeoutMs?: number;
  /** Render PNGs for Plotly outputs with chromium (default true); false: none, neither here nor in the kernel (unless pngService is given). */
  png?: boolean;
  /** A shared PNG renderer (one warm browser for many notebooks); default: one for this notebook. */
  pngFiller?: PngFiller;
  /** A run's shared PNG service (lib/runner/png-service.ts): the kernel renders its figures' PNGs there instead of starting its own chromium. */
  pngService?: { url: string };
  /** A run's TypeScript service (lib/runner/ts-service.ts): the kernel compiles its cells there (default: $AE_TS_SERVICE where set, else in the kernel). */
  tsService?: { socket: string };
  /** Stops the run (Ctrl-C): the current cell is abandoned, what ran is saved. */
  signal?: AbortSignal;
  /** Extra environment for the kernel (it wins over what png and pngService set; AE_MODE comes from mode). */
  env?: Record<string, string>;
  onProgress?: (event: ProgressEvent) => void;
  /** Where warnings go (default: stderr). */
  warn?: (message: string) => void;
}

/** One executed code cell. */
export interface CellRun {
  cellIndex: number;
  codeIndex: number;
  ms: number;
  status: CellStatus;
  executionCount: number | null;
}

export type FailureKind = "invalid-notebook" | "output" | "kernel-start" | "cell-error" | "cell-aborted" | "timeout" | "interrupted" | "kernel-died" | "save" | "internal";

export interface NotebookFailure {
  kind: FailureKind;
  message: string;
  /** 0-based index among all cells, and among code cells, of the cell that failed. */
  cellIndex?: number;
  codeIndex?: number;
  codeCellCount?: number;
  /** The offending line of the cell, when tslab's output says which. */
  location?: SourceLocation | null;
  /** The traceback of the cell's Jupyter error output, trimmed to the cell's code. */
  traceback?: string[];
  /** What the failing cell wrote to stderr (tslab's diagnostics / stack). */
  stderr?: string;
  /** What the kernel process itself printed (crashes), when anything. */
  kernelOutput?: string;
}

export interface NotebookResult {
  notebook: string;
  outPath: string;
  mode: RunMode;
  ok: boolean;
  /** True when the executed notebook was written to outPath. */
  saved: boolean;
  /** Why saving failed, also when an earlier failure (a failing cell) is the run's `failure`. */
  saveError?: string;
  kernelStartMs: number | null;
  kernelPid: number | null;
  cellCount: number;
  codeCellCount: number;
  cells: CellRun[];
  totalMs: number;
  png: PngFillResult | null;
  failure: NotebookFailure | null;
}

/** Mutable state of one notebook run. */
interface RunState {
  notebook: Notebook;
  result: NotebookResult;
  displays: DisplayRegistry;
  byMsgId: Map<string, CellOutputs>;
  /** Fires on Ctrl-C or when the kernel dies (one combined signal per notebook, not one per cell). */
  stopSignal?: AbortSignal;
}

function defaultWarn(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** Indices of the code cells, in order. */
function codeCellIndices(notebook: Notebook): number[] {
  return notebook.cells.flatMap((cell, index) => (cell.cell_type === "code" ? [index] : []));
}

/** Clear a code cell that did not run in this run. */
function clearCell(cell: CodeCell): void {
  cell.outputs = [];
  cell.execution_count = null;
  delete cell.metadata.execution;
}

/** Timing as JupyterLab records it (tslab sends no execute_input: its busy status marks the start). */
function executionMetadata(outcome: { busyAt?: string; idleAt?: string; replyAt?: string }): Record<string, string> {
  const timing: Record<string, string> = {};
  if (outcome.busyAt) {
    timing["iopub.status.busy"] = outcome.busyAt;
    timing["iopub.execute_input"] = outcome.busyAt;
  }
  if (outcome.replyAt) timing["shell.execute_reply"] = outcome.replyAt;
  if (outcome.idleAt) timing["iopub.status.idle"] = outcome.idleAt;
  return timing;
}

/** The failure record for a cell that did not end "ok". */
function cellFailure(status: CellStatus, kernel: RunningKernel, cell: CodeCell, outputs: CellOutputs, reason: string | undefined): NotebookFailure {
  const explained: CellErrorInfo = explainCellError(cell.source, outputs.stderr, outputs.error);
  const kernelOutput = kernel.processOutput().trim() || undefined;
  switch (status) {
    case "error":
      return { kind: "cell-error", message: explained.message, location: explained.location, traceback: outputs.error?.traceback, stderr: outputs.stderr, kernelOutput };
    case "abort":
      return { kind: "cell-aborted", message: "tslab aborted the request (it arrived right after a failed cell)", stderr: outputs.stderr, kernelOutput };
    case "timeout":
      return { kind: "timeout", message: reason ?? "the cell timed out", stderr: outputs.stderr, kernelOutput };
    case "died": {
      const exit = kernel.exitStatus;
      const how = exit?.signal ? `signal ${exit.signal}` : `exit code ${exit?.code}`;
      return { kind: "kernel-died", message: `the kernel process died while the cell ran (${how})`, stderr: outputs.stderr, kernelOutput };
    }
    default:
      return { kind: "interrupted", message: reason ?? "interrupted", stderr: outputs.stderr, kernelOutput };
  }
}

/** Execute one code cell, recording outputs, count and timing into the notebook; returns its status. */
async function runCell(state: RunState, kernel: RunningKernel, cellIndex: number, codeIndex: number, options: RunNotebookOptions): Promise<CellStatus> {
  const cell = state.notebook.cells[cellIndex] as CodeCell;
  const codeCellCount = state.result.codeCellCount;
  const base = { notebook: state.result.notebook, cellIndex, cellCount: state.notebook.cells.length, codeIndex, codeCellCount };
  clearCell(cell);
  if (cell.source.trim() === "") return "ok"; // like JupyterLab: an empty cell sends nothing and keeps no count
  options.onProgress?.({ kind: "cell-start", ...base, source: cell.source });
  const outputs = new CellOutputs(state.displays);
  cell.outputs = outputs.outputs;
  const outcome = await kernel.client.execute(cell.source, {
    timeoutMs: options.cellTimeoutMs ?? DEFAULT_CELL_TIMEOUT_MS[state.result.mode],
    signal: state.stopSignal,
    onIopub: (message) => outputs.handle(message),
    onSent: (msgId) => state.byMsgId.set(msgId, outputs),
  });
  const status: CellStatus = outcome.status === "interrupted" && !kernel.isAlive() ? "died" : outcome.status;
  cell.outputs = outputs.finalOutputs();
  cell.execution_count = outcome.executionCount;
  cell.metadata.execution = executionMetadata(outcome);
  state.result.cells.push({ cellIndex, codeIndex, ms: outcome.elapsedMs, status, executionCount: outcome.executionCount });
  options.onProgress?.({ kind: "cell-end", ...base, ms: outcome.elapsedMs, status });
  if (status !== "ok") {
    state.result.failure = { ...cellFailure(status, kernel, cell, outputs, outcome.reason), cellIndex, codeIndex, codeCellCount };
  }
  return status;
}

/** Run every code cell in order until one fails; later code cells are cleared. */
async function runCells(state: RunState, kernel: RunningKernel, options: RunNotebookOptions): Promise<void> {
  const indices = codeCellIndices(state.notebook);
  for (let k = 0; k < indices.length; k++) {
    if (options.signal?.aborted) {
      state.result.failure = { kind: "interrupted", message: "interrupted before the cell ran", cellIndex: indices[k], codeIndex: k, codeCellCount: indices.length };
    } else if ((await runCell(state, kernel, indices[k], k, options)) === "ok") {
      continue;
    }
    for (const later of indices.slice(k + 1)) clearCell(state.notebook.cells[later] as CodeCell);
    return;
  }
}

/** Read the notebook, or a result that says why it cannot be run (the file is never touched). */
function loadNotebook(file: string, result: NotebookResult): Notebook | null {
  try {
    return readNotebook(file);
  } catch (error) {
    if (!(error instanceof NotebookError)) throw error;
    result.failure = { kind: "invalid-notebook", message: error.message };
    return null;
  }
}

/** A fresh result record. */
function newResult(file: string, options: RunNotebookOptions): NotebookResult {
  return {
    notebook: file,
    outPath: path.resolve(options.outPath ?? file),
    mode: options.mode ?? "full",
    ok: false,
    saved: false,
    kernelStartMs: null,
    kernelPid: null,
    cellCount: 0,
    codeCellCount: 0,
    cells: [],
    totalMs: 0,
    png: null,
    failure: null,
  };
}

/** Where the kernel gets its figures' PNGs: the run's service if given, else nowhere with png: false (no chromium starts), else its own chromium. */
function kernelPngEnv(options: RunNotebookOptions): Record<string, string> {
  if (options.pngService) return { [PNG_SERVICE_ENV]: options.pngService.url };
  return options.png === false ? { [PNG_SERVICE_ENV]: PNG_OFF } : {};
}

/** Start the kernel in the notebook's folder, recording its start time (null and a failure if it does not start). */
async function startNotebookKernel(file: string, result: NotebookResult, options: RunNotebookOptions): Promise<RunningKernel | null> {
  try {
    const kernel = await startKernel({
      cwd: path.dirname(path.resolve(file)),
      env: { ...kernelPngEnv(options), ...(options.tsService ? { [TS_SERVICE_ENV]: options.tsService.socket } : {}), ...options.env, AE_MODE: result.mode },
      startTimeoutMs: options.startTimeoutMs,
      signal: options.signal,
    });
    result.kernelStartMs = kernel.startMs;
    result.kernelPid = kernel.pid;
    return kernel;
  } catch (error) {
    result.failure = { kind: options.signal?.aborted ? "interrupted" : "kernel-start", message: (error as Error).message };
    return null;
  }
}

/** Fill missing PNGs (not after Ctrl-C: stop fast), drop figures' text/html and write the notebook atomically; write failures are recorded, not thrown. */
async function saveNotebook(state: RunState, options: RunNotebookOptions, filler: PngFiller | null): Promise<void> {
  const { notebook, result } = state;
  try {
    if (filler && !options.signal?.aborted) {
      result.png = await filler.fill(notebook);
      for (const message of result.png.errors) (options.warn ?? defaultWarn)(`warning: ${result.notebook}: a Plotly output got no PNG: ${message}`);
    }
    dropFigureHtml(notebook);
    ensureKernelMetadata(notebook);
    writeNotebook(result.outPath, notebook);
    result.saved = true;
  } catch (error) {
    result.saveError = `could not write ${result.outPath}: ${(error as Error).message}`;
    result.failure ??= { kind: "save", message: result.saveError };
  }
}

/** Execute one notebook on a fresh kernel and save it; never throws for notebook or kernel problems. */
export async function runNotebook(file: string, options: RunNotebookOptions = {}): Promise<NotebookResult> {
  const started = Date.now();
  const result = newResult(file, options);
  const notebook = loadNotebook(file, result);
  if (!notebook) return { ...result, totalMs: Date.now() - started };
  const state: RunState = { notebook, result, displays: new DisplayRegistry(), byMsgId: new Map() };
  result.cellCount = notebook.cells.length;
  result.codeCellCount = codeCellIndices(notebook).length;
  options.onProgress?.({ kind: "notebook-start", notebook: file, codeCellCount: result.codeCellCount });
  const ownFiller = options.png !== false && !options.pngFiller ? new PngFiller({}, options.warn) : null;
  const filler = options.png === false ? null : options.pngFiller ?? ownFiller;
  try {
    // Find an unwritable output now, not after hours of cells.
    const outputProblem = await checkOutputLocation(result.outPath, { signal: options.signal });
    if (outputProblem) {
      result.failure = { kind: options.signal?.aborted ? "interrupted" : "output", message: outputProblem };
      return result;
    }
    const kernel = await startNotebookKernel(file, result, options);
    if (!kernel) return result;
    options.onProgress?.({ kind: "kernel-started", notebook: file, ms: kernel.startMs });
    state.stopSignal = anySignal([kernel.deathSignal, options.signal]);
    kernel.client.onStrayIopub((message, parentId) => state.byMsgId.get(parentId)?.handle(message));
    try {
      await runCells(state, kernel, options);
    } catch (error) {
      result.failure = { kind: "internal", message: `runner error: ${(error as Error).stack ?? error}` };
    } finally {
      const kind = result.failure?.kind;
      await kernel.shutdown({ afterError: kind === "cell-error", force: kind === "timeout" || kind === "interrupted" || kind === "kernel-died" });
    }
    await saveNotebook(state, options, filler);
    result.ok = result.failure === null;
    return result;
  } finally {
    await ownFiller?.close();
    result.totalMs = Date.now() - started;
  }
}

export interface RunNotebooksOptions extends Omit<RunNotebookOptions, "outPath" | "pngFiller" | "pngService" | "tsService"> {
  /** Write each executed notebook into this folder instead of the default place. */
  outDir?: string;
  /** Project root for the default quick-mode folder (default: found from this file). */
  root?: string;
  /** Called as each notebook finishes (to report failures right away). */
  onNotebookDone?: (result: NotebookResult) => void;
}

export interface RunSummary {
  ok: boolean;
  results: NotebookResult[];
  totalMs: number;
  cellsRun: number;
  failures: NotebookResult[];
  slowest: NotebookResult | null;
  /** What the run's own TypeScript service did (kernels, cells compiled), or null where the kernels compiled elsewhere. */
  tsService: TsServiceStats | null;
}

/**
 * Where a run writes a notebook: `outDir/<name>.ipynb` when given; else in place for a
 * full run (what gets committed) and data/quick-runs/<name>.ipynb for a quick run.
 */
export function defaultOutPath(notebook: string, mode: RunMode, outDir?: string, root: string = projectRoot()): string {
  const name = path.basename(notebook);
  if (outDir) return path.resolve(outDir, name);
  return mode === "full" ? path.resolve(notebook) : path.join(root, "data", "quick-runs", name);
}

/** Summarise finished notebook runs. */
export function summarize(results: NotebookResult[], totalMs: number, tsService: TsServiceStats | null = null): RunSummary {
  const failures = results.filter((r) => !r.ok);
  const slowest = results.reduce<NotebookResult | null>((best, r) => (best === null || r.totalMs > best.totalMs ? r : best), null);
  const cellsRun = results.reduce((sum, r) => sum + r.cells.length, 0);
  return { ok: results.length > 0 && failures.length === 0, results, totalMs, cellsRun, failures, slowest, tsService };
}

/** Whether a run of `count` notebooks starts its own TypeScript service: for two or more kernels, unless one is given (AE_TS_SERVICE, set or empty). */
export function wantsTsService(count: number, options: Pick<RunNotebookOptions, "env">, env: NodeJS.ProcessEnv = process.env): boolean {
  return count >= 2 && options.env?.[TS_SERVICE_ENV] === undefined && env[TS_SERVICE_ENV] === undefined;
}

/**
 * Run notebooks one after another with one warm browser for PNGs, shared by the runner and
 * every kernel (through a PNG service), and one TypeScript service that compiles every kernel's
 * cells (the declaration files parsed once); a failed notebook does not stop the next, Ctrl-C does.
 */
export async function runNotebooks(files: string[], options: RunNotebooksOptions = {}): Promise<RunSummary> {
  const started = Date.now();
  const mode = options.mode ?? "full";
  const filler = options.png === false ? undefined : new PngFiller({}, options.warn);
  const results: NotebookResult[] = [];
  const service = filler ? await startPngService(filler) : undefined;
  const tsService = wantsTsService(files.length, options) ? await startTsService().catch((error: Error) => {
    (options.warn ?? defaultWarn)(`each kernel compiles its own cells: ${error.message}`);
    return undefined;
  }) : undefined;
  let tsStats: TsServiceStats | null = null;
  try {
    for (const file of files) {
      if (options.signal?.aborted) break;
      const outPath = defaultOutPath(file, mode, options.outDir, options.root);
      const result = await runNotebook(file, { ...options, mode, outPath, pngFiller: filler, pngService: service, tsService });
      results.push(result);
      options.onNotebookDone?.(result);
    }
    tsStats = tsService ? await tsService.stats().catch(() => null) : null;
  } finally {
    await tsService?.close();
    await service?.close();
    await filler?.close();
  }
  return summarize(results, Date.now() - started, tsStats);
}
