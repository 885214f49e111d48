/**
 * Command-line arguments of `npm run bench` (lib/bench/cli.ts).
 */
import { BackendName, BACKEND_PREFERENCE } from "../backend";
import { benchModel, BenchModelId, BENCH_MODEL_IDS } from "./specs";

/** Everything `npm run bench` can be told. */
export interface BenchArgs {
  /** Images per timed run (default 12,000). */
  samples: number;
  batchSize: number;
  learningRate: number;
  models: BenchModelId[];
  /** In the order they run (default tensorflow, wasm, cpu). */
  backends: BackendName[];
  warmupSteps: number;
  /** Per case, from the warm-up rate; 0 = no cap (default 60). */
  maxSeconds: number;
  /** Each case repeats its timed epoch until this many seconds have passed, ours and PyTorch's alike (default 3). */
  minSeconds: number;
  /** Sample cap on the cpu backend (default 1,024). */
  cpuSamples: number;
  /** Skip a model on cpu when its estimate exceeds this; 0 = never (default 60). */
  cpuMaxSeconds: number;
  seed: number;
  compareTorch: boolean;
  /** torch.set_num_threads values to measure (default [2]; the ratio uses 2 when measured). */
  torchThreads: number[];
  /** wasm thread counts to measure, each its own column (default [1]; 2 uses the threaded build, see lib/accelerate/wasm-threads.ts). */
  wasmThreads: number[];
  /** wasm with the native kernels off and/or on (lib/accelerate/native/addon.ts), each its own column "wasm…" / "wasm+native…" (default both; "on" where the addon is built). */
  native: Array<"off" | "on">;
  /** Python interpreter for the PyTorch side (default: first of python3, /usr/bin/python3 that imports torch). */
  python?: string;
  writeReadme: boolean;
  /** README to write (default README.md in the project root). */
  readme?: string;
  /** Write all results as JSON here. */
  json?: string;
  /** Measure nothing: print (and with --write-readme write) the results saved by an earlier --json. */
  fromJson?: string;
  help: boolean;
}

export const BENCH_USAGE = `Usage: npm run bench -- [options]

Trains each reference model through lib/train's trainModel on real MNIST, on every
available backend (each case in its own child process), and prints samples/s,
achieved GFLOP/s, peak RSS and tensor counts.

  --samples N          images per timed run (default 12000)
  --batch N            batch size (default 128)
  --lr X               Adam learning rate (default 0.001)
  --models a,b         ${BENCH_MODEL_IDS.join(", ")} (default all; short: mlp, cae, cnn, csae, fsae)
  --backends a,b       ${BACKEND_PREFERENCE.join(", ")} (default all; one that cannot start is reported as skipped)
  --warmup N           untimed single-batch steps first (default 3)
  --max-seconds S      cap each timed run at about S seconds from the warm-up rate, 0 = no cap (default 60)
  --min-seconds S      repeat each timed epoch until S seconds have passed, ours and PyTorch's alike, so
                       that short runs are not timed at a burst clock (default 3)
  --cpu-samples N      cap on the slow cpu backend (default 1024)
  --cpu-max-seconds S  skip a model on cpu when its estimate exceeds S, 0 = never (default 60)
  --seed N             weights, noise and shuffles (default 0)
  --compare-torch      also train the same models in PyTorch (python3 with torch) and print ours/torch
  --torch-threads N,M  torch.set_num_threads value(s) to measure (default 2; the ratio uses 2)
  --wasm-threads N,M   thread count(s) to measure, each a column "wasm×N" (default 1); with the
                       native kernels the count is theirs ("wasm+native×N"; wasm then runs 1)
  --native off,on      wasm without and/or with the native kernels (lib/accelerate/native/addon.ts), columns "wasm…"
                       and "wasm+native…" (default off,on; "on" only where npm install built them)
  --python PATH        interpreter for --compare-torch (default: python3, then /usr/bin/python3)
  --write-readme       write the results table into README.md between the bench markers
  --readme PATH        README to write (default: the project's README.md)
  --json FILE          write every result as JSON
  --from-json FILE     measure nothing: print the results an earlier --json saved (with --write-readme: render them into README.md)
  -h, --help           this text`;

/** Defaults of every option. */
export function defaultBenchArgs(): BenchArgs {
  return {
    samples: 12_000, batchSize: 128, learningRate: 1e-3, models: [...BENCH_MODEL_IDS], backends: [...BACKEND_PREFERENCE],
    warmupSteps: 3, maxSeconds: 60, minSeconds: 3, cpuSamples: 1024, cpuMaxSeconds: 60, seed: 0, compareTorch: false, torchThreads: [2], wasmThreads: [1],
    native: ["off", "on"], writeReadme: false, help: false,
  };
}

