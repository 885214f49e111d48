/**
 * Score matching with a known density (paper 3's reading of a denoising autoencoder as a vector
 * field towards the data): an isotropic Gaussian mixture whose log-density and score are closed
 * forms, the optimal denoiser under Gaussian corruption (Tweedie), and a quadrature of the
 * posterior mean to check it.
 *
 *   (S1) p(x) = Σₖ wₖ N(x; μₖ, sₖ² I)
 *   (S2) ∇ log p(x) = Σₖ γₖ(x) (μₖ − x) / sₖ²,   γₖ(x) = wₖ N(x; μₖ, sₖ² I) / p(x)
 *   (S3) p_σ = p * N(0, σ² I) = Σₖ wₖ N(x; μₖ, (sₖ² + σ²) I)
 *   (S4) r*(x̃) = E[x | x̃] = x̃ + σ² ∇ log p_σ(x̃)                       (Tweedie)
 *
 *   (S5) a trained denoiser's score estimate  (r(x) − x) / σ²
 *
 * Hence (r*(x) − x)/σ² = ∇ log p_σ(x) → ∇ log p(x) as σ → 0. Tensor functions take [n, d] points
 * and return caller-owned tensors; intermediates are freed.
 */
import * as tf from "@tensorflow/tfjs";
import { createRng, randomNormal } from "../random";
import { checkPositiveInteger } from "../checks";

/** An isotropic Gaussian mixture in `dim` dimensions (eq. S1); build it with `gaussianMixture`. */
export interface GaussianMixture {
  readonly weights: readonly number[];
  readonly means: ReadonlyArray<readonly number[]>;
  /** Standard deviation sₖ of each component (covariance sₖ² I). */
  readonly stds: readonly number[];
  readonly dim: number;
}

export interface GaussianMixtureSpec {
  /** Mixing weights wₖ > 0 summing to 1. */
  weights: readonly number[];
  /** Component means μₖ, each of length d (numbers are taken as 1-D means). */
  means: ReadonlyArray<readonly number[] | number>;
  /** Component standard deviations sₖ > 0. */
  stds: readonly number[];
}

/** Validate and freeze a mixture Σₖ wₖ N(μₖ, sₖ² I) (eq. S1). */
export function gaussianMixture(spec: GaussianMixtureSpec): GaussianMixture {
  const fn = "gaussianMixture";
  if (!spec || !Array.isArray(spec.weights) || !Array.isArray(spec.means) || !Array.isArray(spec.stds)) {
    throw new Error(`${fn}: spec must be { weights, means, stds } arrays`);
  }
  const k = spec.weights.length;
  if (k === 0 || spec.means.length !== k || spec.stds.length !== k) {
    throw new Error(`${fn}: weights, means and stds must have the same non-zero length, got ${k}, ${spec.means.length}, ${spec.stds.length}`);
  }
  spec.weights.forEach((w, i) => { if (!(w > 0) || !Number.isFinite(w)) throw new Error(`${fn}: weights[${i}] must be a positive number, got ${w}`); });
  const total = spec.weights.reduce((a, b) => a + b, 0);
  if (Math.abs(total - 1) > 1e-6) throw new Error(`${fn}: weights must sum to 1, got ${total}`);
  spec.stds.forEach((s, i) => { if (!(s > 0) || !Number.isFinite(s)) throw new Error(`${fn}: stds[${i}] must be a positive number, got ${s}`); });
  const means: number[][] = spec.means.map((m) => (typeof m === "number" ? [m] : Array.from(m as readonly number[])));
  const dim = means[0].length;
  means.forEach((m, i) => {
    if (m.length !== dim || dim === 0 || m.some((v) => !Number.isFinite(v))) throw new Error(`${fn}: means[${i}] must be ${dim || "≥ 1"} finite numbers, got [${m.join(", ")}]`);
  });
  return Object.freeze({ weights: Object.freeze([...spec.weights]), means: Object.freeze(means.map((m) => Object.freeze(m))), stds: Object.freeze([...spec.stds]), dim });
}

