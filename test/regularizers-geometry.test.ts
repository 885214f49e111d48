/**
 * The toy-manifold geometry of paper 3's Figures 3, 8 and 9 (lib/regularizers/curves.ts,
 * far-field.ts, spectrum.ts): the spiral and the distance between curves (eqs. C1–C2), the field
 * measured per distance band (B1–B2), and encoder Jacobians along and across the circle (F1–F2),
 * autodiff against the sigmoid closed form and central finite differences.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import {
  circleFrames, circleTangentNormalGains, decodedCurve, denseAutoencoder, directionalGains, fieldByDistance, finiteDifferenceJacobian,
  jacobianSingularValues, manifoldCurvesFigure, meanNearestDistance, normalProfile, reconstructionField, rowwiseJacobian,
  sigmoidEncoderJacobian, spiralCurve, spiralManifoldData,
} from "../lib/regularizers";
import { assertClose, seededNormal } from "./helpers/gradcheck";
import { leakedBy } from "./helpers/leaks";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

/** x ↦ R x/‖x‖: sends every point to its nearest point of the circle. */
const project = (x: tf.Tensor2D) => tf.div(x, tf.maximum(tf.norm(x, 2, 1, true), 1e-6)) as tf.Tensor2D;

describe("Jacobians along and across the manifold (eqs. F1–F2)", () => {
  it("rowwiseJacobian equals the sigmoid closed form at every point and central finite differences", () => {
    const model = denseAutoencoder({ inputDim: 2, hiddenUnits: 6, seed: 3 });
    tf.tidy(() => model.encoderBias.assign(tf.tensor1d(seededNormal(6, 9, 0.5))));
    const x = tf.tensor2d(seededNormal(10, 4), [5, 2]);
    const jac = rowwiseJacobian((v) => model.encode(v), x);
    expect(jac.shape).toEqual([5, 6, 2]);
    for (let i = 0; i < 5; i++) {
      const closed = tf.tidy(() => sigmoidEncoderJacobian(tf.squeeze(tf.slice(x, [i, 0], [1, 2])) as tf.Tensor1D, model.encoderKernel as tf.Tensor as tf.Tensor2D, model.encoderBias as tf.Tensor as tf.Tensor1D));
      const row = tf.tidy(() => tf.squeeze(tf.slice(jac, [i, 0, 0], [1, 6, 2]), [0]));
      assertClose(row.dataSync(), closed.dataSync(), { rtol: 1e-5, atol: 1e-7 }, `point ${i}`);
      tf.dispose([closed, row]);
    }
    const fd = finiteDifferenceJacobian((v) => model.encode(v), x, { step: 1e-2 });
    const cmp = assertClose(jac.dataSync(), fd.dataSync(), { rtol: 2e-3, atol: 1e-5 }, "autodiff vs finite differences");
    expect(cmp.scale).toBeGreaterThan(0.05);
    expect(leakedBy(() => tf.dispose([rowwiseJacobian((v) => model.encode(v), x), finiteDifferenceJacobian((v) => model.encode(v), x)]))).toBe(0);
    expect(() => rowwiseJacobian((v) => tf.sum(v), x)).toThrow(/f must return \[5, units\]/);
    expect(() => rowwiseJacobian((v) => v, tf.zeros([3]) as unknown as tf.Tensor2D)).toThrow(/x must be a live \[n, inputs\]/);
    tf.dispose([x, jac, fd]);
    model.dispose();
  });

  it("gives ‖J u‖ and the singular values of a linear map exactly", () => {
    // f(x) = x A with A = Rᵀ diag(3, 0.5) R: J = Aᵀ everywhere, singular values 3 and 0.5.
    const c = Math.cos(0.3), s = Math.sin(0.3);
    const a = [[3 * c * c + 0.5 * s * s, (3 - 0.5) * c * s], [(3 - 0.5) * c * s, 3 * s * s + 0.5 * c * c]];
    const A = tf.tensor2d(a);
    const x = tf.tensor2d([[0, 0], [1, 2], [-3, 0.5]]);
    const jac = rowwiseJacobian((v) => tf.matMul(v, A), x);
    const u = tf.tensor2d([[c, s], [-s, c], [1, 0]]);
    const gains = directionalGains(jac, u);
    assertClose(gains.dataSync(), [3, 0.5, Math.hypot(a[0][0], a[0][1])], { rtol: 1e-5, atol: 0 }, "‖J u‖");
    for (const sv of jacobianSingularValues(jac)) assertClose(sv, [3, 0.5], { rtol: 1e-5, atol: 0 }, "singular values");
    expect(() => directionalGains(jac, tf.zeros([2, 2]) as tf.Tensor2D)).toThrow(/directions must be \[3, 2\]/);
    tf.dispose([A, x, jac, u, gains]);
  });

  it("measures a map flat across the circle and not along it: ‖J t‖ = 1.1, ‖J n‖ = 0.1 for x/‖x‖ + 0.1x", () => {
    const frames = circleFrames({ numPoints: 8, radius: 2 });
    expect(frames.points[2][0]).toBeCloseTo(0, 12);
    expect(frames.points[2][1]).toBeCloseTo(2, 12);
    expect(frames.tangents[0]).toEqual([-0, 1]);
    const gains = circleTangentNormalGains((x) => tf.add(project(x), tf.mul(0.1, x)), { numPoints: 12 });
    gains.along.forEach((g) => expect(g).toBeCloseTo(1.1, 5));
    gains.across.forEach((g) => expect(g).toBeCloseTo(0.1, 5));
    expect(gains.ratio).toBeCloseTo(11, 3);
    gains.singularValues.forEach((sv) => assertClose(sv, [1.1, 0.1], { rtol: 1e-4, atol: 0 }, "singular values"));
    expect(leakedBy(() => circleTangentNormalGains(project, { numPoints: 4 }))).toBe(0);
    expect(() => circleFrames({ numPoints: 0 })).toThrow(/numPoints must be a positive integer/);
  });

  it("profiles the reconstruction across the manifold: the identity follows d, the projection sends every d to 0", () => {
    const offsets = [-0.5, -0.1, 0, 0.2, 0.6];
    const identity = normalProfile((x) => tf.clone(x), { offsets, angle: 1 });
    assertClose(identity.normalCoordinate, offsets, { rtol: 0, atol: 1e-6 }, "identity");
    const flat = normalProfile(project, { offsets, angle: 2.5 });
    assertClose(flat.normalCoordinate, offsets.map(() => 0), { rtol: 0, atol: 1e-6 }, "projection");
    expect(normalProfile(project).offsets).toHaveLength(41);
    expect(leakedBy(() => normalProfile(project, { offsets }))).toBe(0);
    expect(() => normalProfile(project, { offsets: [] })).toThrow(/offsets must be a non-empty list/);
  });
});

