/**
 * Many independent copies of the demo autoencoder trained in ONE trainModel call, for seed
 * sweeps. The network is so small that each optimiser step costs its per-op overhead, not
 * its arithmetic; stacking K replicas along a leading axis (weights [K, out, in], batched
 * matmuls) runs K seeds for about the price of one. Replica k starts from exactly the
 * parameters of demoAutoencoder({ seed: seeds[k] }) and trains on its own data set; the
 * replicas share nothing but the loop (each one's loss is a separate term, so the
 * gradient of the summed loss with respect to replica k's parameters is its own gradient).
 */
import * as tf from "@tensorflow/tfjs";
import { trainModel, TrainHistory, EpochLogs } from "../train";
import { permutation } from "../random";
import { DemoActivation, DemoArchitecture, DemoParameters, GradientConvention, applyDemoActivation, checkDemoArchitecture, drawDemoParameters, scaleGradient } from "./dense-autoencoder";
import { resolveDemoOptimizer } from "./demo";
import type { CodeFrame, DemoTrainingOptions } from "./demo";
import { replicateBatch, Replicates } from "../replicate/replicate";

export interface DemoEnsembleOptions {
  /** One seed per replica (distinct integers): replica k's initial parameters are demoAutoencoder({ seed: seeds[k] })'s. */
  seeds: number[];
  layerSizes?: number[];
  codeLayer?: number;
  activation?: DemoActivation;
  weightScale?: number;
}

export interface DemoEnsemble extends DemoArchitecture {
  readonly seeds: readonly number[];
  readonly replicas: number;
  /** [K, n_l, n_{l−1}] per layer. */
  readonly weights: tf.Variable[];
  /** [K, 1, n_l] per layer. */
  readonly biases: tf.Variable[];
  readonly variables: tf.Variable[];
  /** Activations of every layer for x of shape [K, n, d] (replica k sees x[k]). */
  forward(x: tf.Tensor3D, options?: { weightGradientScale?: number }): { zs: tf.Tensor3D[]; activations: tf.Tensor3D[] };
  /** Codes [K, n, 2]. */
  encode(x: tf.Tensor3D): tf.Tensor3D;
  /** Outputs [K, n, d]. */
  reconstruct(x: tf.Tensor3D, options?: { weightGradientScale?: number }): tf.Tensor3D;
  /** Replica k's parameters as a plain single-network snapshot. */
  replicaParameters(k: number): DemoParameters;
  dispose(): void;
}