function integer(flag: string, text: string, min: number): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isInteger(value) || value < min) {
    throw new Error(`${flag} must be an integer ≥ ${min}, got ${JSON.stringify(text)}`);
  }
  return value;
}

function positiveNumber(flag: string, text: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value <= 0) throw new Error(`${flag} must be a positive number, got ${JSON.stringify(text)}`);
  return value;
}

function list(flag: string, text: string): string[] {
  const items = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (items.length === 0) throw new Error(`${flag} needs a comma-separated list, got ${JSON.stringify(text)}`);
  return items;
}

/** Images in MNIST's training split, the most a run can use. */
const MNIST_TRAINING_IMAGES = 60_000;

const VALUE_FLAGS = new Set([
  "--samples", "--batch", "--lr", "--models", "--backends", "--warmup", "--max-seconds", "--min-seconds", "--cpu-samples", "--cpu-max-seconds",
  "--seed", "--torch-threads", "--wasm-threads", "--native", "--python", "--readme", "--json", "--from-json",
]);
const SWITCHES = new Set(["--compare-torch", "--write-readme", "--help", "-h"]);

/** Parse the arguments after `npm run bench --`; unknown flags and bad values fail with the flag's name. */
export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const args = defaultBenchArgs();
  for (let i = 0; i < argv.length; i++) {
    let flag = argv[i];
    let value: string | undefined;
    const eq = flag.indexOf("=");
    if (flag.startsWith("--") && eq > 0) {
      value = flag.slice(eq + 1);
      flag = flag.slice(0, eq);
    }
    if (SWITCHES.has(flag)) {
      if (value !== undefined) throw new Error(`${flag} takes no value`);
      if (flag === "--compare-torch") args.compareTorch = true;
      else if (flag === "--write-readme") args.writeReadme = true;
      else args.help = true;
      continue;
    }
    if (!VALUE_FLAGS.has(flag)) {
      throw new Error(`unknown option ${JSON.stringify(flag)} (see --help)`);
    }
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new Error(`${flag} needs a value`);
      value = argv[++i];
    }
    switch (flag) {
      case "--samples":
        args.samples = integer(flag, value, 1);
        if (args.samples > MNIST_TRAINING_IMAGES) throw new Error(`--samples must be at most ${MNIST_TRAINING_IMAGES} (the MNIST training split), got ${args.samples}`);
        break;
      case "--batch": args.batchSize = integer(flag, value, 1); break;
      case "--lr": args.learningRate = positiveNumber(flag, value); break;
      case "--models": {
        const ids = list(flag, value).map((m) => {
          try {
            return benchModel(m).id;
          } catch (error) {
            throw new Error(`--models: ${(error as Error).message}`);
          }
        });
        args.models = [...new Set(ids)];
        break;
      }
      case "--backends": {
        const names = list(flag, value).map((b) => {
          if (!(BACKEND_PREFERENCE as readonly string[]).includes(b)) {
            throw new Error(`--backends: unknown backend ${JSON.stringify(b)}; expected ${BACKEND_PREFERENCE.join(", ")}`);
          }
          return b as BackendName;
        });
        args.backends = [...new Set(names)];
        break;
      }
      case "--warmup": args.warmupSteps = integer(flag, value, 0); break;
      case "--max-seconds": args.maxSeconds = integer(flag, value, 0); break;
      case "--min-seconds": args.minSeconds = integer(flag, value, 0); break;
      case "--cpu-samples": args.cpuSamples = integer(flag, value, 1); break;
      case "--cpu-max-seconds": args.cpuMaxSeconds = integer(flag, value, 0); break;
      case "--seed": args.seed = integer(flag, value, 0); break;
      case "--torch-threads": args.torchThreads = [...new Set(list(flag, value).map((t) => integer(flag, t, 1)))]; break;
      case "--wasm-threads": args.wasmThreads = [...new Set(list(flag, value).map((t) => integer(flag, t, 1)))]; break;
      case "--native": {
        const modes = list(flag, value).map((m) => {
          if (m !== "off" && m !== "on") throw new Error(`--native: expected "off" and/or "on", got ${JSON.stringify(m)}`);
          return m as "off" | "on";
        });
        args.native = [...new Set(modes)];
        break;
      }
      case "--python": args.python = value; break;
      case "--readme": args.readme = value; break;
      case "--json": args.json = value; break;
      case "--from-json": args.fromJson = value; break;
    }
  }
  return args;
}