function checkPoints(mix: GaussianMixture, x: unknown, fn: string): asserts x is tf.Tensor2D {
  if (!(x instanceof tf.Tensor) || x.isDisposed) throw new Error(`${fn}: x must be a live tf.Tensor [n, ${mix.dim}]`);
  if (x.rank !== 2 || x.shape[1] !== mix.dim) throw new Error(`${fn}: x must be [n, ${mix.dim}] points, got shape [${x.shape.join(", ")}]`);
}

function checkSigma(sigma: number, fn: string): void {
  if (!(sigma > 0) || !Number.isFinite(sigma)) throw new Error(`${fn}: sigma must be a positive number, got ${sigma}`);
}

/** log wₖ + log N(x; μₖ, sₖ² I) for every point and component, [n, K]. */
function componentLogTerms(mix: GaussianMixture, x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const means = tf.tensor2d(mix.means.map((m) => [...m]), [mix.weights.length, mix.dim]);
    const variances = tf.tensor1d(mix.stds.map((s) => s * s));
    const sq = tf.sum(tf.square(tf.sub(tf.expandDims(x, 1), tf.expandDims(means, 0))), 2); // ‖x − μₖ‖², [n, K]
    const constant = tf.tensor1d(mix.weights.map((w, k) => Math.log(w) - 0.5 * mix.dim * Math.log(2 * Math.PI * mix.stds[k] ** 2)));
    return tf.add(tf.neg(tf.div(sq, tf.mul(2, variances))), constant) as tf.Tensor2D;
  });
}

/** log p(x) of the mixture at each of n points, [n] (eq. S1, by log-sum-exp; differentiable). */
export function mixtureLogDensity(mix: GaussianMixture, x: tf.Tensor2D): tf.Tensor1D {
  checkPoints(mix, x, "mixtureLogDensity");
  return tf.tidy(() => tf.logSumExp(componentLogTerms(mix, x), 1) as tf.Tensor1D);
}

/** The score ∇ log p(x) = Σₖ γₖ(x)(μₖ − x)/sₖ² in closed form, [n, d] (eq. S2). */
export function mixtureScore(mix: GaussianMixture, x: tf.Tensor2D): tf.Tensor2D {
  checkPoints(mix, x, "mixtureScore");
  return tf.tidy(() => {
    const gamma = tf.softmax(componentLogTerms(mix, x), 1); // responsibilities γₖ(x), [n, K]
    const means = tf.tensor2d(mix.means.map((m) => [...m]), [mix.weights.length, mix.dim]);
    const precisions = tf.tensor2d(mix.stds.map((s) => [1 / (s * s)]), [mix.weights.length, 1]);
    // Σₖ γₖ μₖ/sₖ² − x Σₖ γₖ/sₖ²
    return tf.sub(tf.matMul(gamma, tf.mul(means, precisions)), tf.mul(x, tf.matMul(gamma, precisions))) as tf.Tensor2D;
  });
}

/** p_σ = p * N(0, σ² I): the same mixture with sₖ² + σ² (eq. S3), the density of the corrupted inputs. */
export function smoothedMixture(mix: GaussianMixture, sigma: number): GaussianMixture {
  checkSigma(sigma, "smoothedMixture");
  return gaussianMixture({ weights: mix.weights, means: mix.means, stds: mix.stds.map((s) => Math.sqrt(s * s + sigma * sigma)) });
}

/** The optimal denoiser r*(x̃) = E[x | x̃] = x̃ + σ² ∇ log p_σ(x̃) for x̃ = x + σε (Tweedie, eq. S4), [n, d]. */
export function tweedieDenoiser(mix: GaussianMixture, sigma: number, xNoisy: tf.Tensor2D): tf.Tensor2D {
  checkSigma(sigma, "tweedieDenoiser");
  checkPoints(mix, xNoisy, "tweedieDenoiser");
  const smooth = smoothedMixture(mix, sigma);
  return tf.tidy(() => tf.add(xNoisy, tf.mul(sigma * sigma, mixtureScore(smooth, xNoisy))) as tf.Tensor2D);
}

