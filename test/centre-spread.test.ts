/**
 * Paper 4's Figure 9 measured its way: the printed matrix and its spread (max − min)/mean = 0.0073,
 * rounding as printed, the lower bound on the centres' length that the distances imply, and the
 * centres' offsets from their predefined centroids, against hand computations.
 */
import { describe, expect, it } from "vitest";
import { PAPER_FIGURE9_DISTANCES, classCentreSpread, figure9Spread } from "../lib/pedcc";

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
