/**
 * PEDCC (paper 4, Algorithm 1, eqs. 1–5): the simulation reaches the regular simplex when it
 * can, lowers the Coulomb energy to known optima, is deterministic; evenness measures, the
 * saved-centroid store, nearest-centroid classification and per-class Gaussian sampling.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  centroidEvenness, centroidScores, choleskyLower, classCentreDistances, classLatentGaussians, coulombEnergy, loadOrComputePedcc,
  loadPedcc, nearestCentroid, nearestCentroidAccuracy, offDiagonalSpread, pairwiseCosines, pairwiseDistances, pedccFileName,
  pedccSimulate, sampleClassLatents, savePedcc,
} from "../lib/pedcc";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("pedccSimulate", () => {
  it("puts n = 10 points in d = 40 on the regular simplex: every cosine −1/9 within 3e-3, every norm √d", () => {
    const r = pedccSimulate(10, 40, { seed: 0 });
    const e = centroidEvenness(r.centroids);
    for (const norm of e.norms) expect(Math.abs(norm - Math.sqrt(40))).toBeLessThan(1e-9);
    expect(e.simplexCosine).toBeCloseTo(-1 / 9, 12);
    expect(e.maxSimplexCosineError).toBeLessThan(3e-3);
    expect(e.minCosine).toBeGreaterThan(-1 / 9 - 3e-3);
    expect(e.maxCosine).toBeLessThan(-1 / 9 + 3e-3);
    // all distances equal: √(2d(1 + 1/9)) for the simplex at radius √d
    expect(e.distanceSpread).toBeLessThan(1e-2);
    expect(e.meanDistance).toBeCloseTo(Math.sqrt(2 * 40 * (1 + 1 / 9)), 2);
  });

  it("lowers the Coulomb energy to the known optima on the sphere in 3-D (2: 0.5, 4: tetrahedron, 10: Thomson 32.71695)", () => {
    const two = pedccSimulate(2, 3, { iterations: 2000 });
    expect(two.energyHistory[two.energyHistory.length - 1]).toBeCloseTo(0.5, 3);
    const four = pedccSimulate(4, 3, { iterations: 1000 });
    expect(four.energyHistory[four.energyHistory.length - 1]).toBeCloseTo(6 / Math.sqrt(8 / 3), 6);
    const ten = pedccSimulate(10, 3, { iterations: 3000 });
    expect(ten.energyHistory[ten.energyHistory.length - 1]).toBeCloseTo(32.716949, 3);
  });

  it("the energy falls: its running minimum never rises, the end is far below the start, and late energies stay near the end", () => {
    const r = pedccSimulate(10, 40, { iterations: 600 });
    const e = r.energyHistory;
    expect(e).toHaveLength(601);
    expect(r.energyIterations[0]).toBe(0);
    expect(e[e.length - 1]).toBeLessThan(e[0] - 2);
    // checkpoints decrease: start > 50 > 150 ≥ end (up to 1e-9)
    expect(e[50]).toBeLessThan(e[0]);
    expect(Math.min(...e.slice(100, 200))).toBeLessThan(e[50]);
    expect(e[600]).toBeLessThanOrEqual(Math.min(...e.slice(0, 200)) + 1e-9);
    // energy of the returned (scaled) centroids = final energy / √d (distances scale by α)
    expect(coulombEnergy(r.centroids)).toBeCloseTo(e[600] / Math.sqrt(40), 9);
  });

  it("is deterministic: the same seed gives identical centroids, another seed different ones", () => {
    const a = pedccSimulate(10, 40, { seed: 3, iterations: 50 });
    const b = pedccSimulate(10, 40, { seed: 3, iterations: 50 });
    const c = pedccSimulate(10, 40, { seed: 4, iterations: 50 });
    expect(a.centroids).toEqual(b.centroids);
    expect(a.energyHistory).toEqual(b.energyHistory);
    expect(a.centroids[0][0]).not.toBe(c.centroids[0][0]);
  });

  it("stops early at the tolerance and reports it; records energy every energyEvery iterations; scales by the given α", () => {
    const r = pedccSimulate(4, 3, { iterations: 5000, tolerance: 1e-7, energyEvery: 10, scale: 2 });
    expect(r.converged).toBe(true);
    expect(r.iterations).toBeLessThan(5000);
    expect(r.lastMaxMove).toBeLessThan(1e-7);
    expect(r.energyIterations.slice(0, 3)).toEqual([0, 10, 20]);
    expect(r.energyIterations[r.energyIterations.length - 1]).toBe(r.iterations);
    for (const row of r.centroids) expect(Math.hypot(...row)).toBeCloseTo(2, 9);
    const noTolerance = pedccSimulate(4, 3, { iterations: 30 });
    expect(noTolerance.converged).toBe(false);
    expect(noTolerance.iterations).toBe(30);
  });

  it("rejects bad input with errors that name it", () => {
    expect(() => pedccSimulate(0, 40)).toThrow(/numClasses must be an integer ≥ 1, got 0/);
    expect(() => pedccSimulate(10, 1)).toThrow(/latentDim must be an integer ≥ 2, got 1/);
    expect(() => pedccSimulate(10, 40, { iterations: -1 })).toThrow(/iterations/);
    expect(() => pedccSimulate(10, 40, { stepSize: 0 })).toThrow(/stepSize must be a positive/);
    expect(() => pedccSimulate(10, 40, { tolerance: NaN })).toThrow(/tolerance/);
    expect(() => pedccSimulate(10, 40, { seed: 0.5 })).toThrow(/seed must be an integer/);
    expect(() => pedccSimulate(10, 40, { minDistance: -1 })).toThrow(/minDistance/);
  });
});

describe("evenness measures", () => {
  it("pairwise distances and cosines match hand values; the simplex has zero spread", () => {
    const pts = [[1, 0], [0, 1], [-1, 0]];
    const d = pairwiseDistances(pts);
    expect(d[0][1]).toBeCloseTo(Math.SQRT2, 12);
    expect(d[0][2]).toBeCloseTo(2, 12);
    expect(pairwiseCosines(pts)[0][2]).toBeCloseTo(-1, 12);
    const tri = [0, 1, 2].map((k) => [Math.cos((2 * Math.PI * k) / 3), Math.sin((2 * Math.PI * k) / 3)]);
    const e = centroidEvenness(tri);
    expect(e.distanceSpread).toBeLessThan(1e-12);
    expect(e.maxSimplexCosineError).toBeLessThan(1e-12);
    // 4 points in 2-D: no simplex fits
    expect(Number.isNaN(centroidEvenness([[1, 0], [0, 1], [-1, 0], [0, -1]]).maxSimplexCosineError)).toBe(true);
    const s = offDiagonalSpread([[0, 1, 2], [1, 0, 3], [2, 3, 0]]);
    expect(s).toMatchObject({ min: 1, max: 3, mean: 2 });
    expect(s.relativeSpread).toBeCloseTo(1, 12);
    expect(s.coefficientOfVariation).toBeCloseTo(Math.sqrt(2 / 3) / 2, 12);
  });

  it("rejects ragged, tiny or non-finite input", () => {
    expect(() => centroidEvenness([[1, 2]])).toThrow(/at least 2 rows/);
    expect(() => centroidEvenness([[1, 2], [1]])).toThrow(/row 1 has 1/);
    expect(() => pairwiseDistances([[1, NaN], [1, 2]])).toThrow(/non-finite/);
    expect(() => pairwiseCosines([[0, 0], [1, 2]])).toThrow(/all zeros/);
    expect(() => offDiagonalSpread([[0, 1], [1]])).toThrow(/square/);
  });
});

describe("centroid store (data/pedcc)", () => {
  let dir: string;
  beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), "pedcc-")); });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("saves atomically and loads back exactly", () => {
    const own = fs.mkdtempSync(path.join(dir, "atomic-"));   // its own directory: no other test's files, in any order
    const r = pedccSimulate(5, 8, { iterations: 20 });
    const file = savePedcc(r, "five.json", { dir: own });
    expect(fs.readdirSync(own)).toEqual(["five.json"]);   // the temporary file was renamed, none left behind
    const back = loadPedcc("five.json", { dir: own });
    expect(back.centroids).toEqual(r.centroids);
    expect(back.options).toEqual(r.options);
    expect(loadPedcc(file).numClasses).toBe(5);
  });

  it("loadOrComputePedcc computes once, then loads the saved file", () => {
    const first = loadOrComputePedcc(6, 10, { iterations: 30, seed: 2, dir });
    expect(first.loaded).toBe(false);
    expect(path.basename(first.file)).toBe(pedccFileName(6, 10, { iterations: 30, seed: 2 }));
    const second = loadOrComputePedcc(6, 10, { iterations: 30, seed: 2, dir });
    expect(second.loaded).toBe(true);
    expect(second.centroids).toEqual(first.centroids);
  });

  it("refuses bad names, missing and corrupt files", () => {
    const r = pedccSimulate(3, 4, { iterations: 2 });
    expect(() => savePedcc(r, "../evil.json", { dir })).toThrow(/plain name ending in \.json/);
    expect(() => loadPedcc("missing.json", { dir })).toThrow(/no PEDCC file/);
    fs.writeFileSync(path.join(dir, "bad.json"), "{not json");
    expect(() => loadPedcc("bad.json", { dir })).toThrow(/not valid JSON/);
    fs.writeFileSync(path.join(dir, "other.json"), JSON.stringify({ format: "x" }));
    expect(() => loadPedcc("other.json", { dir })).toThrow(/format "x"/);
  });
});

describe("nearest-centroid classification", () => {
  it("Euclidean scores are −‖z − μ‖² and cosine scores are cosines; predictions pick the nearest", () => {
    const z = tf.tensor2d([[1, 0.1], [0.2, -3], [-2, 0.5]]);
    const mu = tf.tensor2d([[2, 0], [0, -2], [-1, 0]]);
    const e = centroidScores(z, mu, "euclidean").arraySync();
    expect(e[1][1]).toBeCloseTo(-(0.2 * 0.2 + 1), 5);
    const c = centroidScores(z, mu, "cosine").arraySync();
    expect(c[0][0]).toBeCloseTo(1 / Math.hypot(1, 0.1), 5);
    expect(Array.from(nearestCentroid(z, mu).dataSync())).toEqual([0, 1, 2]);
    tf.dispose([z, mu]);
  });

  it("Euclidean and cosine can disagree when centroids have different lengths, and agree when they share one", async () => {
    const z = tf.tensor2d([[1, 0.9]]);
    const unequal = tf.tensor2d([[10, 0], [1, 1]]);
    expect(nearestCentroid(z, unequal, "euclidean").dataSync()[0]).toBe(1);
    expect(nearestCentroid(z, unequal, "cosine").dataSync()[0]).toBe(1);
    const z2 = tf.tensor2d([[3, 0.5]]);
    expect(nearestCentroid(z2, unequal, "euclidean").dataSync()[0]).toBe(1);
    expect(nearestCentroid(z2, unequal, "cosine").dataSync()[0]).toBe(0);
    const r = pedccSimulate(10, 40, { iterations: 300 });
    const mu = tf.tensor2d(r.centroids);
    const codes = tf.add(tf.gather(mu, tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1], "int32")), tf.randomNormal([12, 40], 0, 2, "float32", 1)) as tf.Tensor2D;
    const acc = await nearestCentroidAccuracy(codes, mu, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    expect(acc.agreement).toBeGreaterThan(0.9);
    expect(acc.euclidean).toBeGreaterThan(0.9);
    tf.dispose([z, unequal, z2, mu, codes]);
  });

  it("leaks no tensors and rejects mismatched shapes", async () => {
    const z = tf.randomNormal([20, 5]) as tf.Tensor2D;
    const mu = tf.randomNormal([3, 5]) as tf.Tensor2D;
    nearestCentroid(z, mu).dispose();
    const before = tf.memory().numTensors;
    nearestCentroid(z, mu, "cosine").dispose();
    centroidScores(z, mu).dispose();
    await nearestCentroidAccuracy(z, mu, new Array(20).fill(0));
    expect(tf.memory().numTensors).toBe(before);
    const wrong = tf.zeros([3, 4]) as tf.Tensor2D;
    expect(() => nearestCentroid(z, wrong)).toThrow(/latent is 5-dimensional but the centroids are 4-dimensional/);
    expect(() => centroidScores(z, mu, "manhattan" as "cosine")).toThrow(/metric must be/);
    await expect(nearestCentroidAccuracy(z, mu, [0, 1])).rejects.toThrow(/2 labels for 20 codes/);
    tf.dispose([z, mu, wrong]);
  });
});

describe("per-class Gaussians and generation", () => {
  it("class means and covariances match the closed form; class-centre distances too", async () => {
    const z = tf.tensor2d([[0, 0], [2, 0], [0, 2], [10, 10], [12, 10], [10, 14]]);
    const labels = [0, 0, 0, 1, 1, 1];
    const g = await classLatentGaussians(z, labels, 2);
    expect(g[0].mean[0]).toBeCloseTo(2 / 3, 12);
    expect(g[1].mean[1]).toBeCloseTo(34 / 3, 12);
    // covariance of x = (0, 2, 0): var = ((−2/3)² + (4/3)² + (−2/3)²)/2 = 4/3; cov(x, y) = −2/3
    expect(g[0].covariance[0][0]).toBeCloseTo(4 / 3, 12);
    expect(g[0].covariance[0][1]).toBeCloseTo(-2 / 3, 12);
    expect(g[0].count).toBe(3);
    const { centres, distances } = await classCentreDistances(z, labels, 2);
    expect(centres[1]).toEqual([32 / 3, 34 / 3]);
    expect(distances[0][1]).toBeCloseTo(Math.hypot(32 / 3 - 2 / 3, 34 / 3 - 2 / 3), 10);
    await expect(classLatentGaussians(z, [0, 0, 0, 0, 0, 1], 2)).rejects.toThrow(/class 1 has 1 codes/);
    await expect(classCentreDistances(z, [0, 0, 0, 0, 0, 7], 2)).rejects.toThrow(/label 7/);
    z.dispose();
  });

  it("Cholesky: L Lᵀ = A; jitter rescues a singular PSD matrix; negative definite fails", () => {
    const a = [[4, 2, 0.4], [2, 5, 1], [0.4, 1, 3]];
    const l = choleskyLower(a);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
      expect(l[i].reduce((s, x, k) => s + x * l[j][k], 0)).toBeCloseTo(a[i][j], 12);
    }
    expect(() => choleskyLower([[1, 1], [1, 1]])).not.toThrow();
    expect(() => choleskyLower([[-1, 0], [0, -1]])).toThrow(/not positive semi-definite/);
    expect(() => choleskyLower([[1, 0], [0]])).toThrow(/square/);
  });

  it("samples follow each class's mean and covariance, seeded, class by class", async () => {
    const gaussians = [
      { label: 0, count: 1, mean: [1, -1], covariance: [[1, 0.6], [0.6, 2]] },
      { label: 1, count: 1, mean: [5, 5], covariance: [[0.25, 0], [0, 0.25]] },
    ];
    const s = sampleClassLatents(gaussians, { perClass: 4000, seed: 1 });
    expect(s.shape).toEqual([8000, 2]);
    const back = await classLatentGaussians(s, [...new Array(4000).fill(0), ...new Array(4000).fill(1)], 2);
    expect(back[0].mean[0]).toBeCloseTo(1, 1);
    expect(back[0].covariance[0][1]).toBeCloseTo(0.6, 1);
    expect(back[0].covariance[1][1]).toBeCloseTo(2, 1);
    expect(back[1].covariance[0][0]).toBeCloseTo(0.25, 1);
    const again = sampleClassLatents(gaussians, { perClass: 4000, seed: 1 });
    expect(Array.from(again.dataSync().slice(0, 10))).toEqual(Array.from(s.dataSync().slice(0, 10)));
    expect(() => sampleClassLatents([], {})).toThrow(/non-empty/);
    expect(() => sampleClassLatents(gaussians, { perClass: 0 })).toThrow(/perClass/);
    tf.dispose([s, again]);
  });
});
