/**
 * Paper 4's Figure 9 measured its way: the printed matrix and its spread (max − min)/mean = 0.0073,
 * rounding as printed, the lower bound on the centres' length that the distances imply, and the
 * centres' offsets from their predefined centroids, against hand computations.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { PAPER_FIGURE9_DISTANCES, classCentreSpread, classCentreSpreadOfCodes, figure9Spread } from "../lib/pedcc";
import { createRng, randomNormal } from "../lib/random";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

/** The regular simplex of k points in k dimensions, centred at the origin, every point of length r. */
function simplex(k: number, r: number): number[][] {
  const len = Math.sqrt((1 - 1 / k) ** 2 + (k - 1) / k ** 2);
  return Array.from({ length: k }, (_, c) => Array.from({ length: k }, (_, j) => (((j === c ? 1 : 0) - 1 / k) / len) * r));
}

/** perClass codes per class: its centroid plus Gaussian noise of standard deviation sigma (seeded); labels in class order. */
function noisyCodes(mu: number[][], perClass: number, sigma: number, seed: number): { latent: tf.Tensor2D; labels: number[] } {
  const rng = createRng(seed);
  const d = mu[0].length;
  const values: number[] = [];
  const labels: number[] = [];
  mu.forEach((m, c) => {
    for (let i = 0; i < perClass; i++) {
      for (let j = 0; j < d; j++) values.push(m[j] + sigma * randomNormal(rng));
      labels.push(c);
    }
  });
  return { latent: tf.tensor2d(values, [mu.length * perClass, d]), labels };
}

describe("Figure 9 of the paper, as printed", () => {
  it("is a symmetric 10 × 10 matrix of 45 distances from 9.53 (digits 4 and 9) to 9.60: spread 0.07/9.5753 = 0.0073", () => {
    const m = PAPER_FIGURE9_DISTANCES;
    expect(m.length).toBe(10);
    for (let i = 0; i < 10; i++) for (let j = 0; j < 10; j++) expect(m[i][j]).toBe(m[j][i]);
    expect(m[4][9]).toBe(9.53);
    expect(m[0][1]).toBe(9.6);
    const s = figure9Spread(m);
    expect(s.pairs).toBe(45);
    expect(s.min).toBe(9.53);
    expect(s.max).toBe(9.6);
    expect(s.mean).toBeCloseTo(430.89 / 45, 10);
    expect(s.relativeSpread).toBeCloseTo(0.07 / (430.89 / 45), 10);
    expect(s.relativeSpread.toFixed(4)).toBe("0.0073");
    // the printed distances put the paper's centres outside the sphere of radius α = √40 of its centroids
    expect(s.rmsNormLowerBound).toBeGreaterThan(Math.sqrt(40) * 1.015);
    expect(s.rmsNormLowerBound).toBeCloseTo(6.4233, 3);
  });
});

describe("figure9Spread", () => {
  it("a 3-4-5 triangle: mean 4, spread (5 − 3)/4, std √(2/3), RMS-length bound √(50/9)", () => {
    const d = [[0, 3, 4], [3, 0, 5], [4, 5, 0]];
    const s = figure9Spread(d);
    expect(s.pairs).toBe(3);
    expect(s.mean).toBeCloseTo(4, 12);
    expect(s.relativeSpread).toBeCloseTo(0.5, 12);
    expect(s.std).toBeCloseTo(Math.sqrt(2 / 3), 12);
    expect(s.coefficientOfVariation).toBeCloseTo(Math.sqrt(2 / 3) / 4, 12);
    expect(s.rmsNormLowerBound).toBeCloseTo(Math.sqrt(50 / 9), 12);
    expect(s.decimals).toBeNull();
  });

  it("rounds as printed when asked: 9.534, 9.526, 9.5 become 9.53, 9.53, 9.5", () => {
    const d = [[0, 9.534, 9.526], [9.534, 0, 9.5], [9.526, 9.5, 0]];
    expect(figure9Spread(d).relativeSpread).toBeCloseTo(0.034 / (28.56 / 3), 10);
    const r = figure9Spread(d, { decimals: 2 });
    expect(r.max).toBe(9.53);
    expect(r.relativeSpread).toBeCloseTo(0.03 / (28.56 / 3), 10);
    expect(r.decimals).toBe(2);
  });

  it("names bad input", () => {
    expect(() => figure9Spread([[0]])).toThrow(/at least 2 × 2/);
    expect(() => figure9Spread([[0, 1], [1]])).toThrow(/row 1 has 1 entries, expected 2/);
    expect(() => figure9Spread([[0, NaN], [NaN, 0]])).toThrow(/\[0\]\[1\] = NaN is not a finite number/);
    expect(() => figure9Spread([[0, 1], [1, 0]], { decimals: 1.5 })).toThrow(/decimals must be an integer/);
  });
});

