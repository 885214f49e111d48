/**
 * Labelled clusters drawn from several multivariate normal distributions, scaled into
 * ⟨−1, 1⟩ by the largest absolute coordinate: the toy data of paper 2's learning-process
 * demo. The defaults are the original program's config.json: 4 clusters of 100 points in R⁴.
 */
import { createRng, randomNormal } from "../random";

export interface GaussianClusterOptions {
  /** One mean vector per cluster (all of one dimension d). */
  means?: number[][];
  /** One covariance per cluster: a d×d symmetric positive semi-definite matrix, or its diagonal (d variances). */
  covariances?: Array<number[][] | number[]>;
  /** Points per cluster. */
  counts?: number[];
  /** Seed of the sampler (default 0). */
  seed?: number;
  /** Divide every coordinate by the largest |coordinate| so the data lie in ⟨−1, 1⟩ (default true, as the program). */
  normalize?: boolean;
}

export interface GaussianClusters {
  /** n × d points, clusters one after another (cluster 0's points first). */
  points: number[][];
  /** The cluster index of each point. */
  labels: number[];
  /** n. */
  numPoints: number;
  /** d. */
  dimension: number;
  numClusters: number;
  /** What the raw samples were divided by (1 when normalize is false). */
  scale: number;
}

/** The original program's means (config.json). */
export const DEMO_CLUSTER_MEANS: readonly (readonly number[])[] = Object.freeze([
  [0.5, 0, 0, 0.3], [0, 0.1, -0.5, 0.2], [0, 0.2, 0.5, -0.6], [0, 0.5, 0, 0.7],
].map((m) => Object.freeze(m)));

/** The original program's (diagonal) covariances, as their diagonals. */
export const DEMO_CLUSTER_VARIANCES: readonly (readonly number[])[] = Object.freeze([
  [0.1, 0.001, 0.001, 0.001], [0.001, 0.1, 0.001, 0.001], [0.1, 0.001, 0.001, 0.2], [0.001, 0.001, 0.001, 0.001],
].map((v) => Object.freeze(v)));

/** The original program's counts. */
export const DEMO_CLUSTER_COUNTS: readonly number[] = Object.freeze([100, 100, 100, 100]);

/** A covariance given as a full matrix or a diagonal, as a full d×d matrix; errors name the cluster. */
function covarianceMatrix(input: number[][] | number[], d: number, k: number, fn: string): number[][] {
  if (!Array.isArray(input) || input.length !== d) {
    throw new Error(`${fn}: covariances[${k}] must be a ${d}×${d} matrix or a list of ${d} variances, got ${JSON.stringify(input)}`);
  }
  if ((input as unknown[]).every((x) => typeof x === "number")) {
    const diag = input as number[];
    diag.forEach((v, i) => {
      if (!Number.isFinite(v) || v < 0) throw new Error(`${fn}: covariances[${k}][${i}] is a variance and must be ≥ 0, got ${v}`);
    });
    return diag.map((v, i) => diag.map((_, j) => (i === j ? v : 0)));
  }
  const m = input as number[][];
  m.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== d || row.some((x) => typeof x !== "number" || !Number.isFinite(x))) {
      throw new Error(`${fn}: covariances[${k}] row ${i} must hold ${d} finite numbers, got ${JSON.stringify(row)}`);
    }
  });
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < i; j++) {
      if (Math.abs(m[i][j] - m[j][i]) > 1e-12 * Math.max(1, Math.abs(m[i][j]))) {
        throw new Error(`${fn}: covariances[${k}] must be symmetric, but [${i}][${j}] = ${m[i][j]} and [${j}][${i}] = ${m[j][i]}`);
      }
    }
  }
  return m.map((row) => row.slice());
}

