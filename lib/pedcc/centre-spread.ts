/**
 * Paper 4's Figure 9 measured its way. The figure prints, to two decimals, the upper triangle of the
 * Euclidean distances between the learned class centres (the mean latent code of each class) of an MNIST
 * model; it states no spread. The spread we compare is (max − min)/mean of those 45 printed distances
 * (9.53 to 9.60: 0.0073). The paper names neither the model nor the images; the authors' released code
 * computes class means in one place (inference_model.py, for generation): over all training images, encoder
 * in inference mode, no noise. So "the paper's way" here: centres of training codes, distances rounded to the
 * figure's two decimals, (max − min)/mean over the off-diagonal pairs.
 */
import * as tf from "@tensorflow/tfjs";
import { offDiagonalSpread, pairwiseDistances } from "./evenness";
import { createRng, randomInt } from "../random";

/** Paper 4, Figure 9 as printed: distances between the class centres of digits 0–9 (the upper triangle, mirrored; 0 on the diagonal). */
export const PAPER_FIGURE9_DISTANCES: readonly (readonly number[])[] = (() => {
  const upper = [
    [9.6, 9.6, 9.6, 9.59, 9.58, 9.6, 9.58, 9.59, 9.58],
    [9.59, 9.59, 9.58, 9.58, 9.6, 9.57, 9.58, 9.58],
    [9.58, 9.58, 9.57, 9.59, 9.55, 9.57, 9.57],
    [9.58, 9.55, 9.59, 9.56, 9.57, 9.56],
    [9.57, 9.58, 9.56, 9.57, 9.53],
    [9.57, 9.56, 9.56, 9.55],
    [9.58, 9.58, 9.58],
    [9.57, 9.55],
    [9.57],
  ];
  const m = Array.from({ length: 10 }, () => new Array<number>(10).fill(0));
  upper.forEach((row, i) => row.forEach((d, k) => { m[i][i + 1 + k] = d; m[i + 1 + k][i] = d; }));
  return m;
})();

/** Options of `figure9Spread`. */
export interface Figure9SpreadOptions {
  /** Round every distance to this many decimals first, as the figure prints them (default: no rounding). */
  decimals?: number;
}

/** The spread of a class-centre distance matrix, and what the distances alone say about the centres. */
export interface Figure9Spread {
  /** Off-diagonal pairs counted (45 for 10 classes). */
  pairs: number;
  min: number;
  max: number;
  mean: number;
  /** Population standard deviation of the pairwise distances. */
  std: number;
  /** (max − min)/mean: the spread compared with the paper's 0.0073. */
  relativeSpread: number;
  /** std/mean. */
  coefficientOfVariation: number;
  /**
   * A lower bound on the root-mean-square length of the centres, from the distances alone:
   * Σᵢ‖cᵢ‖² ≥ Σ_{i<j} dᵢⱼ²/n, with equality when the centres average to the origin. Above α = √d means
   * the centres sit outside the sphere of the predefined centroids.
   */
  rmsNormLowerBound: number;
  /** The rounding applied (null: none). */
  decimals: number | null;
}

/** (max − min)/mean and companions of the off-diagonal distances of a class-centre distance matrix (paper 4, Figure 9), optionally rounded as printed. */
export function figure9Spread(distances: ArrayLike<ArrayLike<number>>, options: Figure9SpreadOptions = {}): Figure9Spread {
  const decimals = options.decimals ?? null;
  if (decimals !== null && !(Number.isInteger(decimals) && decimals >= 0 && decimals <= 12)) {
    throw new Error(`figure9Spread: decimals must be an integer in 0..12, got ${decimals}`);
  }
  const n = distances?.length;
  if (!(n >= 2)) throw new Error(`figure9Spread: distances must be a square matrix of at least 2 × 2, got ${n} rows`);
  const scale = decimals === null ? 1 : 10 ** decimals;
  const round = (v: number) => (decimals === null ? v : Math.round(v * scale) / scale);
  const m: number[][] = [];
  for (let i = 0; i < n; i++) {
    if (distances[i]?.length !== n) throw new Error(`figure9Spread: distances must be square; row ${i} has ${distances[i]?.length} entries, expected ${n}`);
    const row: number[] = [];
    for (let j = 0; j < n; j++) {
      const v = distances[i][j];
      if (!Number.isFinite(v) || v < 0) throw new Error(`figure9Spread: distance [${i}][${j}] = ${v} is not a finite number ≥ 0`);
      row.push(round(v));
    }
    m.push(row);
  }
  const s = offDiagonalSpread(m);
  let sumSquares = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) sumSquares += m[i][j] ** 2;
  return { pairs: (n * (n - 1)) / 2, ...s, rmsNormLowerBound: Math.sqrt(sumSquares / (n * n)), decimals };
}

