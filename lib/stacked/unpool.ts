/**
 * Max pooling Ψ and its inverses (lecture, "Convolutional Auto Encoders Training": Ψ is not
 * invertible, so the slides give two approximate inverses; we add the exact one on the max):
 *  - `unpoolRandomLocation`: the pooled value goes to one random position of its window, zeros elsewhere;
 *  - `unpoolEvenSpread`: the pooled value is spread evenly, v/(k·k) at each position of its window
 *    (mode "copy": v at each position, i.e. nearest-neighbour upsampling);
 *  - `unpoolWithSwitches`: the value goes back where the maximum was, remembered by
 *    `maxPoolWithSwitches` (Zeiler & Fergus' "switches").
 * Non-overlapping k×k windows (stride k). Every inverse is the nearest-neighbour upsampling U(v)
 * (v copied to each position of its window) times a pattern in the image's own layout: the
 * one-hot of the switch (or random) positions, or 1/k² everywhere. Built from tfjs ops
 * (reshapes, rank-5 transposes, resizeNearestNeighbor), so it runs and differentiates on every
 * backend, and training differentiates only U and a product of the same shape. Switches are
 * int32 window offsets 0 … k²−1 in row-major order (dy·k + dx), ties going to the first maximum.
 */
import * as tf from "@tensorflow/tfjs";

/** Pool size k of non-overlapping k×k windows. */
export interface PoolingOptions {
  /** Window side k (default 2); stride = k. */
  poolSize?: number;
}

function checkPoolSize(poolSize: number | undefined, fn: string): number {
  const k = poolSize ?? 2;
  if (!Number.isInteger(k) || k < 1) throw new Error(`${fn}: poolSize must be a positive integer, got ${poolSize}`);
  return k;
}

function checkRank4(x: tf.Tensor, name: string, fn: string): [number, number, number, number] {
  if (!(x instanceof tf.Tensor)) throw new Error(`${fn}: ${name} must be a tf.Tensor [n, height, width, channels]`);
  if (x.isDisposed) throw new Error(`${fn}: ${name} has been disposed`);
  if (x.rank !== 4) throw new Error(`${fn}: ${name} must have rank 4 [n, height, width, channels], got shape [${x.shape}]`);
  return x.shape as [number, number, number, number];
}

/** [n, h·k, w·k, c] → [n·h·w, k·k, c]: one row per window, its k² positions in row-major order. */
function toWindows(x: tf.Tensor, k: number): tf.Tensor3D {
  const [n, height, width, c] = x.shape as number[];
  const h = height / k, w = width / k;
  const a = tf.reshape(x, [n * h, k, w, k * c]);
  const b = tf.transpose(a, [0, 2, 1, 3]); // [n·h, w, k(dy), k·c (dx, c)]: moves whole rows of k·c values (cheaper than putting dy, dx last)
  return tf.reshape(b, [n * h * w, k * k, c]);
}

/** [n·h·w·c, k·k] (one row per window and channel) → [n, h·k, w·k, c]. */
function fromWindows(windows: tf.Tensor, n: number, h: number, w: number, k: number, c: number): tf.Tensor4D {
  const a = tf.reshape(windows, [n * h, w, c, k, k]);
  const b = tf.transpose(a, [0, 3, 1, 4, 2]); // [n·h, dy, w, dx, c]
  return tf.reshape(b, [n, h * k, w * k, c]);
}


/** The pooled map and, per pooled value, where in its window the maximum was. */
export interface PooledWithSwitches {
  /** [n, h, w, c]: the maximum of each k×k window. */
  pooled: tf.Tensor4D;
  /** [n, h, w, c] int32: offset dy·k + dx of the (first) maximum in its window. */
  switches: tf.Tensor4D;
}

/** Max pooling Ψ over non-overlapping k×k windows, also returning the argmax "switches" (needs height, width divisible by k). */
export function maxPoolWithSwitches(x: tf.Tensor4D, options: PoolingOptions = {}): PooledWithSwitches {
  const fn = "maxPoolWithSwitches";
  const k = checkPoolSize(options.poolSize, fn);
  const [n, height, width, c] = checkRank4(x, "x", fn);
  if (height % k !== 0 || width % k !== 0) {
    throw new Error(`${fn}: height ${height} and width ${width} must be divisible by poolSize ${k} (crop or pad first)`);
  }
  const h = height / k, w = width / k;
  return tf.tidy(() => {
    // The values by tf.maxPool (same windows, same maxima), whose gradient goes to the first
    // maximum of each window, as the switches do; tf.max over the windows would send it to
    // every tied maximum through a broadcast Equal (on wasm 117 of the 189 ms of a training step
    // of the bench's pool-cae-switches, batch 128).
    const pooled = tf.maxPool(x, k, k, "valid");
    const switches = tf.reshape(tf.argMax(toWindows(x, k), 1), [n, h, w, c]) as tf.Tensor4D;
    return { pooled, switches };
  });
}

