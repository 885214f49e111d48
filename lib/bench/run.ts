/**
 * One bench case: train one reference model on one backend through lib/train's `trainModel`
 * (what notebooks run), after a warm-up, and measure it. Runs in the calling process; the
 * CLI runs each case in a child process (lib/bench/worker.ts) so RSS and backend state are clean.
 */
import * as tf from "@tensorflow/tfjs";
import { BackendName, BackendReport, describeBackend, initBackend } from "../backend";
import { createOptimizer, disposeOptimizer, OptimizerSpec, trainModel, TensorRecord } from "../train";
import { seedGlobalRandom } from "../random";
import { benchModel, BenchModelId, BenchModelSpec } from "./specs";

/** What one case needs. */
export interface BenchCaseOptions extends BenchBackendOptions {
  model: BenchModelId | string;
  /** Images to time (default 12,000: one "epoch-slice"). */
  samples?: number;
  /** Default 128. */
  batchSize?: number;
  /** Adam's learning rate for the models without a notebook optimiser of their own (issue 3's five; default 1e-3). */
  learningRate?: number;
  /** Single-batch steps before timing: kernel compilation, allocation, optimiser state (default 3). */
  warmupSteps?: number;
  /** Cap the timed run at about this many seconds, from the warm-up's rate (0: no cap; default 60). */
  maxSeconds?: number;
  /**
   * Repeat the timed epoch over the same samples until at least this many seconds have passed
   * (default 3), so that fast models are timed at sustained clock, as PyTorch's side is.
   */
  minSeconds?: number;
  /** The cpu backend times at most this many samples (default 1,024). */
  cpuSamples?: number;
  /** Skip a model on cpu when its estimated time (from CPU_BACKEND_GFLOPS) exceeds this (default 60 s; 0: never skip). */
  cpuMaxSeconds?: number;
  /** Seed of the weights, data noise and shuffles (default 0). */
  seed?: number;
  /** (BenchBackendOptions) threads: wasm only, of its XNNPACK pool or with the native kernels theirs (default 1); rows of more than one are labelled "wasm×N" / "wasm+native×N". native: use the native kernels where built (default true; false sets AE_NATIVE=0 in this process); rows with them are labelled "wasm+native". */
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

/** A row's backend: "wasm", "wasm×2", "wasm+native", "wasm+native×2", "cpu", "tensorflow". */
export function benchBackendLabel(report: BackendReport): string {
  if (report.name !== "wasm") return report.name;
  const native = report.nativeThreads !== undefined;
  // With the native kernels the threads that count are theirs (wasm then runs only element-wise kernels).
  const threads = native ? report.nativeThreads ?? 1 : report.threads ?? 1;
  const base = native ? "wasm+native" : "wasm";
  return threads > 1 ? `${base}×${threads}` : base;
}

/** What every timed training run reports, ours and PyTorch's alike. */
export interface TimedRun {
  model: BenchModelId;
  /** Images per timed epoch. */
  samples: number;
  /** Timed epochs over those images (repeated until minSeconds had passed). */
  epochs: number;
  /** Images asked for (before the cpu / time caps). */
  samplesRequested: number;
  batchSize: number;
  /** Seconds of the timed run (all its epochs). */
  seconds: number;
  /** CPU seconds the process used meanwhile (user + system, all its threads). */
  cpuSeconds: number;
  /**
   * cpuSeconds ÷ seconds: ≈ its thread count when it had the cores to itself; well below means
   * other processes took the CPU and the wall-clock rate understates it.
   */
  cpuUtilization: number;
  /** samples × epochs ÷ seconds (ours: trainModel's whole calls: gather, steps and the final read-backs). */
  samplesPerSecond: number;
  params: number;
  /** Peak resident set of the process, MiB. */
  peakRssMiB: number;
  /** Caps and other facts a reader of the number must know. */
  notes: string[];
  /** With `--rounds N` > 1: samples/s of this case in each round, null where that round's run failed (this run is their median; lib/bench/rounds.ts). */
  rounds?: Array<number | null>;
}

/** A measured case of ours. */
export interface BenchRow extends TimedRun {
  title: string;
  /** The backend that actually ran (tf.getBackend() after initBackend). */
  backend: string;
  /** initBackend's report in one line (SIMD, threads, extra kernels, why). */
  backendDescription: string;
  /** Threads the backend computes on (wasm: its pool, cpu: 1; unknown for tensorflow). */
  threads?: number;
  /** trainingFlopsPerSample × samples/s ÷ 1e9. */
  gflopsPerSecond: number;
  trainingFlopsPerSample: number;
  /** The optimiser in words, e.g. "Adam 0.001" or "SGD momentum 0.9, lr 0.1, weight decay 0.0005" (absent in results saved before issue 18). */
  optimizer?: string;
  /** tf.memory().numTensors just before and just after the timed run (model, data and optimiser state live). */
  tensorsBefore: number;
  tensorsAfter: number;
  /** … and after freeing the model, data and optimiser (should match the count before the case). */
  tensorsAtStart: number;
  tensorsAtEnd: number;
  warmupSteps: number;
  warmupSeconds: number;
  /** Mean loss terms of the timed run. */
  loss: Record<string, number>;
}

/** A case that did not run, and why. */
export interface BenchSkip {
  model: BenchModelId;
  title: string;
  /** The backend asked for. */
  backend: string;
  reason: string;
  /** The backend itself could not start (so the other models on it are skipped too). */
  backendUnavailable: boolean;
}

export type BenchOutcome = { status: "ok"; row: BenchRow } | { status: "skipped"; skip: BenchSkip };

/**
 * Assumed training speed of tfjs's pure-JS cpu backend, for the skip estimate (GFLOP/s), measured
 * on this project's 2-core machine: ≈ 0.5–0.7 on the dense MLP autoencoder, ≈ 0.03 on the conv
 * denoising AE (its convolution gradients and up-sampling are naive loops).
 */
export const CPU_BACKEND_GFLOPS: Readonly<{ dense: number; convolutional: number }> = { dense: 0.5, convolutional: 0.03 };

const MiB = 1024 * 1024;

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new Error(`runBenchCase: ${name} must be a positive integer, got ${value}`);
  return value;
}

