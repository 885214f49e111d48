/**
 * The lecture's convolutional autoencoder (slides [3]): each encoder layer is
 * Φ_k(X) = tanh(Ψ(X ∗ W_k + b_k)) with Ψ = 2×2 max pooling, and the decoder inverts each step —
 * pooling with one of the three inverses of ./unpool (random location, even spread, switches).
 * Optionally a dense bottleneck of `codeDim` values (2 for the slides' 2-D picture of MNIST).
 * tanh is monotonic, so tanh(Ψ(a)) = Ψ(tanh(a)); we apply tanh first, then pool.
 */
import * as tf from "@tensorflow/tfjs";
import type { Autoencoder } from "../models/autoencoder";
import { countParams } from "../models/cost";
import { UNPOOLING_KINDS, UnpoolingKind, maxPoolWithSwitches, unpoolBy } from "./unpool";

/** Options of `poolingConvAutoencoder`. */
export interface PoolingConvAutoencoderOptions {
  /** Which inverse of max pooling the decoder uses. */
  unpooling: UnpoolingKind;
  /** Filters of the two encoder convolutions (default [16, 8]); the decoder mirrors them. */
  filters?: [number, number];
  /** Square kernel size (default 3), "same" padding, stride 1. */
  kernelSize?: number;
  /** Hidden activation (default "tanh", the slides' Φ_k). */
  activation?: "tanh" | "relu";
  /** Add a dense bottleneck of this many values after the second pooling (e.g. 2); default none (code = the pooled map). */
  codeDim?: number;
  /** [height, width, channels] (default [28, 28, 1]); height and width divisible by 4. */
  inputShape?: [number, number, number];
  /** Seed of the kernel initialisers (default 0). */
  seed?: number;
}

/** What the encoder produces: the code and, per pooling, where the maxima were. */
export interface ConvEncoding {
  code: tf.Tensor;
  /** Switches of pooling 1 and 2 (always computed for "switches", else empty). */
  switches: tf.Tensor4D[];
}

/** A convolutional autoencoder with a chosen pooling inverse; train `layers` with ae.trainModel. */
export interface PoolingConvAutoencoder extends Autoencoder<tf.Tensor4D, ConvEncoding> {
  unpooling: UnpoolingKind;
  /** Every layer with weights (pass as `models` to trainModel). */
  layers: tf.layers.Layer[];
  /** Shape of one code, e.g. [7, 7, 8] or [2]. */
  codeShape: number[];
  /** Values per code (what a phone would send), without the switches. */
  codeSize: number;
  /** Bits of side information per image the switch inverse also needs: Σ (pooled values)·log₂(k²); 0 for the others. */
  switchBits: number;
  paramCount: number;
  encode(x: tf.Tensor4D): ConvEncoding;
  /** Decode a code (switches needed for "switches"; seed for "random"). */
  decode(code: tf.Tensor, options?: { switches?: tf.Tensor4D[]; seed?: number }): tf.Tensor4D;
  /** decode(encode(x)), differentiable; seed: the random positions of "random". */
  reconstruct(x: tf.Tensor4D, options?: { seed?: number }): tf.Tensor4D;
  dispose(): void;
}

function applyLayer(layer: tf.layers.Layer, x: tf.Tensor): tf.Tensor {
  return layer.apply(x) as tf.Tensor;
}

