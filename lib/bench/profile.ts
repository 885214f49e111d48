/**
 * Profiling script (not part of the library API): where a training step's time goes on the
 * current backend, kernel by kernel, split into forward, backward and optimiser phases.
 *
 *   npx ts-node --transpile-only lib/bench/profile.ts [--models mlp,cae,cnn] [--steps 5]
 *       [--batch 128] [--backend wasm] [--stock] [--train 2048 [--profile-train]] [--shapes]
 *   (options: lib/bench/args.ts, PROFILE_USAGE; --help prints them)
 *
 * Every kernel registered for the backend is wrapped with a timer (wasm kernels are
 * synchronous, so wall time around the call is the kernel's time). Only the outermost kernel
 * call is counted: a kernel that runs others through the registry (ours do) is charged for
 * them. Phases: "backward" = inside tfjs's gradient tape ('backward' scope), "optimizer" =
 * inside optimizer.applyGradients, "forward" = the rest of the step (loss included).
 * `--bench ID,…` (mlp, cae, cnn, csae, fsae; lib/bench/specs.ts: real MNIST and the bench's losses)
 * trains those reference models through trainModel instead (--train N samples, default 2048)
 * and prints samples/s, GFLOP/s and, with --profile-train, the kernel table of the timed epoch.
 * `--shapes` splits each kernel's time by its input shapes.
 * `--stock` runs without this project's wasm kernels (tfjs-backend-wasm's own, where it has them).
 * `--train N` also trains through lib/train's trainModel on N samples (after a warm-up
 * epoch of 256) and prints samples/s, which is what notebooks get.
 * Inputs are seeded uniform [0, 1) images (kernel times do not depend on the pixel values
 * beyond max-pool tie patterns).
 */
import * as tf from "@tensorflow/tfjs";
import * as os from "os";
import { initBackend, describeBackend } from "../backend";
import { parseProfileArgs, PROFILE_USAGE } from "./args";
import { trainModel } from "../train";
import { benchModel } from "./specs";
import { benchTraining } from "./run";
import { registerWasmOverrides, replacedWasmKernel, WASM_EXTRA_KERNELS, WASM_FASTER_KERNELS } from "../accelerate/wasm-overrides/registry";
import { setConv2DBackpropFilterMethod } from "../accelerate/wasm-overrides/conv-filter-gradient";

const L = tf.layers;

/** One reference model: its layers, input shape, loss and a batch of inputs/targets. */
interface ProfileModel {
  name: string;
  model: tf.LayersModel;
  loss: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Scalar;
  data: (n: number, seed: number) => { x: tf.Tensor; y: tf.Tensor };
}

function uniformImages(n: number, shape: number[], seed: number): tf.Tensor {
  return tf.randomUniform([n, ...shape], 0, 1, "float32", seed);
}

const bce = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.mean(tf.metrics.binaryCrossentropy(yTrue, yPred)) as tf.Scalar;
const cce = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.mean(tf.metrics.categoricalCrossentropy(yTrue, yPred)) as tf.Scalar;

/** MLP autoencoder 784-400-40-400-784, relu hidden, sigmoid out. */
function mlpAutoencoder(): ProfileModel {
  const model = tf.sequential({
    layers: [
      L.dense({ inputShape: [784], units: 400, activation: "relu" }),
      L.dense({ units: 40, activation: "relu" }),
      L.dense({ units: 400, activation: "relu" }),
      L.dense({ units: 784, activation: "sigmoid" }),
    ],
  });
  return {
    name: "MLP AE 784-400-40-400-784", model, loss: bce,
    data: (n, seed) => { const x = uniformImages(n, [784], seed); return { x, y: x.clone() }; },
  };
}

