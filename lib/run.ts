/**
 * What every notebook opens and closes with. `setup()` returns a NotebookRun: the mode's
 * sizes, a clock for named phases, notes on what ran, and `finish()`, which fails on leaked
 * tensors and prints one "what ran" table (mode, backend, sizes, notes, wall time per phase
 * and in all).
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendReport } from "./backend";
import { showTable, TableCell } from "./plots/table";
import { trainingSeconds } from "./train/clock";
import { RUN_SUMMARY_METADATA } from "./run-metadata";

/** quick: small subsets and few epochs (what tests run); full: the paper's setting. */
export type Mode = "quick" | "full";

/** One timed phase of a notebook. */
export interface PhaseTiming {
  name: string;
  seconds: number;
}

export interface FinishOptions {
  /**
   * Tensors the notebook may leave behind on purpose, with the reason (for example tfjs
   * objects that keep a scalar after dispose()). Default 0: any tensor left is a leak.
   */
  allowedTensors?: number;
  /** Why `allowedTensors` remain; required when it is not 0. */
  reason?: string;
  /** Print the "what ran" table (default true). */
  verbose?: boolean;
}

/** What finish() measured. */
export interface RunSummary {
  mode: Mode;
  backend: string;
  totalSeconds: number;
  /** Of totalSeconds, the time spent inside trainModel. */
  trainingSeconds: number;
  phases: PhaseTiming[];
  tensorsLeft: number;
}

/** A notebook's run: its mode, seed, backend and sizes; times phases and checks leaks at the end. */
export class NotebookRun<S = Record<string, never>> {
  readonly quick: boolean;
  private readonly startedAt = Date.now();
  private readonly tensorsAtStart = tf.memory().numTensors;
  private readonly trainingAtStart = trainingSeconds();
  private readonly timings: PhaseTiming[] = [];
  private readonly notes: Array<[string, TableCell]> = [];
  private finished = false;

  constructor(readonly mode: Mode, readonly seed: number, readonly backend: BackendReport, readonly sizes: S) {
    this.quick = mode === "quick";
  }

  /** Run `work` and add its wall time to phase `name` (phases with one name add up); returns its result. */
  async time<T>(name: string, work: () => T | Promise<T>): Promise<T> {
    if (typeof name !== "string" || name.trim() === "") throw new Error(`run.time: name must be a non-empty string, got ${JSON.stringify(name)}`);
    if (typeof work !== "function") throw new Error(`run.time("${name}"): work must be a function, got ${typeof work}`);
    const t0 = Date.now();
    try {
      return await work();
    } finally {
      this.addSeconds(name, (Date.now() - t0) / 1000);
    }
  }

  /** Add `seconds` to phase `name` (for work timed elsewhere, e.g. a training history's own clock). */
  addSeconds(name: string, seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) throw new Error(`run.addSeconds("${name}"): seconds must be a finite number ≥ 0, got ${seconds}`);
    const phase = this.timings.find((p) => p.name === name);
    if (phase) phase.seconds += seconds;
    else this.timings.push({ name, seconds });
  }

  /** Wall time per phase so far, in the order phases first ran. */
  get phases(): PhaseTiming[] {
    return this.timings.map((p) => ({ ...p }));
  }

  /** Seconds since setup(). */
  elapsedSeconds(): number {
    return (Date.now() - this.startedAt) / 1000;
  }

  /** Seconds spent inside trainModel since setup(). */
  trainingSeconds(): number {
    return trainingSeconds() - this.trainingAtStart;
  }

  /** Record a fact for the "what ran" table (epochs trained, a stopping rule that fired, …); a later note of the same name replaces it. */
  note(name: string, value: TableCell): void {
    const k = this.notes.findIndex(([n]) => n === name);
    if (k >= 0) this.notes[k] = [name, value];
    else this.notes.push([name, value]);
  }

  /** The rows of the "what ran" table. */
  whatRan(): Array<Record<string, TableCell>> {
    const total = this.elapsedSeconds();
    const rows: Array<Record<string, TableCell>> = [
      { what: "mode", value: `${this.mode} (seed ${this.seed})` },
      { what: "backend", value: briefBackend(this.backend) },
    ];
    if (this.sizes && typeof this.sizes === "object") {
      for (const [name, value] of Object.entries(this.sizes as Record<string, unknown>)) rows.push({ what: name, value: formatValue(value) });
    }
    for (const [name, value] of this.notes) rows.push({ what: name, value: typeof value === "number" ? String(value) : value });
    const share = (seconds: number): string => `${formatSeconds(seconds)} (${((100 * seconds) / Math.max(total, 1e-9)).toFixed(0)} %)`;
    for (const p of this.timings) rows.push({ what: `time: ${p.name}`, value: share(p.seconds) });
    rows.push({ what: "time inside trainModel", value: share(this.trainingSeconds()) });
    rows.push({ what: "wall time in all", value: formatSeconds(total) });
    return rows;
  }

  /**
   * The notebook's last call: throws if tensors leaked (more than `allowedTensors` beyond
   * those alive at setup()), else prints the "what ran" table. Call it once.
   */
  finish(options: FinishOptions = {}): RunSummary {
    if (this.finished) throw new Error("run.finish() was already called: call it once, in the notebook's last cell");
    const allowed = options.allowedTensors ?? 0;
    if (!Number.isInteger(allowed) || allowed < 0) throw new Error(`run.finish: allowedTensors must be an integer ≥ 0, got ${allowed}`);
    if (allowed > 0 && !options.reason) throw new Error("run.finish: say why tensors remain (reason) when allowedTensors is not 0");
    const left = tf.memory().numTensors - this.tensorsAtStart;
    if (left > allowed) {
      throw new Error(`the notebook leaked ${left - allowed} tensor(s): ${left} left since setup()${allowed ? `, ${allowed} allowed (${options.reason})` : ""}`);
    }
    this.finished = true;
    const summary: RunSummary = { mode: this.mode, backend: this.backend.name, totalSeconds: this.elapsedSeconds(), trainingSeconds: this.trainingSeconds(), phases: this.phases, tensorsLeft: left };
    if (options.verbose ?? true) {
      const kept = allowed ? `; ${left} kept on purpose: ${options.reason}` : "";
      showTable(this.whatRan(), { title: `What ran (${this.mode} mode)`, note: `tensors left: ${left}${kept}`, metadata: { [RUN_SUMMARY_METADATA]: summary } });
      console.log(`tensors left: ${left} · wall time ${formatSeconds(summary.totalSeconds)}`);
    }
    return summary;
  }
}

/** 75 → "75 s", 754 → "12.6 min", 7540 → "2.09 h". */
export function formatSeconds(seconds: number): string {
  if (seconds < 100) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  if (seconds < 6000) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(2)} h`;
}

/** One short line for the "what ran" table (setup() already printed the full report): "wasm (SIMD, native kernels × 2)". */
function briefBackend(b: BackendReport): string {
  const parts: string[] = [];
  if (b.simd !== undefined) parts.push(b.simd ? "SIMD" : "no SIMD");
  if (b.threads !== undefined && b.threads > 1) parts.push(`${b.threads} wasm threads`);
  if (b.nativeThreads !== undefined) parts.push(`native kernels × ${b.nativeThreads}`);
  return parts.length ? `${b.name} (${parts.join(", ")})` : b.name;
}

/** A "what ran" value as text, so the value column reads left-aligned. */
function formatValue(value: unknown): TableCell {
  if (value === null || value === undefined) return "—";
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "string") return String(value);
  if (Array.isArray(value)) return value.map((v) => String(v)).join(" / ");
  return JSON.stringify(value);
}