/**
 * U(pooled) ⊙ pattern, U the nearest-neighbour upsampling by k (each value copied to every position
 * of its k×k window) and the pattern a tensor [n, h·k, w·k, c] or one number. Differentiable in
 * pooled alone: its gradient is each window's sum of dy ⊙ pattern, taken as k²·avgPool(dy ⊙ pattern)
 * (tfjs-cpu 4.22's ResizeNearestNeighborGrad reads dy at the input's batch stride, wrong for
 * batches > 1). The pattern is built by `makePattern` off the gradient tape, so training
 * differentiates neither it nor the switches it came from.
 */
function spread(pooled: tf.Tensor4D, makePattern: () => tf.Tensor | number, k: number): tf.Tensor4D {
  const [, h, w] = pooled.shape;
  const windowSums = (t: tf.Tensor, scale: number) => tf.mul(tf.avgPool(t as tf.Tensor4D, k, k, "valid"), k * k * scale);
  const unpool = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [v, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const pattern = makePattern();
    const up = tf.image.resizeNearestNeighbor(v as tf.Tensor4D, [h * k, w * k]);
    if (typeof pattern === "number") {
      return { value: pattern === 1 ? up : tf.mul(up, pattern), gradFunc: (dy: tf.Tensor) => windowSums(dy, pattern) };
    }
    save([pattern]);
    return { value: tf.mul(up, pattern), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => windowSums(tf.mul(dy, saved[0]), 1) };
  });
  return unpool(pooled) as tf.Tensor4D;
}

/** One-hot pattern [n, h·k, w·k, c] from window offsets [n, h, w, c]: 1 at each window's offset, 0 elsewhere. */
function oneHotWindows(offsets: tf.Tensor, k: number): tf.Tensor4D {
  const [n, h, w, c] = offsets.shape as number[];
  const flat = tf.reshape(tf.cast(offsets, "int32"), [n * h * w * c]);
  // int32 one-hot then cast: wasm's OneHot ignores a float32 dtype (writes int32 bits into a float32 tensor).
  return fromWindows(tf.cast(tf.oneHot(flat, k * k), "float32"), n, h, w, k, c);
}

/** Exact inverse on the maxima: each pooled value goes back to its switch position, zeros elsewhere (Ψ⁻¹ with switches). */
export function unpoolWithSwitches(pooled: tf.Tensor4D, switches: tf.Tensor4D, options: PoolingOptions = {}): tf.Tensor4D {
  const fn = "unpoolWithSwitches";
  const k = checkPoolSize(options.poolSize, fn);
  const shape = checkRank4(pooled, "pooled", fn);
  const sshape = checkRank4(switches, "switches", fn);
  if (shape.some((d, i) => d !== sshape[i])) {
    throw new Error(`${fn}: switches [${sshape}] must have the shape of pooled [${shape}] (both from maxPoolWithSwitches)`);
  }
  if (switches.dtype !== "int32") throw new Error(`${fn}: switches must be int32 window offsets, got ${switches.dtype}`);
  return tf.tidy(() => spread(pooled, () => oneHotWindows(switches, k), k));
}

/** Options of `unpoolRandomLocation`. */
export interface RandomUnpoolOptions extends PoolingOptions {
  /** Seed of the random positions (same seed → same positions); default: tfjs's stream. */
  seed?: number;
}

/** Random window offsets [n, h, w, c] in 0 … k²−1 (the positions unpoolRandomLocation uses). */
export function randomSwitches(shape: [number, number, number, number], options: RandomUnpoolOptions = {}): tf.Tensor4D {
  const fn = "randomSwitches";
  const k = checkPoolSize(options.poolSize, fn);
  if (!Array.isArray(shape) || shape.length !== 4 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new Error(`${fn}: shape must be 4 positive integers [n, h, w, c], got ${JSON.stringify(shape)}`);
  }
  if (options.seed !== undefined && !Number.isInteger(options.seed)) throw new Error(`${fn}: seed must be an integer, got ${options.seed}`);
  const seed = options.seed === undefined ? undefined : (options.seed >>> 0) + 1; // tfjs treats 0 as unseeded
  return tf.tidy(() => {
    const u = tf.randomUniform(shape, 0, k * k, "float32", seed);
    return tf.cast(tf.minimum(tf.floor(u), k * k - 1), "int32") as tf.Tensor4D;
  });
}