/** The 2,561-parameter convolutional denoising autoencoder. */
function convDenoisingAutoencoder(): ProfileModel {
  const model = tf.sequential({
    layers: [
      L.conv2d({ inputShape: [28, 28, 1], filters: 16, kernelSize: 3, padding: "same", activation: "relu" }),
      L.maxPooling2d({ poolSize: 2, padding: "same" }),
      L.conv2d({ filters: 8, kernelSize: 3, padding: "same", activation: "relu" }),
      L.maxPooling2d({ poolSize: 2, padding: "same" }),
      L.conv2d({ filters: 8, kernelSize: 3, padding: "same", activation: "relu" }),
      L.upSampling2d({ size: [2, 2] }),
      L.conv2dTranspose({ filters: 8, kernelSize: 3, padding: "same", activation: "relu" }),
      L.upSampling2d({ size: [2, 2] }),
      L.conv2dTranspose({ filters: 1, kernelSize: 3, padding: "same", activation: "sigmoid" }),
    ],
  });
  return {
    name: `conv DAE (${model.countParams()} params)`, model, loss: bce,
    data: (n, seed) => {
      const y = uniformImages(n, [28, 28, 1], seed);
      const x = tf.tidy(() => tf.clipByValue(tf.add(y, tf.randomNormal(y.shape, 0, 0.5, "float32", seed + 1)), 0, 1));
      return { x, y };
    },
  };
}

/** CNN classifier: 3 valid 3×3 convs 32/64/64 relu, dense 128 relu, dense 10 softmax. */
function cnnClassifier(): ProfileModel {
  const model = tf.sequential({
    layers: [
      L.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: "relu" }),
      L.conv2d({ filters: 64, kernelSize: 3, activation: "relu" }),
      L.conv2d({ filters: 64, kernelSize: 3, activation: "relu" }),
      L.flatten(),
      L.dense({ units: 128, activation: "relu" }),
      L.dense({ units: 10, activation: "softmax" }),
    ],
  });
  return {
    name: "CNN classifier 32/64/64+128+10", model, loss: cce,
    data: (n, seed) => {
      const x = uniformImages(n, [28, 28, 1], seed);
      const labels = tf.tidy(() => tf.cast(tf.floor(tf.randomUniform([n], 0, 10, "float32", seed + 2)), "int32"));
      const y = tf.oneHot(labels as tf.Tensor1D, 10).toFloat();
      labels.dispose();
      return { x, y };
    },
  };
}

const BUILDERS: Record<string, () => ProfileModel> = { mlp: mlpAutoencoder, cae: convDenoisingAutoencoder, cnn: cnnClassifier };

type Phase = "forward" | "backward" | "optimizer";

/** Accumulated time per (phase, kernel). */
class KernelTimer {
  times = new Map<string, { ms: number; calls: number }>();
  depth = 0;
  inOptimizer = false;
  /** Also split each kernel's time by its input shapes. */
  byShape = false;
  private restore: Array<() => void> = [];

  /** Wrap every kernel of `backendName` with a timer. */
  install(backendName: string): void {
    const engine = tf.engine() as unknown as { state: { scopeStack: Array<{ name: string }> } };
    for (const config of tf.getKernelsForBackend(backendName)) {
      const original = config.kernelFunc;
      const name = config.kernelName;
      const wrapped: tf.KernelFunc = (args) => {
        if (this.depth > 0) return original(args);
        this.depth++;
        const start = performance.now();
        try {
          return original(args);
        } finally {
          const ms = performance.now() - start;
          this.depth--;
          const phase: Phase = this.inOptimizer ? "optimizer" : engine.state.scopeStack.some((s) => s.name === "backward") ? "backward" : "forward";
          const shapes = this.byShape ? " " + Object.values(args.inputs).map((t) => `[${t ? t.shape : ""}]`).join("") : "";
          const key = `${phase}\t${name}${shapes}`;
          const entry = this.times.get(key) ?? { ms: 0, calls: 0 };
          entry.ms += ms;
          entry.calls++;
          this.times.set(key, entry);
        }
      };
      tf.unregisterKernel(name, backendName);
      tf.registerKernel({ ...config, kernelFunc: wrapped });
      this.restore.push(() => {
        tf.unregisterKernel(name, backendName);
        tf.registerKernel(config);
      });
    }
  }

  uninstall(): void {
    for (const undo of this.restore) undo();
    this.restore = [];
  }

  reset(): void {
    this.times.clear();
  }
}

/**
 * Put wasm's own kernels back where ours replaced them (for --stock); kernels wasm lacks
 * (Conv2DBackpropFilter, UnsortedSegmentSum) stay ours, Conv2DBackpropFilter by im2col as
 * before lib/accelerate/wasm-overrides existed.
 */