/** K independent demo autoencoders stacked along a leading axis (replica k = demoAutoencoder({ seed: seeds[k] }) at the start). */
export function demoAutoencoderEnsemble(options: DemoEnsembleOptions): DemoEnsemble {
  const fn = "demoAutoencoderEnsemble";
  const seeds = options?.seeds;
  if (!Array.isArray(seeds) || seeds.length === 0 || seeds.some((s) => !Number.isInteger(s))) {
    throw new Error(`${fn}: seeds must be a non-empty list of integers, got ${JSON.stringify(seeds)}`);
  }
  if (new Set(seeds).size !== seeds.length) throw new Error(`${fn}: seeds must be distinct, got ${JSON.stringify(seeds)}`);
  const layerSizes = [...(options.layerSizes ?? [4, 6, 2, 5, 4])];
  const codeLayer = checkDemoArchitecture(layerSizes, options.codeLayer, fn);
  const activation = options.activation ?? "tanh";
  if (!["identity", "sigmoid", "tanh"].includes(activation)) throw new Error(`${fn}: activation must be one of identity, sigmoid, tanh, got ${JSON.stringify(activation)}`);
  const weightScale = options.weightScale ?? 0.1;
  const draws = seeds.map((seed) => drawDemoParameters(layerSizes, weightScale, seed));
  const K = seeds.length;
  const weights = draws[0].weights.map((_, l) => tf.tidy(() => tf.variable(tf.tensor3d(draws.map((p) => p.weights[l])), true)));
  const biases = draws[0].biases.map((_, l) => tf.tidy(() => tf.variable(tf.tensor3d(draws.map((p) => [p.biases[l]])), true)));
  const variables = weights.flatMap((w, i) => [w, biases[i]]);

  const ensemble: DemoEnsemble = {
    seeds: [...seeds], replicas: K, layerSizes, codeLayer, activation, weights, biases, variables,
    forward(x, forwardOptions = {}) {
      if (!(x instanceof tf.Tensor) || x.rank !== 3 || x.shape[0] !== K || x.shape[2] !== layerSizes[0]) {
        throw new Error(`${fn}.forward: x must be [${K}, n, ${layerSizes[0]}], got ${x instanceof tf.Tensor ? `[${x.shape.join(", ")}]` : typeof x}`);
      }
      const scale = forwardOptions.weightGradientScale ?? 1;
      const zs: tf.Tensor3D[] = [];
      const activations: tf.Tensor3D[] = [x];
      let a = x;
      weights.forEach((w, i) => {
        const z = tf.add(tf.matMul(a, scaleGradient(w as tf.Tensor, scale) as tf.Tensor3D, false, true), biases[i]) as tf.Tensor3D;
        a = applyDemoActivation(activation, z) as tf.Tensor3D;
        zs.push(z);
        activations.push(a);
      });
      return { zs, activations };
    },
    encode(x) {
      return tf.tidy(() => ensemble.forward(x).activations[codeLayer].clone());
    },
    reconstruct(x, forwardOptions) {
      return tf.tidy(() => {
        const acts = ensemble.forward(x, forwardOptions).activations;
        return acts[acts.length - 1].clone();
      });
    },
    replicaParameters(k) {
      if (!Number.isInteger(k) || k < 0 || k >= K) throw new Error(`${fn}.replicaParameters: k must be an integer in [0, ${K}), got ${k}`);
      return {
        // Read back only replica k's slice, not all K replicas per layer.
        weights: weights.map((w) => tf.tidy(() => tf.gather(w, k).arraySync() as unknown as number[][])),
        biases: biases.map((b) => tf.tidy(() => (tf.gather(b, k).arraySync() as unknown as number[][])[0])),
      };
    },
    dispose() {
      tf.dispose(variables);
    },
  };
  return ensemble;
}

/** Per-sample sum of squares, averaged per replica: [K] from targets and outputs [K, n, d]. */
function replicaMeanSumOfSquares(target: tf.Tensor3D, output: tf.Tensor3D): tf.Tensor1D {
  return tf.mean(tf.sum(tf.squaredDifference(target, output), 2), 1) as tf.Tensor1D;
}

/** The options of trainDemoAutoencoder, for K replicas at once. */
export interface DemoEnsembleTrainingOptions extends Omit<DemoTrainingOptions, "model" | "inputs" | "stopBelow" | "seed"> {
  ensemble: DemoEnsemble;
  /** One data set per replica: inputs[k] is n × d (same n for all). */
  inputs: tf.Tensor2D[] | number[][][];
  /** A replica has converged at the first epoch its loss is below this; training stops when all have (default 0.005; 0: never). */
  stopBelow?: number;
  /** Shuffle seed (default 0); each replica's rows are also permuted once by its own seed so batches differ between replicas. */
  seed?: number;
  /** Record replica `recordReplica`'s codes every this many epochs (0: none, the default). */
  recordReplica?: number;
}

export interface DemoEnsembleResult {
  history: TrainHistory;
  /** losses[k][e]: replica k's mean sum of squares in epoch e+1. */
  losses: number[][];
  /** Per replica: the first epoch below stopBelow, or null. */
  convergedAt: Array<number | null>;
  /** Per replica: the loss when it stopped (at convergedAt, or the last epoch). */
  stopLoss: number[];
  /** Frames of the recorded replica (codes in the original row order of its data set). */
  frames: CodeFrame[];
  seconds: number;
}

