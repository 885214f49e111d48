/**
 * Stacked denoising autoencoders (lecture [2], after Vincent et al. 2010): greedy layer-wise
 * pre-training — layer ℓ is the encoder f_θ⁽ˡ⁾ of a denoising autoencoder that reconstructs the
 * previous layer's code from a corrupted copy q_D, its decoder g_θ′ then discarded — followed
 * by an output layer on top of the stack and supervised fine-tuning of everything.
 */
import * as tf from "@tensorflow/tfjs";
import { CorruptionSpec, corruptInputs } from "../data/noise";
import { OptimizerSpec, TrainHistory, predictBatched, trainModel } from "../train";
import { ProgressOptions } from "../progress";
import { categoricalCrossEntropy } from "../models/classifiers";
import { tiedDense } from "./tied";

/**
 * L_H(x, z) = −Σᵢ [xᵢ log zᵢ + (1 − xᵢ) log(1 − zᵢ)] with z = sigmoid(a), summed over features and
 * averaged over the batch (the reconstruction cross-entropy of Vincent et al. 2010, eq. 2),
 * computed stably from the logits a: Σᵢ max(aᵢ, 0) − aᵢxᵢ + log(1 + e^(−|aᵢ|)).
 */
export function reconstructionCrossEntropy(x: tf.Tensor, logits: tf.Tensor): tf.Scalar {
  const fn = "reconstructionCrossEntropy";
  if (!(x instanceof tf.Tensor) || !(logits instanceof tf.Tensor)) throw new Error(`${fn}: x and logits must be tf.Tensors`);
  if (x.rank < 1 || x.shape.length !== logits.shape.length || x.shape.some((d, i) => d !== logits.shape[i])) {
    throw new Error(`${fn}: x [${x.shape}] and logits [${logits.shape}] must have the same shape [n, …]`);
  }
  return tf.tidy(() => {
    const perElement = tf.add(tf.sub(tf.relu(logits), tf.mul(logits, x)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
    return tf.div(tf.sum(perElement), x.shape[0]) as tf.Scalar;
  });
}

/** Options of `pretrainStackedDenoising`. */
export interface StackedPretrainOptions {
  /** Unlabelled inputs [n, d] with values in [0, 1]. */
  data: tf.Tensor2D;
  /** Widths of the hidden layers, bottom to top, e.g. [500, 500]. */
  hiddenSizes: number[];
  /** Corruption q_D of each layer's input (default masking noise, ν = 0.25); one spec for all layers or one per layer. */
  corruption?: CorruptionSpec | CorruptionSpec[];
  /** Tie each layer's decoder to its encoder, W′ = Wᵀ (default true, as Vincent et al.). */
  tiedWeights?: boolean;
  /** Epochs per layer (default 5). */
  numEpochs?: number;
  /** Default 64. */
  batchSize?: number;
  /** Default adam 1e-3. */
  optimizer?: OptimizerSpec;
  /** Seed of initialisation, shuffles and corruption (default 0). */
  seed?: number;
  progress?: boolean | "auto" | ProgressOptions;
  /** Called after layer ℓ (0-based) is trained, before its decoder is discarded: show its reconstructions here. */
  onLayerTrained?: (info: PretrainedLayerInfo) => void | Promise<void>;
}

/** What `onLayerTrained` sees: the layer's denoising autoencoder and its inputs (all owned by the pre-training; do not dispose). */
export interface PretrainedLayerInfo {
  layer: number;
  /** Inputs of this layer: the images for layer 0, else the previous layer's codes. */
  inputs: tf.Tensor2D;
  /** y = f_θ(x) (sigmoid encoder). */
  encode(x: tf.Tensor2D): tf.Tensor2D;
  /** z = g_θ′(y) (sigmoid decoder). */
  decode(y: tf.Tensor2D): tf.Tensor2D;
  /** x̃ ~ q_D(x̃ | x) with this layer's corruption. */
  corrupt(x: tf.Tensor2D, seed?: number): tf.Tensor2D;
  history: TrainHistory;
}

/** The pre-trained stack: one Dense sigmoid encoder per hidden layer, and each layer's training history. */
export interface StackedPretrainResult {
  /** Trained encoders f_θ⁽¹⁾ … f_θ⁽ᴸ⁾ (Dense, sigmoid), bottom first; owned by the caller. */
  encoders: tf.layers.Layer[];
  histories: TrainHistory[];
  /** [d, h₁, …, h_L]. */
  layerSizes: number[];
  /** Seconds of the whole pre-training. */
  seconds: number;
  dispose(): void;
}

function layerSeed(seed: number, layer: number, salt: number): number {
  return ((seed * 1000003 + layer * 7919 + salt * 104729) >>> 0) % 2147483646 + 1;
}

/**
 * Greedy layer-wise denoising pre-training: layer ℓ learns, from x̃ ~ q_D(x̃ | h⁽ˡ⁻¹⁾), to reconstruct
 * the clean h⁽ˡ⁻¹⁾ under L_H; then h⁽ˡ⁾ = f_θ⁽ˡ⁾(h⁽ˡ⁻¹⁾) (clean) feeds layer ℓ+1 and the decoder is discarded.
 */
export async function pretrainStackedDenoising(options: StackedPretrainOptions): Promise<StackedPretrainResult> {
  const fn = "pretrainStackedDenoising";
  const { data } = options;
  if (!(data instanceof tf.Tensor) || data.rank !== 2) throw new Error(`${fn}: data must be a tf.Tensor2D [n, d] of inputs in [0, 1]`);
  if (data.isDisposed) throw new Error(`${fn}: data has been disposed`);
  const sizes = options.hiddenSizes;
  if (!Array.isArray(sizes) || sizes.length === 0 || sizes.some((s) => !Number.isInteger(s) || s < 1)) {
    throw new Error(`${fn}: hiddenSizes must be a non-empty array of positive integers, got ${JSON.stringify(sizes)}`);
  }
  const corruptions = Array.isArray(options.corruption) ? options.corruption : sizes.map(() => (options.corruption as CorruptionSpec | undefined) ?? { kind: "masking", probability: 0.25 } as CorruptionSpec);
  if (corruptions.length !== sizes.length) throw new Error(`${fn}: corruption lists ${corruptions.length} specs for ${sizes.length} hidden layers`);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new Error(`${fn}: seed must be an integer, got ${seed}`);
  const numEpochs = options.numEpochs ?? 5;
  const batchSize = options.batchSize ?? 64;
  const tied = options.tiedWeights ?? true;
  const started = performance.now();

  const encoders: tf.layers.Layer[] = [];
  const histories: TrainHistory[] = [];
  let inputs: tf.Tensor2D = data;
  try {
    for (let l = 0; l < sizes.length; l++) {
      const inputDim = inputs.shape[1];
      const encoder = tf.layers.dense({
        units: sizes[l], activation: "sigmoid", inputShape: [inputDim], name: `sda_encoder_${l + 1}_${layerSeed(seed, l, 0)}`,
        kernelInitializer: tf.initializers.glorotUniform({ seed: layerSeed(seed, l, 1) }),
      });
      buildEagerly(encoder, inputDim);
      encoders.push(encoder);
      const decoder = tied
        ? tiedDense({ tiedTo: encoder, activation: "linear" })
        : tf.layers.dense({ units: inputDim, activation: "linear", kernelInitializer: tf.initializers.glorotUniform({ seed: layerSeed(seed, l, 2) }) });
      buildEagerly(decoder, sizes[l]);
      const spec = corruptions[l];
      const corrupt = (x: tf.Tensor2D, s?: number) => corruptInputs(x, s === undefined || spec.kind === "none" ? spec : { ...spec, seed: s } as CorruptionSpec);
      try {
        const history = await trainModel({
          data: { xs: inputs },
          models: [encoder, decoder],
          lossTerms: (batch, context) => {
            const noisy = corrupt(batch.xs as tf.Tensor2D, context.seed);
            const logits = decoder.apply(encoder.apply(noisy)) as tf.Tensor;
            return { crossEntropy: reconstructionCrossEntropy(batch.xs, logits) };
          },
          optimizer: options.optimizer ?? { name: "adam", learningRate: 1e-3 },
          numEpochs, batchSize, seed: layerSeed(seed, l, 3), progress: options.progress, label: `layer ${l + 1} (${inputDim}→${sizes[l]})`,
        });
        histories.push(history);
        if (options.onLayerTrained) {
          await options.onLayerTrained({
            layer: l, inputs, history, corrupt,
            encode: (x) => tf.tidy(() => encoder.apply(x) as tf.Tensor2D),
            decode: (y) => tf.tidy(() => tf.sigmoid(decoder.apply(y) as tf.Tensor) as tf.Tensor2D),
          });
        }
      } finally {
        decoder.dispose(); // the decoder g_θ′ is discarded (a tied one owns only its bias)
      }
      const next = predictBatched((x) => encoder.apply(x) as tf.Tensor, inputs, { batchSize: 1024 }) as tf.Tensor2D;
      if (inputs !== data) inputs.dispose();
      inputs = next;
    }
  } catch (error) {
    if (inputs !== data) inputs.dispose();
    for (const e of encoders) e.dispose();
    throw error;
  }
  if (inputs !== data) inputs.dispose();
  let disposed = false;
  return {
    encoders, histories, layerSizes: [data.shape[1], ...sizes], seconds: (performance.now() - started) / 1000,
    dispose: () => {
      if (disposed) return;
      disposed = true;
      for (const e of encoders) e.dispose();
    },
  };
}

/** Build a layer by one concrete call (so tfjs counts its use and dispose() frees its weights). */
function buildEagerly(layer: tf.layers.Layer, inputDim: number): void {
  tf.tidy(() => { layer.apply(tf.zeros([1, inputDim])); });
}

/** Options of `stackedClassifier`. */
export interface StackedClassifierOptions {
  /** Widths [d, h₁, …, h_L] (ignored when `pretrained` is given: its sizes are used). */
  layerSizes?: number[];
  /** Copy these encoders' weights into the hidden layers (pre-trained start); else random initialisation. */
  pretrained?: StackedPretrainResult;
  /** Default 10. */
  numClasses?: number;
  /** Seed of the random initialisation and of the output layer (default 0). */
  seed?: number;
  name?: string;
}

/**
 * The deep network of the fine-tuning slide: hidden sigmoid layers d → h₁ → … → h_L (copies of the
 * pre-trained encoders, or Glorot-random) and a softmax output layer added on top.
 */
export function stackedClassifier(options: StackedClassifierOptions): tf.Sequential {
  const fn = "stackedClassifier";
  const sizes = options.pretrained ? options.pretrained.layerSizes : options.layerSizes;
  if (!Array.isArray(sizes) || sizes.length < 2 || sizes.some((s) => !Number.isInteger(s) || s < 1)) {
    throw new Error(`${fn}: layerSizes must list at least [inputDim, hidden] as positive integers (or give pretrained), got ${JSON.stringify(sizes)}`);
  }
  const numClasses = options.numClasses ?? 10;
  if (!Number.isInteger(numClasses) || numClasses < 2) throw new Error(`${fn}: numClasses must be an integer ≥ 2, got ${numClasses}`);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new Error(`${fn}: seed must be an integer, got ${seed}`);
  const model = tf.sequential({ name: options.name });
  for (let l = 1; l < sizes.length; l++) {
    model.add(tf.layers.dense({
      units: sizes[l], activation: "sigmoid", ...(l === 1 ? { inputShape: [sizes[0]] } : {}),
      kernelInitializer: tf.initializers.glorotUniform({ seed: layerSeed(seed, l, 11) }),
    }));
  }
  model.add(tf.layers.dense({ units: numClasses, activation: "softmax", kernelInitializer: tf.initializers.glorotUniform({ seed: layerSeed(seed, sizes.length, 12) }) }));
  if (options.pretrained) {
    options.pretrained.encoders.forEach((encoder, l) => {
      const weights = encoder.getWeights();
      model.layers[l].setWeights(weights); // setWeights copies the values
    });
  }
  return model;
}

/** What supervised training of a classifier takes besides the model and its inputs (fineTuneClassifier, trainConvClassifier). */
export interface ClassifierTrainingOptions {
  /** One-hot labels [n, numClasses]. */
  oneHot: tf.Tensor2D;
  numEpochs: number;
  batchSize?: number;
  optimizer?: OptimizerSpec;
  seed?: number;
  progress?: boolean | "auto" | ProgressOptions;
  label?: string;
}

/** Options of `fineTuneClassifier`. */
export interface FineTuneOptions extends ClassifierTrainingOptions {
  model: tf.LayersModel;
  images: tf.Tensor2D;
}

/** Supervised fine-tuning of the whole stack by gradient descent on the cross-entropy of the softmax output (ae.trainModel). */
export async function fineTuneClassifier(options: FineTuneOptions): Promise<TrainHistory> {
  const { model, images, oneHot } = options;
  if (!(model instanceof tf.LayersModel)) throw new Error("fineTuneClassifier: model must be a tf.LayersModel (e.g. from stackedClassifier)");
  return trainModel({
    data: { xs: images, ys: oneHot },
    models: [model],
    lossTerms: (batch) => ({ crossEntropy: categoricalCrossEntropy(model.apply(batch.xs, { training: true }) as tf.Tensor, batch.ys) }),
    optimizer: options.optimizer ?? { name: "adam", learningRate: 1e-3 },
    numEpochs: options.numEpochs, batchSize: options.batchSize ?? 64, seed: options.seed ?? 0, progress: options.progress, label: options.label,
  });
}