/** The score a denoiser r implies, (r(x) − x)/σ² (eq. S5); r maps [n, d] → [n, d]. */
export function denoiserScore(reconstruct: (x: tf.Tensor2D) => tf.Tensor, sigma: number, x: tf.Tensor2D): tf.Tensor2D {
  const fn = "denoiserScore";
  if (typeof reconstruct !== "function") throw new Error(`${fn}: reconstruct must be a function [n, d] → [n, d]`);
  checkSigma(sigma, fn);
  if (!(x instanceof tf.Tensor) || x.isDisposed || x.rank !== 2) throw new Error(`${fn}: x must be a live [n, d] tf.Tensor`);
  return tf.tidy(() => {
    const r = reconstruct(x);
    if (!(r instanceof tf.Tensor) || r.shape.join() !== x.shape.join()) throw new Error(`${fn}: reconstruct must return [${x.shape.join(", ")}], got ${r instanceof tf.Tensor ? `[${r.shape.join(", ")}]` : typeof r}`);
    return tf.div(tf.sub(r, x), sigma * sigma) as tf.Tensor2D;
  });
}

export interface PosteriorQuadratureOptions {
  /** Quadrature nodes (default 4001). */
  numPoints?: number;
  /** The integral runs over x̃ ± halfWidths·σ (default 12). */
  halfWidths?: number;
}

/**
 * E[x | x̃] = ∫ x p(x) N(x̃; x, σ²) dx / ∫ p(x) N(x̃; x, σ²) dx by the trapezoid rule, for a 1-D
 * mixture: an independent check of eq. S4 that uses only the density. Plain numbers in and out.
 */
export function posteriorMeanQuadrature(mix: GaussianMixture, sigma: number, xNoisy: readonly number[], options: PosteriorQuadratureOptions = {}): number[] {
  const fn = "posteriorMeanQuadrature";
  if (mix?.dim !== 1) throw new Error(`${fn}: the mixture must be 1-D, got dim ${mix?.dim}`);
  checkSigma(sigma, fn);
  const numPoints = options.numPoints ?? 4001;
  checkPositiveInteger(numPoints, "numPoints", fn);
  if (numPoints < 3) throw new Error(`${fn}: numPoints must be at least 3, got ${numPoints}`);
  const halfWidths = options.halfWidths ?? 12;
  if (!(halfWidths > 0)) throw new Error(`${fn}: halfWidths must be positive, got ${halfWidths}`);
  const density = (x: number): number => mix.weights.reduce((s, w, k) =>
    s + (w * Math.exp(-((x - mix.means[k][0]) ** 2) / (2 * mix.stds[k] ** 2))) / (mix.stds[k] * Math.sqrt(2 * Math.PI)), 0);
  return Array.from(xNoisy, (xt, i) => {
    if (!Number.isFinite(xt)) throw new Error(`${fn}: xNoisy[${i}] must be finite, got ${xt}`);
    const lo = xt - halfWidths * sigma, step = (2 * halfWidths * sigma) / (numPoints - 1);
    let num = 0, den = 0;
    for (let j = 0; j < numPoints; j++) {
      const x = lo + j * step;
      const weight = (j === 0 || j === numPoints - 1 ? 0.5 : 1) * density(x) * Math.exp(-((xt - x) ** 2) / (2 * sigma * sigma));
      num += weight * x;
      den += weight;
    }
    if (!(den > 0)) throw new Error(`${fn}: the posterior at x̃ = ${xt} underflowed (density ~0 within ${halfWidths}σ)`);
    return num / den;
  });
}

export interface SampleMixtureOptions {
  /** Seed (default 0). */
  seed?: number;
}

