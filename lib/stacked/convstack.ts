/**
 * A stack of convolutional autoencoders (slides [3], "Other usage of Auto-Encoders"): greedy
 * layer-wise pre-training of "conv + BN + ReLU, pool" units — unit ℓ learns to reconstruct the
 * output of the frozen units below it, through an upsampling decoder that is then discarded —
 * whose top-level activations serve as features for a classifier, and which initialises a CNN
 * of the same topology (the units, then one dense softmax layer) before supervised training.
 */
import * as tf from "@tensorflow/tfjs";
import { OptimizerSpec, TrainHistory, predictBatched, trainModel } from "../train";
import { ProgressOptions } from "../progress";
import { ConvUnit, convUnit } from "./convbn";
import { unpoolBy } from "./unpool";
import { accuracy } from "../metrics";
import type { ClassifierTrainingOptions } from "./pretrain";

/** Options of `pretrainConvStack`. */
export interface ConvStackOptions {
  /** Unlabelled images [n, height, width, channels] in [0, 1], height and width divisible by 2^layers. */
  data: tf.Tensor4D;
  /** Filters per unit, bottom first (default [16, 8]). */
  filters?: number[];
  /** Epochs per unit (default 2). */
  numEpochs?: number;
  /** Default 32. */
  batchSize?: number;
  /** Default adam 2e-3. */
  optimizer?: OptimizerSpec;
  /** Seed of the kernels and shuffles (default 0). */
  seed?: number;
  progress?: boolean | "auto" | ProgressOptions;
}

/** The pre-trained encoder units, bottom first, and how to read their top-level features. */
export interface ConvStack {
  units: ConvUnit[];
  histories: TrainHistory[];
  /** [h, w, c] of the top pooled map. */
  topShape: number[];
  seconds: number;
  /** Top-level activations, flattened [n, h·w·c] (inference mode, batched). */
  features(x: tf.Tensor4D): tf.Tensor2D;
  dispose(): void;
}

/** Units 0 … ℓ−1 then 2×2 max pooling after each (inference mode unless training). */
export function applyConvUnits(units: ConvUnit[], x: tf.Tensor4D, training = false): tf.Tensor4D {
  return tf.tidy(() => units.reduce((h, u) => tf.maxPool(u.apply(h, training), 2, 2, "valid") as tf.Tensor4D, x));
}

function salted(seed: number, salt: number): number {
  return ((seed * 1000003 + salt * 7919) >>> 0) % 2147483646;
}

/**
 * Greedy layer-wise pre-training: unit ℓ (conv + BN + ReLU) and a throw-away decoder (upsample,
 * conv) minimise the MSE of reconstructing h⁽ˡ⁻¹⁾, the pooled output of the frozen units below
 * (computed per batch, inference mode); the decoder is then discarded.
 */
export async function pretrainConvStack(options: ConvStackOptions): Promise<ConvStack> {
  const fn = "pretrainConvStack";
  const { data } = options ?? ({} as ConvStackOptions);
  if (!(data instanceof tf.Tensor) || data.rank !== 4 || data.isDisposed) throw new Error(`${fn}: data must be a live tf.Tensor4D [n, height, width, channels]`);
  const filters = options.filters ?? [16, 8];
  if (!Array.isArray(filters) || filters.length === 0 || filters.some((f) => !Number.isInteger(f) || f < 1)) {
    throw new Error(`${fn}: filters must be a non-empty list of positive integers, got ${JSON.stringify(options.filters)}`);
  }
  const [, height, width, channels] = data.shape;
  const scale = 2 ** filters.length;
  if (height % scale !== 0 || width % scale !== 0) throw new Error(`${fn}: height ${height} and width ${width} must be divisible by ${scale} for ${filters.length} poolings`);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new Error(`${fn}: seed must be an integer, got ${seed}`);
  const started = performance.now();
  const units: ConvUnit[] = [];
  const histories: TrainHistory[] = [];
  try {
    for (let l = 0; l < filters.length; l++) {
      const inChannels = l === 0 ? channels : filters[l - 1];
      const unit = convUnit({ inChannels, filters: filters[l], seed: salted(seed, 2 * l + 1) });
      units.push(unit);
      const decoder = convUnit({ inChannels: filters[l], filters: inChannels, batchNorm: false, activation: l === 0 ? "sigmoid" : "linear", seed: salted(seed, 2 * l + 2) });
      const below = units.slice(0, l);
      try {
        histories.push(await trainModel({
          data: { xs: data },
          variables: [...unit.trainable, ...decoder.trainable],
          lossTerms: (batch, context) => {
            const target = applyConvUnits(below, batch.xs as tf.Tensor4D);
            const code = tf.maxPool(unit.apply(target, context.training), 2, 2, "valid") as tf.Tensor4D;
            return { mse: tf.losses.meanSquaredError(target, decoder.apply(unpoolBy("upsample", code), context.training)) as tf.Scalar };
          },
          optimizer: options.optimizer ?? { name: "adam", learningRate: 2e-3 },
          numEpochs: options.numEpochs ?? 2, batchSize: options.batchSize ?? 32, seed: salted(seed, 100 + l),
          progress: options.progress, label: `conv unit ${l + 1} (${inChannels}→${filters[l]})`,
        }));
      } finally {
        decoder.dispose();
      }
    }
  } catch (error) {
    for (const u of units) u.dispose();
    throw error;
  }
  const topShape = [height / scale, width / scale, filters[filters.length - 1]];
  const size = topShape.reduce((a, b) => a * b, 1);
  let disposed = false;
  return {
    units, histories, topShape, seconds: (performance.now() - started) / 1000,
    features: (x) => predictBatched((b) => tf.reshape(applyConvUnits(units, b as tf.Tensor4D), [b.shape[0], size]), x, { batchSize: 500 }) as tf.Tensor2D,
    dispose: () => {
      if (disposed) return;
      disposed = true;
      for (const u of units) u.dispose();
    },
  };
}

