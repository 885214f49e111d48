/**
 * The one setup call at the top of every notebook: mode, seed and backend, reported
 * in one line. Nothing in lib/ does work on import; this is where it starts.
 */
import { initBackend, BackendName, BackendReport } from "./backend";
import { seedGlobalRandom } from "./random";
import { Mode, NotebookRun } from "./run";
import { inKernel } from "./display";
import { warmKernelPng } from "./plots/png-kernel";


export interface SetupOptions {
  /** Seed for shuffles, subsets and tfjs's unseeded initialisers (default 0). */
  seed?: number;
  /** Force a backend; default "auto", or the AE_BACKEND environment variable. */
  backend?: BackendName | "auto";
  /** wasm threads (a count or "auto"); default the AE_WASM_THREADS environment variable, else one thread. */
  threads?: number | "auto";
  /** Default: the AE_MODE environment variable (set by the runner), else "quick". */
  mode?: Mode;
  /** Print the one-line report (default true). */
  verbose?: boolean;
  /**
   * Retrain every cached model (ae.cachedModel) in this kernel instead of loading it: true sets AE_FRESH=1 for
   * the process, false sets it to 0; default: the AE_FRESH environment variable (`npm run notebooks -- --fresh` sets it).
   */
  fresh?: boolean;
}

/** setup()'s options with the notebook's sizes per mode: `sizes: { quick: { train: 2000 }, full: { train: 60000 } }`. */
export interface SetupWithSizes<S> extends SetupOptions {
  sizes: { quick: S; full: S };
}

/** What setup() returns: mode, seed, backend, the mode's sizes, phase timing and finish() (see run.ts). */
export type SetupResult<S = Record<string, never>> = NotebookRun<S>;

/** Parse a mode name, failing loudly on anything else. */
export function parseMode(value: string, source = "mode"): Mode {
  if (value === "quick" || value === "full") return value;
  throw new Error(`${source} must be "quick" or "full", got ${JSON.stringify(value)}`);
}

/** The mode asked for by the environment (AE_MODE), default quick. */
export function modeFromEnv(env: NodeJS.ProcessEnv = process.env): Mode {
  const value = env.AE_MODE;
  return value === undefined || value === "" ? "quick" : parseMode(value, "AE_MODE");
}

let lastSetup: NotebookRun<unknown> | null = null;

/** Choose mode, seed every random source and pick the backend; prints what it chose and returns the notebook's run. */
export async function setup<S>(options: SetupWithSizes<S>): Promise<NotebookRun<S>>;
export async function setup(options?: SetupOptions): Promise<NotebookRun>;
export async function setup<S>(options: SetupOptions & { sizes?: { quick: S; full: S } } = {}): Promise<NotebookRun<S>> {
  const mode = options.mode ?? modeFromEnv();
  parseMode(mode);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new Error(`setup: seed must be an integer, got ${seed}`);
  seedGlobalRandom(seed);
  if (options.sizes !== undefined) checkSizes(options.sizes);
  if (options.fresh !== undefined) {
    if (typeof options.fresh !== "boolean") throw new Error(`setup: fresh must be true or false, got ${JSON.stringify(options.fresh)}`);
    process.env.AE_FRESH = options.fresh ? "1" : "0";
  }
  if (inKernel()) warmKernelPng(); // chromium starts for the figures' PNGs while the notebook goes on
  const backend = await initBackend({ backend: options.backend, threads: options.threads });
  const run = new NotebookRun<S>(mode, seed, backend, (options.sizes ? options.sizes[mode] : {}) as S);
  lastSetup = run;
  if (options.verbose ?? true) {
    const fresh = process.env.AE_FRESH === "1" ? " · fresh: every cached model is retrained" : "";
    console.log(`mode: ${mode} · seed: ${seed} · backend: ${backend.name} (${backend.reason})${fresh}`);
  }
  return run;
}

function checkSizes(sizes: unknown): void {
  const s = sizes as { quick?: unknown; full?: unknown };
  if (typeof sizes !== "object" || sizes === null || s.quick === undefined || s.full === undefined) {
    throw new Error(`setup: sizes must be { quick: …, full: … } (the notebook's sizes per mode), got ${JSON.stringify(sizes)}`);
  }
}

/** The result of the last `setup` call, or an error that says to call it first. */
export function currentSetup(): NotebookRun<unknown> {
  if (!lastSetup) throw new Error("setup() has not run yet: call `await ae.setup()` at the top of the notebook");
  return lastSetup;
}

/** Pick by mode: `byMode({ quick: 2, full: 50 })`. */
export function byMode<T>(values: { quick: T; full: T }, mode: Mode = currentSetup().mode): T {
  return values[mode];
}
