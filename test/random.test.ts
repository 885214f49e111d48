import { describe, expect, it, afterEach } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { createRng, permutation, randomNormal, randomNormalTensor, seedGlobalRandom, restoreGlobalRandom, shuffleInPlace } from "../lib/random";
import { bitwiseDifferences } from "./helpers/gradcheck";

describe("random", () => {
  afterEach(() => restoreGlobalRandom());

  it("the same seed gives the same stream, another seed another", () => {
    const a = createRng(42), b = createRng(42), c = createRng(43);
    const sa = Array.from({ length: 5 }, a), sb = Array.from({ length: 5 }, b), sc = Array.from({ length: 5 }, c);
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
    for (const v of sa) expect(v >= 0 && v < 1).toBe(true);
  });

  it("is roughly uniform and its normals roughly standard", () => {
    const rng = createRng(1);
    const n = 20000;
    let sum = 0, sumN = 0, sumN2 = 0;
    for (let i = 0; i < n; i++) {
      sum += rng();
      const z = randomNormal(rng);
      sumN += z;
      sumN2 += z * z;
    }
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(sumN / n)).toBeLessThan(0.03);
    expect(Math.abs(sumN2 / n - 1)).toBeLessThan(0.05);
  });

  it("permutation is a seeded permutation", () => {
    const p = permutation(100, 7);
    expect(Array.from(p).sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(Array.from(permutation(100, 7))).toEqual(Array.from(p));
    expect(Array.from(permutation(100, 8))).not.toEqual(Array.from(p));
    expect(() => permutation(-1, 0)).toThrow(/non-negative integer/);
  });

  it("shuffleInPlace keeps the elements", () => {
    const xs = [1, 2, 3, 4, 5, 6];
    shuffleInPlace(xs, createRng(3));
    expect([...xs].sort()).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("seedGlobalRandom makes Math.random repeatable and restore undoes it", () => {
    const original = Math.random;
    seedGlobalRandom(5);
    const first = [Math.random(), Math.random()];
    seedGlobalRandom(5);
    expect([Math.random(), Math.random()]).toEqual(first);
    restoreGlobalRandom();
    expect(Math.random).toBe(original);
  });

  it("rejects a non-finite seed", () => {
    expect(() => createRng(NaN)).toThrow(/finite/);
  });

  it("randomNormalTensor: tf.randomNormal's values bit for bit (odd, empty, scalar and large shapes, any mean, spread and seed), leaving only its result", async () => {
    await tf.setBackend("cpu");
    const cases: Array<[number[], number, number, number]> = [[[64, 40], 0, 1, 1], [[7], 0.3, 0.7, 12345], [[3, 5, 1], -2, 1e-3, 2 ** 31 + 11], [[], 0, 1, 9], [[0, 4], 0, 1, 3], [[100_003], 0.5, 2.5, 77]];
    for (const [shape, mean, stdDev, seed] of cases) {
      const before = tf.memory().numTensors;
      const ours = randomNormalTensor(shape, { mean, stdDev, seed });
      const theirs = tf.randomNormal(shape, mean, stdDev, "float32", seed);
      expect(ours.shape).toEqual(theirs.shape);
      expect(ours.dtype).toBe("float32");
      expect(bitwiseDifferences(ours.dataSync(), theirs.dataSync()), `shape [${shape}], seed ${seed}`).toEqual([]);
      tf.dispose([ours, theirs]);
      expect(tf.memory().numTensors).toBe(before);
    }
    const big = randomNormalTensor([100_000], { mean: 1, stdDev: 2, seed: 5 });
    const values = Array.from(big.dataSync() as Float32Array);
    const m = values.reduce((a, b) => a + b, 0) / values.length;
    expect(m).toBeCloseTo(1, 1);
    expect(Math.sqrt(values.reduce((a, b) => a + (b - m) ** 2, 0) / values.length)).toBeCloseTo(2, 1);
    big.dispose();
  });

  it("randomNormalTensor without a seed (or seed 0) draws one from Math.random, as tfjs does: the same values under the same global seed", async () => {
    await tf.setBackend("cpu");
    for (const seed of [undefined, 0]) {
      seedGlobalRandom(21);
      const ours = randomNormalTensor([9], { seed });
      const after = Math.random();
      seedGlobalRandom(21);
      const theirs = tf.randomNormal([9], 0, 1, "float32", seed);
      expect(Math.random()).toBe(after);
      expect(bitwiseDifferences(ours.dataSync(), theirs.dataSync())).toEqual([]);
      tf.dispose([ours, theirs]);
    }
  });

  it("randomNormalTensor names a bad shape, mean, spread or seed", () => {
    expect(() => randomNormalTensor([2, -1])).toThrow("randomNormalTensor: shape must be an array of non-negative integers, got [2,-1]");
    expect(() => randomNormalTensor([2.5])).toThrow(/shape must be an array of non-negative integers/);
    expect(() => randomNormalTensor([2], { stdDev: Infinity })).toThrow("randomNormalTensor: mean and stdDev must be finite numbers, got 0 and Infinity");
    expect(() => randomNormalTensor([2], { mean: NaN })).toThrow(/mean and stdDev must be finite/);
    expect(() => randomNormalTensor([2], { seed: NaN })).toThrow("randomNormalTensor: seed must be a finite number, got NaN");
  });
});
