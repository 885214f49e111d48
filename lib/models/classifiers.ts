/**
 * Reference classifiers:
 *  - `cnnClassifier`: issue 3's CNN, 3 valid convolutions 32/64/64 + dense 128 + dense 10.
 *  - `fsaeClassifier`: the abstract (classifying) network of paper 1, the functionally
 *    separate autoencoder: the same shapes with invertible leaky-ReLU activations.
 */
import * as tf from "@tensorflow/tfjs";
import { countParams, forwardFlopsPerSample, trainingFlopsPerSample } from "./cost";
import {
  LayerActivation, afterActivation, applyModel, checkActivation, checkPositiveIntegers, checkSeed, seededInit, tfActivation,
} from "./common";

/** A classifier and what it costs. */
export interface ClassifierModel {
  /** images → class probabilities (or logits with outputActivation "linear"). */
  model: tf.Sequential;
  /** The model as a differentiable function (`training` defaults to true). */
  predict(x: tf.Tensor, training?: boolean): tf.Tensor;
  /** Shape of one input sample, e.g. [28, 28, 1]. */
  inputShape: number[];
  numClasses: number;
  paramCount: number;
  /** 2 × multiply-adds of one sample's forward pass. */
  forwardFlopsPerSample: number;
  /** ≈ 3 × forwardFlopsPerSample. */
  trainingFlopsPerSample: number;
  dispose(): void;
}

/** Options of `cnnClassifier`. */
export interface CnnClassifierOptions {
  /** [height, width, channels] of one image (default [28, 28, 1]). */
  inputShape?: [number, number, number];
  /** Filters of the convolutions (default [32, 64, 64]). */
  filters?: number[];
  /** Square kernel size of every convolution (default 3). */
  kernelSize?: number;
  /** Stride of every convolution (default 1). */
  strides?: number;
  /** Width of the hidden dense layer (default 128). */
  denseUnits?: number;
  /** Classes (default 10). */
  numClasses?: number;
  /** Activation of the convolutions and the hidden dense layer (default "relu"). */
  activation?: LayerActivation;
  /** Slope for x < 0 when activation is "leakyRelu" (default 0.3, Keras' LeakyReLU default). */
  leakyReluAlpha?: number;
  /** Activation of the last layer (default "softmax": probabilities; "linear" gives logits). */
  outputActivation?: LayerActivation;
  /** Seed of the kernel initialisers (default 0). */
  seed?: number;
  /** Model name (default "cnn_classifier"). */
  name?: string;
}

/**
 * Issue 3's CNN classifier: convolutions 32/64/64 (3×3, stride 1, "valid" padding, no pooling:
 * 28→26→24→22), flatten, dense 128, dense 10 with softmax; ReLU by default. Takes [n, 28, 28, 1].
 */
export function cnnClassifier(options: CnnClassifierOptions = {}): ClassifierModel {
  const fn = "cnnClassifier";
  const inputShape = checkPositiveIntegers(options.inputShape ?? [28, 28, 1], "inputShape", fn, 3) as [number, number, number];
  const filters = checkPositiveIntegers(options.filters ?? [32, 64, 64], "filters", fn);
  if (filters.length === 0) throw new Error(`${fn}: filters must list at least one convolution`);
  const [kernelSize] = checkPositiveIntegers([options.kernelSize ?? 3], "kernelSize", fn, 1);
  const [strides] = checkPositiveIntegers([options.strides ?? 1], "strides", fn, 1);
  const [denseUnits] = checkPositiveIntegers([options.denseUnits ?? 128], "denseUnits", fn, 1);
  const [numClasses] = checkPositiveIntegers([options.numClasses ?? 10], "numClasses", fn, 1);
  const activation = checkActivation(options.activation ?? "relu", "activation", fn);
  const output = checkActivation(options.outputActivation ?? "softmax", "outputActivation", fn);
  const alpha = options.leakyReluAlpha ?? 0.3;
  const seed = checkSeed(options.seed ?? 0, fn);

  let side = Math.min(inputShape[0], inputShape[1]);
  const layers: tf.layers.Layer[] = [];
  filters.forEach((units, i) => {
    side = Math.floor((side - kernelSize) / strides) + 1;
    if (side < 1) throw new Error(`${fn}: ${filters.length} valid ${kernelSize}×${kernelSize} convolutions do not fit a ${inputShape[0]}×${inputShape[1]} image`);
    layers.push(
      tf.layers.conv2d({
        filters: units, kernelSize, strides, padding: "valid", activation: tfActivation(activation),
        ...(i === 0 ? { inputShape } : {}), ...seededInit(seed, i),
      }),
      ...afterActivation(activation, alpha),
    );
  });
  layers.push(
    tf.layers.flatten(),
    tf.layers.dense({ units: denseUnits, activation: tfActivation(activation), ...seededInit(seed, filters.length) }),
    ...afterActivation(activation, alpha),
    tf.layers.dense({ units: numClasses, activation: tfActivation(output), ...seededInit(seed, filters.length + 1) }),
    ...afterActivation(output, alpha),
  );
  const model = tf.sequential({ name: options.name ?? "cnn_classifier", layers });
  return {
    model,
    predict: (x, training = true) => applyModel(model, x, training),
    inputShape,
    numClasses,
    paramCount: countParams(model),
    forwardFlopsPerSample: forwardFlopsPerSample(model),
    trainingFlopsPerSample: trainingFlopsPerSample(model),
    dispose: () => model.dispose(),
  };
}

/**
 * The abstract network of paper 1 (functionally separate autoencoder, experiment section):
 * "3 convolution layers and 2 fully connected layers, no maxpooling and padding", softmax for
 * several classes, and leaky ReLU because its inverse loses nothing (the concrete network
 * inverts each layer). The paper gives no filter counts or kernel sizes: those of issue 3's
 * CNN are used (32/64/64, 3×3, stride 1, dense 128), so the two differ only in the activation;
 * leakyReluAlpha 0.3 is Keras' LeakyReLU default (the paper used TensorFlow).
 */
export function fsaeClassifier(options: CnnClassifierOptions = {}): ClassifierModel {
  return cnnClassifier({ activation: "leakyRelu", leakyReluAlpha: 0.3, name: "fsae_classifier", ...options });
}

/**
 * Categorical cross-entropy −mean_n Σ_k y_nk·log p_nk of probabilities p (rows of a softmax)
 * against one-hot targets y, with p clipped to [ε, 1−ε] (Keras' ε = 1e-7) so log(0) cannot occur.
 */
export function categoricalCrossEntropy(probabilities: tf.Tensor, oneHot: tf.Tensor, epsilon = 1e-7): tf.Scalar {
  if (probabilities.shape.length !== oneHot.shape.length || probabilities.shape.some((d, i) => d !== oneHot.shape[i])) {
    throw new Error(`categoricalCrossEntropy: probabilities [${probabilities.shape.join(", ")}] and oneHot [${oneHot.shape.join(", ")}] must have the same shape`);
  }
  return tf.tidy(() => {
    const logP = tf.log(tf.clipByValue(tf.cast(probabilities, "float32"), epsilon, 1 - epsilon));
    return tf.neg(tf.mean(tf.sum(tf.mul(tf.cast(oneHot, "float32"), logP), -1))) as tf.Scalar;
  });
}
