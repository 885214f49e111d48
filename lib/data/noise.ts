/**
 * Input corruptions q_D(x̃ | x) of denoising autoencoders (Vincent et al. 2008, 2010):
 * additive Gaussian noise (with clipping), masking noise and salt-and-pepper noise.
 *
 * Every function returns a new caller-owned tensor and leaves `x` alone; intermediates
 * are freed inside tf.tidy. Seeds: with a `seed`, the same call gives the same noise
 * every time — so in a training loop pass a different seed per batch (e.g. seed + step),
 * or leave `seed` out to draw from tfjs's stream (which `setup({ seed })` makes repeatable).
 */
import * as tf from "@tensorflow/tfjs";
import { randomNormalTensor } from "../random";

/** tfjs treats seed 0 as "unseeded"; map every integer seed to a distinct non-zero one. */
function tfSeed(seed: number | undefined, name: string): number | undefined {
  if (seed === undefined) return undefined;
  if (!Number.isInteger(seed)) throw new Error(`${name}: seed must be an integer, got ${seed}`);
  return (seed >>> 0) + 1;
}

function checkProbability(name: string, p: number): void {
  if (!(p >= 0 && p <= 1)) throw new Error(`${name}: probability must be in [0, 1], got ${p}`);
}

export interface GaussianNoiseOptions {
  /** Standard deviation of the added noise, σ (default 0.5). */
  noiseFactor?: number;
  /** Clip the result to [clipMin, clipMax] (default true). */
  clip?: boolean;
  /** Lower clip bound (default 0). */
  clipMin?: number;
  /** Upper clip bound (default 1). */
  clipMax?: number;
  /** Seed of the noise (see the module note on seeds). */
  seed?: number;
}

/**
 * Additive isotropic Gaussian corruption q_D: x̃ = clip(x + σ·ε, 0, 1), ε ~ N(0, I)
 * (Vincent et al. 2010, §4.2, with σ = noiseFactor; clipping keeps pixels in range).
 */
export function addGaussianNoise<T extends tf.Tensor>(x: T, options: GaussianNoiseOptions = {}): T {
  const noiseFactor = options.noiseFactor ?? 0.5;
  if (!(noiseFactor >= 0) || !Number.isFinite(noiseFactor)) {
    throw new Error(`addGaussianNoise: noiseFactor must be a finite number ≥ 0, got ${noiseFactor}`);
  }
  const clipMin = options.clipMin ?? 0;
  const clipMax = options.clipMax ?? 1;
  if (!(clipMin <= clipMax)) throw new Error(`addGaussianNoise: clipMin ${clipMin} must not exceed clipMax ${clipMax}`);
  const seed = tfSeed(options.seed, "addGaussianNoise");
  return tf.tidy(() => {
    const noise = randomNormalTensor(x.shape, { stdDev: noiseFactor, seed });
    const noisy = tf.add(tf.cast(x, "float32"), noise);
    return (options.clip ?? true) ? tf.clipByValue(noisy, clipMin, clipMax) : noisy;
  }) as T;
}

export interface MaskingNoiseOptions {
  /** Probability ν that an input is forced to 0 (default 0.25). */
  probability?: number;
  /**
   * Mask exactly round(ν·d) of the d inputs of each example (axis 0 = examples), as in
   * Vincent et al. 2008; default false masks each input independently with probability ν.
   */
  exact?: boolean;
  /** Seed of the mask (see the module note on seeds). */
  seed?: number;
}

/**
 * Keep-mask of shape x.shape: 1 where the input survives, 0 where it is corrupted with
 * probability `p` (independently, or exactly round(p·d) per example when `exact`).
 * Must be called inside tf.tidy.
 */
