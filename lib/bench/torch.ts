/**
 * The optional PyTorch side of the bench: find a Python whose `import torch` works, run
 * lib/bench/torch_bench.py once per model (a fresh process each, like our cases) and read its JSON.
 * Tests never depend on this.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { mnistFiles } from "../data/mnist";
import type { TimedRun } from "./run";
import { BenchModelId } from "./specs";

/** Interpreters tried in order: `python3` on PATH (may be a pyenv one without torch), then Debian's. */
export const PYTHON_CANDIDATES: readonly string[] = ["python3", "/usr/bin/python3"];

/** What torch_bench.py --info reports. */
export interface TorchInfo {
  python: string;
  torchVersion: string;
  threads: number;
  blas: {
    build: Record<string, string>;
    dnn: string[];
    mkldnnAvailable: boolean;
    mappedLibraries: string[];
    parallel: string[];
  };
}

/** One model trained in PyTorch (its CPU seconds count all threads; OpenMP threads may spin while waiting). */
export interface TorchRow extends TimedRun {
  threads: number;
  warmupSteps: number;
  warmupSeconds: number;
  /** Last epoch's loss; null when it diverged (a note says so). */
  loss: number | null;
  torchVersion: string;
  python: string;
  /** The optimiser in words (absent in results saved before issue 18). */
  optimizer?: string;
}

/** A Python with torch, or the reasons none was found. */
export type TorchFinding = { ok: true; python: string } | { ok: false; reason: string };

/** The first interpreter (`explicit`, else PYTHON_CANDIDATES) whose `import torch` works. */
export function findTorchPython(explicit?: string): TorchFinding {
  const candidates = explicit ? [explicit] : [...PYTHON_CANDIDATES];
  const failures: string[] = [];
  for (const python of candidates) {
    const result = spawnSync(python, ["-c", "import torch"], { encoding: "utf8", timeout: 120_000 });
    if (result.error) {
      failures.push(`${python}: ${(result.error as NodeJS.ErrnoException).code === "ENOENT" ? "not found" : result.error.message}`);
      continue;
    }
    if (result.status === 0) return { ok: true, python };
    const lastLine = (result.stderr || "").trim().split("\n").pop() ?? `exit ${result.status}`;
    failures.push(`${python}: ${lastLine}`);
  }
  return { ok: false, reason: `no Python with torch (${failures.join("; ")}); on Debian: apt-get install python3-torch` };
}

/** Where torch_bench.py is (next to this file, or in lib/bench when running from lib/dist). */
export function torchScriptPath(): string {
  const candidates = [path.join(__dirname, "torch_bench.py"), path.resolve(__dirname, "../../bench/torch_bench.py")];
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`torch_bench.py not found (looked in ${candidates.join(", ")})`);
  return found;
}

/** The last line of stdout parsed as JSON, or an error carrying stderr's tail. */
function runScript(python: string, args: string[], timeoutSeconds: number): unknown {
  const result = spawnSync(python, [torchScriptPath(), ...args], { encoding: "utf8", timeout: timeoutSeconds * 1000, maxBuffer: 16 * 1024 * 1024 });
  if (result.error) throw new Error(`${python} torch_bench.py: ${result.error.message}`);
  if (result.status !== 0) {
    const tail = (result.stderr || "").trim().split("\n").slice(-3).join(" | ");
    throw new Error(`${python} torch_bench.py exited with ${result.status ?? result.signal}: ${tail}`);
  }
  const lines = result.stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

/** torch version, threads and BLAS of `python`. */
export function torchInfo(python: string, threads: number): TorchInfo {
  const info = runScript(python, ["--info", "--threads", String(threads)], 120) as Omit<TorchInfo, "python">;
  return { python, ...info };
}

/** PyTorch's matrix-product peak with `threads` threads: torch.mm on two size×size float32 matrices per size, minSeconds in all (the fastest product of the best size, and its mean). */
export function torchPeak(python: string, threads: number, sizes: readonly number[], minSeconds: number): { size: number; reps: number; seconds: number; gflopsPerSecond: number; meanGflopsPerSecond: number; threads: number } {
  return runScript(python, ["--peak", sizes.join(","), "--threads", String(threads), "--min-seconds", String(minSeconds)], 300) as ReturnType<typeof torchPeak>;
}

/** The weight counts of models' PyTorch twins (parameters plus batch norm's running statistics, as ours counts), built but not trained, in one Python process. */
export function torchParamCounts(python: string, models: readonly BenchModelId[]): Record<string, number> {
  const out = runScript(python, ["--params-only", models.join(","), "--threads", "1"], 300) as { params: Record<string, number> };
  return out.params;
}

/** Options of one PyTorch case (the same meaning as our BenchCaseOptions). */
export interface TorchCaseOptions {
  model: BenchModelId;
  samples: number;
  batchSize: number;
  learningRate: number;
  warmupSteps: number;
  maxSeconds: number;
  /** Repeat the timed epoch until this many seconds have passed. */
  minSeconds: number;
  threads: number;
  seed: number;
}

/** Train one model in PyTorch (a fresh Python process) on the same MNIST IDX files. */
export function runTorchCase(python: string, options: TorchCaseOptions): TorchRow {
  const files = mnistFiles({ dataset: "mnist", split: "train" });
  const args = [
    "--model", options.model, "--samples", String(options.samples), "--batch", String(options.batchSize),
    "--lr", String(options.learningRate), "--warmup", String(options.warmupSteps), "--max-seconds", String(options.maxSeconds),
    "--min-seconds", String(options.minSeconds),
    "--threads", String(options.threads), "--seed", String(options.seed), "--images", files.images, "--labels", files.labels,
  ];
  const limit = options.maxSeconds > 0 ? options.maxSeconds * 3 + options.minSeconds + 300 : 24 * 3600;
  return runScript(python, args, limit) as TorchRow;
}
