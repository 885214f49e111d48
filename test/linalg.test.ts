/**
 * lib/linalg.ts against closed forms: eigen-decompositions reconstruct their matrix, PCA
 * finds planted directions (both the small-d Jacobi path and the large-d subspace path),
 * principal angles of known subspaces, and the four Penrose conditions of W⁺.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../lib/backend";
import { orthonormalColumns, pca, pcaReconstruct, principalAngles, pseudoInverse, symmetricEigen } from "../lib/linalg";
import { createRng, randomNormal } from "../lib/random";

beforeAll(async () => {
  await initBackend();
});

function randomMatrix(rows: number, cols: number, seed: number): tf.Tensor2D {
  const rng = createRng(seed);
  return tf.tensor2d(Float32Array.from({ length: rows * cols }, () => randomNormal(rng)), [rows, cols]);
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

describe("symmetricEigen", () => {
  it("reconstructs A = V Λ Vᵀ with orthonormal V, eigenvalues descending", () => {
    const a = [
      [4, 1, -2, 0.5],
      [1, 3, 0, 1],
      [-2, 0, 5, -1],
      [0.5, 1, -1, 2],
    ];
    const { values, vectors } = symmetricEigen(a);
    expect(values).toEqual([...values].sort((x, y) => y - x));
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) {
        const rebuilt = values.reduce((s, l, k) => s + l * vectors[k][i] * vectors[k][j], 0);
        expect(rebuilt).toBeCloseTo(a[i][j], 12);
        const dot = vectors[i].reduce((s, v, k) => s + v * vectors[j][k], 0);
        expect(dot).toBeCloseTo(i === j ? 1 : 0, 12);
      }
    }
    expect(values.reduce((s, v) => s + v, 0)).toBeCloseTo(4 + 3 + 5 + 2, 12);
  });

  it("rejects non-square, non-symmetric and non-finite input by name", () => {
    expect(() => symmetricEigen([[1, 2]])).toThrow(/square/);
    expect(() => symmetricEigen([[1, 2], [3, 4]])).toThrow(/symmetric.*\[0\]\[1\]/);
    expect(() => symmetricEigen([[1, NaN], [NaN, 1]])).toThrow(/finite/);
  });
});

describe("pca", () => {
  /** n points in d dims with variances `spread` along the first axes of a random rotation. */
  function planted(n: number, d: number, spread: number[], seed: number) {
    const basis = orthonormalColumns(randomMatrix(d, spread.length, seed)); // d×k
    const x = tf.tidy(() => {
      const coeffs = tf.mul(randomMatrix(n, spread.length, seed + 1), tf.sqrt(tf.tensor1d(spread)));
      const noise = tf.mul(randomMatrix(n, d, seed + 2), 0.01);
      return tf.add(tf.add(tf.matMul(coeffs, basis, false, true), noise), 3) as tf.Tensor2D;
    });
    return { basis, x };
  }

  it("finds a planted 3-D subspace in 20 dims (Jacobi path), variances in order, no leak", () => {
    const { basis, x } = planted(2000, 20, [9, 4, 1], 1);
    pca(x, { numComponents: 3 }).components.dispose(); // prime
    const before = tf.memory().numTensors;
    const result = pca(x, { numComponents: 3 });
    const angles = principalAngles(result.components.transpose(), basis);
    expect(Math.max(...angles)).toBeLessThan(0.02);
    expect(result.explainedVariance[0]).toBeGreaterThan(result.explainedVariance[1]);
    expect(result.explainedVariance[0] / result.explainedVariance[2]).toBeGreaterThan(5);
    expect(result.totalVariance).toBeGreaterThan(result.explainedVariance.reduce((s, v) => s + v, 0));
    expect(result.mean.dataSync()[0]).toBeCloseTo(3, 1);
    expect(result.iterations).toBe(0);
    tf.dispose([result.components, result.mean]);
    // principalAngles' transpose is the one allowed leftover of this test body
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before + 1);
    tf.dispose([basis, x]);
  });

  it("pcaReconstruct: the residual of the top k is the variance beyond them (Eckart–Young), k = d gives x back", () => {
    const { basis, x } = planted(1500, 12, [9, 4, 1], 4);
    const result = pca(x, { numComponents: 12 });
    const before = tf.memory().numTensors;
    for (const k of [1, 2, 3, 6]) {
      const residual = tf.tidy(() => tf.sum(tf.square(tf.sub(x, pcaReconstruct(result, x, k)))).dataSync()[0] / 1500);
      const beyond = result.totalVariance - result.explainedVariance.slice(0, k).reduce((s, v) => s + v, 0);
      expect(residual).toBeCloseTo(beyond, 3);
    }
    const full = pcaReconstruct(result, x);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(full, x))).dataSync()[0])).toBeLessThan(1e-4);
    full.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => pcaReconstruct(result, x, 13)).toThrow(/k must be an integer in \[1, 12\] \(the components the PCA kept\), got 13/);
    expect(() => pcaReconstruct(result, tf.zeros([2, 5]) as tf.Tensor2D)).toThrow(/x must be a 2-D tensor \[samples, 12\], got shape \[2,5\]/);
    tf.dispose([result.components, result.mean, basis, x]);
  });

  it("the subspace-iteration path (d > 160) finds a planted subspace with orthonormal components", () => {
    const { basis, x } = planted(1500, 200, [16, 9, 4, 2], 7);
    const result = pca(x, { numComponents: 4 });
    expect(result.iterations).toBeGreaterThan(0);
    const bt = result.components.transpose();
    expect(Math.max(...principalAngles(bt as tf.Tensor2D, basis))).toBeLessThan(0.05);
    // components are orthonormal rows
    const gram = tf.matMul(result.components, result.components, false, true);
    expect(maxAbsDiff(gram, tf.eye(4))).toBeLessThan(1e-5);
    tf.dispose([basis, x, bt, gram, result.components, result.mean]);
  });

  it("explained variances equal the covariance eigenvalues (closed form on a diagonal case)", () => {
    // Points ±(a, 0), ±(0, b): the covariance (divisor n) is diag(a²/2, b²/2).
    const x = tf.tensor2d([[3, 0], [-3, 0], [0, 1], [0, -1]]);
    const result = pca(x, { numComponents: 2 });
    expect(result.explainedVariance[0]).toBeCloseTo(9 / 2, 6);
    expect(result.explainedVariance[1]).toBeCloseTo(1 / 2, 6);
    expect(result.totalVariance).toBeCloseTo(5, 6);
    tf.dispose([x, result.components, result.mean]);
  });

  it("names bad input", () => {
    const x = tf.zeros([5, 3]) as tf.Tensor2D;
    expect(() => pca(x, { numComponents: 4 })).toThrow(/numComponents must be an integer in \[1, 3\]/);
    expect(() => pca(tf.zeros([5]) as unknown as tf.Tensor2D, { numComponents: 1 })).toThrow(/x must be a 2-D tensor/);
    x.dispose();
  });
});