function useStockWasmKernels(): void {
  setConv2DBackpropFilterMethod("im2col");
  for (const { kernelName, action } of [...WASM_EXTRA_KERNELS, ...WASM_FASTER_KERNELS]) {
    const original = replacedWasmKernel(kernelName);
    if (action === "added" || !original) continue; // wasm has none: keep ours so training runs
    tf.unregisterKernel(kernelName, "wasm");
    tf.registerKernel(original);
  }
}

async function profileModel(pm: ProfileModel, steps: number, batch: number, timer: KernelTimer): Promise<void> {
  const optimizer = tf.train.adam(1e-3);
  const { x, y } = pm.data(batch, 1);
  const variables = pm.model.trainableWeights.map((w) => w.read() as tf.Variable);
  const step = () => tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => pm.loss(y, pm.model.apply(x, { training: true }) as tf.Tensor), variables);
    timer.inOptimizer = true;
    try {
      optimizer.applyGradients(grads as unknown as Parameters<typeof optimizer.applyGradients>[0]);
    } finally {
      timer.inOptimizer = false;
    }
    return value;
  });
  step().dispose(); // warm-up: Adam slots, first-call setup
  timer.reset();
  const start = performance.now();
  let last: tf.Tensor | null = null;
  for (let s = 0; s < steps; s++) {
    last?.dispose();
    last = step();
  }
  last?.dataSync();
  last?.dispose();
  const stepMs = (performance.now() - start) / steps;
  tf.dispose([x, y]);
  optimizer.dispose();

  printTable(`${pm.name}: batch ${batch}, ${steps} steps, ${(1000 * batch / stepMs).toFixed(0)} samples/s`, timer, steps, stepMs);
}

/** Print the timer's table: per (phase, kernel) ms per step and share of `stepMs`. */
function printTable(title: string, timer: KernelTimer, steps: number, stepMs: number): void {
  const rows = [...timer.times.entries()].map(([key, v]) => {
    const [phase, kernel] = key.split("\t");
    return { phase, kernel, ms: v.ms / steps, calls: v.calls / steps };
  }).sort((a, b) => b.ms - a.ms);
  const kernelTotal = rows.reduce((s, r) => s + r.ms, 0);
  const byPhase: Record<string, number> = {};
  for (const r of rows) byPhase[r.phase] = (byPhase[r.phase] ?? 0) + r.ms;
  const callsPerStep = rows.reduce((s, r) => s + r.calls, 0);
  console.log(`\n## ${title}: ${stepMs.toFixed(1)} ms/step, kernels ${kernelTotal.toFixed(1)} ms in ${callsPerStep.toFixed(0)} calls`);
  console.log(`phases: ${Object.entries(byPhase).map(([p, ms]) => `${p} ${ms.toFixed(1)} ms (${(100 * ms / stepMs).toFixed(0)}%)`).join(", ")}; outside kernels ${(stepMs - kernelTotal).toFixed(1)} ms`);
  console.log("| phase | kernel | ms/step | calls/step | share |");
  console.log("|---|---|---:|---:|---:|");
  rows.forEach((r, i) => {
    if (i >= 12 && r.ms / stepMs < 0.005 && process.env.AE_PROFILE_ALL !== "1") return;
    console.log(`| ${r.phase} | ${r.kernel} | ${r.ms.toFixed(2)} | ${r.calls.toFixed(0)} | ${(100 * r.ms / stepMs).toFixed(1)}% |`);
  });
}

async function trainSpeed(pm: ProfileModel, samples: number, batch: number, timer?: KernelTimer): Promise<number> {
  const { x, y } = pm.data(samples, 3);
  const lossTerms = (b: Record<string, tf.Tensor>) => ({ loss: pm.loss(b.y, pm.model.apply(b.x, { training: true }) as tf.Tensor) });
  const warm = { x: x.slice(0, Math.min(256, samples)), y: y.slice(0, Math.min(256, samples)) };
  await trainModel({ data: warm, lossTerms, models: [pm.model], numEpochs: 1, batchSize: batch, progress: false, optimizer: { name: "adam", learningRate: 1e-3 } });
  timer?.reset();
  const history = await trainModel({ data: { x, y }, lossTerms, models: [pm.model], numEpochs: 1, batchSize: batch, progress: false, optimizer: { name: "adam", learningRate: 1e-3 } });
  tf.dispose([x, y, warm.x, warm.y]);
  if (timer) printTable(`trainModel ${pm.name} (per step, incl. the epoch's gather)`, timer, history.steps, 1000 * history.seconds / history.steps);
  return history.samplesPerSecond[0];
}

