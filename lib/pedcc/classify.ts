/**
 * Using the latent space directly (paper 4, §4.2–4.3): classify by the nearest predefined
 * centroid (Euclidean, or largest cosine), measure the learned class centres, and generate
 * by sampling a Gaussian fitted to each class's latent codes.
 */
import * as tf from "@tensorflow/tfjs";
import { createRng, randomNormal } from "../random";

/** How "nearest" is measured. */
export type CentroidMetric = "euclidean" | "cosine";

function checkLatentAndCentroids(latent: tf.Tensor, centroids: tf.Tensor, fn: string): void {
  if (!(latent instanceof tf.Tensor) || latent.rank !== 2) throw new Error(`${fn}: latent must be a [n, latentDim] tensor, got ${latent instanceof tf.Tensor ? `shape [${latent.shape.join(", ")}]` : typeof latent}`);
  if (!(centroids instanceof tf.Tensor) || centroids.rank !== 2) throw new Error(`${fn}: centroids must be a [numClasses, latentDim] tensor`);
  if (latent.shape[1] !== centroids.shape[1]) {
    throw new Error(`${fn}: latent is ${latent.shape[1]}-dimensional but the centroids are ${centroids.shape[1]}-dimensional`);
  }
}

/** Scores [n, numClasses] whose argmax is the nearest centroid: −‖z − μ_k‖² (Euclidean) or cos(z, μ_k) (cosine). */
export function centroidScores(latent: tf.Tensor2D, centroids: tf.Tensor2D, metric: CentroidMetric = "euclidean"): tf.Tensor2D {
  checkLatentAndCentroids(latent, centroids, "centroidScores");
  if (metric !== "euclidean" && metric !== "cosine") throw new Error(`centroidScores: metric must be "euclidean" or "cosine", got ${JSON.stringify(metric)}`);
  return tf.tidy(() => {
    const z = tf.cast(latent, "float32") as tf.Tensor2D;
    const mu = tf.cast(centroids, "float32") as tf.Tensor2D;
    const dots = tf.matMul(z, mu, false, true);
    if (metric === "cosine") {
      const zn = tf.norm(z, "euclidean", 1, true);
      const mn = tf.reshape(tf.norm(mu, "euclidean", 1), [1, -1]);
      return tf.div(dots, tf.maximum(tf.mul(zn, mn), 1e-12)) as tf.Tensor2D;
    }
    // −‖z − μ‖² = 2 z·μ − ‖z‖² − ‖μ‖².
    const zz = tf.sum(tf.square(z), 1, true);
    const mm = tf.reshape(tf.sum(tf.square(mu), 1), [1, -1]);
    return tf.sub(tf.sub(tf.mul(2, dots), zz), mm) as tf.Tensor2D;
  });
}

/** The index of the nearest centroid for each latent code (int32 [n]): the CSAE classifier. */
export function nearestCentroid(latent: tf.Tensor2D, centroids: tf.Tensor2D, metric: CentroidMetric = "euclidean"): tf.Tensor1D {
  return tf.tidy(() => tf.argMax(centroidScores(latent, centroids, metric), 1) as tf.Tensor1D);
}

/** Fraction of codes whose nearest centroid is their label's, with both metrics and how often the two agree. */
export async function nearestCentroidAccuracy(latent: tf.Tensor2D, centroids: tf.Tensor2D, labels: tf.Tensor | ArrayLike<number>): Promise<{ euclidean: number; cosine: number; agreement: number }> {
  checkLatentAndCentroids(latent, centroids, "nearestCentroidAccuracy");
  const truth = labels instanceof tf.Tensor ? await labels.data() : labels;
  if (truth.length !== latent.shape[0]) throw new Error(`nearestCentroidAccuracy: ${truth.length} labels for ${latent.shape[0]} codes`);
  const e = nearestCentroid(latent, centroids, "euclidean");
  const c = nearestCentroid(latent, centroids, "cosine");
  const [pe, pc] = await Promise.all([e.data(), c.data()]);
  e.dispose();
  c.dispose();
  let right = 0, rightCos = 0, agree = 0;
  for (let i = 0; i < truth.length; i++) {
    if (pe[i] === truth[i]) right++;
    if (pc[i] === truth[i]) rightCos++;
    if (pe[i] === pc[i]) agree++;
  }
  const n = truth.length;
  return { euclidean: right / n, cosine: rightCos / n, agreement: agree / n };
}

/** Gaussian of one class's codes. */
export interface ClassGaussian {
  label: number;
  count: number;
  mean: number[];
  /** Sample covariance (divisor count − 1), latentDim × latentDim. */
  covariance: number[][];
}

/** Per class: mean and covariance of its latent codes (paper 4, §4.2: "mean and covariance matrix" of each class's 40-d features). */
export async function classLatentGaussians(latent: tf.Tensor2D, labels: tf.Tensor | ArrayLike<number>, numClasses = 10): Promise<ClassGaussian[]> {
  if (!(latent instanceof tf.Tensor) || latent.rank !== 2) throw new Error("classLatentGaussians: latent must be a [n, latentDim] tensor");
  const truth = labels instanceof tf.Tensor ? await labels.data() : labels;
  const [n, d] = latent.shape;
  if (truth.length !== n) throw new Error(`classLatentGaussians: ${truth.length} labels for ${n} codes`);
  const z = await latent.data();
  const out: ClassGaussian[] = [];
  for (let c = 0; c < numClasses; c++) {
    const rows: number[] = [];
    for (let i = 0; i < n; i++) if (truth[i] === c) rows.push(i);
    if (rows.length < 2) throw new Error(`classLatentGaussians: class ${c} has ${rows.length} codes; need at least 2 for a covariance`);
    const mean = new Array<number>(d).fill(0);
    for (const i of rows) for (let k = 0; k < d; k++) mean[k] += z[i * d + k];
    for (let k = 0; k < d; k++) mean[k] /= rows.length;
    const cov = Array.from({ length: d }, () => new Array<number>(d).fill(0));
    const centred = new Float64Array(d);
    for (const i of rows) {
      for (let k = 0; k < d; k++) centred[k] = z[i * d + k] - mean[k];
      for (let a = 0; a < d; a++) for (let b = a; b < d; b++) cov[a][b] += centred[a] * centred[b];
    }
    for (let a = 0; a < d; a++) for (let b = a; b < d; b++) cov[b][a] = cov[a][b] /= rows.length - 1;
    out.push({ label: c, count: rows.length, mean, covariance: cov });
  }
  return out;
}

