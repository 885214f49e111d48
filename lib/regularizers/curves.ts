/**
 * Data on a known 1-D manifold and what an undercomplete autoencoder learns of it (paper 3,
 * Figure 3): points near a planar spiral arc (the profile of a Swiss roll), the curve g(z) traced
 * by a decoder over a sweep of codes z, and how far the two curves lie from each other:
 *
 *   (C1) the spiral  s(t) = a·t (cos t, sin t),  t ∈ [t₀, t₁]
 *   (C2) mean distance from curve A to curve B  d(A → B) = (1/|A|) Σ_{a∈A} min_{b∈B} ‖a − b‖
 *
 * d(learned → true) small: the learned curve lies on the manifold; d(true → learned) small: it
 * also covers all of it.
 */
import * as tf from "@tensorflow/tfjs";
import { createRng, randomNormal } from "../random";
import { checkPositiveInteger } from "../checks";
import { PlotlyFigure, PlotlyTrace, axisStyle, baseConfig, baseLayout, categoryColor, quotedTitle } from "../plots/common";

export interface SpiralOptions {
  /** Start and end of the angle parameter t (default [1.5π, 4π]: one and a quarter turns). */
  tRange?: [number, number];
  /** Scale a of eq. C1 (default 1/(4π): the arc ends at radius 1). */
  scale?: number;
}

function spiralParameters(options: SpiralOptions, fn: string): { t0: number; t1: number; a: number } {
  const [t0, t1] = options.tRange ?? [1.5 * Math.PI, 4 * Math.PI];
  const a = options.scale ?? 1 / (4 * Math.PI);
  if (!(t1 > t0) || !Number.isFinite(t0) || !Number.isFinite(t1)) throw new Error(`${fn}: tRange must be [t0, t1] with t1 > t0, got [${t0}, ${t1}]`);
  if (!(a > 0) || !Number.isFinite(a)) throw new Error(`${fn}: scale must be a positive number, got ${a}`);
  return { t0, t1, a };
}

/** The noise-free spiral of eq. C1 at `numPoints` evenly spaced t (for drawing it and measuring against it). */
export function spiralCurve(numPoints = 2001, options: SpiralOptions = {}): Array<[number, number]> {
  checkPositiveInteger(numPoints, "numPoints", "spiralCurve");
  const { t0, t1, a } = spiralParameters(options, "spiralCurve");
  return Array.from({ length: numPoints }, (_, i) => {
    const t = numPoints === 1 ? t0 : t0 + ((t1 - t0) * i) / (numPoints - 1);
    return [a * t * Math.cos(t), a * t * Math.sin(t)] as [number, number];
  });
}

export interface SpiralDataOptions extends SpiralOptions {
  /** Points (default 500). */
  numPoints?: number;
  /** Standard deviation of the Gaussian jitter on both coordinates (default 0.02). */
  noiseStd?: number;
  /** Seed (default 0). */
  seed?: number;
}

/** Points near the spiral: s(t) + N(0, σ²I), t uniform on [t₀, t₁] (eq. C1); [numPoints, 2]. */
export function spiralManifoldData(options: SpiralDataOptions = {}): tf.Tensor2D {
  const fn = "spiralManifoldData";
  const n = options.numPoints ?? 500;
  checkPositiveInteger(n, "numPoints", fn);
  const noiseStd = options.noiseStd ?? 0.02;
  if (!(noiseStd >= 0) || !Number.isFinite(noiseStd)) throw new Error(`${fn}: noiseStd must be a number ≥ 0, got ${noiseStd}`);
  const { t0, t1, a } = spiralParameters(options, fn);
  const rng = createRng(options.seed ?? 0);
  const values = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const t = t0 + (t1 - t0) * rng();
    values[2 * i] = a * t * Math.cos(t) + noiseStd * randomNormal(rng);
    values[2 * i + 1] = a * t * Math.sin(t) + noiseStd * randomNormal(rng);
  }
  return tf.tensor2d(values, [n, 2]);
}

function checkPointList(points: unknown, name: string, fn: string): asserts points is ReadonlyArray<ArrayLike<number>> {
  if (!Array.isArray(points) || points.length === 0) throw new Error(`${fn}: ${name} must be a non-empty array of points`);
  const d = (points[0] as ArrayLike<number>)?.length;
  (points as Array<ArrayLike<number>>).forEach((p, i) => {
    if (!p || p.length !== d || !Array.from(p).every(Number.isFinite)) throw new Error(`${fn}: ${name}[${i}] must be ${d} finite numbers`);
  });
}