/** Train every replica of an ensemble on its own data with the program's loss and convention, in one trainModel call. */
export async function trainDemoEnsemble(options: DemoEnsembleTrainingOptions): Promise<DemoEnsembleResult> {
  const fn = "trainDemoEnsemble";
  const { ensemble } = options;
  if (!ensemble || !Array.isArray(ensemble.variables) || typeof ensemble.forward !== "function") throw new Error(`${fn}: ensemble must come from demoAutoencoderEnsemble`);
  const K = ensemble.replicas;
  if (!Array.isArray(options.inputs) || options.inputs.length !== K) throw new Error(`${fn}: inputs must hold one data set per replica (${K}), got ${Array.isArray(options.inputs) ? options.inputs.length : typeof options.inputs}`);
  const convention = options.gradientConvention ?? "program";
  if (convention !== "program" && convention !== "mean") throw new Error(`${fn}: gradientConvention must be "program" or "mean", got ${JSON.stringify(convention)}`);
  const stopBelow = options.stopBelow ?? 0.005;
  if (!(stopBelow >= 0)) throw new Error(`${fn}: stopBelow must be ≥ 0, got ${stopBelow}`);
  const numEpochs = options.numEpochs ?? 1000;
  const recordEvery = options.recordEvery ?? 0;
  const recordReplica = options.recordReplica ?? 0;
  if (!Number.isInteger(recordEvery) || recordEvery < 0) throw new Error(`${fn}: recordEvery must be a non-negative integer, got ${recordEvery}`);
  if (!Number.isInteger(recordReplica) || recordReplica < 0 || recordReplica >= K) throw new Error(`${fn}: recordReplica must be in [0, ${K}), got ${recordReplica}`);
  const seed = options.seed ?? 0;

  // Stack to [n, K, d] (samples first, as trainModel slices and shuffles the first axis), each replica's rows permuted by its own seed.
  const arrays = options.inputs.map((x, k) => {
    const rows = x instanceof tf.Tensor ? (x.arraySync() as number[][]) : x;
    if (!Array.isArray(rows) || rows.length === 0 || rows.some((r) => !Array.isArray(r) || r.length !== ensemble.layerSizes[0])) {
      throw new Error(`${fn}: inputs[${k}] must be n × ${ensemble.layerSizes[0]}`);
    }
    return rows;
  });
  const n = arrays[0].length;
  arrays.forEach((rows, k) => { if (rows.length !== n) throw new Error(`${fn}: every data set needs the same number of rows; inputs[0] has ${n}, inputs[${k}] has ${rows.length}`); });
  const orders = ensemble.seeds.map((s) => permutation(n, s ^ 0x5bd1e995));
  const stacked = tf.tensor3d(Array.from({ length: n }, (_, i) => arrays.map((rows, k) => rows[orders[k][i]])));
  // The recorded replica's data in its original row order, for its codes.
  const recordInputs = recordEvery > 0 ? tf.tensor3d(ensemble.seeds.map(() => arrays[recordReplica])) : null;

  const { optimizer, owned } = resolveDemoOptimizer(options);

  const frames: CodeFrame[] = [];
  const convergedAt: Array<number | null> = new Array(K).fill(null);
  const losses: number[][] = ensemble.seeds.map(() => []);
  const record = async (epoch: number, loss: number) => {
    const codes = tf.tidy(() => tf.squeeze(tf.slice(ensemble.encode(recordInputs!), [recordReplica, 0, 0], [1, n, 2]), [0]));
    frames.push({ epoch, codes: (await codes.array()) as number[][], loss });
    codes.dispose();
  };
  let running: tf.Tensor1D | null = null;
  const stale: tf.Tensor[] = [];
  try {
    if (recordInputs) {
      const initial = tf.tidy(() => replicaMeanSumOfSquares(recordInputs, ensemble.reconstruct(recordInputs)));
      const values = await initial.data();
      initial.dispose();
      await record(0, values[recordReplica]);
    }
    // Per-replica sums of (loss × rows) over the epoch stay on the device beside the loop (one term, the sum over
    // replicas, is what trainModel minimises: its gradient for replica k's parameters is replica k's own gradient).
    const history = await trainModel({
      data: { xs: stacked },
      variables: ensemble.variables,
      optimizer,
      numEpochs,
      batchSize: options.batchSize ?? 32,
      seed,
      lossTerms: (batch) => {
        const x = tf.transpose(batch.xs, [1, 0, 2]) as tf.Tensor3D; // [K, m, d]
        const m = x.shape[1];
        const perReplica = replicaMeanSumOfSquares(x, ensemble.reconstruct(x, { weightGradientScale: convention === "program" ? m : 1 }));
        const scaled = tf.mul(perReplica, m);
        const next = tf.keep(running === null ? scaled : tf.add(running, scaled)) as tf.Tensor1D;
        if (running !== null) stale.push(running);
        running = next;
        return { sumOverReplicas: tf.sum(perReplica) as tf.Scalar };
      },
      lossWeights: { sumOverReplicas: 0.5 },
      callbacks: {
        onBatchEnd: () => { tf.dispose(stale.splice(0)); },
        onEpochEnd: async (epoch: number) => {
          const sums = await running!.data();
          running!.dispose();
          running = null;
          const epochLosses = Array.from(sums, (v) => v / n);
          epochLosses.forEach((l, k) => {
            losses[k].push(l);
            if (convergedAt[k] === null && stopBelow > 0 && l < stopBelow) convergedAt[k] = epoch;
          });
          const allDone = stopBelow > 0 && convergedAt.every((c) => c !== null);
          if (recordInputs && (epoch % recordEvery === 0 || epoch === numEpochs || allDone || convergedAt[recordReplica] === epoch)) {
            await record(epoch, epochLosses[recordReplica]);
          }
          return allDone ? "stop" : undefined;
        },
      },
      progress: options.progress ?? false,
      label: options.label,
    });
    const stopLoss = losses.map((l, k) => (convergedAt[k] !== null ? l[convergedAt[k]! - 1] : l[l.length - 1]));
    return { history, losses, convergedAt, stopLoss, frames, seconds: history.seconds };
  } finally {
    owned?.dispose();
    stacked.dispose();
    tf.dispose(stale);
    (running as tf.Tensor1D | null)?.dispose();
    recordInputs?.dispose();
  }
}