/** Lower-triangular L with L Lᵀ = a + jitter·I (Cholesky; jitter grows until a is positive definite). */
export function choleskyLower(a: ArrayLike<ArrayLike<number>>, jitter = 0): number[][] {
  const d = a.length;
  for (let i = 0; i < d; i++) if (a[i].length !== d) throw new Error(`choleskyLower: matrix must be square; row ${i} has ${a[i].length} entries, expected ${d}`);
  let eps = jitter;
  for (let attempt = 0; attempt < 12; attempt++) {
    const l = Array.from({ length: d }, () => new Array<number>(d).fill(0));
    let ok = true;
    for (let i = 0; i < d && ok; i++) {
      for (let j = 0; j <= i; j++) {
        let s = a[i][j] + (i === j ? eps : 0);
        for (let k = 0; k < j; k++) s -= l[i][k] * l[j][k];
        if (i === j) {
          if (!(s > 0)) { ok = false; break; }
          l[i][i] = Math.sqrt(s);
        } else l[i][j] = s / l[j][j];
      }
    }
    if (ok) return l;
    const scale = Math.max(1e-12, ...Array.from({ length: d }, (_, i) => Math.abs(a[i][i])));
    eps = eps === 0 ? 1e-10 * scale : eps * 10;
  }
  throw new Error("choleskyLower: the matrix is not positive semi-definite (even with jitter)");
}

/** Options of `sampleClassLatents`. */
export interface SampleClassLatentsOptions {
  /** Samples per class (default 10: the paper's 10 × 10 grid). */
  perClass?: number;
  /** Seed (default 0). */
  seed?: number;
  /** Multiply every standard deviation by this (default 1). */
  temperature?: number;
}

/** Draw perClass codes from each class's Gaussian N(mean, covariance), class by class: a [numClasses·perClass, d] tensor (paper 4, Figure 6). */
export function sampleClassLatents(gaussians: ClassGaussian[], options: SampleClassLatentsOptions = {}): tf.Tensor2D {
  if (!Array.isArray(gaussians) || gaussians.length === 0) throw new Error("sampleClassLatents: gaussians must be a non-empty list from classLatentGaussians");
  const perClass = options.perClass ?? 10;
  if (!Number.isInteger(perClass) || perClass < 1) throw new Error(`sampleClassLatents: perClass must be a positive integer, got ${perClass}`);
  const temperature = options.temperature ?? 1;
  const rng = createRng(options.seed ?? 0);
  const d = gaussians[0].mean.length;
  const values = new Float32Array(gaussians.length * perClass * d);
  let row = 0;
  for (const g of gaussians) {
    if (g.mean.length !== d) throw new Error(`sampleClassLatents: class ${g.label} has a ${g.mean.length}-d mean, expected ${d}`);
    const l = choleskyLower(g.covariance);
    const eps = new Float64Array(d);
    for (let s = 0; s < perClass; s++, row++) {
      for (let k = 0; k < d; k++) eps[k] = randomNormal(rng);
      for (let i = 0; i < d; i++) {
        let v = g.mean[i];
        for (let k = 0; k <= i; k++) v += temperature * l[i][k] * eps[k];
        values[row * d + i] = v;
      }
    }
  }
  return tf.tensor2d(values, [gaussians.length * perClass, d]);
}

/** The mean code of each class [numClasses, d], and the Euclidean distances between them (paper 4, Figure 9). */
export async function classCentreDistances(latent: tf.Tensor2D, labels: tf.Tensor | ArrayLike<number>, numClasses = 10): Promise<{ centres: number[][]; distances: number[][] }> {
  if (!(latent instanceof tf.Tensor) || latent.rank !== 2) throw new Error("classCentreDistances: latent must be a [n, latentDim] tensor");
  const truth = labels instanceof tf.Tensor ? await labels.data() : labels;
  const [n, d] = latent.shape;
  if (truth.length !== n) throw new Error(`classCentreDistances: ${truth.length} labels for ${n} codes`);
  const z = await latent.data();
  const centres = Array.from({ length: numClasses }, () => new Array<number>(d).fill(0));
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < n; i++) {
    const c = truth[i];
    if (!(Number.isInteger(c) && c >= 0 && c < numClasses)) throw new Error(`classCentreDistances: label ${c} at row ${i} is not in 0..${numClasses - 1}`);
    counts[c]++;
    for (let k = 0; k < d; k++) centres[c][k] += z[i * d + k];
  }
  counts.forEach((count, c) => {
    if (count === 0) throw new Error(`classCentreDistances: class ${c} has no codes`);
    for (let k = 0; k < d; k++) centres[c][k] /= count;
  });
  const distances = centres.map((a) => centres.map((b) => Math.sqrt(a.reduce((s, x, k) => s + (x - b[k]) ** 2, 0))));
  return { centres, distances };
}
