/**
 * PEDCC (paper 4, §3.1, Algorithm 1): n unit charges on the sphere S^{d−1} repel each other
 * with an inverse-square force and move until they are (nearly) evenly spread; the final
 * points, scaled by α = √d (eq. 5), are the predefined class centroids.
 *
 *   l_ij = u_i − u_j,  |l_ij| floored at ε                         (distance floor, ε = 0.01)
 *   f_i  = Σ_{j≠i} l_ij / |l_ij|³                                    (1) magnitude 1/|l|², direction l/|l|
 *   f_t  = f − (u·f) u                                               (2) tangential part (the extracted
 *                                                                        text drops the trailing u)
 *   u ← u + v,  then u ← u/‖u‖                                       (3) and renormalisation
 *   v ← v + λ f_t                                                    (4) λ = 0.01
 *
 * Plain float64 JavaScript: n ≤ a few hundred and d ≤ a few hundred are cheap, and the same
 * seed gives bit-identical centroids on every backend.
 */
import { createRng, randomNormal } from "../random";

/** Options of `pedccSimulate`. */
export interface PedccOptions {
  /** Seed of the random starting points (default 0). */
  seed?: number;
  /** Maximum iterations q of Algorithm 1 (default 1000). */
  iterations?: number;
  /** Stop early once no point moves more than this in one iteration (default 0: run all iterations). */
  tolerance?: number;
  /** λ of eq. (4) (default 0.01). */
  stepSize?: number;
  /** ε, the floor on pairwise distances (default 0.01). */
  minDistance?: number;
  /** Length of the returned centroids, α of eq. (5) (default √latentDim). */
  scale?: number;
  /** Record the Coulomb energy every this many iterations (default 1). */
  energyEvery?: number;
}

/** What `pedccSimulate` returns: the centroids and how the simulation went. */
export interface PedccResult {
  numClasses: number;
  latentDim: number;
  /** numClasses rows of latentDim numbers, each of length `scale`. */
  centroids: number[][];
  /** α: the length of every centroid. */
  scale: number;
  /** Iterations actually run. */
  iterations: number;
  /** True when it stopped because the largest move fell below the tolerance. */
  converged: boolean;
  /** Largest move of a point in the last iteration (on the unit sphere). */
  lastMaxMove: number;
  /** Iteration numbers at which the energy was recorded (0 = the random start). */
  energyIterations: number[];
  /** Coulomb energy Σ_{i<j} 1/|u_i − u_j| of the unit points at those iterations. */
  energyHistory: number[];
  /** The options used (defaults filled in), so saved centroids say how they were made. */
  options: Required<Omit<PedccOptions, "energyEvery">>;
}

function checkInteger(value: number, name: string, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new Error(`pedccSimulate: ${name} must be an integer ≥ ${min}, got ${value}`);
}

function checkNumber(value: number, name: string, allowZero: boolean): void {
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new Error(`pedccSimulate: ${name} must be a ${allowZero ? "non-negative" : "positive"} finite number, got ${value}`);
  }
}

/** Coulomb energy Σ_{i<j} 1/max(|u_i − u_j|, ε) of points given as rows (the quantity PEDCC lowers). */
export function coulombEnergy(points: ArrayLike<ArrayLike<number>>, minDistance = 0): number {
  const n = points.length;
  let energy = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let s = 0;
      const a = points[i];
      const b = points[j];
      for (let k = 0; k < a.length; k++) {
        const diff = a[k] - b[k];
        s += diff * diff;
      }
      energy += 1 / Math.max(Math.sqrt(s), minDistance);
    }
  }
  return energy;
}

/** |u_i − u_j|² for rows i and j of a flat n × d array. */
function squaredRowDistance(u: Float64Array, i: number, j: number, d: number): number {
  let s = 0;
  for (let k = 0; k < d; k++) {
    const diff = u[i * d + k] - u[j * d + k];
    s += diff * diff;
  }
  return s;
}

/** Energy of flat unit points (n × d row-major). */
function flatEnergy(u: Float64Array, n: number, d: number, eps: number): number {
  let energy = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const s = squaredRowDistance(u, i, j, d);
      energy += 1 / Math.max(Math.sqrt(s), eps);
    }
  }
  return energy;
}