describe("the field by distance from the circle (eqs. B1–B2)", () => {
  it("is aligned (cos 1), lands on the circle, and is as long as the distance for the projection", () => {
    const field = reconstructionField(project, { range: [-4, 4], gridSize: 21 });
    const bands = fieldByDistance(field);
    expect(bands.map((b) => [b.from, b.to])).toEqual([[0, 0.15], [0.15, 0.5], [0.5, 1], [1, 2], [2, 3], [3, Infinity]]);
    expect(bands.reduce((s, b) => s + b.points, 0)).toBe(21 * 21 - 1); // all but the centre
    for (const b of bands) {
      if (b.from >= 0.15) expect(b.meanCos).toBeCloseTo(1, 5);
      expect(b.meanLandingDistance).toBeLessThan(1e-5);
      expect(b.meanLength).toBeCloseTo(b.meanDistance, 5);
      expect(b.meanDistance).toBeGreaterThanOrEqual(b.from);
      expect(b.meanDistance).toBeLessThan(b.to);
    }
  });

  it("points away inside and at the circle outside for a collapse to the origin, landing R away", () => {
    const field = reconstructionField((x) => tf.zerosLike(x), { range: [-3, 3], gridSize: 13 });
    const bands = fieldByDistance(field, { edges: [0.2, 0.6, 2.5] });
    // Distances 0.2–0.6 hold points inside (cos −1) and outside (cos +1); count them by hand.
    let inside = 0, outside = 0;
    field.points.forEach(([x, y]) => { const r = Math.hypot(x, y), d = Math.abs(r - 1); if (d >= 0.2 && d < 0.6) (r < 1 ? inside++ : outside++); });
    expect(bands[0].points).toBe(inside + outside);
    expect(bands[0].meanCos).toBeCloseTo((outside - inside) / (outside + inside), 10);
    bands.forEach((b) => expect(b.meanLandingDistance).toBeCloseTo(1, 6));
    expect(() => fieldByDistance(field, { edges: [1, 0.5] })).toThrow(/edges must be at least two increasing numbers/);
    expect(() => fieldByDistance({ points: [], vectors: [] })).toThrow(/field must be/);
  });
});