/** Options of `convClassifier`. */
export interface ConvClassifierOptions {
  /** Copy the units of this stack (a CAE-initialised CNN); else random units of `filters`. */
  from?: ConvStack;
  /** Filters of the units when not from a stack (default [16, 8]). */
  filters?: number[];
  /** [height, width, channels] (default [28, 28, 1]). */
  inputShape?: [number, number, number];
  /** Default 10. */
  numClasses?: number;
  /** Seed of the random units and of the output layer (default 0). */
  seed?: number;
}

/** A CNN of the stack's topology: the units (each followed by pooling), flatten, dense softmax. */
export interface ConvClassifier {
  units: ConvUnit[];
  /** Output layer [features, classes] and its bias. */
  weights: tf.Variable;
  bias: tf.Variable;
  /** Every trainable variable. */
  variables: tf.Variable[];
  paramCount: number;
  /** Class scores before the softmax [n, classes]. */
  logits(x: tf.Tensor4D, training?: boolean): tf.Tensor2D;
  dispose(): void;
}

/** The CNN of the slides' last "other usage": identical topology to the stack, initialised from it or at random. */
export function convClassifier(options: ConvClassifierOptions = {}): ConvClassifier {
  const fn = "convClassifier";
  const [height, width, channels] = options.inputShape ?? [28, 28, 1];
  const filters = options.from ? options.from.units.map((u) => u.filters) : options.filters ?? [16, 8];
  if (!Array.isArray(filters) || filters.length === 0 || filters.some((f) => !Number.isInteger(f) || f < 1)) {
    throw new Error(`${fn}: filters must be a non-empty list of positive integers, got ${JSON.stringify(options.filters)}`);
  }
  if (options.from && options.from.units[0].inChannels !== channels) throw new Error(`${fn}: the stack takes ${options.from.units[0].inChannels} channels, inputShape has ${channels}`);
  const numClasses = options.numClasses ?? 10;
  if (!Number.isInteger(numClasses) || numClasses < 2) throw new Error(`${fn}: numClasses must be an integer ≥ 2, got ${numClasses}`);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new Error(`${fn}: seed must be an integer, got ${seed}`);
  const scale = 2 ** filters.length;
  if (height % scale !== 0 || width % scale !== 0) throw new Error(`${fn}: height ${height} and width ${width} must be divisible by ${scale}`);
  const units = filters.map((f, l) => convUnit({ inChannels: l === 0 ? channels : filters[l - 1], filters: f, seed: salted(seed, 50 + l) }));
  if (options.from) units.forEach((u, l) => u.copyFrom(options.from!.units[l]));
  const size = (height / scale) * (width / scale) * filters[filters.length - 1];
  const weights = tf.tidy(() => tf.variable(tf.initializers.glorotUniform({ seed: salted(seed, 60) + 1 }).apply([size, numClasses]) as tf.Tensor, true));
  const bias = tf.tidy(() => tf.variable(tf.zeros([numClasses]), true));
  const variables = [...units.flatMap((u) => u.trainable), weights, bias];
  let disposed = false;
  return {
    units, weights, bias, variables, paramCount: variables.reduce((s, v) => s + v.size, 0),
    logits: (x, training = false) => tf.tidy(() => {
      const top = applyConvUnits(units, x, training);
      return tf.add(tf.matMul(tf.reshape(top, [x.shape[0], size]), weights as tf.Tensor2D), bias) as tf.Tensor2D;
    }),
    dispose: () => {
      if (disposed) return;
      disposed = true;
      for (const u of units) u.dispose();
      tf.dispose([weights, bias]);
    },
  };
}

/** Options of `trainConvClassifier` (batch size default 32, optimiser default adam 1e-3). */
export interface TrainConvClassifierOptions extends ClassifierTrainingOptions {
  model: ConvClassifier;
  images: tf.Tensor4D;
}

/** Supervised training of every weight of the CNN (fine-tuning when it starts from a stack): softmax cross-entropy through ae.trainModel. */
export async function trainConvClassifier(options: TrainConvClassifierOptions): Promise<TrainHistory> {
  const { model, images, oneHot } = options;
  if (!model || !Array.isArray(model.variables)) throw new Error("trainConvClassifier: model must come from convClassifier");
  return trainModel({
    data: { xs: images, ys: oneHot },
    variables: model.variables,
    lossTerms: (batch, context) => ({ crossEntropy: tf.losses.softmaxCrossEntropy(batch.ys, model.logits(batch.xs as tf.Tensor4D, context.training)) as tf.Scalar }),
    optimizer: options.optimizer ?? { name: "adam", learningRate: 1e-3 },
    numEpochs: options.numEpochs, batchSize: options.batchSize ?? 32, seed: options.seed ?? 0, progress: options.progress, label: options.label,
  });
}

/** Test accuracy of the CNN (inference mode, batched): labels are class ids [n] or one-hot [n, C]. */
export function convClassifierAccuracy(model: ConvClassifier, images: tf.Tensor4D, labels: tf.Tensor): number {
  const scores = predictBatched((b) => model.logits(b as tf.Tensor4D), images, { batchSize: 500 }) as tf.Tensor2D;
  const value = tf.tidy(() => accuracy(scores, labels).dataSync()[0]);
  scores.dispose();
  return value;
}