/** The slides' convolutional autoencoder with max pooling Ψ and the chosen inverse of Ψ in the decoder. */
export function poolingConvAutoencoder(options: PoolingConvAutoencoderOptions): PoolingConvAutoencoder {
  const fn = "poolingConvAutoencoder";
  if (options == null || !UNPOOLING_KINDS.includes(options.unpooling)) {
    throw new Error(`${fn}: unpooling must be one of ${UNPOOLING_KINDS.map((k) => `"${k}"`).join(", ")}, got ${JSON.stringify(options?.unpooling)}`);
  }
  const unpooling = options.unpooling;
  const [f1, f2] = options.filters ?? [16, 8];
  if (![f1, f2].every((f) => Number.isInteger(f) && f >= 1)) throw new Error(`${fn}: filters must be two positive integers, got ${JSON.stringify(options.filters)}`);
  const kernelSize = options.kernelSize ?? 3;
  if (!Number.isInteger(kernelSize) || kernelSize < 1) throw new Error(`${fn}: kernelSize must be a positive integer, got ${kernelSize}`);
  const activation = options.activation ?? "tanh";
  if (activation !== "tanh" && activation !== "relu") throw new Error(`${fn}: activation must be "tanh" or "relu", got ${JSON.stringify(activation)}`);
  const [height, width, channels] = options.inputShape ?? [28, 28, 1];
  if (![height, width, channels].every((d) => Number.isInteger(d) && d >= 1) || height % 4 !== 0 || width % 4 !== 0) {
    throw new Error(`${fn}: inputShape must be [height, width, channels] with height and width divisible by 4, got ${JSON.stringify(options.inputShape)}`);
  }
  const codeDim = options.codeDim;
  if (codeDim !== undefined && (!Number.isInteger(codeDim) || codeDim < 1)) throw new Error(`${fn}: codeDim must be a positive integer, got ${codeDim}`);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new Error(`${fn}: seed must be an integer, got ${seed}`);
  const init = (i: number) => tf.initializers.glorotUniform({ seed: ((seed * 2654435761 + i * 40503) >>> 0) % 2147483646 + 1 });
  const conv = (filters: number, i: number, act: "tanh" | "relu" | "sigmoid") =>
    tf.layers.conv2d({ filters, kernelSize, padding: "same", activation: act, kernelInitializer: init(i) });

  const h4 = height / 4, w4 = width / 4;
  const conv1 = conv(f1, 1, activation), conv2 = conv(f2, 2, activation);
  const conv3 = conv(f1, 3, activation), conv4 = conv(channels, 4, "sigmoid");
  const toCode = codeDim !== undefined ? tf.layers.dense({ units: codeDim, kernelInitializer: init(5) }) : null;
  const fromCode = codeDim !== undefined ? tf.layers.dense({ units: h4 * w4 * f2, activation, kernelInitializer: init(6) }) : null;
  const layers = [conv1, conv2, ...(toCode ? [toCode, fromCode!] : []), conv3, conv4];
  // Build every layer by one concrete call (weights exist, dispose() frees them).
  tf.tidy(() => {
    applyLayer(conv1, tf.zeros([1, height, width, channels]));
    applyLayer(conv2, tf.zeros([1, height / 2, width / 2, f1]));
    if (toCode) applyLayer(fromCode!, applyLayer(toCode, tf.zeros([1, h4 * w4 * f2])));
    applyLayer(conv3, tf.zeros([1, height / 2, width / 2, f2]));
    applyLayer(conv4, tf.zeros([1, height, width, f1]));
  });

  const pool = (x: tf.Tensor4D, keepSwitches: boolean): { pooled: tf.Tensor4D; switches?: tf.Tensor4D } => {
    if (!keepSwitches) return { pooled: tf.maxPool(x, 2, 2, "valid") };
    return maxPoolWithSwitches(x, { poolSize: 2 });
  };

  const encode = (x: tf.Tensor4D): ConvEncoding => {
    if (!(x instanceof tf.Tensor) || x.rank !== 4 || x.shape[1] !== height || x.shape[2] !== width || x.shape[3] !== channels) {
      throw new Error(`${fn}: encode expects images [n, ${height}, ${width}, ${channels}], got ${x instanceof tf.Tensor ? `[${x.shape}]` : typeof x}`);
    }
    const keep = unpooling === "switches";
    const p1 = pool(applyLayer(conv1, x) as tf.Tensor4D, keep);
    const p2 = pool(applyLayer(conv2, p1.pooled) as tf.Tensor4D, keep);
    const code = toCode ? applyLayer(toCode, tf.reshape(p2.pooled, [x.shape[0], h4 * w4 * f2])) : p2.pooled;
    return { code, switches: keep ? [p1.switches!, p2.switches!] : [] };
  };
  const decode = (code: tf.Tensor, opts: { switches?: tf.Tensor4D[]; seed?: number } = {}): tf.Tensor4D => {
    const n = code.shape[0];
    const deep = fromCode ? (tf.reshape(applyLayer(fromCode, code), [n, h4, w4, f2]) as tf.Tensor4D) : (code as tf.Tensor4D);
    const seedA = opts.seed === undefined ? undefined : opts.seed;
    const seedB = opts.seed === undefined ? undefined : opts.seed + 1;
    const u2 = unpoolBy(unpooling, deep, opts.switches?.[1], seedA);
    const u1 = unpoolBy(unpooling, applyLayer(conv3, u2) as tf.Tensor4D, opts.switches?.[0], seedB);
    return applyLayer(conv4, u1) as tf.Tensor4D;
  };
  const codeShape = toCode ? [codeDim!] : [h4, w4, f2];
  const pooledValues = (height / 2) * (width / 2) * f1 + h4 * w4 * f2;
  let disposed = false;
  return {
    unpooling, layers, codeShape,
    codeSize: codeShape.reduce((a, b) => a * b, 1),
    switchBits: unpooling === "switches" ? pooledValues * Math.log2(4) : 0,
    paramCount: countParams(layers),
    encode, decode,
    reconstruct: (x, opts = {}) => {
      const { code, switches } = encode(x);
      return decode(code, { switches, seed: opts.seed });
    },
    dispose: () => {
      if (disposed) return;
      disposed = true;
      for (const layer of layers) layer.dispose();
    },
  };
}
