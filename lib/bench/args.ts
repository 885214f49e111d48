/**
 * Command-line arguments of `npm run bench` (lib/bench/cli.ts) and of the profiler (lib/bench/profile.ts),
 * read with Node's util.parseArgs; errors name the bad option or value.
 */
import { parseArgs } from "util";
import { BackendName, BackendRequest, BACKEND_PREFERENCE } from "../backend";
import { benchModel, BenchModelId, BENCH_MODEL_IDS, BENCH_MODELS } from "./specs";

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
  /** Times each case runs, ours then PyTorch's in every round; the tables show each case's median round (default 1). */
  rounds: number;
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
  /** Batch sizes every sweep model (CSAE-C, the CNN) is also timed at, ours and PyTorch's (default 32, 64, 128, 256; empty: none). */
  batchSweep: number[];
  /** Measure each engine's matrix-product peak, for GFLOP/s as a fraction of it (default true; --no-peak). */
  peak: boolean;
  /** Sides of the square matrices the peak tries, the best wins (default 512, 1024, 2048; 128, 256 on the cpu backend). */
  peakSizes?: number[];
  help: boolean;
}

export const BENCH_USAGE = `Usage: npm run bench -- [options]

Trains each reference model through lib/train's trainModel on real MNIST, on every
available backend (each case in its own child process), and prints samples/s,
achieved GFLOP/s, peak RSS and tensor counts.

  --samples N          images per timed run (default 12000)
  --batch N            batch size (default 128)
  --lr X               Adam learning rate of the models without a notebook optimiser of their own
                       (issue 3's five; the others train with their notebook's, e.g. CSAE-C: SGD momentum
                       0.9, lr 0.1, weight decay 5e-4) (default 0.001)
  --models a,b         ${BENCH_MODEL_IDS.join(", ")}
                       (default all; short: mlp, cae, cnn, csae, fsae, csaec, encoder)
  --batch-sweep a,b    also time the sweep models (${BENCH_MODELS.filter((m) => m.batchSweep).map((m) => m.id).join(", ")}) at these batch sizes, ours and
                       PyTorch's; "none" for no sweep (default 32,64,128,256)
  --no-peak            do not measure each engine's peak (square matrix products), so no "% of peak"
  --peak-sizes a,b     sides of the peak's square matrices, the fastest wins (default 512,1024,2048;
                       128,256 on the cpu backend)
  --backends a,b       ${BACKEND_PREFERENCE.join(", ")} (default all; one that cannot start is reported as skipped)
  --warmup N           untimed single-batch steps first (default 3)
  --max-seconds S      cap each timed run at about S seconds from the warm-up rate, 0 = no cap (default 60)
  --min-seconds S      repeat each timed epoch until S seconds have passed, ours and PyTorch's alike, so
                       that short runs are not timed at a burst clock (default 3)
  --rounds N           run every case N times, model by model, ours then PyTorch's in each round; the tables
                       show each case's median round (the lower middle for an even N), the notes each case's
                       range and its ratio to PyTorch round by round (default 1)
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

/** Batch sizes of the sweep (issue 18: CSAE-C and the CNN from 32 to 256). */
export const DEFAULT_BATCH_SWEEP: readonly number[] = [32, 64, 128, 256];

/** Defaults of every option. */
export function defaultBenchArgs(): BenchArgs {
  return {
    samples: 12_000, batchSize: 128, learningRate: 1e-3, models: [...BENCH_MODEL_IDS], backends: [...BACKEND_PREFERENCE],
    warmupSteps: 3, maxSeconds: 60, minSeconds: 3, rounds: 1, cpuSamples: 1024, cpuMaxSeconds: 60, seed: 0, compareTorch: false, torchThreads: [2], wasmThreads: [1],
    native: ["off", "on"], writeReadme: false, batchSweep: [...DEFAULT_BATCH_SWEEP], peak: true, help: false,
  };
}

/** How one command-line option is read: a switch (present or not) or one that takes a value. */
export interface CommandLineOption {
  type: "boolean" | "string";
  /** One-letter alias (e.g. "h" for -h). */
  short?: string;
}

/** One option as given, under its long name (without "--"); `value` is true for a switch. */
export interface CommandLineValue {
  name: string;
  /** The flag as typed (e.g. "-h", "--batch"), for error messages. */
  flag: string;
  value: string | true;
}

/**
 * Read argv with Node's util.parseArgs (`--flag value`, `--flag=value`, short aliases) into the
 * options given, in order (a repeated option appears twice; the caller's last assignment wins).
 * Errors name the flag: unknown options, a switch given a value, an option missing its value,
 * stray positional arguments.
 */
export function readCommandLine(argv: readonly string[], options: Record<string, CommandLineOption>): CommandLineValue[] {
  const { tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  const values: CommandLineValue[] = [];
  for (const token of tokens) {
    if (token.kind === "positional") throw new Error(`unexpected argument ${JSON.stringify(token.value)} (see --help)`);
    if (token.kind === "option-terminator") throw new Error(`unexpected argument "--" (see --help)`);
    const option = Object.prototype.hasOwnProperty.call(options, token.name) ? options[token.name] : undefined;
    if (!option) throw new Error(`unknown option ${JSON.stringify(token.rawName)} (see --help)`);
    if (option.type === "boolean") {
      if (token.value !== undefined) throw new Error(`${token.rawName} takes no value`);
      values.push({ name: token.name, flag: token.rawName, value: true });
    } else {
      if (token.value === undefined) throw new Error(`${token.rawName} needs a value`);
      values.push({ name: token.name, flag: token.rawName, value: token.value });
    }
  }
  return values;
}

/** `text` as an integer ≥ `min`, or an error naming `flag`. */
export function integerOption(flag: string, text: string, min: number): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isInteger(value) || value < min) {
    throw new Error(`${flag} must be an integer ≥ ${min}, got ${JSON.stringify(text)}`);
  }
  return value;
}

/** `text` as a finite number > 0, or an error naming `flag`. */
export function positiveNumberOption(flag: string, text: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value <= 0) throw new Error(`${flag} must be a positive number, got ${JSON.stringify(text)}`);
  return value;
}

/** A comma-separated list (blanks dropped), or an error naming `flag` when it is empty. */
export function listOption(flag: string, text: string): string[] {
  const items = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (items.length === 0) throw new Error(`${flag} needs a comma-separated list, got ${JSON.stringify(text)}`);
  return items;
}

/** Images in MNIST's training split, the most a run can use. */
const MNIST_TRAINING_IMAGES = 60_000;

const BENCH_OPTIONS: Record<string, CommandLineOption> = {
  samples: { type: "string" }, batch: { type: "string" }, lr: { type: "string" }, models: { type: "string" }, backends: { type: "string" },
  warmup: { type: "string" }, "max-seconds": { type: "string" }, "min-seconds": { type: "string" }, rounds: { type: "string" }, "cpu-samples": { type: "string" },
  "cpu-max-seconds": { type: "string" }, seed: { type: "string" }, "torch-threads": { type: "string" }, "wasm-threads": { type: "string" },
  native: { type: "string" }, python: { type: "string" }, readme: { type: "string" }, json: { type: "string" }, "from-json": { type: "string" },
  "batch-sweep": { type: "string" }, "peak-sizes": { type: "string" }, "no-peak": { type: "boolean" },
  "compare-torch": { type: "boolean" }, "write-readme": { type: "boolean" }, help: { type: "boolean", short: "h" },
};

/** Parse the arguments after `npm run bench --`; unknown flags and bad values fail with the flag's name. */
export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const args = defaultBenchArgs();
  for (const option of readCommandLine(argv, BENCH_OPTIONS)) {
    if (option.value === true) {
      if (option.name === "compare-torch") args.compareTorch = true;
      else if (option.name === "write-readme") args.writeReadme = true;
      else if (option.name === "no-peak") args.peak = false;
      else args.help = true;
      continue;
    }
    const flag = `--${option.name}`;
    const value = option.value;
    switch (option.name) {
      case "samples":
        args.samples = integerOption(flag, value, 1);
        if (args.samples > MNIST_TRAINING_IMAGES) throw new Error(`--samples must be at most ${MNIST_TRAINING_IMAGES} (the MNIST training split), got ${args.samples}`);
        break;
      case "batch": args.batchSize = integerOption(flag, value, 1); break;
      case "lr": args.learningRate = positiveNumberOption(flag, value); break;
      case "models": {
        const ids = listOption(flag, value).map((m) => {
          try {
            return benchModel(m).id;
          } catch (error) {
            throw new Error(`--models: ${(error as Error).message}`);
          }
        });
        args.models = [...new Set(ids)];
        break;
      }
      case "backends": {
        const names = listOption(flag, value).map((b) => {
          if (!(BACKEND_PREFERENCE as readonly string[]).includes(b)) {
            throw new Error(`--backends: unknown backend ${JSON.stringify(b)}; expected ${BACKEND_PREFERENCE.join(", ")}`);
          }
          return b as BackendName;
        });
        args.backends = [...new Set(names)];
        break;
      }
      case "warmup": args.warmupSteps = integerOption(flag, value, 0); break;
      case "max-seconds": args.maxSeconds = integerOption(flag, value, 0); break;
      case "min-seconds": args.minSeconds = integerOption(flag, value, 0); break;
      case "rounds": args.rounds = integerOption(flag, value, 1); break;
      case "cpu-samples": args.cpuSamples = integerOption(flag, value, 1); break;
      case "cpu-max-seconds": args.cpuMaxSeconds = integerOption(flag, value, 0); break;
      case "seed": args.seed = integerOption(flag, value, 0); break;
      case "torch-threads": args.torchThreads = [...new Set(listOption(flag, value).map((t) => integerOption(flag, t, 1)))]; break;
      case "wasm-threads": args.wasmThreads = [...new Set(listOption(flag, value).map((t) => integerOption(flag, t, 1)))]; break;
      case "native": {
        const modes = listOption(flag, value).map((m) => {
          if (m !== "off" && m !== "on") throw new Error(`--native: expected "off" and/or "on", got ${JSON.stringify(m)}`);
          return m as "off" | "on";
        });
        args.native = [...new Set(modes)];
        break;
      }
      case "batch-sweep":
        args.batchSweep = value.trim() === "none" ? [] : [...new Set(listOption(flag, value).map((b) => integerOption(flag, b, 1)))].sort((a, b) => a - b);
        break;
      case "peak-sizes": args.peakSizes = [...new Set(listOption(flag, value).map((v) => integerOption(flag, v, 1)))]; break;
      case "python": args.python = value; break;
      case "readme": args.readme = value; break;
      case "json": args.json = value; break;
      case "from-json": args.fromJson = value; break;
    }
  }
  return args;
}

/** Everything the profiler (lib/bench/profile.ts) can be told. */
export interface ProfileArgs {
  /** Hand-built models to profile kernel by kernel: mlp, cae, cnn (default all three). */
  models: string[];
  /** Timed training steps per model; 0 = none (default 5). */
  steps: number;
  batchSize: number;
  /** Default wasm. */
  backend: BackendRequest;
  /** Run without this project's wasm kernels. */
  stock: boolean;
  /** Also train through trainModel on this many samples (with `bench`: default 2048). */
  train?: number;
  /** Print the kernel table of the timed trainModel epoch. */
  profileTrain: boolean;
  /** Split each kernel's time by its input shapes. */
  shapes: boolean;
  /** Reference models of the bench (lib/bench/specs.ts) to train instead of `models`. */
  bench?: BenchModelId[];
  help: boolean;
}

export const PROFILE_USAGE = `Usage: npx ts-node --transpile-only lib/bench/profile.ts [options]

