/**
 * Keep lib/dist current before kernels start: notebooks import "autoencoder-notebooks" (lib/), which
 * resolves to the compiled build. Runs the project's own tsc (incremental).
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

/** Run `tsc -p tsconfig.build.json` with the project's TypeScript under this Node. */
export function buildLib(options: BuildOptions = {}): BuildResult {
  const root = options.root ?? projectRoot();
  const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");
  const started = Date.now();
  const run = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], {
    cwd: root,
    encoding: "utf8",
    timeout: options.timeoutMs ?? 300_000,
    killSignal: "SIGKILL",
  });
  const output = `${run.stdout ?? ""}${run.stderr ?? ""}${run.error ? `\n${run.error.message}` : ""}`.trim();
  return { ok: run.status === 0 && !run.error, output, elapsedMs: Date.now() - started };
}
