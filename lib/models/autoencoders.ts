/**
 * Reference autoencoders of the papers:
 *  - `mlpAutoencoder`: the fully connected 784-400-40-400-784 autoencoder (CSAE-L of paper 4,
 *    §4 "784 → 400 → 400 → 784" with a 40-dimensional latent variable; issue 3's MLP).
 *  - `convDenoisingAutoencoder`: the 2,561-parameter convolutional denoising autoencoder of
 *    paper 3 (its Figure 12–13 model summary, Implementation section).
 */
import * as tf from "@tensorflow/tfjs";
import { countParams, forwardFlopsPerSample, trainingFlopsPerSample } from "./cost";
import type { Autoencoder } from "./autoencoder";
import {
  LayerActivation, afterActivation, applyModel, checkActivation, checkPositiveIntegers, checkSeed, seededInit, tfActivation,
} from "./common";

/** An autoencoder as its parts: encoder, decoder, the two chained, and what it costs. */
export interface AutoencoderModel extends Autoencoder {
  /** x → code. */
  encoder: tf.Sequential;
  /** code → reconstruction. */
  decoder: tf.Sequential;
  /** encoder then decoder, sharing their weights (train this one, or the two parts). */
  model: tf.Sequential;
  /** The encoder as a differentiable function (for loss functions; `training` defaults to true). */
  encode(x: tf.Tensor, training?: boolean): tf.Tensor;
  /** The decoder as a differentiable function. */
  decode(z: tf.Tensor, training?: boolean): tf.Tensor;
  /** decode(encode(x)). */
  reconstruct(x: tf.Tensor, training?: boolean): tf.Tensor;
  /** Shape of one input sample, e.g. [784] or [28, 28, 1]. */
  inputShape: number[];
  /** Shape of one code, e.g. [40] or [7, 7, 8]. */
  latentShape: number[];
  /** All weights (kernels and biases). */
  paramCount: number;
  /** 2 × multiply-adds of one sample's forward pass (see lib/models/cost). */
  forwardFlopsPerSample: number;
  /** ≈ 3 × forwardFlopsPerSample. */
  trainingFlopsPerSample: number;
  /** Free every weight. */
  dispose(): void;
}

/**
 * Dispose chained models: disposing the chain frees the encoder but leaves the decoder's
 * weights (tfjs counts its uses), so each part is disposed in turn, skipping those already gone.
 */
function disposeAll(models: tf.LayersModel[]): void {
  for (const m of models) {
    try {
      m.dispose();
    } catch (error) {
      if (!(error instanceof Error && /already disposed/.test(error.message))) throw error;
    }
  }
}

/** Package encoder + decoder into an AutoencoderModel. */
function assemble(encoder: tf.Sequential, decoder: tf.Sequential, inputShape: number[], name: string): AutoencoderModel {
  const model = tf.sequential({ name, layers: [encoder, decoder] });
  const latentShape = (encoder.outputs[0].shape as number[]).slice(1);
  return {
    encoder,
    decoder,
    model,
    encode: (x, training = true) => applyModel(encoder, x, training),
    decode: (z, training = true) => applyModel(decoder, z, training),
    reconstruct: (x, training = true) => applyModel(model, x, training),
    inputShape,
    latentShape,
    paramCount: countParams(model),
    forwardFlopsPerSample: forwardFlopsPerSample(model),
    trainingFlopsPerSample: trainingFlopsPerSample(model),
    dispose: () => disposeAll([model, encoder, decoder]),
  };
}

/** Options of `mlpAutoencoder`. */
export interface MlpAutoencoderOptions {
  /** Widths from input to output through the code in the middle entry (default [784, 400, 40, 400, 784]). An odd count ≥ 3. */
  layerSizes?: number[];
  /** Activation of the hidden layers (default "relu", as CSAE-L's released code). */
  hiddenActivation?: LayerActivation;
  /** Activation of the code layer (default "linear": CSAE's latent variables are compared with centroids directly). */
  latentActivation?: LayerActivation;
  /** Activation of the output layer (default "sigmoid": pixels in [0, 1]). */
  outputActivation?: LayerActivation;
  /** Slope for x < 0 when an activation is "leakyRelu" (default 0.3, Keras' LeakyReLU default). */
  leakyReluAlpha?: number;
  /** Seed of the Glorot-uniform kernel initialisers (default 0); biases start at zero. */
  seed?: number;
  /** Name of the chained model (default "mlp_autoencoder"). */
  name?: string;
}

/**
 * The fully connected autoencoder 784-400-40-400-784 (paper 4, §4: CSAE-L's "784 → 400 → 400 → 784"
 * with a 40-dimensional latent variable; encoder Linear+ReLU, Linear; decoder Linear+ReLU,
 * Linear+Sigmoid, as in the authors' released CSAE-L code). Takes flat [n, 784] images.
 */
