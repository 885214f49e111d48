import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import {
  addGaussianNoise,
  applyMaskingNoise,
  applySaltAndPepperNoise,
  corruptInputs,
} from "../lib/data/noise";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const ROWS = 200;
const COLS = 784;
const SIZE = ROWS * COLS;

function values(t: tf.Tensor): Float32Array {
  return t.dataSync() as Float32Array;
}

/**
 * Where two tensors' values first differ (Object.is per element; -1: identical, length mismatch: the shorter length).
 * A loop instead of toEqual on 156,800-element arrays, which takes seconds.
 */
function firstDifference(a: tf.Tensor, b: tf.Tensor): number {
  const [u, v] = [values(a), values(b)];
  for (let i = 0; i < Math.min(u.length, v.length); i++) if (!Object.is(u[i], v[i])) return i;
  return u.length === v.length ? -1 : Math.min(u.length, v.length);
}

function meanStd(v: ArrayLike<number>): { mean: number; std: number } {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i];
  const mean = sum / v.length;
  let sq = 0;
  for (let i = 0; i < v.length; i++) sq += (v[i] - mean) ** 2;
  return { mean, std: Math.sqrt(sq / v.length) };
}

function fractionEqual(v: ArrayLike<number>, target: number): number {
  let count = 0;
  for (let i = 0; i < v.length; i++) if (v[i] === target) count++;
  return count / v.length;
}

/** Inputs in (0.05, 0.95), so no input is exactly 0 or 1 before corruption. */
function uniformInputs(): tf.Tensor2D {
  return tf.randomUniform([ROWS, COLS], 0.05, 0.95, "float32", 123) as tf.Tensor2D;
}

describe("addGaussianNoise", () => {
  it("adds zero-mean noise with standard deviation noiseFactor", () => {
    const x = tf.fill([ROWS, COLS], 0.5);
    const noisy = addGaussianNoise(x, { noiseFactor: 0.1, clip: false, seed: 1 });
    const added = values(noisy).map((v) => v - 0.5);
    const { mean, std } = meanStd(added);
    // standard error of the mean: 0.1 / sqrt(156800) ≈ 2.5e-4
    expect(Math.abs(mean)).toBeLessThan(1.5e-3);
    expect(std).toBeGreaterThan(0.098);
    expect(std).toBeLessThan(0.102);
    x.dispose();
    noisy.dispose();
  });

  it("clips to [0, 1] by default, at the rate a normal predicts", () => {
    const x = tf.fill([ROWS, COLS], 0.5);
    const noisy = addGaussianNoise(x, { noiseFactor: 1, seed: 2 });
    const v = values(noisy);
    let lo = Infinity;
    let hi = -Infinity;
    for (const value of v) {
      lo = Math.min(lo, value);
      hi = Math.max(hi, value);
    }
    expect([lo, hi]).toEqual([0, 1]);
    // P(0.5 + N(0,1) < 0) = Φ(−0.5) ≈ 0.3085
    expect(Math.abs(fractionEqual(v, 0) - 0.3085)).toBeLessThan(0.01);
    expect(Math.abs(fractionEqual(v, 1) - 0.3085)).toBeLessThan(0.01);
    const custom = addGaussianNoise(x, { noiseFactor: 1, seed: 2, clipMin: 0.25, clipMax: 0.75 });
    expect(tf.min(custom).dataSync()[0]).toBe(0.25);
    expect(tf.max(custom).dataSync()[0]).toBe(0.75);
    x.dispose();
    noisy.dispose();
    custom.dispose();
  });

  it("is repeatable with a seed (seed 0 included) and differs between seeds", () => {
    const x = tf.fill([10, 20], 0.5);
    const a = values(addGaussianNoise(x, { seed: 0 }));
    const b = values(addGaussianNoise(x, { seed: 0 }));
    const c = values(addGaussianNoise(x, { seed: 1 }));
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    x.dispose();
  });

  it("keeps the input's shape and leaves the input alone", () => {
    const x = tf.fill([3, 28, 28, 1], 0.5);
    const noisy = addGaussianNoise(x, { seed: 4 });
    expect(noisy.shape).toEqual([3, 28, 28, 1]);
    expect(noisy.dtype).toBe("float32");
    expect(x.isDisposed).toBe(false);
    expect(Array.from(new Set(values(x)))).toEqual([0.5]);
    x.dispose();
    noisy.dispose();
  });

  it("rejects a bad noise factor, clip range or seed", () => {
    const x = tf.zeros([2, 2]);
    expect(() => addGaussianNoise(x, { noiseFactor: -1 })).toThrow("addGaussianNoise: noiseFactor must be a finite number ≥ 0, got -1");
    expect(() => addGaussianNoise(x, { clipMin: 1, clipMax: 0 })).toThrow(/clipMin 1 must not exceed clipMax 0/);
    expect(() => addGaussianNoise(x, { seed: 1.5 })).toThrow("addGaussianNoise: seed must be an integer, got 1.5");
    x.dispose();
  });
});