/** Options of `classCentreSpread`. */
export interface ClassCentreSpreadOptions extends Figure9SpreadOptions {
  /** The predefined centroids μ (one row per class), to measure how far each centre sits from its target. */
  centroids?: ArrayLike<ArrayLike<number>>;
}

/** What `classCentreSpread` found. */
export interface ClassCentreSpread {
  /** Full-precision distances between the centres. */
  distances: number[][];
  /** figure9Spread of the distances, rounded as options.decimals says (the paper's way with decimals: 2). */
  spread: Figure9Spread;
  /** Same, at full precision. */
  exact: Figure9Spread;
  /** ‖cₖ‖ for each class. */
  centreNorms: number[];
  /** With centroids: ‖cₖ − μₖ‖, how far each centre sits from its target. */
  offsets?: number[];
  /** With centroids: ‖cₖ‖ − ‖μₖ‖, the radial part (positive: outside the centroids' sphere). */
  radialOffsets?: number[];
  /** With centroids: figure9Spread of the targets' own distances (0 for the regular simplex). */
  targetSpread?: Figure9Spread;
}

/**
 * Figure 9 from class centres (mean latent code per class, e.g. from `classCentreDistances` on training codes):
 * their distances, the spread (max − min)/mean (rounded like the figure with decimals: 2), and the centres'
 * lengths and offsets from the predefined centroids, to tell where a spread comes from.
 */
export function classCentreSpread(centres: ArrayLike<ArrayLike<number>>, options: ClassCentreSpreadOptions = {}): ClassCentreSpread {
  const distances = pairwiseDistances(centres);
  const k = centres.length;
  const d = centres[0].length;
  const norm = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));
  const result: ClassCentreSpread = {
    distances,
    spread: figure9Spread(distances, options),
    exact: figure9Spread(distances),
    centreNorms: Array.from({ length: k }, (_, i) => norm(centres[i])),
  };
  const mu = options.centroids;
  if (mu !== undefined) {
    if (mu.length !== k || Array.from({ length: k }).some((_, i) => mu[i].length !== d)) {
      throw new Error(`classCentreSpread: centroids must be ${k} rows of ${d} numbers (one per class centre), got ${mu.length} rows`);
    }
    result.offsets = Array.from({ length: k }, (_, i) => norm(Array.from(centres[i], (x, j) => x - mu[i][j])));
    result.radialOffsets = Array.from({ length: k }, (_, i) => result.centreNorms[i] - norm(mu[i]));
    result.targetSpread = figure9Spread(pairwiseDistances(mu), { decimals: options.decimals });
  }
  return result;
}

/** Options of `classCentreSpreadOfCodes`. */
export interface ClassCentreSpreadOfCodesOptions extends ClassCentreSpreadOptions {
  /** Number of classes (default 10). */
  numClasses?: number;
  /** Bootstrap replicates, resampling each class's codes with replacement (default 0: none). */
  bootstrap?: number;
  /** Seed of the bootstrap (default 0). */
  seed?: number;
}

/** A bootstrap summary: mean and the 2.5 % and 97.5 % percentiles. */
export interface BootstrapSummary {
  mean: number;
  low: number;
  high: number;
}

