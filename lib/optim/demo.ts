/**
 * Paper 2's program as functions: its hyperparameter form (one config, validated with
 * every problem named), and one training run of the demo autoencoder through
 * `trainModel` with the program's loss, its gradient convention, a stop when the epoch's
 * loss falls below ε, and the 2-D codes recorded per epoch for the animation.
 */
import * as tf from "@tensorflow/tfjs";
import { trainModel, TrainHistory, CustomOptimizer, EpochLogs } from "../train";
import { ProgressOptions } from "../progress";
import { pca } from "../linalg";
import { DEMO_CLUSTER_COUNTS, DEMO_CLUSTER_MEANS, DEMO_CLUSTER_VARIANCES } from "./clusters";
import { DEMO_ACTIVATIONS, DemoActivation, DemoAutoencoder, GradientConvention, checkDemoArchitecture } from "./dense-autoencoder";
import { meanSumOfSquares } from "../metrics";
import { createEquationOptimizer, EQUATION_OPTIMIZER_NAMES, EquationOptimizer, EquationOptimizerName, EpsilonPlacement } from "./optimizers";

/** The program's form: architecture, optimiser, training and data (defaults: its config.json). */
export interface DemoConfig {
  /** Units per layer, input first (the input size must equal the data dimension). */
  layers: number[];
  /** Index of the 2-unit code layer in `layers`. */
  codeLayer: number;
  activation: DemoActivation;
  optimizer: EquationOptimizerName;
  /** η. */
  learningRate: number;
  beta1: number;
  beta2: number;
  batchSize: number;
  /** The most epochs ("iterations" in the program). */
  numEpochs: number;
  /** Stop once an epoch's mean sum of squares is below this (0: never). */
  epsilon: number;
  means: number[][];
  /** Per cluster: a full covariance matrix or its diagonal. */
  covariances: Array<number[][] | number[]>;
  counts: number[];
}

/** The original program's config.json (its activation field defaults to tanh in the form). */
export const DEMO_CONFIG_DEFAULTS: Readonly<DemoConfig> = Object.freeze({
  layers: [4, 6, 2, 5, 4],
  codeLayer: 2,
  activation: "tanh" as DemoActivation,
  optimizer: "adam" as EquationOptimizerName,
  learningRate: 0.005,
  beta1: 0.9,
  beta2: 0.999,
  batchSize: 32,
  numEpochs: 1000,
  epsilon: 0.005,
  means: DEMO_CLUSTER_MEANS.map((m) => [...m]),
  covariances: DEMO_CLUSTER_VARIANCES.map((v) => [...v]),
  counts: [...DEMO_CLUSTER_COUNTS],
});

