/**
 * The convolutional autoencoder as the lecture draws it (slides [3]): every encoder step is
 * "Conv + Batch Normalisation + ReLU" followed by max pooling, and the decoder goes back up by
 * "Upsampling == Un-pooling" — one of the inverses of pooling of ./unpool, or nearest-neighbour
 * upsampling. Batch normalisation is written out (notebook 5, eq. 12): per channel,
 *   â = (a − μ_B) / √(σ²_B + ε),  y = γ·â + β,
 * with μ_B, σ²_B the mean and (biased) variance over the batch and both spatial axes in training
 * mode, and moving averages of them at inference. A convolution followed by batch normalisation
 * carries no bias: a constant b added before the normalisation cancels (eq. 13).
 */
import * as tf from "@tensorflow/tfjs";
import type { Autoencoder } from "../models/autoencoder";
import { checkPositiveInteger } from "../checks";
import type { ConvEncoding } from "./convae";
import { UNPOOLING_WAYS, UnpoolingWay, maxPoolWithSwitches, unpoolBy } from "./unpool";

/** Eq. (12): γ·(a − mean)/√(variance + ε) + β, per channel (the last axis). */
export function batchNormalize(a: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor, epsilon = 1e-3): tf.Tensor {
  if (!(a instanceof tf.Tensor) || a.rank < 2) throw new Error(`batchNormalize: a must be a tf.Tensor [..., channels], got ${a instanceof tf.Tensor ? `[${a.shape}]` : typeof a}`);
  if (!(epsilon >= 0)) throw new Error(`batchNormalize: epsilon must be ≥ 0, got ${epsilon}`);
  return tf.tidy(() => tf.add(tf.mul(tf.div(tf.sub(a, mean), tf.sqrt(tf.add(variance, epsilon))), gamma), beta));
}