/** `classCentreSpread` of the class means of codes, with counts and optionally a bootstrap. */
export interface ClassCentreSpreadOfCodes extends ClassCentreSpread {
  /** The class centres (mean code per class). */
  centres: number[][];
  /** Codes per class. */
  counts: number[];
  /**
   * With bootstrap > 0: the spread (max − min)/mean of the resampled centres, and the noise floor: the spread
   * that the resampling noise alone gives around perfectly even centres (each distance replaced by the mean
   * distance plus its resampled deviation). A spread inside the noise floor is indistinguishable from even.
   */
  bootstrap?: { replicates: number; spread: BootstrapSummary; noiseFloor: BootstrapSummary };
}

/**
 * Figure 9 from codes: class centres = mean code of each class (the paper's way: training images, encoder in
 * inference mode), their distance spread as `classCentreSpread`, and how much of it class-mean sampling noise explains.
 */
export async function classCentreSpreadOfCodes(
  latent: tf.Tensor2D,
  labels: tf.Tensor | ArrayLike<number>,
  options: ClassCentreSpreadOfCodesOptions = {},
): Promise<ClassCentreSpreadOfCodes> {
  const fn = "classCentreSpreadOfCodes";
  if (!(latent instanceof tf.Tensor) || latent.rank !== 2) throw new Error(`${fn}: latent must be a [n, latentDim] tensor`);
  const numClasses = options.numClasses ?? 10;
  const replicates = options.bootstrap ?? 0;
  if (!Number.isInteger(numClasses) || numClasses < 2) throw new Error(`${fn}: numClasses must be an integer ≥ 2, got ${numClasses}`);
  if (!Number.isInteger(replicates) || replicates < 0) throw new Error(`${fn}: bootstrap must be a whole number of replicates, got ${replicates}`);
  const truth = labels instanceof tf.Tensor ? await labels.data() : labels;
  const [n, d] = latent.shape;
  if (truth == null || truth.length !== n) throw new Error(`${fn}: ${truth == null ? "no" : truth.length} labels for ${n} codes`);
  const z = await latent.data();
  const rows: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < n; i++) {
    const c = truth[i];
    if (!(Number.isInteger(c) && c >= 0 && c < numClasses)) throw new Error(`${fn}: label ${c} at row ${i} is not in 0..${numClasses - 1}`);
    rows[c].push(i);
  }
  rows.forEach((r, c) => { if (r.length === 0) throw new Error(`${fn}: class ${c} has no codes`); });
  const meanOf = (pick: (c: number, k: number) => number): number[][] => rows.map((r, c) => {
    const m = new Array<number>(d).fill(0);
    for (let k = 0; k < r.length; k++) {
      const base = pick(c, k) * d;
      for (let j = 0; j < d; j++) m[j] += z[base + j];
    }
    return m.map((v) => v / r.length);
  });
  const centres = meanOf((c, k) => rows[c][k]);
  const result: ClassCentreSpreadOfCodes = { ...classCentreSpread(centres, options), centres, counts: rows.map((r) => r.length) };
  if (replicates > 0) {
    const rng = createRng(options.seed ?? 0);
    const decimals = options.decimals;
    const base = result.distances;
    const meanDistance = result.exact.mean;
    const spreads: number[] = [];
    const floors: number[] = [];
    for (let b = 0; b < replicates; b++) {
      const resampled = pairwiseDistances(meanOf((c) => rows[c][randomInt(rng, rows[c].length)]));
      spreads.push(figure9Spread(resampled, { decimals }).relativeSpread);
      const even = resampled.map((row, i) => row.map((v, j) => (i === j ? 0 : Math.max(0, meanDistance + v - base[i][j]))));
      floors.push(figure9Spread(even, { decimals }).relativeSpread);
    }
    result.bootstrap = { replicates, spread: summarize(spreads), noiseFloor: summarize(floors) };
  }
  return result;
}

function summarize(values: number[]): BootstrapSummary {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => {
    const pos = q * (sorted.length - 1);
    const lo = Math.floor(pos);
    return sorted[lo] + (sorted[Math.min(lo + 1, sorted.length - 1)] - sorted[lo]) * (pos - lo);
  };
  return { mean: values.reduce((s, v) => s + v, 0) / values.length, low: at(0.025), high: at(0.975) };
}