/** The optimiser a spec trains with (its notebook's, else Adam at `learningRate`), its weight decay, and both in words. */
export function benchTraining(spec: BenchModelSpec, learningRate: number): { optimizer: OptimizerSpec; weightDecay?: number; description: string } {
  const optimizer: OptimizerSpec = spec.training?.optimizer ?? { name: "adam", learningRate };
  const weightDecay = spec.training?.weightDecay;
  const lr = optimizer.learningRate;
  const base = optimizer.name === "adam" ? `Adam ${lr}`
    : optimizer.name === "momentum" ? `SGD momentum ${optimizer.momentum ?? 0.9}, lr ${lr}`
    : `${optimizer.name} ${lr}`;
  return { optimizer, ...(weightDecay !== undefined ? { weightDecay } : {}), description: base + (weightDecay !== undefined ? `, weight decay ${weightDecay}` : "") };
}

/** Rows [0, n) of every tensor (new tensors). */
function headOf(data: TensorRecord, n: number): TensorRecord {
  const out: TensorRecord = {};
  for (const key of Object.keys(data)) out[key] = tf.slice(data[key], 0, n);
  return out;
}

/** Which backend a case or a peak measurement runs on. */
export interface BenchBackendOptions {
  backend: BackendName;
  /** wasm only: threads of XNNPACK, or with the native kernels theirs (default 1). */
  threads?: number;
  /** wasm only: the native kernels where built (default true). */
  native?: boolean;
}

/**
 * Start the backend of a case (once per process). With the native kernels, `threads` is theirs and
 * wasm takes its default ("auto": one thread where they load), as setup() does; without, it is
 * wasm's. Both are read once, by initBackend. Throws when the backend cannot start.
 */