/** Fill a partial config with the defaults and check it; throws one error listing every problem. */
export function checkDemoConfig(partial: Partial<DemoConfig> = {}): DemoConfig {
  const config: DemoConfig = { ...(JSON.parse(JSON.stringify(DEMO_CONFIG_DEFAULTS)) as DemoConfig), ...partial };
  const errors: string[] = [];
  const known = new Set(Object.keys(DEMO_CONFIG_DEFAULTS));
  for (const key of Object.keys(partial)) if (!known.has(key)) errors.push(`unknown field '${key}' (fields: ${[...known].join(", ")})`);
  try {
    checkDemoArchitecture(config.layers, config.codeLayer, "layers");
  } catch (e) {
    errors.push((e as Error).message);
  }
  if (!(DEMO_ACTIVATIONS as readonly string[]).includes(config.activation)) errors.push(`activation must be one of ${DEMO_ACTIVATIONS.join(", ")}, got ${JSON.stringify(config.activation)}`);
  if (!(EQUATION_OPTIMIZER_NAMES as readonly string[]).includes(config.optimizer)) errors.push(`optimizer must be one of ${EQUATION_OPTIMIZER_NAMES.join(", ")}, got ${JSON.stringify(config.optimizer)}`);
  if (typeof config.learningRate !== "number" || !(config.learningRate > 0) || !Number.isFinite(config.learningRate)) errors.push(`learningRate must be a positive number, got ${config.learningRate}`);
  for (const key of ["beta1", "beta2"] as const) {
    const v = config[key];
    if (typeof v !== "number" || !(v >= 0 && v < 1)) errors.push(`${key} must be in [0, 1), got ${v}`);
  }
  for (const key of ["batchSize", "numEpochs"] as const) {
    if (!Number.isInteger(config[key]) || config[key] < 1) errors.push(`${key} must be a positive integer, got ${config[key]}`);
  }
  if (typeof config.epsilon !== "number" || !(config.epsilon >= 0) || !Number.isFinite(config.epsilon)) errors.push(`epsilon must be a non-negative number, got ${config.epsilon}`);
  const k = Array.isArray(config.means) ? config.means.length : -1;
  if (k < 1) errors.push(`means must list at least one cluster mean, got ${JSON.stringify(config.means)}`);
  else {
    const d = Array.isArray(config.means[0]) ? config.means[0].length : -1;
    config.means.forEach((m, i) => {
      if (!Array.isArray(m) || m.length !== d || m.some((x) => typeof x !== "number" || !Number.isFinite(x))) errors.push(`means[${i}] must hold ${d} finite numbers, got ${JSON.stringify(m)}`);
    });
    if (!Array.isArray(config.covariances) || config.covariances.length !== k) errors.push(`covariances must have one entry per cluster (${k}), got ${Array.isArray(config.covariances) ? config.covariances.length : JSON.stringify(config.covariances)}`);
    if (!Array.isArray(config.counts) || config.counts.length !== k) errors.push(`counts must have one entry per cluster (${k}), got ${JSON.stringify(config.counts)}`);
    else config.counts.forEach((c, i) => { if (!Number.isInteger(c) || c < 1) errors.push(`counts[${i}] must be a positive integer, got ${c}`); });
    if (Array.isArray(config.layers) && d > 0 && config.layers[0] !== d) errors.push(`layers[0] (${config.layers[0]} input units) must equal the data dimension ${d} (the length of each mean)`);
  }
  if (errors.length > 0) throw new Error(`invalid demo config:\n  - ${errors.join("\n  - ")}`);
  return config;
}

/** One recorded frame: the 2-D codes of all points after `epoch` epochs (0: before training). */
export interface CodeFrame {
  epoch: number;
  codes: number[][];
  loss: number;
}

/** The optimiser a demo run uses: a ready one (the caller owns it) or one built from its name and rates, defaults as the original program (η 0.005, ε outside, Adam's t per epoch); `owned` is set when built here. */
export function resolveDemoOptimizer(options: Pick<DemoTrainingOptions, "optimizer" | "learningRate" | "beta1" | "beta2" | "optimizerEpsilon" | "epsilonPlacement" | "timeStep">): { optimizer: CustomOptimizer; owned: EquationOptimizer | null } {
  const spec = options.optimizer ?? "adam";
  if (typeof spec !== "string") return { optimizer: spec, owned: null };
  const owned = createEquationOptimizer(spec, {
    learningRate: options.learningRate ?? 0.005, beta1: options.beta1, beta2: options.beta2, epsilon: options.optimizerEpsilon,
    epsilonPlacement: options.epsilonPlacement ?? "outside", timeStep: options.timeStep ?? "epoch",
  });
  return { optimizer: owned, owned };
}

export interface DemoTrainingOptions {
  model: DemoAutoencoder;
  /** n × d inputs (also the targets). */
  inputs: tf.Tensor2D;
  /** A name (built from the rates below) or a ready optimiser (the caller owns it). */
  optimizer?: EquationOptimizerName | CustomOptimizer;
  learningRate?: number;
  beta1?: number;
  beta2?: number;
  /** Default 1e-8. */
  optimizerEpsilon?: number;
  /** Default "outside" (as the program's code and tf.train.adam). */
  epsilonPlacement?: EpsilonPlacement;
  /** Adam's t: "epoch" (default, as the program) or "step". */
  timeStep?: "step" | "epoch";
  /** Default 32. */
  batchSize?: number;
  /** Default 1000. */
  numEpochs?: number;
  /** Stop after the first epoch whose mean sum of squares is below this; default 0.005, 0 never. */
  stopBelow?: number;
  /** "program" (default: weight gradients summed over the batch, as the original) or "mean". */
  gradientConvention?: GradientConvention;
  /** Shuffle seed (default 0). */
  seed?: number;
  /** Record the codes every this many epochs (and at the last epoch); 0 (default): none. */
  recordEvery?: number;
  progress?: boolean | "auto" | ProgressOptions;
  label?: string;
}