/** Normalise each row of a flat n × d array to unit length (a zero row gets e_1). */
function normaliseRows(u: Float64Array, n: number, d: number): void {
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += u[i * d + k] * u[i * d + k];
    const norm = Math.sqrt(s);
    if (norm === 0) {
      u[i * d] = 1;
      continue;
    }
    for (let k = 0; k < d; k++) u[i * d + k] /= norm;
  }
}

/**
 * PEDCC, Algorithm 1 of paper 4 (eqs. 1–5): seeded random unit points pushed apart by
 * inverse-square repulsion (tangential part only), velocities accumulated with step λ,
 * points renormalised each step, finally scaled to length α = √d.
 */
export function pedccSimulate(numClasses: number, latentDim: number, options: PedccOptions = {}): PedccResult {
  checkInteger(numClasses, "numClasses", 1);
  checkInteger(latentDim, "latentDim", 2);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new Error(`pedccSimulate: seed must be an integer, got ${seed}`);
  const iterations = options.iterations ?? 1000;
  checkInteger(iterations, "iterations", 0);
  const tolerance = options.tolerance ?? 0;
  checkNumber(tolerance, "tolerance", true);
  const stepSize = options.stepSize ?? 0.01;
  checkNumber(stepSize, "stepSize", false);
  const minDistance = options.minDistance ?? 0.01;
  checkNumber(minDistance, "minDistance", false);
  const scale = options.scale ?? Math.sqrt(latentDim);
  checkNumber(scale, "scale", false);
  const energyEvery = options.energyEvery ?? 1;
  checkInteger(energyEvery, "energyEvery", 1);

  const n = numClasses;
  const d = latentDim;
  const rng = createRng(seed);
  const u = new Float64Array(n * d);
  for (let i = 0; i < n * d; i++) u[i] = randomNormal(rng);
  normaliseRows(u, n, d);
  const v = new Float64Array(n * d);
  const force = new Float64Array(n * d);
  const previous = new Float64Array(n * d);

  const energyIterations = [0];
  const energyHistory = [flatEnergy(u, n, d, minDistance)];
  let done = 0;
  let converged = false;
  let lastMaxMove = 0;
  for (let step = 1; step <= iterations; step++) {
    // (1): f_i = Σ_j l_ij / |l_ij|³ with |l_ij| floored at ε.
    force.fill(0);
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const dist = Math.max(Math.sqrt(squaredRowDistance(u, i, j, d)), minDistance);
        const w = 1 / (dist * dist * dist);
        for (let k = 0; k < d; k++) {
          const f = (u[i * d + k] - u[j * d + k]) * w;
          force[i * d + k] += f;
          force[j * d + k] -= f;
        }
      }
    }
    // (2): keep the tangential part f − (u·f)u.
    for (let i = 0; i < n; i++) {
      let dot = 0;
      for (let k = 0; k < d; k++) dot += u[i * d + k] * force[i * d + k];
      for (let k = 0; k < d; k++) force[i * d + k] -= dot * u[i * d + k];
    }
    // (3) with the old velocity, renormalise; then (4).
    previous.set(u);
    for (let i = 0; i < n * d; i++) u[i] += v[i];
    normaliseRows(u, n, d);
    for (let i = 0; i < n * d; i++) v[i] += stepSize * force[i];
    lastMaxMove = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let k = 0; k < d; k++) {
        const diff = u[i * d + k] - previous[i * d + k];
        s += diff * diff;
      }
      lastMaxMove = Math.max(lastMaxMove, Math.sqrt(s));
    }
    done = step;
    const stop = tolerance > 0 && step > 1 && lastMaxMove < tolerance;
    if (step % energyEvery === 0 || step === iterations || stop) {
      energyIterations.push(step);
      energyHistory.push(flatEnergy(u, n, d, minDistance));
    }
    if (stop) {
      converged = true;
      break;
    }
  }

  const centroids: number[][] = [];
  for (let i = 0; i < n; i++) centroids.push(Array.from(u.subarray(i * d, (i + 1) * d), (x) => x * scale));
  return {
    numClasses: n, latentDim: d, centroids, scale, iterations: done, converged, lastMaxMove,
    energyIterations, energyHistory,
    options: { seed, iterations, tolerance, stepSize, minDistance, scale },
  };
}