/** Options of replicateDemoEnsemble: an ensemble's architecture and trainDemoEnsemble's options, with one data set per seed. */
export interface ReplicateDemoOptions extends Omit<DemoEnsembleTrainingOptions, "ensemble" | "inputs">, Omit<DemoEnsembleOptions, "seeds"> {
  seeds: readonly number[];
  /** Seed s's data set (n × d, the same n for every seed), e.g. (s) => gaussianClusters({ ..., seed: s }).points. */
  inputs: (seed: number) => tf.Tensor2D | number[][];
}

/** What replicateDemoEnsemble returns: per-seed metrics as Replicates, and the training result behind them. */
export interface DemoReplicates {
  /** stopLoss (at the first epoch below stopBelow, else the last), lastLoss (the last epoch trained), converged (1/0), epochs (to convergence, else all trained). */
  replicates: Replicates;
  result: DemoEnsembleResult;
}

/** One configuration of the demo autoencoder over seeds, all seeds stacked in one trainModel call (replicate's batch path). */
export async function replicateDemoEnsemble(options: ReplicateDemoOptions): Promise<DemoReplicates> {
  const { seeds, inputs, layerSizes, codeLayer, activation, weightScale, ...training } = options;
  if (typeof inputs !== "function") throw new Error(`replicateDemoEnsemble: inputs must be a function (seed) => data set, got ${typeof inputs}`);
  let result: DemoEnsembleResult | undefined;
  const replicates = await replicateBatch({
    seeds,
    run: async (ids) => {
      const ensemble = demoAutoencoderEnsemble({ seeds: ids, layerSizes, codeLayer, activation, weightScale });
      try {
        result = await trainDemoEnsemble({ ...training, ensemble, inputs: ids.map((s) => inputs(s)) as number[][][] });
      } finally {
        ensemble.dispose();
      }
      const r = result;
      return {
        stopLoss: r.stopLoss, lastLoss: r.losses.map((l) => l[l.length - 1]),
        converged: r.convergedAt.map((c) => (c === null ? 0 : 1)), epochs: r.convergedAt.map((c, k) => c ?? r.losses[k].length),
      };
    },
  });
  return { replicates, result: result! };
}