function corruptionMask(x: tf.Tensor, p: number, exact: boolean, seed: number | undefined): tf.Tensor {
  const u = tf.randomUniform(x.shape, 0, 1, "float32", seed);
  if (!exact) return tf.cast(tf.greaterEqual(u, p), "float32");
  if (x.rank < 2) throw new Error(`exact corruption needs examples along axis 0 (rank ≥ 2), got shape [${x.shape}]`);
  const examples = x.shape[0];
  const d = x.size / examples;
  const k = Math.round(p * d);
  if (k === 0) return tf.onesLike(u);
  const flat = tf.reshape(u, [examples, d]);
  // The k smallest uniforms of each row are corrupted: the k-th smallest is the threshold.
  const smallest = tf.topk(tf.neg(flat), k, true).values; // [examples, k], largest of -u first
  const threshold = tf.neg(tf.slice(smallest, [0, k - 1], [examples, 1])); // k-th smallest u
  return tf.reshape(tf.cast(tf.greater(flat, threshold), "float32"), x.shape);
}

/**
 * Masking corruption q_D: each input is forced to 0 with probability ν, x̃ = x ⊙ m,
 * m_i ~ Bernoulli(1 − ν) (Vincent et al. 2008 §2.3, 2010 §4.2).
 */
export function applyMaskingNoise<T extends tf.Tensor>(x: T, options: MaskingNoiseOptions = {}): T {
  const p = options.probability ?? 0.25;
  checkProbability("applyMaskingNoise", p);
  const seed = tfSeed(options.seed, "applyMaskingNoise");
  return tf.tidy(() => tf.mul(tf.cast(x, "float32"), corruptionMask(x, p, options.exact ?? false, seed))) as T;
}

export interface SaltAndPepperNoiseOptions {
  /** Probability ν that an input is corrupted (default 0.25). */
  probability?: number;
  /** Mask exactly round(ν·d) inputs per example (see MaskingNoiseOptions.exact); default false. */
  exact?: boolean;
  /** The "pepper" value (default 0). */
  low?: number;
  /** The "salt" value (default 1). */
  high?: number;
  /** Seed of the corruption (see the module note on seeds). */
  seed?: number;
}

/**
 * Salt-and-pepper corruption q_D: each input is, with probability ν, set to `low` or `high`
 * by a fair coin flip, else kept (Vincent et al. 2010 §4.2).
 */
export function applySaltAndPepperNoise<T extends tf.Tensor>(x: T, options: SaltAndPepperNoiseOptions = {}): T {
  const p = options.probability ?? 0.25;
  checkProbability("applySaltAndPepperNoise", p);
  const low = options.low ?? 0;
  const high = options.high ?? 1;
  const seed = tfSeed(options.seed, "applySaltAndPepperNoise");
  // The coin gets its own seed, derived from the mask's, so the two are independent.
  const coinSeed = seed === undefined ? undefined : ((seed * 0x9e3779b1) >>> 0) + 1;
  return tf.tidy(() => {
    const keep = corruptionMask(x, p, options.exact ?? false, seed);
    const coin = tf.cast(tf.less(tf.randomUniform(x.shape, 0, 1, "float32", coinSeed), 0.5), "float32");
    const replacement = tf.add(tf.mul(coin, high - low), low); // low or high
    const xf = tf.cast(x, "float32");
    return tf.add(tf.mul(xf, keep), tf.mul(replacement, tf.sub(1, keep)));
  }) as T;
}

/** One of the corruptions by name, with its options: for notebooks that compare them. */
export type CorruptionSpec =
  | ({ kind: "gaussian" } & GaussianNoiseOptions)
  | ({ kind: "masking" } & MaskingNoiseOptions)
  | ({ kind: "saltAndPepper" } & SaltAndPepperNoiseOptions)
  | { kind: "none" };

/** Apply the corruption q_D named by `spec` (kind "none" returns a copy of x). */
export function corruptInputs<T extends tf.Tensor>(x: T, spec: CorruptionSpec): T {
  switch (spec.kind) {
    case "gaussian":
      return addGaussianNoise(x, spec);
    case "masking":
      return applyMaskingNoise(x, spec);
    case "saltAndPepper":
      return applySaltAndPepperNoise(x, spec);
    case "none":
      return tf.clone(x);
    default:
      throw new Error(`corruptInputs: unknown kind ${JSON.stringify((spec as { kind: unknown }).kind)}, expected gaussian, masking, saltAndPepper or none`);
  }
}