/** d(A → B) of eq. C2: the mean over points of A of the distance to the nearest point of B. */
export function meanNearestDistance(from: ReadonlyArray<ArrayLike<number>>, to: ReadonlyArray<ArrayLike<number>>): number {
  const fn = "meanNearestDistance";
  checkPointList(from, "from", fn);
  checkPointList(to, "to", fn);
  if (from[0].length !== to[0].length) throw new Error(`${fn}: from has ${from[0].length}-D points, to has ${to[0].length}-D points`);
  let total = 0;
  for (const a of from) {
    let best = Infinity;
    for (const b of to) {
      let sq = 0;
      for (let j = 0; j < a.length; j++) sq += (a[j] - b[j]) ** 2;
      if (sq < best) best = sq;
    }
    total += Math.sqrt(best);
  }
  return total / from.length;
}

export interface DecodedCurveOptions {
  /** Codes in the sweep (default 400). */
  numPoints?: number;
  /** Extend the sweep beyond the training codes' range by this fraction of it on each side (default 0). */
  margin?: number;
}

/** The curve g(z) a 1-unit-code autoencoder traces: z swept evenly over the codes of x, decoded; plain arrays. */
export function decodedCurve(
  model: { encode(x: tf.Tensor2D): tf.Tensor; decode(z: tf.Tensor2D): tf.Tensor },
  x: tf.Tensor2D,
  options: DecodedCurveOptions = {},
): { codes: number[]; points: number[][] } {
  const fn = "decodedCurve";
  if (!model || typeof model.encode !== "function" || typeof model.decode !== "function") throw new Error(`${fn}: model must have encode and decode`);
  if (!(x instanceof tf.Tensor) || x.isDisposed || x.rank !== 2) throw new Error(`${fn}: x must be a live [n, d] tf.Tensor`);
  const n = options.numPoints ?? 400;
  checkPositiveInteger(n, "numPoints", fn);
  const margin = options.margin ?? 0;
  if (!(margin >= 0)) throw new Error(`${fn}: margin must be ≥ 0, got ${margin}`);
  const range = tf.tidy(() => {
    const z = model.encode(x);
    if (z.rank !== 2 || z.shape[1] !== 1) throw new Error(`${fn}: the code must be one unit, [n, 1]; got [${z.shape.join(", ")}]`);
    return tf.stack([tf.min(z), tf.max(z)]);
  });
  const [lo, hi] = Array.from(range.dataSync());
  range.dispose();
  const span = hi - lo;
  const codes = Array.from({ length: n }, (_, i) => lo - margin * span + ((1 + 2 * margin) * span * i) / Math.max(1, n - 1));
  const decoded = tf.tidy(() => model.decode(tf.tensor2d(codes, [n, 1])));
  const points = decoded.arraySync() as number[][];
  decoded.dispose();
  return { codes, points };
}

/** A named curve of `manifoldCurvesFigure`. */
export interface NamedCurve {
  name: string;
  points: ReadonlyArray<ArrayLike<number>>;
  dash?: "solid" | "dash" | "dot";
}

/** Training points (grey) with curves drawn over them in the plane, equal axes. */
export function manifoldCurvesFigure(data: ReadonlyArray<ArrayLike<number>>, curves: ReadonlyArray<NamedCurve>, options: { title?: string; width?: number; height?: number } = {}): PlotlyFigure {
  checkPointList(data, "data", "manifoldCurvesFigure");
  if (!Array.isArray(curves) || curves.length === 0) throw new Error("manifoldCurvesFigure: curves must be a non-empty array of { name, points }");
  const traces: PlotlyTrace[] = [{
    type: "scatter", mode: "markers", name: "training points", x: data.map((p) => p[0]), y: data.map((p) => p[1]),
    marker: { size: 4, color: "#bbbbbb" }, hoverinfo: "skip",
  }];
  curves.forEach((c, i) => {
    const points: ReadonlyArray<ArrayLike<number>> = c.points;
    checkPointList(points, `curves[${i}].points`, "manifoldCurvesFigure");
    traces.push({ type: "scatter", mode: "lines", name: c.name, x: points.map((p) => p[0]), y: points.map((p) => p[1]), line: { color: categoryColor(i), width: 2.5, dash: c.dash ?? "solid" } });
  });
  return {
    data: traces,
    layout: baseLayout(options, { xaxis: axisStyle("x₁"), yaxis: axisStyle("x₂", { scaleanchor: "x", scaleratio: 1 }), showlegend: true }, { width: 620, height: 560 }),
    config: baseConfig(),
    description: `Curves over data${quotedTitle(options.title)}: ${data.length} points; ${curves.map((c) => `${c.name} (${c.points.length} points)`).join(", ")}`,
  };
}
