/**
 * Test helpers for checking losses and gradients: across backends (same weights and inputs,
 * compare every number) and against central finite differences.
 *
 *   const cmp = assertClose(actual, expected, BACKEND_TOLERANCE, "conv2d/kernel grad");
 *   const fd = finiteDifferenceGradients(lossFn, variables, { eps: 0.25 });
 */
import * as tf from "@tensorflow/tfjs";
import { createRng, randomNormal } from "../../lib/random";
import { setNativeEnabled } from "../../lib/accelerate/native/addon";

/** Pass when max |actual − expected| ≤ atol + rtol · max |expected|. */
export interface Tolerance {
  rtol: number;
  atol: number;
}

/** Two float32 backends computing the same thing in a different order: 1e-4 of the scale. */
export const BACKEND_TOLERANCE: Tolerance = { rtol: 1e-4, atol: 1e-6 };

/** The outcome of comparing two arrays. */
export interface Comparison {
  ok: boolean;
  maxAbsDiff: number;
  /** max |expected|. */
  scale: number;
  /** atol + rtol · scale. */
  allowed: number;
  /** Where the largest difference is (−1 for empty arrays). */
  worstIndex: number;
  length: number;
}

/** Compare `actual` with `expected` element by element (lengths must match; NaN never passes). */
export function compareValues(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: Tolerance): Comparison {
  if (actual.length !== expected.length) {
    throw new Error(`compareValues: lengths differ (actual ${actual.length}, expected ${expected.length})`);
  }
  let maxAbsDiff = 0;
  let scale = 0;
  let worstIndex = actual.length > 0 ? 0 : -1;
  let sawNaN = false;
  for (let i = 0; i < actual.length; i++) {
    const diff = Math.abs(actual[i] - expected[i]);
    if (Number.isNaN(diff)) sawNaN = true;
    if (diff > maxAbsDiff) {
      maxAbsDiff = diff;
      worstIndex = i;
    }
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  const allowed = tolerance.atol + tolerance.rtol * scale;
  return { ok: !sawNaN && maxAbsDiff <= allowed, maxAbsDiff: sawNaN ? NaN : maxAbsDiff, scale, allowed, worstIndex, length: actual.length };
}

/** A one-line account of a comparison, for messages and logs. */
export function describeComparison(label: string, c: Comparison): string {
  return `${label}: max |diff| ${c.maxAbsDiff.toExponential(2)} (allowed ${c.allowed.toExponential(2)}, scale ${c.scale.toExponential(2)}, worst at ${c.worstIndex} of ${c.length})`;
}

/** Compare and throw an Error naming `label` and the numbers when out of tolerance. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: Tolerance, label: string): Comparison {
  const comparison = compareValues(actual, expected, tolerance);
  if (!comparison.ok) {
    const i = comparison.worstIndex;
    throw new Error(`${describeComparison(label, comparison)}; actual ${actual[i]}, expected ${expected[i]}`);
  }
  return comparison;
}

/**
 * The indices where `actual` and `expected` differ bit for bit (Object.is: NaN equals NaN, −0 differs from +0),
 * each as "at i: actual vs expected", at most `most` of them; [] when they are equal (a length mismatch is one entry).
 */
export function bitwiseDifferences(actual: ArrayLike<number>, expected: ArrayLike<number>, most = 3): string[] {
  if (actual.length !== expected.length) return [`length ${actual.length} vs ${expected.length}`];
  const differing: string[] = [];
  for (let i = 0; i < actual.length && differing.length < most; i++) {
    if (!Object.is(actual[i], expected[i])) differing.push(`at ${i}: ${actual[i]} vs ${expected[i]}`);
  }
  return differing;
}

/**
 * The values of the tensor `fn` returns, with every tensor it made freed. The tensor leaves
 * tf.tidy, not its values: tidy walks a returned typed array key by key (seconds for 270,000 values).
 */
export function tensorValues(fn: () => tf.Tensor): Float32Array {
  const result = tf.tidy(fn);
  try {
    return Float32Array.from(result.dataSync());
  } finally {
    result.dispose();
  }
}

/** Recent seededNormal draws by (n, seed, std), up to NORMAL_CACHE_VALUES values in all: tests build the same case on several backends and paths. */
const normalCache = new Map<string, Float32Array>();
const NORMAL_CACHE_VALUES = 1 << 24;
let normalCacheValues = 0;

/** `n` seeded standard-normal numbers times `std` (identical on every backend and run); a fresh copy each call. */
export function seededNormal(n: number, seed: number, std = 1): Float32Array {
  const key = `${n}:${seed}:${std}`;
  const cached = normalCache.get(key);
  if (cached) return cached.slice();
  const rng = createRng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = std * randomNormal(rng);
  if (n <= NORMAL_CACHE_VALUES) {
    for (const [oldest, values] of normalCache) {
      if (normalCacheValues + n <= NORMAL_CACHE_VALUES) break;
      normalCache.delete(oldest);
      normalCacheValues -= values.length;
    }
    normalCache.set(key, out.slice());
    normalCacheValues += n;
  }
  return out;
}

/**
 * Run `fn` with `backend` active, then switch back to the backend active before.
 * (wasm must already be initialised, with our kernels: call initBackend first.)
 */
export async function withBackend<T>(backend: string, fn: () => T | Promise<T>): Promise<T> {
  const previous = tf.getBackend();
  if (!(await tf.setBackend(backend))) throw new Error(`withBackend: could not switch to "${backend}"`);
  try {
    return await fn();
  } finally {
    if (previous && previous !== backend) await tf.setBackend(previous);
  }
}

/** A loss and its gradient with respect to each variable, read back as plain arrays. */
export interface LossAndGradients {
  loss: number;
  grads: Float32Array[];
}

/** Evaluate `lossFn` and d loss / d variable for each of `variables` (no tensors left behind). */
export function lossAndGradients(lossFn: () => tf.Scalar, variables: tf.Variable[]): LossAndGradients {
  const { value, grads } = tf.variableGrads(lossFn, variables);
  try {
    return {
      loss: value.dataSync()[0],
      grads: variables.map((v) => {
        const g = grads[v.name];
        if (!g) throw new Error(`lossAndGradients: no gradient for variable ${v.name}`);
        return Float32Array.from(g.dataSync());
      }),
    };
  } finally {
    value.dispose();
    tf.dispose(grads);
  }
}

/** Options of `finiteDifferenceGradients`. */
export interface FiniteDifferenceOptions {
  /** Step (default 1e-2). Large steps are fine, and float32 needs them, where the loss is quadratic in each parameter. */
  eps?: number;
}

/**
 * Central differences (L(θ + h·e_i) − L(θ − h·e_i)) / (θ_i⁺ − θ_i⁻) for every element of every
 * variable, dividing by the float32 step actually taken. The variables are restored afterwards.
 * Error: O(h²·L‴) truncation (none when L is quadratic along each coordinate) plus float32
 * rounding of L, about 1e-7·|L| / h.
 */
export function finiteDifferenceGradients(lossFn: () => tf.Scalar, variables: tf.Variable[], options: FiniteDifferenceOptions = {}): Float64Array[] {
  const eps = options.eps ?? 1e-2;
  const evaluate = (): number => tensorValues(lossFn)[0];
  const assign = (variable: tf.Variable, values: Float32Array): void => {
    const t = tf.tensor(values, variable.shape, "float32");
    variable.assign(t);
    t.dispose();
  };
  return variables.map((variable) => {
    const base = Float32Array.from(variable.dataSync());
    const grad = new Float64Array(base.length);
    const probe = Float32Array.from(base);
    try {
      for (let i = 0; i < base.length; i++) {
        probe[i] = Math.fround(base[i] + eps);
        const up = probe[i];
        assign(variable, probe);
        const lossUp = evaluate();
        probe[i] = Math.fround(base[i] - eps);
        const down = probe[i];
        assign(variable, probe);
        const lossDown = evaluate();
        probe[i] = base[i];
        grad[i] = (lossUp - lossDown) / (up - down);
      }
    } finally {
      assign(variable, base);
    }
    return grad;
  });
}

/** What `fn` computes with the native addon turned off, i.e. with wasm's own kernels where ours need the addon (the ones the committed runs used). */
export async function withNativeOff<T>(fn: () => Promise<T>): Promise<T> {
  const previous = setNativeEnabled(false);
  try {
    return await fn();
  } finally {
    setNativeEnabled(previous);
  }
}