/** Train a lib/bench/specs.ts model through trainModel with the bench's optimiser (its notebook's, else Adam 1e-3): warm-up epoch on 256 samples, then one timed epoch. */
async function benchSpec(id: string, samples: number, batch: number, profile: boolean, byShape: boolean): Promise<void> {
  const spec = benchModel(id);
  const prepared = spec.prepare(samples, 1);
  const training = benchTraining(spec, 1e-3);
  const common = {
    lossTerms: prepared.lossTerms, lossWeights: prepared.lossWeights, models: prepared.models, batchSize: batch, progress: false, optimizer: training.optimizer,
    ...(training.weightDecay !== undefined ? { weightDecay: training.weightDecay } : {}),
  };
  const warm: Record<string, tf.Tensor> = {};
  for (const [key, t] of Object.entries(prepared.data)) warm[key] = t.slice(0, Math.min(256, samples));
  await trainModel({ ...common, data: warm, numEpochs: 1 });
  tf.dispose(Object.values(warm));
  const timer = profile ? new KernelTimer() : undefined;
  if (timer) {
    timer.byShape = byShape;
    timer.install(tf.getBackend());
  }
  const load = os.loadavg()[0];
  let history;
  try {
    history = await trainModel({ ...common, data: prepared.data, numEpochs: 1 });
  } finally {
    timer?.uninstall();
  }
  const sps = history.samplesPerSecond[0];
  console.log(`bench ${spec.id} (${spec.title}): ${sps.toFixed(0)} samples/s, ${(sps * prepared.trainingFlopsPerSample / 1e9).toFixed(1)} GFLOP/s (${samples} samples, batch ${batch}, ${training.description}; load ${load.toFixed(2)} → ${os.loadavg()[0].toFixed(2)})`);
  if (timer) printTable(`trainModel ${spec.id} (per step)`, timer, history.steps, 1000 * history.seconds / history.steps);
  prepared.dispose();
}

async function main(): Promise<void> {
  const args = parseProfileArgs(process.argv.slice(2));
  if (args.help) {
    console.log(PROFILE_USAGE);
    return;
  }
  const names = args.models;
  const steps = args.steps;
  const batch = args.batchSize;
  const report = await initBackend({ backend: args.backend });
  if (report.name === "wasm") registerWasmOverrides();
  if (args.stock) useStockWasmKernels();
  console.log(describeBackend(report) + (args.stock ? " · STOCK wasm kernels" : ""));
  console.log(`load average ${os.loadavg().map((v) => v.toFixed(2)).join(" ")}, ${new Date().toISOString()}`);
  if (args.bench !== undefined) {
    for (const id of args.bench) {
      await benchSpec(id, args.train ?? 2048, batch, args.profileTrain, args.shapes);
    }
    return;
  }
  for (const name of names) {
    const builder = BUILDERS[name];
    if (!builder) throw new Error(`--models: unknown model "${name}" (expected ${Object.keys(BUILDERS).join(", ")})`);
    const pm = builder();
    if (args.train !== undefined) {
      const samples = args.train;
      const before = os.loadavg()[0];
      let trainTimer: KernelTimer | undefined;
      if (args.profileTrain) {
        trainTimer = new KernelTimer();
        trainTimer.byShape = args.shapes;
        trainTimer.install(tf.getBackend());
      }
      let sps: number;
      try {
        sps = await trainSpeed(pm, samples, batch, trainTimer);
      } finally {
        trainTimer?.uninstall();
      }
      console.log(`trainModel ${pm.name}${args.stock ? " [stock]" : ""}: ${sps.toFixed(0)} samples/s (${samples} samples, batch ${batch}, adam; load ${before.toFixed(2)} → ${os.loadavg()[0].toFixed(2)})`);
    }
    if (steps > 0) {
      const timer = new KernelTimer();
      timer.byShape = args.shapes;
      timer.install(tf.getBackend());
      try {
        await profileModel(pm, steps, batch, timer);
      } finally {
        timer.uninstall();
      }
    }
    pm.model.dispose();
  }
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