export function mlpAutoencoder(options: MlpAutoencoderOptions = {}): AutoencoderModel {
  const fn = "mlpAutoencoder";
  const sizes = checkPositiveIntegers(options.layerSizes ?? [784, 400, 40, 400, 784], "layerSizes", fn);
  if (sizes.length < 3 || sizes.length % 2 === 0) {
    throw new Error(`${fn}: layerSizes must list an odd number (≥ 3) of widths, input … code … output; got [${sizes.join(", ")}]`);
  }
  const hidden = checkActivation(options.hiddenActivation ?? "relu", "hiddenActivation", fn);
  const latent = checkActivation(options.latentActivation ?? "linear", "latentActivation", fn);
  const output = checkActivation(options.outputActivation ?? "sigmoid", "outputActivation", fn);
  const alpha = options.leakyReluAlpha ?? 0.3;
  const seed = checkSeed(options.seed ?? 0, fn);
  const middle = (sizes.length - 1) / 2;

  const dense = (units: number, activation: LayerActivation, index: number, inputDim: number): tf.layers.Layer[] => [
    tf.layers.dense({ units, activation: tfActivation(activation), inputShape: [inputDim], ...seededInit(seed, index) }),
    ...afterActivation(activation, alpha),
  ];
  const encoderLayers: tf.layers.Layer[] = [];
  for (let i = 1; i <= middle; i++) encoderLayers.push(...dense(sizes[i], i === middle ? latent : hidden, i, sizes[i - 1]));
  const decoderLayers: tf.layers.Layer[] = [];
  for (let i = middle + 1; i < sizes.length; i++) {
    decoderLayers.push(...dense(sizes[i], i === sizes.length - 1 ? output : hidden, i, sizes[i - 1]));
  }
  const encoder = tf.sequential({ layers: encoderLayers });
  const decoder = tf.sequential({ layers: decoderLayers });
  return assemble(encoder, decoder, [sizes[0]], options.name ?? "mlp_autoencoder");
}

/** Options of `convDenoisingAutoencoder`. */
export interface ConvDenoisingAutoencoderOptions {
  /** [height, width, channels] of one image (default [28, 28, 1]); height and width divisible by 4. */
  inputShape?: [number, number, number];
  /** Filters of the three encoder convolutions (default [16, 8, 8]); the first transposed convolution has filters[2]. */
  filters?: [number, number, number];
  /** Square kernel size of every (transposed) convolution (default 3). */
  kernelSize?: number;
  /** Activation of the hidden (transposed) convolutions (default "relu"). */
  activation?: LayerActivation;
  /** Activation of the last transposed convolution (default "sigmoid"). */
  outputActivation?: LayerActivation;
  /** Slope for x < 0 when an activation is "leakyRelu" (default 0.3). */
  leakyReluAlpha?: number;
  /** Seed of the kernel initialisers (default 0). */
  seed?: number;
  /** Name of the chained model (default "conv_denoising_autoencoder"). */
  name?: string;
}

/**
 * The convolutional denoising autoencoder of paper 3 (Implementation section, model summary of
 * Figures 12–13, "Total params: 2,561"): Conv2D 16 → MaxPool 2 → Conv2D 8 → MaxPool 2 →
 * Conv2D 8 → UpSampling 2 → Conv2DTranspose 8 → UpSampling 2 → Conv2DTranspose 1, every layer
 * 3×3, stride 1, "same" padding (the text: "a filter that's 3 by 3 … stride of 1 padding same";
 * the summary's shapes 28→14→7→14→28 confirm it). The paper names no activations: ReLU inside and
 * a sigmoid output (pixels in [0, 1]) are this library's choice. Takes [n, 28, 28, 1] images; the
 * encoder ends at the 7×7×8 code.
 */
export function convDenoisingAutoencoder(options: ConvDenoisingAutoencoderOptions = {}): AutoencoderModel {
  const fn = "convDenoisingAutoencoder";
  const inputShape = checkPositiveIntegers(options.inputShape ?? [28, 28, 1], "inputShape", fn, 3) as [number, number, number];
  if (inputShape[0] % 4 !== 0 || inputShape[1] % 4 !== 0) {
    throw new Error(`${fn}: inputShape height and width must be divisible by 4 (two 2× poolings), got [${inputShape.join(", ")}]`);
  }
  const filters = checkPositiveIntegers(options.filters ?? [16, 8, 8], "filters", fn, 3);
  const [kernelSize] = checkPositiveIntegers([options.kernelSize ?? 3], "kernelSize", fn, 1);
  const hidden = checkActivation(options.activation ?? "relu", "activation", fn);
  const output = checkActivation(options.outputActivation ?? "sigmoid", "outputActivation", fn);
  const alpha = options.leakyReluAlpha ?? 0.3;
  const seed = checkSeed(options.seed ?? 0, fn);
  const [h, w, channels] = inputShape;

  const conv = (kind: "conv2d" | "conv2dTranspose", units: number, activation: LayerActivation, index: number, shape?: number[]) => [
    tf.layers[kind]({
      filters: units, kernelSize, strides: 1, padding: "same", activation: tfActivation(activation),
      ...(shape ? { inputShape: shape } : {}), ...seededInit(seed, index),
    }),
    ...afterActivation(activation, alpha),
  ];
  const encoder = tf.sequential({
    layers: [
      ...conv("conv2d", filters[0], hidden, 0, inputShape),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
      ...conv("conv2d", filters[1], hidden, 1),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
      ...conv("conv2d", filters[2], hidden, 2),
    ],
  });
  const decoder = tf.sequential({
    layers: [
      tf.layers.upSampling2d({ size: [2, 2], inputShape: [h / 4, w / 4, filters[2]] }),
      ...conv("conv2dTranspose", filters[2], hidden, 3),
      tf.layers.upSampling2d({ size: [2, 2] }),
      ...conv("conv2dTranspose", channels, output, 4),
    ],
  });
  return assemble(encoder, decoder, inputShape, options.name ?? "conv_denoising_autoencoder");
}