export async function startBenchBackend(options: BenchBackendOptions): Promise<BackendReport> {
  const withNative = options.backend === "wasm" && options.native !== false;
  if (options.backend === "wasm" && options.native === false) process.env.AE_NATIVE = "0";
  if (withNative) process.env.AE_NATIVE_THREADS = String(options.threads ?? 1);
  const threads = options.backend !== "wasm" ? {} : withNative ? { threads: "auto" as const } : { threads: options.threads ?? 1 };
  return initBackend({ backend: options.backend, ...threads });
}

/** Threads a row's label says it computed on: "…×N" → N, else 1 (wasm's one thread, the cpu backend; tensorflow: unknown, 1 assumed). */
export function labelThreads(label: string): number {
  const match = /×(\d+)$/.exec(label);
  return match ? Number(match[1]) : 1;
}

/** The machine's speed limit on one engine: a large square float32 matrix product, timed. */
export interface PeakRow {
  /** "wasm+native×2", "wasm", "cpu", … (our backend label) or "PyTorch". */
  engine: string;
  threads: number;
  /** Side of the square matrices (of the best size tried). */
  size: number;
  reps: number;
  seconds: number;
  /** 2·size³ ÷ the fastest product's seconds ÷ 1e9: the peak (the fastest rep, as timeit's min: other processes can only slow a rep down). */
  gflopsPerSecond: number;
  /** 2·size³·reps ÷ seconds ÷ 1e9 (the mean rate, for comparison). */
  meanGflopsPerSecond?: number;
  /** The backend in one line (ours) or the BLAS (PyTorch). */
  description: string;
}

/** Options of `measurePeak`. */
export interface PeakOptions extends BenchBackendOptions {
  /** Sides of the square matrices tried; the best wins (default PEAK_SIZES; PEAK_SIZES_CPU on the cpu backend, whose matMul is plain JavaScript). */
  sizes?: number[];
  /** Seconds of products in all, split evenly over the sizes (default 2). */
  minSeconds?: number;
}

/** Matrix sides the peak tries: a product that fits the caches can run faster than a larger one, and the peak is the best. */
export const PEAK_SIZES: readonly number[] = [512, 1024, 2048];
/** … on the slow cpu backend. */
export const PEAK_SIZES_CPU: readonly number[] = [128, 256];

/**
 * The peak this backend reaches: tf.matMul of two size×size float32 matrices (on wasm with the
 * native kernels, their matrix product) for each size, one warm-up product, then repeated, each
 * result read back (so the work is done) and freed; the fastest product of the best size gives the
 * peak (as timeit's minimum: other processes can only slow a product down).
 */
export async function measurePeak(options: PeakOptions): Promise<PeakRow> {
  const report = await startBenchBackend(options);
  const sizes = options.sizes ?? [...(report.name === "cpu" ? PEAK_SIZES_CPU : PEAK_SIZES)];
  if (sizes.length === 0) throw new Error("measurePeak: sizes must list at least one matrix side");
  sizes.forEach((size) => positiveInteger(size, "sizes"));
  const minSeconds = (options.minSeconds ?? 2) / sizes.length;
  const engine = benchBackendLabel(report);
  let best: PeakRow | null = null;
  for (const size of sizes) {
    const a = tf.randomUniform([size, size], 0, 1, "float32", 1);
    const b = tf.randomUniform([size, size], 0, 1, "float32", 2);
    const once = async (): Promise<number> => {
      const t = performance.now();
      const c = tf.matMul(a, b);
      await c.data();
      c.dispose();
      return (performance.now() - t) / 1000;
    };
    try {
      await once();
      let reps = 0;
      let fastest = Infinity;
      const t0 = performance.now();
      do {
        fastest = Math.min(fastest, await once());
        reps++;
      } while ((performance.now() - t0) / 1000 < minSeconds);
      const seconds = (performance.now() - t0) / 1000;
      const flops = 2 * size ** 3;
      const row: PeakRow = {
        engine, threads: labelThreads(engine), size, reps, seconds, gflopsPerSecond: flops / fastest / 1e9, meanGflopsPerSecond: (flops * reps) / seconds / 1e9,
        description: describeBackend(report),
      };
      if (!best || row.gflopsPerSecond > best.gflopsPerSecond) best = row;
    } finally {
      tf.dispose([a, b]);
    }
  }
  return best!;
}