describe("principalAngles", () => {
  it("gives the known angle between two planes in R³ and 0 for the same subspace", () => {
    const t = 0.3;
    const a = tf.tensor2d([[1, 0], [0, 1], [0, 0]]); // the xy-plane
    const b = tf.tensor2d([[1, 0], [0, Math.cos(t)], [0, Math.sin(t)]]); // tilted by t about x
    const angles = principalAngles(a, b);
    expect(angles[0]).toBeCloseTo(0, 6);
    expect(angles[1]).toBeCloseTo(t, 6);
    const scaled = tf.tensor2d([[2, 1], [0, 3], [0, 0]]); // another basis of the same plane
    expect(Math.max(...principalAngles(a, scaled))).toBeLessThan(1e-6);
    tf.dispose([a, b, scaled]);
  });

  it("rejects mismatched ambient dimensions and dependent columns", () => {
    const a = tf.zeros([3, 1]) as tf.Tensor2D;
    const b = tf.ones([4, 1]) as tf.Tensor2D;
    expect(() => principalAngles(b, tf.ones([3, 1]) as tf.Tensor2D)).toThrow(/same number of rows/);
    expect(() => principalAngles(a, a)).toThrow(/linearly dependent/);
    tf.dispose([a, b]);
  });
});

describe("pseudoInverse", () => {
  for (const [rows, cols] of [[8, 3], [3, 8], [5, 5]]) {
    it(`satisfies the four Penrose conditions for a ${rows}×${cols} matrix`, () => {
      const w = randomMatrix(rows, cols, rows * 10 + cols);
      const p = pseudoInverse(w);
      expect(p.shape).toEqual([cols, rows]);
      const wpw = tf.matMul(tf.matMul(w, p), w);
      const pwp = tf.matMul(tf.matMul(p, w), p);
      const wp = tf.matMul(w, p);
      const pw = tf.matMul(p, w);
      expect(maxAbsDiff(wpw, w)).toBeLessThan(1e-4);
      expect(maxAbsDiff(pwp, p)).toBeLessThan(1e-4);
      expect(maxAbsDiff(wp, wp.transpose())).toBeLessThan(1e-4);
      expect(maxAbsDiff(pw, pw.transpose())).toBeLessThan(1e-4);
      // A tall full-rank W has a left inverse: W⁺W = I, the "exact" case of the FSAE notebook.
      if (rows >= cols) expect(maxAbsDiff(pw, tf.eye(cols))).toBeLessThan(1e-4);
      tf.dispose([w, p, wpw, pwp, wp, pw]);
    });
  }

  it("drops singular values below rcond (a rank-1 matrix)", () => {
    const w = tf.tensor2d([[1, 2], [2, 4], [3, 6]]);
    const p = pseudoInverse(w);
    // For rank one, W⁺ = Wᵀ / ‖W‖²_F.
    const expected = tf.div(w.transpose(), 70);
    expect(maxAbsDiff(p, expected)).toBeLessThan(1e-6);
    expect(() => pseudoInverse(w, { rcond: 2 })).toThrow(/rcond/);
    tf.dispose([w, p, expected]);
  });
});