describe("applyMaskingNoise", () => {
  it("zeroes a fraction ≈ p of the inputs and keeps the rest unchanged", () => {
    const x = uniformInputs();
    const masked = applyMaskingNoise(x, { probability: 0.3, seed: 5 });
    const xv = values(x);
    const mv = values(masked);
    expect(Math.abs(fractionEqual(mv, 0) - 0.3)).toBeLessThan(0.01);
    let changedKept = 0;
    for (let i = 0; i < SIZE; i++) if (mv[i] !== 0 && mv[i] !== xv[i]) changedKept++;
    expect(changedKept).toBe(0);
    x.dispose();
    masked.dispose();
  });

  it("exact mode masks exactly round(p·d) inputs of every example", () => {
    const x = tf.ones([ROWS, 28, 28, 1]);
    const masked = applyMaskingNoise(x, { probability: 0.3, exact: true, seed: 6 });
    const zerosPerRow = tf.sum(tf.equal(masked.reshape([ROWS, COLS]), 0).cast("int32"), 1).dataSync();
    expect(new Set(zerosPerRow)).toEqual(new Set([Math.round(0.3 * COLS)]));
    x.dispose();
    masked.dispose();
  });

  it("p = 0 keeps everything, p = 1 masks everything", () => {
    const x = uniformInputs();
    const none = applyMaskingNoise(x, { probability: 0, seed: 1 });
    const all = applyMaskingNoise(x, { probability: 1, seed: 1 });
    expect(firstDifference(none, x)).toBe(-1);
    expect(tf.max(all).dataSync()[0]).toBe(0);
    const noneExact = applyMaskingNoise(x, { probability: 0, exact: true, seed: 1 });
    expect(firstDifference(noneExact, x)).toBe(-1);
    tf.dispose([x, none, all, noneExact]);
  });

  it("is repeatable with a seed and differs between seeds", () => {
    const x = tf.ones([20, 50]);
    const a = values(applyMaskingNoise(x, { seed: 7 }));
    const b = values(applyMaskingNoise(x, { seed: 7 }));
    const c = values(applyMaskingNoise(x, { seed: 8 }));
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    x.dispose();
  });

  it("rejects a probability outside [0, 1] and exact mode without an example axis", () => {
    const x = tf.ones([4, 4]);
    expect(() => applyMaskingNoise(x, { probability: 1.5 })).toThrow("applyMaskingNoise: probability must be in [0, 1], got 1.5");
    const v = tf.ones([8]);
    expect(() => applyMaskingNoise(v, { probability: 0.5, exact: true })).toThrow(/rank ≥ 2/);
    tf.dispose([x, v]);
  });
});

