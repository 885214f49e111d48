/**
 * Seeded randomness for everything that is not a tensor op: shuffles, subsets,
 * cluster sampling, and (through `seedGlobalRandom`) tfjs's own unseeded initialisers;
 * and `randomNormalTensor`, tf.randomNormal's own values drawn in one loop.
 */
import * as tf from "@tensorflow/tfjs";

/** seedrandom's Alea generator, which tfjs's random ops draw from: a stream of uniform [0, 1) numbers from a string seed. */
const alea: (seed: string) => () => number = require("seedrandom/lib/alea");

/** A source of uniform numbers in [0, 1). */
export type Rng = () => number;

/** mulberry32: a small, fast 32-bit generator; the same seed gives the same stream everywhere. */
export function createRng(seed: number): Rng {
  if (!Number.isFinite(seed)) throw new Error(`createRng: seed must be a finite number, got ${seed}`);
  let state = (Math.floor(seed) ^ 0x9e3779b9) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [0, n). */
export function randomInt(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

/** A standard normal sample (Box–Muller). */
export function randomNormal(rng: Rng): number {
  let u = 0;
  while (u === 0) u = rng();
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Fisher–Yates shuffle of `values`, in place; returns it. */
export function shuffleInPlace<T>(values: T[] | Int32Array | Uint32Array, rng: Rng): typeof values {
  for (let i = values.length - 1; i > 0; i--) {
    const j = randomInt(rng, i + 1);
    const tmp = values[i];
    values[i] = values[j];
    values[j] = tmp;
  }
  return values;
}

/** A seeded permutation of 0..n-1. */
export function permutation(n: number, seed: number): Int32Array {
  if (!Number.isInteger(n) || n < 0) throw new Error(`permutation: n must be a non-negative integer, got ${n}`);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  shuffleInPlace(out, createRng(seed));
  return out;
}

let originalMathRandom: (() => number) | null = null;

/**
 * Replace `Math.random` with a seeded stream. tfjs draws the seed of every unseeded
 * random op (layer initialisers, dropout) from `Math.random`, so this makes whole
 * notebooks repeatable. `restoreGlobalRandom` undoes it.
 */
export function seedGlobalRandom(seed: number): void {
  if (originalMathRandom === null) originalMathRandom = Math.random;
  Math.random = createRng(seed);
}

/** Put back the platform's own `Math.random`. */
export function restoreGlobalRandom(): void {
  if (originalMathRandom !== null) {
    Math.random = originalMathRandom;
    originalMathRandom = null;
  }
}

/** Options of `randomNormalTensor`. */
export interface RandomNormalOptions {
  mean?: number;
  stdDev?: number;
  /** tf.randomNormal's seed: the same seed gives its values; 0 or none draws one from Math.random, as tfjs does. */
  seed?: number;
}

/**
 * tf.randomNormal(shape, mean, stdDev, "float32", seed), the same float32 values bit for bit:
 * Marsaglia's polar method on seedrandom's Alea stream, as tfjs's MPRandGauss draws them
 * (pairs v₁, v₂ uniform in the unit disc, s = v₁² + v₂², both kept as vᵢ·√(−2 ln s / s)),
 * in one loop instead of a method call per value: about half the time in training (CVAE's noise).
 */
export function randomNormalTensor(shape: number[], options: RandomNormalOptions = {}): tf.Tensor {
  const fn = "randomNormalTensor";
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`${fn}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  const { mean = 0, stdDev = 1, seed } = options;
  if (!Number.isFinite(mean) || !Number.isFinite(stdDev)) throw new Error(`${fn}: mean and stdDev must be finite numbers, got ${mean} and ${stdDev}`);
  if (seed !== undefined && !Number.isFinite(seed)) throw new Error(`${fn}: seed must be a finite number, got ${seed}`);
  const random = alea(String(seed ? seed : Math.random()));
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length;) {
    let v1: number, v2: number, s: number;
    do {
      v1 = 2 * random() - 1;
      v2 = 2 * random() - 1;
      s = v1 * v1 + v2 * v2;
    } while (s >= 1 || s === 0);
    const scale = Math.sqrt(-2.0 * Math.log(s) / s);
    values[i++] = mean + stdDev * v1 * scale;
    if (i < values.length) values[i++] = mean + stdDev * v2 * scale;
  }
  return tf.tensor(values, shape, "float32");
}