export interface DemoTrainingResult {
  history: TrainHistory;
  /** Mean sum of squares per epoch (the program's loss). */
  losses: number[];
  /** The first epoch whose loss fell below stopBelow, or null. */
  convergedAt: number | null;
  finalLoss: number;
  frames: CodeFrame[];
  seconds: number;
}

/** The program's training (mini-batches, ½·mean-sum-of-squares objective, stop below ε) through trainModel. */
export async function trainDemoAutoencoder(options: DemoTrainingOptions): Promise<DemoTrainingResult> {
  const fn = "trainDemoAutoencoder";
  const { model, inputs } = options;
  if (!model || !Array.isArray(model.variables)) throw new Error(`${fn}: model must be a demoAutoencoder`);
  if (!(inputs instanceof tf.Tensor) || inputs.rank !== 2 || inputs.shape[1] !== model.layerSizes[0]) {
    throw new Error(`${fn}: inputs must be n × ${model.layerSizes[0]}, got ${inputs instanceof tf.Tensor ? `[${inputs.shape.join(", ")}]` : typeof inputs}`);
  }
  const convention = options.gradientConvention ?? "program";
  if (convention !== "program" && convention !== "mean") throw new Error(`${fn}: gradientConvention must be "program" or "mean", got ${JSON.stringify(convention)}`);
  const stopBelow = options.stopBelow ?? 0.005;
  if (!(stopBelow >= 0)) throw new Error(`${fn}: stopBelow must be ≥ 0, got ${stopBelow}`);
  const recordEvery = options.recordEvery ?? 0;
  if (!Number.isInteger(recordEvery) || recordEvery < 0) throw new Error(`${fn}: recordEvery must be a non-negative integer, got ${recordEvery}`);
  const numEpochs = options.numEpochs ?? 1000;
  const { optimizer, owned } = resolveDemoOptimizer(options);

  const frames: CodeFrame[] = [];
  const record = async (epoch: number, loss: number) => {
    const codes = model.encode(inputs);
    frames.push({ epoch, codes: (await codes.array()) as number[][], loss });
    codes.dispose();
  };
  try {
    if (recordEvery > 0) {
      const initial = tf.tidy(() => meanSumOfSquares(inputs, model.reconstruct(inputs)));
      const value = (await initial.data())[0];
      initial.dispose();
      await record(0, value);
    }
    const history = await trainModel({
      data: { xs: inputs },
      variables: model.variables,
      optimizer,
      numEpochs,
      batchSize: options.batchSize ?? 32,
      seed: options.seed ?? 0,
      // The program minimises ½·Σ_d (a − y)² per sample (its cost derivative is a − y) and reports Σ_d (a − y)².
      lossTerms: (batch) => {
        const x = batch.xs as tf.Tensor2D;
        const scale = convention === "program" ? x.shape[0] : 1;
        return { meanSumOfSquares: meanSumOfSquares(x, model.reconstruct(x, { weightGradientScale: scale })) };
      },
      lossWeights: { meanSumOfSquares: 0.5 },
      stopWhen: stopBelow > 0 ? (logs: EpochLogs) => logs.terms.meanSumOfSquares < stopBelow : undefined,
      callbacks: recordEvery > 0 ? {
        onEpochEnd: async (epoch, logs) => {
          const done = epoch === numEpochs || (stopBelow > 0 && logs.terms.meanSumOfSquares < stopBelow);
          if (epoch % recordEvery === 0 || done) {
            await record(epoch, logs.terms.meanSumOfSquares);
          }
        },
      } : undefined,
      progress: options.progress ?? false,
      label: options.label,
    });
    const losses = history.terms.meanSumOfSquares;
    const below = stopBelow > 0 ? losses.findIndex((l) => l < stopBelow) : -1;
    return { history, losses, convergedAt: below >= 0 ? below + 1 : null, finalLoss: losses[losses.length - 1], frames, seconds: history.seconds };
  } finally {
    owned?.dispose();
  }
}

