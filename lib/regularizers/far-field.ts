/**
 * The reconstruction field r(x) − x of an autoencoder trained near a circle, measured as a function
 * of the distance from the circle (paper 3, Figure 8: near the data a denoising autoencoder's field
 * points back to it; far away it need not). For a grid point x at distance δ(x) = |‖x‖ − R| from
 * the circle of radius R, with c(x) its nearest circle point:
 *
 *   (B1) alignment  cos∠(r(x) − x, c(x) − x)        length  ‖r(x) − x‖
 *   (B2) landing distance δ(r(x)) = |‖r(x)‖ − R|     (0: r sends x onto the manifold)
 *
 * each averaged over the grid points of a distance band.
 */
import { arrowTowardCircle, type ReconstructionField } from "./manifold";

/** One distance band of `fieldByDistance`. */
export interface FieldBand {
  /** The band is from ≤ δ < to. */
  from: number;
  to: number;
  /** Grid points in the band (the centre, where c(x) is undefined, is left out). */
  points: number;
  /** Mean δ(x) of those points. */
  meanDistance: number;
  /** Mean cos∠(r(x) − x, c(x) − x) (eq. B1): 1 = straight at the circle, 0 = sideways, −1 = away. */
  meanCos: number;
  /** Mean ‖r(x) − x‖ (eq. B1). */
  meanLength: number;
  /** Mean δ(r(x)) (eq. B2). */
  meanLandingDistance: number;
}

export interface FieldByDistanceOptions {
  /** Radius R of the circle round the origin (default 1). */
  radius?: number;
  /** Increasing band edges of δ (default [0, 0.15, 0.5, 1, 2, 3, ∞)); empty bands are left out. */
  edges?: readonly number[];
}

/** The field's alignment, arrow length and landing distance averaged per band of distance from the circle (eqs. B1–B2). */
export function fieldByDistance(field: ReconstructionField, options: FieldByDistanceOptions = {}): FieldBand[] {
  const fn = "fieldByDistance";
  if (!field || !Array.isArray(field.points) || !Array.isArray(field.vectors) || field.points.length !== field.vectors.length || field.points.length === 0) {
    throw new Error(`${fn}: field must be { points, vectors } of the same non-zero length (from reconstructionField)`);
  }
  const radius = options.radius ?? 1;
  if (!(radius > 0) || !Number.isFinite(radius)) throw new Error(`${fn}: radius must be a positive number, got ${radius}`);
  const edges = [...(options.edges ?? [0, 0.15, 0.5, 1, 2, 3, Infinity])];
  if (edges.length < 2 || edges.some((e, i) => Number.isNaN(e) || (i > 0 && !(e > edges[i - 1])))) {
    throw new Error(`${fn}: edges must be at least two increasing numbers, got [${edges.join(", ")}]`);
  }
  const sums = edges.slice(1).map(() => ({ points: 0, distance: 0, cos: 0, length: 0, landing: 0 }));
  field.points.forEach((point, k) => {
    const { norm, delta, cos } = arrowTowardCircle(point, field.vectors[k], radius);
    if (norm < 1e-9) return;
    const band = edges.findIndex((e, i) => i < edges.length - 1 && delta >= e && delta < edges[i + 1]);
    if (band < 0) return;
    const [x, y] = point, [vx, vy] = field.vectors[k];
    const s = sums[band];
    s.points++;
    s.distance += delta;
    s.cos += Number.isNaN(cos) ? 0 : cos; // a zero arrow (or a point on the circle) counts as sideways
    s.length += Math.hypot(vx, vy);
    s.landing += Math.abs(Math.hypot(x + vx, y + vy) - radius);
  });
  return sums.flatMap((s, i) => (s.points === 0 ? [] : [{
    from: edges[i], to: edges[i + 1], points: s.points, meanDistance: s.distance / s.points,
    meanCos: s.cos / s.points, meanLength: s.length / s.points, meanLandingDistance: s.landing / s.points,
  }]));
}
