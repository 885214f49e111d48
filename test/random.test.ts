import { describe, expect, it, afterEach } from "vitest";
import { createRng, permutation, randomNormal, seedGlobalRandom, restoreGlobalRandom, shuffleInPlace } from "../lib/random";

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
});