describe("applySaltAndPepperNoise", () => {
  it("sets a fraction ≈ p to 0 or 1 by a fair coin and keeps the rest", () => {
    const x = tf.fill([ROWS, COLS], 0.5);
    const noisy = applySaltAndPepperNoise(x, { probability: 0.4, seed: 9 });
    const v = values(noisy);
    expect(Math.abs(fractionEqual(v, 0) - 0.2)).toBeLessThan(0.01);
    expect(Math.abs(fractionEqual(v, 1) - 0.2)).toBeLessThan(0.01);
    expect(Math.abs(fractionEqual(v, 0.5) - 0.6)).toBeLessThan(0.01);
    x.dispose();
    noisy.dispose();
  });

  it("exact mode corrupts exactly round(p·d) inputs per example; low/high are configurable", () => {
    const x = tf.fill([ROWS, COLS], 0.5);
    const noisy = applySaltAndPepperNoise(x, { probability: 0.1, exact: true, low: -1, high: 2, seed: 10 });
    const changed = tf.sum(tf.notEqual(noisy, 0.5).cast("int32"), 1).dataSync();
    expect(new Set(changed)).toEqual(new Set([Math.round(0.1 * COLS)]));
    expect(new Set(values(noisy))).toEqual(new Set([-1, 0.5, 2]));
    x.dispose();
    noisy.dispose();
  });

  it("is repeatable with a seed", () => {
    const x = tf.fill([20, 50], 0.5);
    const a = values(applySaltAndPepperNoise(x, { seed: 11 }));
    const b = values(applySaltAndPepperNoise(x, { seed: 11 }));
    const c = values(applySaltAndPepperNoise(x, { seed: 12 }));
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    x.dispose();
  });
});

describe("corruptInputs", () => {
  it("dispatches by kind to the same corruption with the same seed", () => {
    const x = uniformInputs();
    const pairs: [tf.Tensor, tf.Tensor][] = [
      [corruptInputs(x, { kind: "gaussian", noiseFactor: 0.3, seed: 1 }), addGaussianNoise(x, { noiseFactor: 0.3, seed: 1 })],
      [corruptInputs(x, { kind: "masking", probability: 0.2, seed: 1 }), applyMaskingNoise(x, { probability: 0.2, seed: 1 })],
      [corruptInputs(x, { kind: "saltAndPepper", probability: 0.2, seed: 1 }), applySaltAndPepperNoise(x, { probability: 0.2, seed: 1 })],
    ];
    for (const [a, b] of pairs) expect(firstDifference(a, b)).toBe(-1);
    const copy = corruptInputs(x, { kind: "none" });
    expect(copy).not.toBe(x);
    expect(firstDifference(copy, x)).toBe(-1);
    expect(() => corruptInputs(x, { kind: "blur" } as never)).toThrow(/corruptInputs: unknown kind "blur"/);
    tf.dispose([x, copy, ...pairs.flat()]);
  });
});

describe("tensor bookkeeping", () => {
  it("every corruption returns one new tensor and leaks nothing", () => {
    const x = tf.fill([8, 28, 28, 1], 0.5);
    const calls: (() => tf.Tensor)[] = [
      () => addGaussianNoise(x, { seed: 1 }),
      () => addGaussianNoise(x, { seed: 1, clip: false }),
      () => applyMaskingNoise(x, { probability: 0.3, seed: 1 }),
      () => applyMaskingNoise(x, { probability: 0.3, exact: true, seed: 1 }),
      () => applySaltAndPepperNoise(x, { probability: 0.3, seed: 1 }),
      () => applySaltAndPepperNoise(x, { probability: 0.3, exact: true, seed: 1 }),
      () => corruptInputs(x, { kind: "masking", probability: 0.3 }),
      () => corruptInputs(x, { kind: "none" }),
    ];
    for (const call of calls) {
      call().dispose(); // prime
      const before = tf.memory().numTensors;
      const out = call();
      expect(tf.memory().numTensors).toBe(before + 1);
      out.dispose();
      expect(tf.memory().numTensors).toBe(before);
    }
    x.dispose();
  });
});