/** The best mean sum of squares any rank-k linear autoencoder reaches (the "PCA limit"), from ae.pca, and the same by projecting and measuring. */
export function pcaReconstructionLimit(points: number[][] | tf.Tensor2D, numComponents = 2): { limit: number; measured: number; explainedVariance: number[]; totalVariance: number } {
  const x = points instanceof tf.Tensor ? points : tf.tensor2d(points);
  try {
    const result = pca(x, { numComponents });
    try {
      // Independent of the eigenvalues: project onto the components, reconstruct, measure.
      const measured = tf.tidy(() => {
        const centred = tf.sub(x, result.mean);
        const back = tf.matMul(tf.matMul(centred, result.components, false, true), result.components);
        return meanSumOfSquares(centred, back).dataSync()[0];
      });
      const kept = result.explainedVariance.reduce((s, v) => s + v, 0);
      return { limit: result.totalVariance - kept, measured, explainedVariance: result.explainedVariance, totalVariance: result.totalVariance };
    } finally {
      tf.dispose([result.components, result.mean]);
    }
  } finally {
    if (x !== points) x.dispose();
  }
}

/** The floor of a sigmoid output layer: its outputs lie in (0, 1), so every negative coordinate costs at least x²: mean_n Σ_d min(x_d, 0)². */
export function sigmoidOutputFloor(points: number[][]): number {
  if (!Array.isArray(points) || points.length === 0) throw new Error("sigmoidOutputFloor: points must be a non-empty list of rows");
  return points.reduce((s, p) => s + p.reduce((t, x) => t + (x < 0 ? x * x : 0), 0), 0) / points.length;
}

/** One phase of learning, epochs [startEpoch, endEpoch] (1-based, inclusive). */
export interface LearningPhase {
  phase: number;
  name: string;
  startEpoch: number;
  endEpoch: number;
}

/** What each phase of learningPhases means, phase 1 first. */
export const LEARNING_PHASE_NAMES: readonly string[] = Object.freeze([
  "unfolding: the codes spread out from one point",
  "linear plateau: loss near the PCA limit",
  "nonlinear descent: below what any linear code can do",
  "convergence: loss under 2ε",
]);

/**
 * Mark the phases of learning on a loss curve, relative to the PCA limit L* and ε:
 * 1 until loss ≤ (1 + band)·L*, 2 until loss < (1 − band)·L*, 3 until loss < 2ε, then 4.
 * Phases never go back (a later epoch is in the same or a later phase); empty phases are left out.
 */
export function learningPhases(losses: readonly number[], options: { linearLimit: number; epsilon: number; band?: number }): { phaseOfEpoch: number[]; phases: LearningPhase[] } {
  const fn = "learningPhases";
  const { linearLimit, epsilon } = options;
  const band = options.band ?? 0.2;
  if (!(linearLimit > 0)) throw new Error(`${fn}: linearLimit must be a positive number, got ${linearLimit}`);
  if (!(epsilon >= 0)) throw new Error(`${fn}: epsilon must be ≥ 0, got ${epsilon}`);
  if (!(band >= 0 && band < 1)) throw new Error(`${fn}: band must be in [0, 1), got ${band}`);
  let phase = 1;
  const phaseOfEpoch = losses.map((loss) => {
    if (phase === 1 && loss <= (1 + band) * linearLimit) phase = 2;
    if (phase === 2 && loss < (1 - band) * linearLimit) phase = 3;
    if (phase === 3 && loss < 2 * epsilon) phase = 4;
    return phase;
  });
  const phases: LearningPhase[] = [];
  phaseOfEpoch.forEach((p, i) => {
    const last = phases[phases.length - 1];
    if (last && last.phase === p) last.endEpoch = i + 1;
    else phases.push({ phase: p, name: LEARNING_PHASE_NAMES[p - 1], startEpoch: i + 1, endEpoch: i + 1 });
  });
  return { phaseOfEpoch, phases };
}
