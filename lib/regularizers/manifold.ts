/**
 * A 2-D toy manifold (points near a circle) and the reconstruction vector field r(x) − x of an
 * autoencoder trained on it, drawn as arrows: the analogue of paper 3's Figure 7 (a denoising
 * autoencoder's field points back towards the data) and of its contractive counterpart.
 */
import * as tf from "@tensorflow/tfjs";
import { createRng, randomNormal } from "../random";
import { PlotlyFigure, PlotlyTrace, axisStyle, baseConfig, baseLayout, quotedTitle, CATEGORY_COLORS } from "../plots/common";

export interface CircleManifoldOptions {
  /** Points (default 500). */
  numPoints?: number;
  /** Circle radius (default 1). */
  radius?: number;
  /** Standard deviation of the Gaussian jitter added to both coordinates (default 0.05). */
  noiseStd?: number;
  /** Seed (default 0). */
  seed?: number;
}

/** Points near a circle: (r cos θ, r sin θ) + N(0, σ²I), θ uniform; [numPoints, 2]. */
export function circleManifoldData(options: CircleManifoldOptions = {}): tf.Tensor2D {
  const fn = "circleManifoldData";
  const n = options.numPoints ?? 500;
  const radius = options.radius ?? 1;
  const noiseStd = options.noiseStd ?? 0.05;
  if (!Number.isInteger(n) || n < 1) throw new Error(`${fn}: numPoints must be a positive integer, got ${n}`);
  if (!(radius > 0) || !Number.isFinite(radius)) throw new Error(`${fn}: radius must be a positive number, got ${radius}`);
  if (!(noiseStd >= 0) || !Number.isFinite(noiseStd)) throw new Error(`${fn}: noiseStd must be a number ≥ 0, got ${noiseStd}`);
  const rng = createRng(options.seed ?? 0);
  const values = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const theta = 2 * Math.PI * rng();
    values[2 * i] = radius * Math.cos(theta) + noiseStd * randomNormal(rng);
    values[2 * i + 1] = radius * Math.sin(theta) + noiseStd * randomNormal(rng);
  }
  return tf.tensor2d(values, [n, 2]);
}

export interface ReconstructionFieldOptions {
  /** [min, max] of both axes (default [−1.6, 1.6]). */
  range?: [number, number];
  /** Grid points per axis (default 17). */
  gridSize?: number;
}

/** The field r(x) − x on a square grid: grid points and their vectors, as plain arrays. */
export interface ReconstructionField {
  points: Array<[number, number]>;
  vectors: Array<[number, number]>;
}

/** Evaluate r(x) − x on a gridSize × gridSize grid over `range`² (r maps [n, 2] → [n, 2]). */
export function reconstructionField(reconstruct: (x: tf.Tensor2D) => tf.Tensor, options: ReconstructionFieldOptions = {}): ReconstructionField {
  const fn = "reconstructionField";
  if (typeof reconstruct !== "function") throw new Error(`${fn}: reconstruct must be a function [n, 2] → [n, 2]`);
  const [lo, hi] = options.range ?? [-1.6, 1.6];
  const gridSize = options.gridSize ?? 17;
  if (!(hi > lo)) throw new Error(`${fn}: range must be [min, max] with max > min, got [${lo}, ${hi}]`);
  if (!Number.isInteger(gridSize) || gridSize < 2) throw new Error(`${fn}: gridSize must be an integer ≥ 2, got ${gridSize}`);
  const points: Array<[number, number]> = [];
  for (let i = 0; i < gridSize; i++) {
    for (let j = 0; j < gridSize; j++) points.push([lo + ((hi - lo) * j) / (gridSize - 1), lo + ((hi - lo) * i) / (gridSize - 1)]);
  }
  const delta = tf.tidy(() => {
    const x = tf.tensor2d(points);
    const r = reconstruct(x);
    if (!(r instanceof tf.Tensor) || r.shape.join() !== x.shape.join()) {
      throw new Error(`${fn}: reconstruct must return [n, 2] for [n, 2] input, got ${r instanceof tf.Tensor ? `[${r.shape.join(", ")}]` : typeof r}`);
    }
    return tf.sub(r, x);
  });
  const d = delta.dataSync();
  delta.dispose();
  return { points, vectors: points.map((_, k) => [d[2 * k], d[2 * k + 1]] as [number, number]) };
}

/**
 * How the arrow v = r(x) − x at grid point x relates to the circle of `radius` round the origin, with
 * c(x) = R·x/‖x‖ its nearest point: δ = |‖x‖ − R| and cos∠(v, c(x) − x) (NaN where a direction is
 * undefined: x at the centre, on the circle, or v = 0). Shared by fieldAlignmentWithCircle and fieldByDistance.
 */
export function arrowTowardCircle([x, y]: readonly number[], [vx, vy]: readonly number[], radius: number): { norm: number; delta: number; cos: number } {
  const norm = Math.hypot(x, y);
  const delta = Math.abs(norm - radius);
  if (norm < 1e-9) return { norm, delta, cos: NaN };
  const tx = (x / norm) * radius - x, ty = (y / norm) * radius - y;
  const lengths = Math.hypot(tx, ty) * Math.hypot(vx, vy);
  return { norm, delta, cos: lengths < 1e-12 ? NaN : (tx * vx + ty * vy) / lengths };
}

