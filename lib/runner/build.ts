/**
 * Keep lib/dist current before kernels start: notebooks import "autoencoder-notebooks" (lib/), which
 * resolves to the compiled build. Runs the project's own tsc in build mode (`tsc -b`): when no input
 * is newer than lib/dist's build info it stops after comparing timestamps (about 1 s) instead of
 * re-reading every source as `tsc -p` does (about 5 s of CPU); otherwise it compiles as `-p` would,
 * emitting despite type errors and reporting them (again on every run until they are fixed).
 */
import { spawnSync } from "child_process";
import * as path from "path";
import { projectRoot } from "./kernel-command";

export interface BuildOptions {
  /** Project root (default: found from this file). */
  root?: string;
  /** Limit for the compiler (default 5 min). */
  timeoutMs?: number;
}

export interface BuildResult {
  ok: boolean;
  /** Compiler output (type errors), empty when clean. */
  output: string;
  elapsedMs: number;
}

/** Run `tsc -b tsconfig.build.json` with the project's TypeScript under this Node. */
export function buildLib(options: BuildOptions = {}): BuildResult {
  const root = options.root ?? projectRoot();
  const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");
  const started = Date.now();
  const run = spawnSync(process.execPath, [tsc, "-b", "tsconfig.build.json"], {
    cwd: root,
    encoding: "utf8",
    timeout: options.timeoutMs ?? 300_000,
    killSignal: "SIGKILL",
  });
  const output = `${run.stdout ?? ""}${run.stderr ?? ""}${run.error ? `\n${run.error.message}` : ""}`.trim();
  return { ok: run.status === 0 && !run.error, output, elapsedMs: Date.now() - started };
}
