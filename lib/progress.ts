/**
 * Training progress. In a notebook: ONE output that is updated in place (epoch i/n,
 * each loss term, samples/s, ETA), throttled to a few updates a second plus one at
 * every epoch end, ending with a summary line. On the command line: plain lines on
 * stderr, one per epoch (long epochs also get a line every `streamIntervalMs`).
 * `formatProgress` is the pure text part; the reporter only decides when and where.
 */
import { displayBundle, inKernel, newDisplayId } from "./display";

/** What the progress line shows; every field except epoch/numEpochs is optional. */
export interface ProgressState {
  /** A name for the run ("CSAE-L", "layer 2"), shown first. */
  label?: string;
  /** 1-based epoch now running (or just finished). */
  epoch: number;
  numEpochs: number;
  /** Batches done in this epoch, and how many it has. */
  batch?: number;
  batchesPerEpoch?: number;
  /** Latest loss terms read back (epoch means, or running means at a logging point). */
  terms?: Record<string, number>;
  /** Validation terms of the last finished epoch. */
  validation?: Record<string, number>;
  samplesPerSecond?: number;
  /** Seconds since training started. */
  elapsedSeconds?: number;
  /** Estimated seconds left. */
  etaSeconds?: number;
  /** True for the final summary line. */
  done?: boolean;
  /** Why it stopped before numEpochs (final line only). */
  stopReason?: string;
  /** An error that ended training (final line only). */
  error?: string;
}

/** Minimal writable: process.stderr or a test double. */
export interface ProgressWriter {
  write(text: string): unknown;
}

export type ProgressMode = "auto" | "display" | "stream" | "none";

export interface ProgressOptions {
  /**
   * "display": one in-place notebook output (lib/display.ts; collected outside a kernel);
   * "stream": lines on `stream`; "none": silent; "auto" (default): display inside a tslab
   * kernel, else stream when stderr is a terminal, else none.
   */
  mode?: ProgressMode;
  /** Where "stream" lines go (default process.stderr). */
  stream?: ProgressWriter;
  /** Least time between two in-place updates within an epoch (default 500 ms, i.e. ≤ 2/s). */
  minIntervalMs?: number;
  /** Least time between two stream lines within an epoch (default 10 s); epoch ends always print. */
  streamIntervalMs?: number;
  /** Label shown first on every line. */
  label?: string;
  /** Clock in milliseconds (default performance.now); injectable for tests. */
  now?: () => number;
}

/** Format a number for a progress line: 4 significant digits, exponent form when tiny or huge. */
export function formatLossValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "Inf" : "-Inf";
  if (value === 0) return "0";
  const magnitude = Math.abs(value);
  if (magnitude >= 1e5 || magnitude < 1e-3) return value.toExponential(3);
  return Number(value.toPrecision(4)).toString();
}

/** Seconds as m:ss or h:mm:ss (under 10 s with one decimal, e.g. "3.2s"). */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  if (seconds < 10) return `${seconds.toFixed(1)}s`;
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** Samples per second with thousands separators ("12,345 samples/s"). */
function formatRate(samplesPerSecond: number): string {
  const rounded = samplesPerSecond >= 100 ? Math.round(samplesPerSecond) : Number(samplesPerSecond.toPrecision(3));
  return `${rounded.toLocaleString("en-US")} samples/s`;
}

/** Terms as "total 0.123 · rec 0.1 · kl 0.023", total first. */
function formatTerms(terms: Record<string, number>, prefix = ""): string[] {
  const names = Object.keys(terms);
  const ordered = names.includes("total") ? ["total", ...names.filter((n) => n !== "total")] : names;
  return ordered.map((name) => `${prefix}${name} ${formatLossValue(terms[name])}`);
}

