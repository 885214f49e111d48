/**
 * How evenly points are spread: pairwise distances and cosines, their spread, and how far
 * they are from the regular simplex (for n ≤ d + 1 the optimum of PEDCC: every pairwise
 * cosine −1/(n − 1)).
 */

/** Summary of `centroidEvenness`. */
export interface CentroidEvenness {
  numPoints: number;
  dim: number;
  /** Euclidean lengths of the points. */
  norms: number[];
  minDistance: number;
  maxDistance: number;
  meanDistance: number;
  /** (max − min) / mean of the pairwise distances: 0 when all are equal. */
  distanceSpread: number;
  minCosine: number;
  maxCosine: number;
  meanCosine: number;
  /** −1/(n − 1), every pairwise cosine of the regular simplex (the optimum when n ≤ d + 1). */
  simplexCosine: number;
  /** max |cos − simplexCosine| over pairs; NaN when n > d + 1 (no simplex fits). */
  maxSimplexCosineError: number;
}

function checkPoints(points: ArrayLike<ArrayLike<number>>, fn: string): { n: number; d: number } {
  if (points == null || typeof points.length !== "number" || points.length < 2) {
    throw new Error(`${fn}: points must be at least 2 rows of numbers, got ${points == null ? points : points.length + " rows"}`);
  }
  const d = points[0].length;
  if (!(d >= 1)) throw new Error(`${fn}: points must have at least one column`);
  for (let i = 0; i < points.length; i++) {
    const row = points[i];
    if (row == null || row.length !== d) throw new Error(`${fn}: every row must have ${d} numbers; row ${i} has ${row == null ? row : row.length}`);
    for (let k = 0; k < d; k++) if (!Number.isFinite(row[k])) throw new Error(`${fn}: row ${i} holds a non-finite value ${row[k]}`);
  }
  return { n: points.length, d };
}

/** Matrix of Euclidean distances between rows. */
export function pairwiseDistances(points: ArrayLike<ArrayLike<number>>): number[][] {
  const { n, d } = checkPoints(points, "pairwiseDistances");
  const out = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += (points[i][k] - points[j][k]) ** 2;
      out[i][j] = out[j][i] = Math.sqrt(s);
    }
  }
  return out;
}

/** Matrix of cosines between rows (1 on the diagonal). */
export function pairwiseCosines(points: ArrayLike<ArrayLike<number>>): number[][] {
  const { n, d } = checkPoints(points, "pairwiseCosines");
  const norms = Array.from({ length: n }, (_, i) => Math.sqrt(Array.from(points[i]).reduce((s, x) => s + x * x, 0)));
  if (norms.some((x) => x === 0)) throw new Error("pairwiseCosines: a row is all zeros, its cosine is undefined");
  const out = Array.from({ length: n }, () => new Array<number>(n).fill(1));
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += points[i][k] * points[j][k];
      out[i][j] = out[j][i] = s / (norms[i] * norms[j]);
    }
  }
  return out;
}

/** Distances, cosines and the distance from the regular simplex of a set of centroids (rows). */
export function centroidEvenness(points: ArrayLike<ArrayLike<number>>): CentroidEvenness {
  const { n, d } = checkPoints(points, "centroidEvenness");
  const dist = pairwiseDistances(points);
  const cos = pairwiseCosines(points);
  const simplexCosine = -1 / (n - 1);
  const distances: number[] = [];
  const cosines: number[] = [];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) {
    distances.push(dist[i][j]);
    cosines.push(cos[i][j]);
  }
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const minDistance = Math.min(...distances);
  const maxDistance = Math.max(...distances);
  const meanDistance = mean(distances);
  return {
    numPoints: n,
    dim: d,
    norms: Array.from({ length: n }, (_, i) => Math.sqrt(Array.from(points[i]).reduce((s, x) => s + x * x, 0))),
    minDistance, maxDistance, meanDistance,
    distanceSpread: (maxDistance - minDistance) / meanDistance,
    minCosine: Math.min(...cosines),
    maxCosine: Math.max(...cosines),
    meanCosine: mean(cosines),
    simplexCosine,
    maxSimplexCosineError: n <= d + 1 ? Math.max(...cosines.map((c) => Math.abs(c - simplexCosine))) : NaN,
  };
}

/** Spread of the off-diagonal entries of a symmetric distance matrix: { min, max, mean, std, relativeSpread = (max − min)/mean, coefficientOfVariation = std/mean }. */
export function offDiagonalSpread(matrix: ArrayLike<ArrayLike<number>>): { min: number; max: number; mean: number; std: number; relativeSpread: number; coefficientOfVariation: number } {
  const n = matrix.length;
  if (!(n >= 2)) throw new Error(`offDiagonalSpread: matrix must be at least 2 × 2, got ${n} rows`);
  const values: number[] = [];
  for (let i = 0; i < n; i++) {
    if (matrix[i].length !== n) throw new Error(`offDiagonalSpread: matrix must be square; row ${i} has ${matrix[i].length} entries, expected ${n}`);
    for (let j = i + 1; j < n; j++) values.push(matrix[i][j]);
  }
  const mean = values.reduce((s, x) => s + x, 0) / values.length;
  const std = Math.sqrt(values.reduce((s, x) => s + (x - mean) ** 2, 0) / values.length);
  const min = Math.min(...values);
  const max = Math.max(...values);
  return { min, max, mean, std, relativeSpread: (max - min) / mean, coefficientOfVariation: std / mean };
}