/** Train one model on one backend and measure it (see BenchRow); a backend that cannot start gives a skip. */
export async function runBenchCase(options: BenchCaseOptions): Promise<BenchOutcome> {
  const spec = benchModel(options.model);
  const log = options.log ?? (() => undefined);
  const samplesRequested = positiveInteger(options.samples ?? 12_000, "samples");
  const batchSize = positiveInteger(options.batchSize ?? 128, "batchSize");
  const warmupSteps = options.warmupSteps ?? 3;
  if (!Number.isInteger(warmupSteps) || warmupSteps < 0) throw new Error(`runBenchCase: warmupSteps must be an integer ≥ 0, got ${warmupSteps}`);
  const maxSeconds = options.maxSeconds ?? 60;
  const learningRate = options.learningRate ?? 1e-3;
  const seed = options.seed ?? 0;
  const skip = (reason: string, backendUnavailable = false): BenchOutcome => ({
    status: "skipped", skip: { model: spec.id, title: spec.title, backend: options.backend, reason, backendUnavailable },
  });

  let report;
  try {
    report = await startBenchBackend(options);
  } catch (error) {
    return skip(error instanceof Error ? error.message : String(error), true);
  }
  seedGlobalRandom(seed);
  const notes: string[] = [];
  let samples = samplesRequested;
  if (report.name === "cpu") {
    const cap = positiveInteger(options.cpuSamples ?? 1024, "cpuSamples");
    if (samples > cap) {
      notes.push(`cpu backend: ${samples.toLocaleString("en-US")} samples capped at ${cap.toLocaleString("en-US")} (--cpu-samples)`);
      samples = cap;
    }
  }

  const tensorsAtStart = tf.memory().numTensors;
  const prepared = spec.prepare(samples, seed);
  // The optimiser trainModel builds for the spec (Adam: the accelerator's fused Adam where the addon runs), kept across warm-up and timed run.
  const training = benchTraining(spec, learningRate);
  const optimizer = createOptimizer(training.optimizer);
  let outcome: BenchOutcome;
  try {
    if (report.name === "cpu") {
      const gflops = spec.convolutional ? CPU_BACKEND_GFLOPS.convolutional : CPU_BACKEND_GFLOPS.dense;
      const estimate = ((samples + warmupSteps * batchSize) * prepared.trainingFlopsPerSample) / (gflops * 1e9);
      const limit = options.cpuMaxSeconds ?? 60;
      if (limit > 0 && estimate > limit) {
        outcome = skip(
          `cpu backend would take ≈ ${Math.round(estimate)} s for ${samples.toLocaleString("en-US")} samples ` +
            `(${(prepared.trainingFlopsPerSample / 1e6).toFixed(1)} MFLOP each at ≈ ${gflops} GFLOP/s) > ${limit} s (--cpu-max-seconds)`,
        );
        return outcome;
      }
    }
    const common = {
      lossTerms: prepared.lossTerms, lossWeights: prepared.lossWeights, models: prepared.models, optimizer,
      ...(training.weightDecay !== undefined ? { weightDecay: training.weightDecay } : {}),
      batchSize, progress: false as const, seed,
    };

    // Warm-up: single-batch calls (so a slow model can stop early), on the same optimiser.
    const warmStart = performance.now();
    let lastStepSeconds = NaN;
    let warmed = 0;
    for (let step = 0; step < warmupSteps; step++) {
      const rows = Math.min(batchSize, samples);
      const batch = headOf(prepared.data, rows);
      const t0 = performance.now();
      try {
        await trainModel({ ...common, data: batch, numEpochs: 1, seed: seed + 1000 + step });
      } finally {
        tf.dispose(Object.values(batch));
      }
      lastStepSeconds = (performance.now() - t0) / 1000;
      warmed++;
      log(`  warm-up step ${step + 1}/${warmupSteps}: ${lastStepSeconds.toFixed(2)} s`);
      if (maxSeconds > 0 && warmed >= 2 && (performance.now() - warmStart) / 1000 > maxSeconds / 3) break;
    }
    const warmupSeconds = (performance.now() - warmStart) / 1000;

    let data = prepared.data;
    if (maxSeconds > 0 && warmed > 0 && Number.isFinite(lastStepSeconds)) {
      const rate = Math.min(batchSize, samples) / lastStepSeconds;
      if (samples / rate > maxSeconds) {
        const capped = Math.max(batchSize, Math.floor((rate * maxSeconds) / batchSize) * batchSize);
        if (capped < samples) {
          notes.push(
            `${samples.toLocaleString("en-US")} samples capped at ${capped.toLocaleString("en-US")} ` +
              `(≈ ${maxSeconds} s at the warm-up rate of ${rate.toFixed(1)} samples/s; --max-seconds)`,
          );
          samples = capped;
          data = headOf(prepared.data, samples);
        }
      }
    }
    if (warmed < warmupSteps) notes.push(`warm-up stopped after ${warmed} of ${warmupSteps} steps (slow model)`);

    const minSeconds = options.minSeconds ?? 3;
    if (!(minSeconds >= 0)) throw new Error(`runBenchCase: minSeconds must be ≥ 0, got ${minSeconds}`);
    log(`  timing ${samples.toLocaleString("en-US")} samples (epochs repeated for at least ${minSeconds} s)…`);
    const tensorsBefore = tf.memory().numTensors;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let history;
    let tensorsAfter: number;
    let epochs = 0;
    try {
      do {
        history = await trainModel({ ...common, data, numEpochs: 1, seed: seed + epochs });
        epochs++;
      } while ((performance.now() - t0) / 1000 < minSeconds);
      tensorsAfter = tf.memory().numTensors;
    } finally {
      if (data !== prepared.data) tf.dispose(Object.values(data));
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpuUsed = process.cpuUsage(cpu0);
    const cpuSeconds = (cpuUsed.user + cpuUsed.system) / 1e6;
    const samplesPerSecond = (samples * epochs) / seconds;
    const loss: Record<string, number> = {};
    for (const [name, series] of Object.entries(history.terms)) loss[name] = series[series.length - 1];
    if (history.backend !== report.name) notes.push(`trainModel reports backend ${history.backend}`);

    const row: BenchRow = {
      model: spec.id,
      title: spec.title,
      backend: benchBackendLabel(report),
      backendDescription: describeBackend(report),
      ...(report.name === "cpu" ? { threads: 1 } : report.threads !== undefined ? { threads: report.threads } : {}),
      samples,
      epochs,
      samplesRequested,
      batchSize,
      seconds,
      cpuSeconds,
      cpuUtilization: cpuSeconds / seconds,
      samplesPerSecond,
      gflopsPerSecond: (prepared.trainingFlopsPerSample * samplesPerSecond) / 1e9,
      params: prepared.params,
      trainingFlopsPerSample: prepared.trainingFlopsPerSample,
      optimizer: training.description,
      peakRssMiB: (process.resourceUsage().maxRSS * 1024) / MiB,
      tensorsBefore,
      tensorsAfter,
      tensorsAtStart,
      tensorsAtEnd: -1, // filled in once the model, data and optimiser are freed
      warmupSteps: warmed,
      warmupSeconds,
      loss,
      notes,
    };
    outcome = { status: "ok", row };
  } finally {
    disposeOptimizer(optimizer);
    prepared.dispose();
  }
  if (outcome.status === "ok") outcome.row.tensorsAtEnd = tf.memory().numTensors;
  return outcome;
}