/** Mean over points of cos∠(r(x) − x, c(x) − x), where c(x) is the nearest point of the circle of `radius` round the origin: 1 = all arrows point at the manifold. */
export function fieldAlignmentWithCircle(field: ReconstructionField, options: { radius?: number; minDistance?: number } = {}): number {
  const radius = options.radius ?? 1;
  const minDistance = options.minDistance ?? 0.15;
  let sum = 0;
  let count = 0;
  field.points.forEach((point, k) => {
    const { delta, cos } = arrowTowardCircle(point, field.vectors[k], radius);
    if (delta < minDistance || Number.isNaN(cos)) return; // on the manifold or at its centre the direction is undefined
    sum += cos;
    count++;
  });
  if (count === 0) throw new Error("fieldAlignmentWithCircle: no grid point lies off the manifold by minDistance");
  return sum / count;
}

/** One panel of `vectorFieldFigure`. */
export interface VectorFieldPanel {
  title: string;
  field: ReconstructionField;
  /** Training points drawn under the arrows ([n, 2] rows). */
  data?: ArrayLike<ArrayLike<number>>;
}

export interface VectorFieldFigureOptions {
  title?: string;
  width?: number;
  height?: number;
  /** Arrow length = scale × |r(x) − x| (default 1: arrows end where the model sends the point). */
  scale?: number;
}

/** Arrows r(x) − x (shaft plus a two-stroke head) of one or more fields side by side, over the training points. */
export function vectorFieldFigure(panels: ReadonlyArray<VectorFieldPanel>, options: VectorFieldFigureOptions = {}): PlotlyFigure {
  if (!Array.isArray(panels) || panels.length === 0) throw new Error("vectorFieldFigure: panels must be a non-empty array of { title, field, data }");
  const scale = options.scale ?? 1;
  const gap = 0.08;
  const widthEach = (1 - gap * (panels.length - 1)) / panels.length;
  const data: PlotlyTrace[] = [];
  const layoutExtra: Record<string, unknown> = { showlegend: true, legend: { orientation: "h", x: 0.5, xanchor: "center", y: -0.2 } };
  const annotations: unknown[] = [];
  (panels as VectorFieldPanel[]).forEach((panel: VectorFieldPanel, p: number) => {
    const suffix = p === 0 ? "" : String(p + 1);
    const xs: Array<number | null> = [], ys: Array<number | null> = [];
    panel.field.points.forEach(([x0, y0], k) => {
      const [vx, vy] = panel.field.vectors[k];
      const x1 = x0 + scale * vx, y1 = y0 + scale * vy;
      const length = Math.hypot(x1 - x0, y1 - y0);
      xs.push(x0, x1, null);
      ys.push(y0, y1, null);
      if (length > 1e-9) {
        const head = Math.min(0.06, 0.35 * length);
        const angle = Math.atan2(y1 - y0, x1 - x0);
        for (const side of [-1, 1]) {
          const a = angle + Math.PI - side * 0.45;
          xs.push(x1, x1 + head * Math.cos(a), null);
          ys.push(y1, y1 + head * Math.sin(a), null);
        }
      }
    });
    if (panel.data) {
      const pts = Array.from(panel.data as ArrayLike<ArrayLike<number>>, (row: ArrayLike<number>) => [Number(row[0]), Number(row[1])]);
      data.push({
        type: "scatter", mode: "markers", name: "training points", legendgroup: "data", showlegend: p === 0,
        x: pts.map((q) => q[0]), y: pts.map((q) => q[1]), xaxis: `x${suffix}`, yaxis: `y${suffix}`,
        marker: { size: 4, color: "#bbbbbb" }, hoverinfo: "skip",
      });
    }
    data.push({
      type: "scatter", mode: "lines", name: "r(x) − x", legendgroup: "field", showlegend: p === 0,
      x: xs, y: ys, xaxis: `x${suffix}`, yaxis: `y${suffix}`, line: { color: CATEGORY_COLORS[p % CATEGORY_COLORS.length], width: 1.5 }, hoverinfo: "skip",
    });
    const left = p * (widthEach + gap);
    layoutExtra[`xaxis${suffix}`] = axisStyle("x₁", { domain: [left, left + widthEach], anchor: `y${suffix}` });
    layoutExtra[`yaxis${suffix}`] = axisStyle(p === 0 ? "x₂" : undefined, { anchor: `x${suffix}`, scaleanchor: `x${suffix}`, scaleratio: 1 });
    annotations.push({ text: panel.title, xref: "paper", yref: "paper", x: left + widthEach / 2, y: 1.0, xanchor: "center", yanchor: "bottom", showarrow: false, font: { size: 14 } });
  });
  layoutExtra.annotations = annotations;
  const figureOptions = { title: options.title, width: options.width ?? 420 * panels.length + 60, height: options.height ?? 500 };
  const layout = baseLayout(figureOptions, layoutExtra);
  layout.margin = { l: 60, r: 20, t: options.title ? 80 : 50, b: 110 };
  return {
    data,
    layout,
    config: baseConfig(),
    description: `Vector field${quotedTitle(options.title)}: ${panels.map((p) => `${p.title} (${p.field.points.length} arrows)`).join(", ")}`,
  };
}