describe("classCentreSpread", () => {
  it("centres on a regular simplex of radius √40 centred at the origin: spread 0 and the length bound is reached", () => {
    // 10 points e_k − (1/10)·1 in 10 dimensions, scaled to length √40: every pairwise distance √40·√(20/9)
    const raw = Array.from({ length: 10 }, (_, k) => Array.from({ length: 10 }, (_, j) => (j === k ? 1 : 0) - 0.1));
    const len = Math.sqrt(0.81 + 9 * 0.01);
    const centres = raw.map((r) => r.map((v) => (v / len) * Math.sqrt(40)));
    const s = classCentreSpread(centres);
    expect(s.exact.relativeSpread).toBeLessThan(1e-12);
    expect(s.exact.mean).toBeCloseTo(Math.sqrt(40) * Math.sqrt(20 / 9), 10);
    expect(s.exact.rmsNormLowerBound).toBeCloseTo(Math.sqrt(40), 10);
    for (const n of s.centreNorms) expect(n).toBeCloseTo(Math.sqrt(40), 10);
  });

  it("with the centroids: each centre's offset from its target and the radial part of it", () => {
    const h = Math.sqrt(3) / 2;
    const mu = [[1, 0], [-0.5, h], [-0.5, -h]];  // equilateral, radius 1
    const centres = [[1.1, 0], [-0.5, h], [-0.5, -h + 0.2]];
    const s = classCentreSpread(centres, { centroids: mu, decimals: 2 });
    expect(s.offsets![0]).toBeCloseTo(0.1, 12);
    expect(s.offsets![1]).toBeCloseTo(0, 12);
    expect(s.offsets![2]).toBeCloseTo(0.2, 12);
    expect(s.radialOffsets![0]).toBeCloseTo(0.1, 12);
    expect(s.radialOffsets![2]).toBeCloseTo(Math.hypot(-0.5, -h + 0.2) - 1, 12);
    expect(s.targetSpread!.relativeSpread).toBeCloseTo(0, 12);
    const d01 = Math.hypot(1.6, h), d02 = Math.hypot(1.6, h - 0.2), d12 = 2 * h - 0.2;
    expect(s.distances[0][1]).toBeCloseTo(d01, 12);
    const mean = (d01 + d02 + d12) / 3;
    expect(s.exact.relativeSpread).toBeCloseTo((Math.max(d01, d02, d12) - Math.min(d01, d02, d12)) / mean, 12);
    const r = [d01, d02, d12].map((v) => Math.round(v * 100) / 100);
    expect(s.spread.relativeSpread).toBeCloseTo((Math.max(...r) - Math.min(...r)) / (r.reduce((a, b) => a + b) / 3), 12);
    expect(() => classCentreSpread(centres, { centroids: mu.slice(0, 2) })).toThrow(/centroids must be 3 rows of 2 numbers/);
  });
});

describe("classCentreSpreadOfCodes", () => {
  it("centres are the class means of the codes: codes ±1 around each centroid give back the centroids exactly", async () => {
    const mu = simplex(4, 2);
    const values: number[] = [];
    const labels: number[] = [];
    mu.forEach((m, c) => {
      for (const sign of [1, -1]) for (let j = 0; j < 4; j++) {
        values.push(...m.map((v, k) => v + (k === j ? sign : 0)));
        labels.push(c);
      }
    });
    const latent = tf.tensor2d(values, [32, 4]);
    const labelTensor = tf.tensor1d(labels, "int32");
    const before = tf.memory().numTensors;
    const r = await classCentreSpreadOfCodes(latent, labelTensor, { numClasses: 4, centroids: mu });
    expect(tf.memory().numTensors).toBe(before);
    labelTensor.dispose();
    expect(r.counts).toEqual([8, 8, 8, 8]);
    r.centres.forEach((c, i) => c.forEach((v, j) => expect(v).toBeCloseTo(mu[i][j], 6)));
    expect(r.exact.relativeSpread).toBeLessThan(1e-6);
    for (const o of r.offsets!) expect(o).toBeLessThan(1e-6);
    expect(r.bootstrap).toBeUndefined();
    latent.dispose();
  });

  it("the bootstrap noise floor is 0 without noise and shrinks like 1/√n with the codes per class", async () => {
    const mu = simplex(10, Math.sqrt(40));
    const exact = noisyCodes(mu, 5, 0, 1);
    const r0 = await classCentreSpreadOfCodes(exact.latent, exact.labels, { bootstrap: 20 });
    expect(r0.bootstrap!.noiseFloor.high).toBeLessThan(1e-6);
    expect(r0.bootstrap!.spread.mean).toBeLessThan(1e-6);
    const few = noisyCodes(mu, 100, 1, 2), many = noisyCodes(mu, 1600, 1, 3);
    const rFew = await classCentreSpreadOfCodes(few.latent, few.labels, { bootstrap: 100, seed: 4 });
    const rMany = await classCentreSpreadOfCodes(many.latent, many.labels, { bootstrap: 100, seed: 4 });
    const ratio = rFew.bootstrap!.noiseFloor.mean / rMany.bootstrap!.noiseFloor.mean;
    expect(ratio).toBeGreaterThan(2.5);
    expect(ratio).toBeLessThan(6.5);
    // each spread is itself about as large as its noise floor: the centres are even up to sampling noise
    expect(rFew.exact.relativeSpread).toBeLessThan(2 * rFew.bootstrap!.noiseFloor.high);
    expect(rFew.bootstrap!.noiseFloor.low).toBeLessThanOrEqual(rFew.bootstrap!.noiseFloor.mean);
    expect(rFew.bootstrap!.noiseFloor.mean).toBeLessThanOrEqual(rFew.bootstrap!.noiseFloor.high);
    tf.dispose([exact.latent, few.latent, many.latent]);
  });

  it("names bad input", async () => {
    const latent = tf.zeros([3, 2]) as tf.Tensor2D;
    await expect(classCentreSpreadOfCodes(latent, [0, 1])).rejects.toThrow(/2 labels for 3 codes/);
    await expect(classCentreSpreadOfCodes(latent, [0, 1, 7], { numClasses: 3 })).rejects.toThrow(/label 7 at row 2 is not in 0\.\.2/);
    await expect(classCentreSpreadOfCodes(latent, [0, 1, 1], { numClasses: 3 })).rejects.toThrow(/class 2 has no codes/);
    await expect(classCentreSpreadOfCodes(latent, [0, 1, 2], { numClasses: 3, bootstrap: -1 })).rejects.toThrow(/bootstrap must be a whole number/);
    latent.dispose();
  });
});