describe("a curve and what a 1-unit code learns of it (eqs. C1–C2)", () => {
  it("samples the spiral: on the curve without noise, seeded, from radius a·t₀ to a·t₁", () => {
    const curve = spiralCurve(2001);
    expect(Math.hypot(...curve[2000])).toBeCloseTo(1, 12);
    expect(Math.hypot(...curve[0])).toBeCloseTo(1.5 / 4, 12);
    const clean = spiralManifoldData({ numPoints: 200, noiseStd: 0, seed: 2 });
    expect(meanNearestDistance(clean.arraySync(), curve)).toBeLessThan(1e-3);
    const a = spiralManifoldData({ numPoints: 50, seed: 5 }), b = spiralManifoldData({ numPoints: 50, seed: 5 });
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    const noisy = meanNearestDistance(spiralManifoldData({ numPoints: 300, noiseStd: 0.05, seed: 1 }).arraySync(), curve);
    expect(noisy).toBeGreaterThan(0.02); // mean |N(0, 0.05²)| across the curve ≈ 0.04
    expect(noisy).toBeLessThan(0.06);
    expect(() => spiralCurve(10, { tRange: [2, 1] })).toThrow(/tRange must be \[t0, t1\] with t1 > t0/);
    tf.dispose([clean, a, b]);
  });

  it("measures mean nearest distances by hand, one way at a time", () => {
    const line = [[0, 0], [1, 0], [2, 0]];
    expect(meanNearestDistance([[0, 1], [2, -3]], line)).toBeCloseTo(2, 12);
    expect(meanNearestDistance([[1, 0]], line)).toBe(0);
    expect(meanNearestDistance(line, [[1, 0]])).toBeCloseTo(2 / 3, 12); // a point covers none of the line's ends
    expect(() => meanNearestDistance([[0, 0, 0]], line)).toThrow(/from has 3-D points, to has 2-D points/);
    expect(() => meanNearestDistance([], line)).toThrow(/from must be a non-empty array/);
  });

  it("decodes a sweep over the codes' range and draws curves over the data", () => {
    const model = { encode: (x: tf.Tensor2D) => tf.slice(x, [0, 0], [-1, 1]), decode: (z: tf.Tensor2D) => tf.concat([z, tf.mul(2, z)], 1) };
    const x = tf.tensor2d([[0.5, 9], [-1, 9], [2, 9]]);
    const curve = decodedCurve(model, x, { numPoints: 4 });
    expect(curve.codes).toEqual([-1, 0, 1, 2]);
    assertClose(curve.points.flat(), [-1, -2, 0, 0, 1, 2, 2, 4], { rtol: 0, atol: 1e-6 }, "decoded points");
    expect(decodedCurve(model, x, { numPoints: 3, margin: 0.5 }).codes).toEqual([-2.5, 0.5, 3.5]);
    expect(leakedBy(() => decodedCurve(model, x, { numPoints: 5 }))).toBe(0);
    expect(() => decodedCurve({ encode: (v) => tf.clone(v), decode: (z) => z }, x)).toThrow(/code must be one unit/);
    const fig = manifoldCurvesFigure(x.arraySync(), [{ name: "learned", points: curve.points }, { name: "true", points: [[0, 0], [1, 1]], dash: "dash" }], { title: "t" });
    expect(fig.data.map((t) => t.name)).toEqual(["training points", "learned", "true"]);
    expect(fig.description).toMatch(/3 points; learned \(4 points\), true \(2 points\)/);
    expect(() => manifoldCurvesFigure(x.arraySync(), [])).toThrow(/curves must be a non-empty array/);
    x.dispose();
  });
});