/** The one progress line for a state (pure; what both the notebook output and stderr show). */
export function formatProgress(state: ProgressState): string {
  const parts: string[] = [];
  if (state.label) parts.push(state.label);
  if (state.done) {
    let head: string;
    if (state.error) head = `failed in epoch ${state.epoch}/${state.numEpochs}`;
    else if (state.stopReason) head = `stopped after epoch ${state.epoch}/${state.numEpochs}`;
    else head = `done: ${state.epoch} epoch${state.epoch === 1 ? "" : "s"}`;
    if (state.elapsedSeconds !== undefined) head += ` in ${formatDuration(state.elapsedSeconds)}`;
    parts.push(head);
  } else {
    parts.push(`epoch ${state.epoch}/${state.numEpochs}`);
    if (state.batch !== undefined && state.batchesPerEpoch !== undefined) {
      parts.push(`batch ${state.batch}/${state.batchesPerEpoch}`);
    }
  }
  if (state.terms) parts.push(...formatTerms(state.terms));
  if (state.validation) parts.push(...formatTerms(state.validation, "val "));
  if (state.samplesPerSecond !== undefined && Number.isFinite(state.samplesPerSecond) && state.samplesPerSecond > 0) {
    parts.push(formatRate(state.samplesPerSecond));
  }
  if (!state.done) {
    if (state.elapsedSeconds !== undefined) parts.push(`elapsed ${formatDuration(state.elapsedSeconds)}`);
    if (state.etaSeconds !== undefined) parts.push(`ETA ${formatDuration(state.etaSeconds)}`);
  }
  let line = parts.join(" · ");
  if (state.done && state.stopReason) line += ` (${state.stopReason})`;
  if (state.done && state.error) line += `: ${state.error}`;
  return line;
}

/** Receives progress from a training loop and shows it, throttled. */
export interface ProgressReporter {
  readonly mode: Exclude<ProgressMode, "auto">;
  /** An update within an epoch; shown only if enough time passed. Returns true when it was shown. */
  update(state: ProgressState): boolean;
  /** The end of an epoch; always shown. */
  epochEnd(state: ProgressState): void;
  /** The final summary line (state.done is set for you). */
  finish(state: ProgressState): void;
}

/** Resolve "auto" (and defaults) to the concrete mode used now. */
export function resolveProgressMode(mode: ProgressMode = "auto"): Exclude<ProgressMode, "auto"> {
  if (mode !== "auto") return mode;
  if (inKernel()) return "display";
  return process.stderr.isTTY ? "stream" : "none";
}

/** A reporter for one training run (see ProgressOptions for where it writes). */
export function createProgressReporter(options: ProgressOptions = {}): ProgressReporter {
  const mode = resolveProgressMode(options.mode);
  const now = options.now ?? (() => performance.now());
  const minIntervalMs = options.minIntervalMs ?? 500;
  const streamIntervalMs = options.streamIntervalMs ?? 10_000;
  const stream = options.stream ?? process.stderr;
  const label = options.label;
  let displayId: string | null = null;
  // A notebook output appears at once; stream lines within an epoch only after streamIntervalMs.
  let lastShown = mode === "stream" ? now() : -Infinity;

  const show = (state: ProgressState): void => {
    const line = formatProgress(label !== undefined && state.label === undefined ? { ...state, label } : state);
    lastShown = now();
    if (mode === "display") {
      if (displayId === null) {
        displayId = newDisplayId();
        displayBundle({ "text/plain": line }, { displayId });
      } else {
        displayBundle({ "text/plain": line }, { displayId, update: true });
      }
    } else if (mode === "stream") {
      stream.write(line + "\n");
    }
  };

  return {
    mode,
    update(state) {
      if (mode === "none") return false;
      const interval = mode === "display" ? minIntervalMs : streamIntervalMs;
      if (now() - lastShown < interval) return false;
      show(state);
      return true;
    },
    epochEnd(state) {
      if (mode !== "none") show(state);
    },
    finish(state) {
      if (mode !== "none") show({ ...state, done: true });
    },
  };
}