/** n samples of the mixture (eq. S1): pick a component by weight, add sₖ·N(0, I); [n, d]. */
export function sampleMixture(mix: GaussianMixture, n: number, options: SampleMixtureOptions = {}): tf.Tensor2D {
  checkPositiveInteger(n, "n", "sampleMixture");
  const rng = createRng(options.seed ?? 0);
  const values = new Float32Array(n * mix.dim);
  for (let i = 0; i < n; i++) {
    let u = rng(), k = 0;
    while (k < mix.weights.length - 1 && u >= mix.weights[k]) u -= mix.weights[k++];
    for (let j = 0; j < mix.dim; j++) values[i * mix.dim + j] = mix.means[k][j] + mix.stds[k] * randomNormal(rng);
  }
  return tf.tensor2d(values, [n, mix.dim]);
}

/** How closely an estimated vector field matches a true one on the same points. */
export interface FieldAgreement {
  /** sqrt(mean ‖est − true‖²). */
  rmsError: number;
  /** max ‖est − true‖. */
  maxError: number;
  /** ‖est − true‖ / ‖true‖ over all points (Frobenius). */
  relativeError: number;
  /** Pearson correlation of all components of est and true. */
  correlation: number;
}

/** Agreement of an estimated field (e.g. (r(x) − x)/σ²) with the true score on the same [n, d] points. */
export function fieldAgreement(estimate: tf.Tensor, truth: tf.Tensor): FieldAgreement {
  const fn = "fieldAgreement";
  for (const [name, t] of [["estimate", estimate], ["truth", truth]] as const) {
    if (!(t instanceof tf.Tensor) || t.isDisposed || t.rank !== 2) throw new Error(`${fn}: ${name} must be a live [n, d] tf.Tensor`);
  }
  if (estimate.shape.join() !== truth.shape.join()) throw new Error(`${fn}: estimate [${estimate.shape}] and truth [${truth.shape}] must have the same shape`);
  const e = estimate.dataSync(), t = truth.dataSync();
  const d = estimate.shape[1] as number;
  let sq = 0, max = 0, norm = 0, me = 0, mt = 0;
  for (let i = 0; i < e.length; i++) { me += e[i]; mt += t[i]; norm += t[i] * t[i]; }
  me /= e.length; mt /= t.length;
  let cov = 0, ve = 0, vt = 0;
  for (let i = 0; i < e.length; i += d) {
    let row = 0;
    for (let j = i; j < i + d; j++) {
      row += (e[j] - t[j]) ** 2;
      cov += (e[j] - me) * (t[j] - mt); ve += (e[j] - me) ** 2; vt += (t[j] - mt) ** 2;
    }
    sq += row;
    max = Math.max(max, Math.sqrt(row));
  }
  return { rmsError: Math.sqrt(sq / (e.length / d)), maxError: max, relativeError: Math.sqrt(sq / norm), correlation: cov / Math.sqrt(ve * vt) };
}

/** Least-squares slope of log y against log x: the order p of an error that behaves like C·xᵖ. */
export function logLogSlope(xs: readonly number[], ys: readonly number[]): number {
  const fn = "logLogSlope";
  if (xs.length !== ys.length || xs.length < 2) throw new Error(`${fn}: xs and ys must have the same length ≥ 2, got ${xs.length} and ${ys.length}`);
  xs.forEach((v, i) => { if (!(v > 0 && ys[i] > 0)) throw new Error(`${fn}: values must be positive, got x ${v}, y ${ys[i]} at ${i}`); });
  const lx = xs.map(Math.log), ly = ys.map(Math.log);
  const mx = lx.reduce((a, b) => a + b, 0) / lx.length, my = ly.reduce((a, b) => a + b, 0) / ly.length;
  const num = lx.reduce((s, v, i) => s + (v - mx) * (ly[i] - my), 0), den = lx.reduce((s, v) => s + (v - mx) ** 2, 0);
  if (den === 0) throw new Error(`${fn}: xs must not all be equal`);
  return num / den;
}