/** The slides' first approximate inverse: each pooled value at ONE random position of its k×k window, zeros elsewhere. */
export function unpoolRandomLocation(pooled: tf.Tensor4D, options: RandomUnpoolOptions = {}): tf.Tensor4D {
  const fn = "unpoolRandomLocation";
  const k = checkPoolSize(options.poolSize, fn);
  const shape = checkRank4(pooled, "pooled", fn);
  return tf.tidy(() => spread(pooled, () => oneHotWindows(randomSwitches(shape, { poolSize: k, seed: options.seed }), k), k));
}

/** Options of `unpoolEvenSpread`. */
export interface EvenUnpoolOptions extends PoolingOptions {
  /** "share" (default): v/k² at each position, so the window sums to v; "copy": v at each position (nearest-neighbour upsampling). */
  mode?: "share" | "copy";
}

/** The slides' second approximate inverse: each pooled value distributed evenly over its k×k window. */
export function unpoolEvenSpread(pooled: tf.Tensor4D, options: EvenUnpoolOptions = {}): tf.Tensor4D {
  const fn = "unpoolEvenSpread";
  const k = checkPoolSize(options.poolSize, fn);
  checkRank4(pooled, "pooled", fn);
  const mode = options.mode ?? "share";
  if (mode !== "share" && mode !== "copy") throw new Error(`${fn}: mode must be "share" or "copy", got ${JSON.stringify(mode)}`);
  return tf.tidy(() => spread(pooled, () => (mode === "share" ? 1 / (k * k) : 1), k));
}

/** The three inverses by name, for comparisons. */
export type UnpoolingKind = "random" | "even" | "switches";

/** The three inverses, in the order the notebook compares them. */
export const UNPOOLING_KINDS: readonly UnpoolingKind[] = ["random", "even", "switches"];

/** One way back up a 2×2 pooling: an inverse of pooling, or "upsample" (v copied to every position of its window). */
export type UnpoolingWay = UnpoolingKind | "upsample";

/** Every UnpoolingWay, in the notebook's order. */
export const UNPOOLING_WAYS: readonly UnpoolingWay[] = [...UNPOOLING_KINDS, "upsample"];

/** Undo one 2×2 pooling with `kind` (switches needed for "switches"; seed for "random"): the one dispatch the conv autoencoders use. */
export function unpoolBy(kind: UnpoolingWay, pooled: tf.Tensor4D, switches?: tf.Tensor4D, seed?: number): tf.Tensor4D {
  if (kind === "switches") {
    if (!switches) throw new Error(`unpoolBy: unpooling "switches" needs the encoder's switches`);
    return unpoolWithSwitches(pooled, switches, { poolSize: 2 });
  }
  if (kind === "random") return unpoolRandomLocation(pooled, { poolSize: 2, seed });
  if (kind === "even") return unpoolEvenSpread(pooled, { poolSize: 2 });
  if (kind === "upsample") return unpoolEvenSpread(pooled, { poolSize: 2, mode: "copy" });
  throw new Error(`unpoolBy: kind must be one of ${UNPOOLING_WAYS.join(", ")}, got ${JSON.stringify(kind)}`);
}

/** Pool x with Ψ then invert with `kind` (switches from the same pooling; even in "share" mode unless given): a round trip for comparisons. */
export function poolUnpoolRoundTrip(x: tf.Tensor4D, kind: UnpoolingKind, options: RandomUnpoolOptions & EvenUnpoolOptions = {}): tf.Tensor4D {
  const fn = "poolUnpoolRoundTrip";
  if (!UNPOOLING_KINDS.includes(kind)) throw new Error(`${fn}: kind must be one of ${UNPOOLING_KINDS.join(", ")}, got ${JSON.stringify(kind)}`);
  return tf.tidy(() => {
    const { pooled, switches } = maxPoolWithSwitches(x, options);
    if (kind === "switches") return unpoolWithSwitches(pooled, switches, options);
    if (kind === "random") return unpoolRandomLocation(pooled, options);
    return unpoolEvenSpread(pooled, options);
  });
}