/** Lower-triangular L with L·Lᵀ = C (C positive semi-definite; zero pivots give zero columns). */
function choleskyPsd(c: number[][], k: number, fn: string): number[][] {
  const d = c.length;
  const l = c.map(() => new Array<number>(d).fill(0));
  const scale = Math.max(1e-300, ...c.map((row, i) => Math.abs(row[i])));
  for (let j = 0; j < d; j++) {
    let diag = c[j][j];
    for (let p = 0; p < j; p++) diag -= l[j][p] * l[j][p];
    if (diag < -1e-10 * scale) throw new Error(`${fn}: covariances[${k}] is not positive semi-definite (pivot ${j} is ${diag})`);
    const root = diag > 1e-14 * scale ? Math.sqrt(diag) : 0;
    l[j][j] = root;
    for (let i = j + 1; i < d; i++) {
      let s = c[i][j];
      for (let p = 0; p < j; p++) s -= l[i][p] * l[j][p];
      if (root === 0) {
        if (Math.abs(s) > 1e-10 * scale) throw new Error(`${fn}: covariances[${k}] is not positive semi-definite (column ${j})`);
        l[i][j] = 0;
      } else {
        l[i][j] = s / root;
      }
    }
  }
  return l;
}

/** Sample labelled Gaussian clusters (μₖ + Lₖ·z, z ~ N(0, I), LₖLₖᵀ = Σₖ) and scale them into ⟨−1, 1⟩ by the largest |x|. */
export function gaussianClusters(options: GaussianClusterOptions = {}): GaussianClusters {
  const fn = "gaussianClusters";
  const means = options.means ?? DEMO_CLUSTER_MEANS.map((m) => [...m]);
  const covariances = options.covariances ?? DEMO_CLUSTER_VARIANCES.map((v) => [...v]);
  const counts = options.counts ?? [...DEMO_CLUSTER_COUNTS];
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new Error(`${fn}: seed must be an integer, got ${seed}`);
  if (!Array.isArray(means) || means.length === 0) throw new Error(`${fn}: means must be a non-empty list of mean vectors, got ${JSON.stringify(means)}`);
  const d = Array.isArray(means[0]) ? means[0].length : 0;
  if (d === 0) throw new Error(`${fn}: means[0] must be a non-empty vector, got ${JSON.stringify(means[0])}`);
  means.forEach((m, k) => {
    if (!Array.isArray(m) || m.length !== d || m.some((x) => typeof x !== "number" || !Number.isFinite(x))) {
      throw new Error(`${fn}: means[${k}] must hold ${d} finite numbers (the dimension of means[0]), got ${JSON.stringify(m)}`);
    }
  });
  if (!Array.isArray(covariances) || covariances.length !== means.length) {
    throw new Error(`${fn}: covariances must have one entry per cluster (${means.length} means), got ${Array.isArray(covariances) ? covariances.length : JSON.stringify(covariances)}`);
  }
  if (!Array.isArray(counts) || counts.length !== means.length) {
    throw new Error(`${fn}: counts must have one entry per cluster (${means.length} means), got ${JSON.stringify(counts)}`);
  }
  counts.forEach((c, k) => {
    if (!Number.isInteger(c) || c < 1) throw new Error(`${fn}: counts[${k}] must be a positive integer, got ${c}`);
  });
  const factors = covariances.map((c, k) => choleskyPsd(covarianceMatrix(c, d, k, fn), k, fn));

  const rng = createRng(seed);
  const points: number[][] = [];
  const labels: number[] = [];
  means.forEach((mean, k) => {
    const l = factors[k];
    for (let n = 0; n < counts[k]; n++) {
      const z = Array.from({ length: d }, () => randomNormal(rng));
      points.push(mean.map((mu, i) => {
        let s = mu;
        for (let j = 0; j <= i; j++) s += l[i][j] * z[j];
        return s;
      }));
      labels.push(k);
    }
  });
  let scale = 1;
  if (options.normalize ?? true) {
    let maxAbs = 0;
    for (const p of points) for (const x of p) maxAbs = Math.max(maxAbs, Math.abs(x));
    scale = maxAbs > 0 ? maxAbs : 1;
    for (const p of points) for (let i = 0; i < d; i++) p[i] /= scale;
  }
  return { points, labels, numPoints: points.length, dimension: d, numClusters: means.length, scale };
}
