/**
 * The one setup call at the top of every notebook: mode, seed and backend, reported
 * in one line. Nothing in lib/ does work on import; this is where it starts.
 */
import { initBackend, BackendName, BackendReport } from "./backend";
import { seedGlobalRandom } from "./random";
import { inKernel } from "./display";
import { warmKernelPng } from "./plots/png-kernel";

/** quick: small subsets and few epochs (what tests run); full: the paper's setting. */
export type Mode = "quick" | "full";

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
}

export interface SetupResult {
  mode: Mode;
  /** Shorthand for mode === "quick". */
  quick: boolean;
  seed: number;
  backend: BackendReport;
}

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

let lastSetup: SetupResult | null = null;

/** Choose mode, seed every random source and pick the backend; prints what it chose. */
export async function setup(options: SetupOptions = {}): Promise<SetupResult> {
  const mode = options.mode ?? modeFromEnv();
  parseMode(mode);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new Error(`setup: seed must be an integer, got ${seed}`);
  seedGlobalRandom(seed);
  if (inKernel()) warmKernelPng(); // chromium starts for the figures' PNGs while the notebook goes on
  const backend = await initBackend({ backend: options.backend, threads: options.threads });
  lastSetup = { mode, quick: mode === "quick", seed, backend };
  if (options.verbose ?? true) {
    console.log(`mode: ${mode} · seed: ${seed} · backend: ${backend.name} (${backend.reason})`);
  }
  return lastSetup;
}

/** The result of the last `setup` call, or an error that says to call it first. */
export function currentSetup(): SetupResult {
  if (!lastSetup) throw new Error("setup() has not run yet: call `await ae.setup()` at the top of the notebook");
  return lastSetup;
}

/** Pick by mode: `byMode({ quick: 2, full: 50 })`. */
export function byMode<T>(values: { quick: T; full: T }, mode: Mode = currentSetup().mode): T {
  return values[mode];
}