Where a training step's time goes on one backend, kernel by kernel, split into forward,
backward and optimiser phases.

  --models a,b       hand-built models to profile: mlp, cae, cnn (default all three)
  --steps N          timed training steps per model, 0 = none (default 5)
  --batch N          batch size (default 128)
  --backend NAME     ${BACKEND_PREFERENCE.join(", ")} or auto (default wasm)
  --stock            without this project's wasm kernels (tfjs-backend-wasm's own, where it has them)
  --train N          also train through trainModel on N samples and print samples/s
  --profile-train    with --train or --bench: the kernel table of the timed epoch
  --shapes           split each kernel's time by its input shapes
  --bench a,b        train the bench's reference models (${BENCH_MODEL_IDS.join(", ")}; short: mlp, cae, cnn,
                     csae, fsae) through trainModel instead (--train N samples, default 2048)
  -h, --help         this text`;

const PROFILE_OPTIONS: Record<string, CommandLineOption> = {
  models: { type: "string" }, steps: { type: "string" }, batch: { type: "string" }, backend: { type: "string" }, train: { type: "string" },
  bench: { type: "string" }, stock: { type: "boolean" }, "profile-train": { type: "boolean" }, shapes: { type: "boolean" }, help: { type: "boolean", short: "h" },
};

/** Defaults of every profiler option. */
export function defaultProfileArgs(): ProfileArgs {
  return { models: ["mlp", "cae", "cnn"], steps: 5, batchSize: 128, backend: "wasm", stock: false, profileTrain: false, shapes: false, help: false };
}

/** Parse the profiler's arguments; unknown flags and bad values fail with the flag's name. */
export function parseProfileArgs(argv: readonly string[]): ProfileArgs {
  const args = defaultProfileArgs();
  for (const option of readCommandLine(argv, PROFILE_OPTIONS)) {
    const flag = `--${option.name}`;
    if (option.value === true) {
      if (option.name === "stock") args.stock = true;
      else if (option.name === "profile-train") args.profileTrain = true;
      else if (option.name === "shapes") args.shapes = true;
      else args.help = true;
      continue;
    }
    const value = option.value;
    switch (option.name) {
      case "models": args.models = [...new Set(listOption(flag, value))]; break;
      case "steps": args.steps = integerOption(flag, value, 0); break;
      case "batch": args.batchSize = integerOption(flag, value, 1); break;
      case "backend":
        if (value !== "auto" && !(BACKEND_PREFERENCE as readonly string[]).includes(value)) {
          throw new Error(`--backend: unknown backend ${JSON.stringify(value)}; expected ${BACKEND_PREFERENCE.join(", ")} or auto`);
        }
        args.backend = value as BackendRequest;
        break;
      case "train":
        args.train = integerOption(flag, value, 1);
        if (args.train > MNIST_TRAINING_IMAGES) throw new Error(`--train must be at most ${MNIST_TRAINING_IMAGES} (the MNIST training split), got ${args.train}`);
        break;
      case "bench":
        args.bench = [...new Set(listOption(flag, value).map((m) => {
          try {
            return benchModel(m).id;
          } catch (error) {
            throw new Error(`--bench: ${(error as Error).message}`);
          }
        }))];
        break;
    }
  }
  return args;
}
