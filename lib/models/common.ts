/**
 * Shared pieces of the reference-model builders: activation names, seeded initialisers,
 * option checks. Internal to lib/models (not re-exported by lib/index.ts, except the types).
 */
import * as tf from "@tensorflow/tfjs";
import { mixSeeds } from "../train";
export { checkPositiveInteger } from "../checks";

/** A tfjs weight initialiser (its class is not exported by name). */
type Initializer = ReturnType<typeof tf.initializers.zeros>;

/** Activations the builders accept: tfjs's own, plus "leakyRelu" (added as a LeakyReLU layer). */
export type LayerActivation = "linear" | "relu" | "leakyRelu" | "sigmoid" | "tanh" | "softmax" | "elu" | "selu" | "softplus";

const ACTIVATIONS: readonly LayerActivation[] = ["linear", "relu", "leakyRelu", "sigmoid", "tanh", "softmax", "elu", "selu", "softplus"];

/** Check an activation name, naming the option and the allowed values on failure. */
export function checkActivation(value: string, option: string, fn: string): LayerActivation {
  if ((ACTIVATIONS as readonly string[]).includes(value)) return value as LayerActivation;
  throw new Error(`${fn}: ${option} must be one of ${ACTIVATIONS.map((a) => `"${a}"`).join(", ")}; got ${JSON.stringify(value)}`);
}

/** Check a seed (an integer). */
export function checkSeed(seed: number, fn: string): number {
  if (!Number.isInteger(seed)) throw new Error(`${fn}: seed must be an integer, got ${seed}`);
  return seed;
}

/** A layer's [height, width] attribute (kernelSize, strides, poolSize) from a number or a 1- or 2-element array; `fallback` when absent. */
export function layerPair(value: unknown, fallback = NaN): [number, number] {
  if (Array.isArray(value)) return [Number(value[0]), Number(value[1] ?? value[0])];
  const v = value === undefined ? fallback : Number(value);
  return [v, v];
}

/** Check a list of positive integers (sizes, filters). */
export function checkPositiveIntegers(values: readonly number[], option: string, fn: string, length?: number): number[] {
  if (!Array.isArray(values) || (length !== undefined && values.length !== length)) {
    throw new Error(`${fn}: ${option} must be an array of ${length ?? "some"} positive integers, got ${JSON.stringify(values)}`);
  }
  for (const v of values) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${fn}: ${option} must hold positive integers, got ${JSON.stringify(values)}`);
  }
  return [...values];
}

/** Seeded initialisers of layer number `index` of a model built with `seed`: Glorot-uniform kernel, zero bias (Keras' defaults). */
export function seededInit(seed: number, index: number): { kernelInitializer: Initializer; biasInitializer: Initializer } {
  // tfjs treats seed 0 as "unseeded"; mixSeeds gives a distinct 31-bit seed per layer, +1 keeps it non-zero.
  return {
    kernelInitializer: tf.initializers.glorotUniform({ seed: mixSeeds(seed, 0x4d0d + index) + 1 }),
    biasInitializer: tf.initializers.zeros(),
  };
}

/** The tfjs activation of a layer ("leakyRelu" → linear, followed by `afterActivation`). */
export function tfActivation(activation: LayerActivation): Exclude<LayerActivation, "leakyRelu"> {
  return activation === "leakyRelu" ? "linear" : activation;
}

/** The LeakyReLU layer that follows a layer whose activation is "leakyRelu", else nothing. */
export function afterActivation(activation: LayerActivation, leakyReluAlpha: number): tf.layers.Layer[] {
  return activation === "leakyRelu" ? [tf.layers.leakyReLU({ alpha: leakyReluAlpha })] : [];
}

/** Apply a layers model as a differentiable function (usable under the gradient tape). */
export function applyModel(model: tf.LayersModel, x: tf.Tensor, training: boolean): tf.Tensor {
  const out = model.apply(x, { training });
  if (Array.isArray(out) || !(out instanceof tf.Tensor)) throw new Error(`${model.name}: expected one output tensor`);
  return out;
}