/** μ_B and σ²_B of eq. (12): per channel, over every axis but the last (batch and space). */
export function batchMoments(a: tf.Tensor): { mean: tf.Tensor1D; variance: tf.Tensor1D } {
  if (!(a instanceof tf.Tensor) || a.rank < 2) throw new Error(`batchMoments: a must be a tf.Tensor [..., channels], got ${a instanceof tf.Tensor ? `[${a.shape}]` : typeof a}`);
  const axes = a.shape.slice(0, -1).map((_, i) => i);
  const { mean, variance } = tf.moments(a, axes);
  return { mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}

/** Options of `convUnit`. */
export interface ConvUnitOptions {
  inChannels: number;
  filters: number;
  /** Square kernel (default 3), "same" padding, stride 1. */
  kernelSize?: number;
  /** Conv + BN (no conv bias, eq. 13) when true (default); conv + bias otherwise. */
  batchNorm?: boolean;
  /** Default "relu". */
  activation?: "relu" | "sigmoid" | "linear";
  /** Moving averages m ← momentum·m + (1 − momentum)·μ_B (default 0.9). */
  momentum?: number;
  /** ε of eq. (12) (default 1e-3). */
  epsilon?: number;
  /** Seed of the Glorot-uniform kernel (default 0). */
  seed?: number;
}

/** One "Conv + Batch Normalisation + ReLU" step (or conv + bias + activation), with its own variables. */
export interface ConvUnit {
  readonly inChannels: number;
  readonly filters: number;
  readonly batchNorm: boolean;
  readonly activation: "relu" | "sigmoid" | "linear";
  kernel: tf.Variable;
  /** Conv bias (units without batch norm only). */
  bias: tf.Variable | null;
  gamma: tf.Variable | null;
  beta: tf.Variable | null;
  /** Running statistics used at inference (not trained by gradients). */
  movingMean: tf.Variable | null;
  movingVariance: tf.Variable | null;
  /** The variables gradients train. */
  readonly trainable: tf.Variable[];
  /** Trainable values (the moving statistics not counted). */
  readonly paramCount: number;
  /** training: batch statistics, and the moving averages updated; else the moving averages. */
  apply(x: tf.Tensor4D, training: boolean): tf.Tensor4D;
  /** Copy every value (kernel, bias, γ, β, moving statistics) from a unit of the same shape. */
  copyFrom(other: ConvUnit): void;
  dispose(): void;
}

const ACTIVATIONS = ["relu", "sigmoid", "linear"] as const;

function positiveInteger(value: number, name: string, fn: string): number {
  checkPositiveInteger(value, name, fn);
  return value;
}

function seedOf(seed: number, salt: number): number {
  return ((seed * 2654435761 + salt * 40503) >>> 0) % 2147483646 + 1;
}

/** A convolution 3×3 "same" then batch normalisation (eq. 12) then the activation; `seed` fixes the kernel. */
export function convUnit(options: ConvUnitOptions): ConvUnit {
  const fn = "convUnit";
  const inChannels = positiveInteger(options?.inChannels, "inChannels", fn);
  const filters = positiveInteger(options.filters, "filters", fn);
  const kernelSize = positiveInteger(options.kernelSize ?? 3, "kernelSize", fn);
  const batchNorm = options.batchNorm ?? true;
  const activation = options.activation ?? "relu";
  if (!ACTIVATIONS.includes(activation)) throw new Error(`${fn}: activation must be one of ${ACTIVATIONS.join(", ")}, got ${JSON.stringify(activation)}`);
  const momentum = options.momentum ?? 0.9;
  if (!(momentum >= 0 && momentum < 1)) throw new Error(`${fn}: momentum must be in [0, 1), got ${momentum}`);
  const epsilon = options.epsilon ?? 1e-3;
  if (!(epsilon > 0)) throw new Error(`${fn}: epsilon must be positive, got ${epsilon}`);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new Error(`${fn}: seed must be an integer, got ${seed}`);
  const kernel = tf.tidy(() => tf.variable(tf.initializers.glorotUniform({ seed: seedOf(seed, 1) }).apply([kernelSize, kernelSize, inChannels, filters]) as tf.Tensor, true));
  // tf.variable keeps its initial tensor alive unless made inside tf.tidy (variables survive it).
  const make = (value: () => tf.Tensor, trainable: boolean) => tf.tidy(() => tf.variable(value(), trainable));
  const bias = batchNorm ? null : make(() => tf.zeros([filters]), true);
  const gamma = batchNorm ? make(() => tf.ones([filters]), true) : null;
  const beta = batchNorm ? make(() => tf.zeros([filters]), true) : null;
  const movingMean = batchNorm ? make(() => tf.zeros([filters]), false) : null;
  const movingVariance = batchNorm ? make(() => tf.ones([filters]), false) : null;
  const trainable = [kernel, ...(batchNorm ? [gamma!, beta!] : [bias!])];
  const all = [...trainable, ...(batchNorm ? [movingMean!, movingVariance!] : [])];
  let disposed = false;
  const act = (t: tf.Tensor) => (activation === "relu" ? tf.relu(t) : activation === "sigmoid" ? tf.sigmoid(t) : t);
  return {
    inChannels, filters, batchNorm, activation, kernel, bias, gamma, beta, movingMean, movingVariance, trainable,
    paramCount: trainable.reduce((s, v) => s + v.size, 0),
    apply(x, training) {
      if (disposed) throw new Error(`${fn}: this unit has been disposed`);
      if (!(x instanceof tf.Tensor) || x.rank !== 4 || x.shape[3] !== inChannels) {
        throw new Error(`${fn}: apply expects [n, height, width, ${inChannels}], got ${x instanceof tf.Tensor ? `[${x.shape}]` : typeof x}`);
      }
      return tf.tidy(() => {
        const a = tf.conv2d(x, kernel as tf.Tensor4D, 1, "same");
        if (!batchNorm) return act(tf.add(a, bias!)) as tf.Tensor4D;
        if (!training) return act(batchNormalize(a, gamma!, beta!, movingMean!, movingVariance!, epsilon)) as tf.Tensor4D;
        const { mean, variance } = batchMoments(a);
        movingMean!.assign(tf.add(tf.mul(movingMean!, momentum), tf.mul(mean, 1 - momentum)));
        movingVariance!.assign(tf.add(tf.mul(movingVariance!, momentum), tf.mul(variance, 1 - momentum)));
        return act(batchNormalize(a, gamma!, beta!, mean, variance, epsilon)) as tf.Tensor4D;
      });
    },
    copyFrom(other) {
      if (other.inChannels !== inChannels || other.filters !== filters || other.batchNorm !== batchNorm || other.kernel.shape.join() !== kernel.shape.join()) {
        throw new Error(`${fn}: copyFrom needs a unit of the same shape (${inChannels}→${filters}, batch norm ${batchNorm}), got ${other.inChannels}→${other.filters}, batch norm ${other.batchNorm}`);
      }
      const theirs = [other.kernel, ...(batchNorm ? [other.gamma!, other.beta!, other.movingMean!, other.movingVariance!] : [other.bias!])];
      const mine = [kernel, ...(batchNorm ? [gamma!, beta!, movingMean!, movingVariance!] : [bias!])];
      mine.forEach((v, i) => v.assign(theirs[i]));
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      tf.dispose(all);
    },
  };
}

/** The decoder's way back up: an inverse of pooling (./unpool) or "upsample", v copied to all four positions. */
export type ConvBnUnpooling = UnpoolingWay;

/** Every ConvBnUnpooling, in the notebook's order. */
export const CONV_BN_UNPOOLINGS: readonly ConvBnUnpooling[] = UNPOOLING_WAYS;

/** Options of `convBnAutoencoder`. */
export interface ConvBnAutoencoderOptions {
  /** How the decoder undoes pooling (default "upsample"). */
  unpooling?: ConvBnUnpooling;
  /** Filters of the two encoder units (default [16, 8]); the decoder mirrors them. */
  filters?: [number, number];
  /** [height, width, channels] (default [28, 28, 1]), height and width divisible by 4. */
  inputShape?: [number, number, number];
  /** Default 0. */
  seed?: number;
}

/** What the encoder gives: the code (always 4-D here) and, for "switches", where each maximum was. */
export interface ConvBnEncoding extends ConvEncoding {
  code: tf.Tensor4D;
}

/** The slides' conv autoencoder: [conv + BN + ReLU, pool] ×2, then [unpool, conv + BN + ReLU], [unpool, conv + sigmoid]. */
export interface ConvBnAutoencoder extends Autoencoder<tf.Tensor4D, ConvBnEncoding> {
  unpooling: ConvBnUnpooling;
  /** Encoder units 1, 2 then decoder units 3, 4. */
  units: ConvUnit[];
  /** Every trainable variable (pass as `variables` to ae.trainModel). */
  variables: tf.Variable[];
  codeShape: number[];
  codeSize: number;
  /** Side information of "switches": Σ pooled values · log₂ 4 bits per image; 0 otherwise. */
  switchBits: number;
  encode(x: tf.Tensor4D, options?: { training?: boolean }): ConvBnEncoding;
  decode(code: tf.Tensor, options?: { switches?: tf.Tensor4D[]; seed?: number; training?: boolean }): tf.Tensor4D;
  /** decode(encode(x)); training (default false) uses batch statistics and updates the moving ones. */
  reconstruct(x: tf.Tensor4D, options?: { training?: boolean; seed?: number }): tf.Tensor4D;
}

/** Build the slides' convolutional autoencoder with batch normalisation and the chosen way back up. */
export function convBnAutoencoder(options: ConvBnAutoencoderOptions = {}): ConvBnAutoencoder {
  const fn = "convBnAutoencoder";
  const unpooling = options.unpooling ?? "upsample";
  if (!CONV_BN_UNPOOLINGS.includes(unpooling)) throw new Error(`${fn}: unpooling must be one of ${CONV_BN_UNPOOLINGS.join(", ")}, got ${JSON.stringify(unpooling)}`);
  const [f1, f2] = options.filters ?? [16, 8];
  [f1, f2].forEach((f) => positiveInteger(f, "filters", fn));
  const [height, width, channels] = options.inputShape ?? [28, 28, 1];
  if (![height, width, channels].every((d) => Number.isInteger(d) && d >= 1) || height % 4 !== 0 || width % 4 !== 0) {
    throw new Error(`${fn}: inputShape must be [height, width, channels] with height and width divisible by 4, got ${JSON.stringify(options.inputShape)}`);
  }
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new Error(`${fn}: seed must be an integer, got ${seed}`);
  const units = [
    convUnit({ inChannels: channels, filters: f1, seed: seedOf(seed, 11) }),
    convUnit({ inChannels: f1, filters: f2, seed: seedOf(seed, 12) }),
    convUnit({ inChannels: f2, filters: f1, seed: seedOf(seed, 13) }),
    convUnit({ inChannels: f1, filters: channels, batchNorm: false, activation: "sigmoid", seed: seedOf(seed, 14) }),
  ];
  const keep = unpooling === "switches";
  const pool = (x: tf.Tensor4D) => (keep ? maxPoolWithSwitches(x, { poolSize: 2 }) : { pooled: tf.maxPool(x, 2, 2, "valid") as tf.Tensor4D, switches: undefined });
  const encode = (x: tf.Tensor4D, opts: { training?: boolean } = {}): ConvBnEncoding => {
    if (!(x instanceof tf.Tensor) || x.rank !== 4 || x.shape[1] !== height || x.shape[2] !== width || x.shape[3] !== channels) {
      throw new Error(`${fn}: encode expects images [n, ${height}, ${width}, ${channels}], got ${x instanceof tf.Tensor ? `[${x.shape}]` : typeof x}`);
    }
    const training = opts.training ?? false;
    return tf.tidy(() => {
      const p1 = pool(units[0].apply(x, training));
      const p2 = pool(units[1].apply(p1.pooled, training));
      return { code: p2.pooled, switches: keep ? [p1.switches!, p2.switches!] : [] };
    });
  };
  const decode = (code: tf.Tensor, opts: { switches?: tf.Tensor4D[]; seed?: number; training?: boolean } = {}): tf.Tensor4D => {
    const training = opts.training ?? false;
    const seedB = opts.seed === undefined ? undefined : opts.seed + 1;
    return tf.tidy(() => {
      const u2 = unpoolBy(unpooling, code as tf.Tensor4D, opts.switches?.[1], opts.seed);
      const u1 = unpoolBy(unpooling, units[2].apply(u2, training), opts.switches?.[0], seedB);
      return units[3].apply(u1, training);
    });
  };
  let disposed = false;
  const codeShape = [height / 4, width / 4, f2];
  return {
    unpooling, units, variables: units.flatMap((u) => u.trainable), codeShape, codeSize: codeShape.reduce((a, b) => a * b, 1),
    switchBits: keep ? ((height / 2) * (width / 2) * f1 + (height / 4) * (width / 4) * f2) * 2 : 0,
    paramCount: units.reduce((s, u) => s + u.paramCount, 0),
    encode, decode,
    reconstruct: (x, opts = {}) => tf.tidy(() => {
      const { code, switches } = encode(x, { training: opts.training });
      return decode(code, { switches, seed: opts.seed, training: opts.training });
    }),
    dispose: () => {
      if (disposed) return;
      disposed = true;
      for (const u of units) u.dispose();
    },
  };
}
