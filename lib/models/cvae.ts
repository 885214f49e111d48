/**
 * A conditional variational autoencoder (CVAE): paper 4's baseline, with the same
 * 784-400-40-400-784 structure as CSAE-L (§4), conditioned on the one-hot label y:
 *   encoder  [x, y] → dense 400 (ReLU) → mean μ (40) and log-variance log σ² (40), both linear
 *   sample   z = μ + σ ⊙ ε, ε ~ N(0, I)                     (the reparameterisation trick)
 *   decoder  [z, y] → dense 400 (ReLU) → dense 784 logits → sigmoid
 * trained on the negative evidence lower bound, per sample (mean over the batch):
 *   −ELBO = E_q[−log p(x | z, y)] + KL(q(z | x, y) ‖ N(0, I))
 *   KL    = ½ Σ_j (μ_j² + σ_j² − 1 − log σ_j²)                (closed form for two Gaussians)
 * with the Bernoulli likelihood −log p = Σ_pixels softplus(l) − x·l on the logits l (binary
 * cross-entropy, computed from logits so it never takes log 0), or a Gaussian one, ½ Σ (x − x̂)².
 */
import * as tf from "@tensorflow/tfjs";
import { closedFormGradient } from "../closed-form-gradient";
import type { LossContext, LossTerms, LossTermsFn } from "../train";
import { checkPositiveIntegers, checkSeed, seededInit } from "./common";
import { countParams, forwardFlopsPerSample, TRAINING_FLOPS_FACTOR } from "./cost";
import { randomNormalTensor } from "../random";

/** Options of `cvae`. */
export interface CvaeOptions {
  /** Pixels per (flat) image (default 784). */
  inputDim?: number;
  /** Hidden units of the encoder and the decoder (default 400). */
  hiddenUnits?: number;
  /** Latent dimension d (default 40, as CSAE-L). */
  latentDim?: number;
  /** Classes of the one-hot condition (default 10). */
  numClasses?: number;
  /** Seed of the initialisers (default 0). */
  seed?: number;
}

/** The posterior q(z | x, y) = N(mean, exp(logVariance)). */
export interface CvaePosterior {
  mean: tf.Tensor2D;
  logVariance: tf.Tensor2D;
}

/** A CVAE and what it costs; train `models` with trainModel and `cvaeLoss`. */
export interface CvaeModel {
  /** [x, y] → [mean, logVariance]. */
  encoder: tf.LayersModel;
  /** [z, y] → logits of the pixels (apply a sigmoid for images: `decode` does). */
  decoder: tf.LayersModel;
  /** [encoder, decoder]: what trainModel trains. */
  models: tf.LayersModel[];
  /** q(z | x, y) for flat images x [n, inputDim] and one-hot y [n, numClasses]. */
  encode(x: tf.Tensor, y: tf.Tensor, training?: boolean): CvaePosterior;
  /** Logits of p(x | z, y) [n, inputDim]. */
  decodeLogits(z: tf.Tensor, y: tf.Tensor, training?: boolean): tf.Tensor2D;
  /** Pixel means sigmoid(logits) in (0, 1) [n, inputDim]. */
  decode(z: tf.Tensor, y: tf.Tensor, training?: boolean): tf.Tensor2D;
  /** decode(mean of q(z | x, y), y): the deterministic reconstruction. */
  reconstruct(x: tf.Tensor, y: tf.Tensor): tf.Tensor2D;
  /** Class-conditional samples: z ~ N(0, I), decoded with y (seeded). */
  generate(y: tf.Tensor, options?: { seed?: number }): tf.Tensor2D;
  inputDim: number;
  latentDim: number;
  numClasses: number;
  paramCount: number;
  /** 2 × multiply-adds of one sample through both halves. */
  forwardFlopsPerSample: number;
  /** ≈ 3 × forwardFlopsPerSample (lib/models/cost's convention). */
  trainingFlopsPerSample: number;
  dispose(): void;
}

function checkMatrix(t: unknown, name: string, columns: number, fn: string, rows?: number): tf.Tensor2D {
  if (!(t instanceof tf.Tensor)) throw new Error(`${fn}: ${name} must be a tf.Tensor [n, ${columns}], got ${typeof t}`);
  if (t.isDisposed) throw new Error(`${fn}: ${name} has been disposed`);
  if (t.rank !== 2 || t.shape[1] !== columns) throw new Error(`${fn}: ${name} must be [n, ${columns}], got [${t.shape.join(", ")}]`);
  if (rows !== undefined && t.shape[0] !== rows) throw new Error(`${fn}: ${name} has ${t.shape[0]} rows, expected ${rows} (one per image)`);
  return t as tf.Tensor2D;
}

/** z = mean + exp(½·logVariance) ⊙ ε with ε ~ N(0, I) (seeded when `seed` is given): differentiable in mean and logVariance. */
export function reparameterize(mean: tf.Tensor, logVariance: tf.Tensor, seed?: number): tf.Tensor {
  const fn = "reparameterize";
  if (!(mean instanceof tf.Tensor) || !(logVariance instanceof tf.Tensor)) throw new Error(`${fn}: mean and logVariance must be tf.Tensors`);
  if (mean.shape.length !== logVariance.shape.length || mean.shape.some((d, i) => d !== logVariance.shape[i])) {
    throw new Error(`${fn}: mean [${mean.shape.join(", ")}] and logVariance [${logVariance.shape.join(", ")}] must have the same shape`);
  }
  if (seed !== undefined && !Number.isInteger(seed)) throw new Error(`${fn}: seed must be an integer, got ${seed}`);
  return tf.tidy(() => {
    // tfjs treats seed 0 as unseeded: shift by one.
    const epsilon = randomNormalTensor(mean.shape, { seed: seed === undefined ? undefined : (seed >>> 0) + 1 });
    // Gradient in closed form (one tape node, the products in autodiff's order): ∂z/∂μ = 1, ∂z/∂log σ² = ½·ε⊙σ.
    const sample = closedFormGradient(([mu, logVar], save) => {
      const sigma = tf.exp(tf.mul(logVar, 0.5));
      save([sigma, epsilon]); // ε too: this tidy frees it before the backward pass
      return { value: tf.add(mu, tf.mul(sigma, epsilon)), gradFunc: (g, [s, e]) => [g, tf.mul(tf.mul(tf.mul(g, e), s), 0.5)] };
    });
    return sample(mean, logVariance);
  });
}

/**
 * E_q[−log p(x | z, y)] for the Bernoulli likelihood from the logits l: Σ_pixels softplus(l) − x·l per row, averaged
 * over the rows, with its gradient in closed form, ∂/∂l = (σ(l) − x)/n (σ = sigmoid, n rows): one node on the
 * gradient tape and three passes over the batch instead of autodiff through five ops. x is data (no gradient).
 */
export function bernoulliNegLogLikelihood(logits: tf.Tensor, x: tf.Tensor): tf.Scalar {
  const fn = "bernoulliNegLogLikelihood";
  if (!(logits instanceof tf.Tensor) || !(x instanceof tf.Tensor) || logits.rank !== 2) throw new Error(`${fn}: logits and x must be [n, pixels] tensors`);
  if (logits.shape.some((d, i) => d !== x.shape[i]) || x.rank !== 2) {
    throw new Error(`${fn}: logits [${logits.shape.join(", ")}] and x [${x.shape.join(", ")}] must have the same shape`);
  }
  const rows = logits.shape[0];
  const nll = closedFormGradient<tf.Scalar>(([l], save) => {
    save([l, x]); // x too: a caller's tidy may free it before the backward pass
    return {
      value: tf.mean(tf.sum(tf.sub(tf.softplus(l), tf.mul(x, l)), 1)) as tf.Scalar,
      gradFunc: (dy, [ls, xs]) => tf.mul(tf.sub(tf.sigmoid(ls), xs), tf.div(dy, rows)),
    };
  });
  return nll(logits);
}

/** KL(N(mean, exp(logVariance)) ‖ N(0, I)) = ½ Σ_j (μ_j² + σ_j² − 1 − log σ_j²) per row, averaged over the rows (closed-form gradient). */
export function gaussianKlDivergence(mean: tf.Tensor, logVariance: tf.Tensor): tf.Scalar {
  const fn = "gaussianKlDivergence";
  if (!(mean instanceof tf.Tensor) || !(logVariance instanceof tf.Tensor) || mean.rank !== 2) {
    throw new Error(`${fn}: mean and logVariance must be [n, d] tensors`);
  }
  if (mean.shape.some((d, i) => d !== logVariance.shape[i]) || logVariance.rank !== 2) {
    throw new Error(`${fn}: mean [${mean.shape.join(", ")}] and logVariance [${logVariance.shape.join(", ")}] must have the same shape`);
  }
  // Gradient in closed form (one tape node): ∂KL/∂μ = μ/n, ∂KL/∂log σ² = ½(σ² − 1)/n for n rows.
  const rows = mean.shape[0];
  const kl = closedFormGradient<tf.Scalar>(([mu, logVar], save) => {
    const variance = tf.exp(logVar);
    save([mu, variance]);
    const perEntry = tf.sub(tf.add(tf.square(mu), variance), tf.add(logVar, 1));
    return {
      value: tf.mul(0.5, tf.mean(tf.sum(perEntry, 1))) as tf.Scalar,
      gradFunc: (dy, [mus, variances]) => {
        const perRow = tf.div(dy, rows);
        return [tf.mul(mus, perRow), tf.mul(tf.sub(variances, 1), tf.mul(perRow, 0.5))];
      },
    };
  });
  return kl(mean, logVariance);
}

/** The paper's CVAE baseline, 784-400-40-400-784 conditioned on the one-hot label (see the file comment). */
export function cvae(options: CvaeOptions = {}): CvaeModel {
  const fn = "cvae";
  const [inputDim, hiddenUnits, latentDim, numClasses] = checkPositiveIntegers(
    [options.inputDim ?? 784, options.hiddenUnits ?? 400, options.latentDim ?? 40, options.numClasses ?? 10], "inputDim, hiddenUnits, latentDim and numClasses", fn, 4);
  const seed = checkSeed(options.seed ?? 0, fn);

  const x = tf.input({ shape: [inputDim], name: "cvae_x" });
  const yEnc = tf.input({ shape: [numClasses], name: "cvae_y" });
  const hidden = tf.layers.dense({ units: hiddenUnits, activation: "relu", name: "cvae_enc_hidden", ...seededInit(seed, 0) })
    .apply(tf.layers.concatenate({ name: "cvae_enc_in" }).apply([x, yEnc])) as tf.SymbolicTensor;
  const mean = tf.layers.dense({ units: latentDim, name: "cvae_mean", ...seededInit(seed, 1) }).apply(hidden) as tf.SymbolicTensor;
  const logVariance = tf.layers.dense({ units: latentDim, name: "cvae_log_variance", ...seededInit(seed, 2) }).apply(hidden) as tf.SymbolicTensor;
  const encoder = tf.model({ inputs: [x, yEnc], outputs: [mean, logVariance], name: "cvae_encoder" });

  const z = tf.input({ shape: [latentDim], name: "cvae_z" });
  const yDec = tf.input({ shape: [numClasses], name: "cvae_y_dec" });
  const decHidden = tf.layers.dense({ units: hiddenUnits, activation: "relu", name: "cvae_dec_hidden", ...seededInit(seed, 3) })
    .apply(tf.layers.concatenate({ name: "cvae_dec_in" }).apply([z, yDec])) as tf.SymbolicTensor;
  const logits = tf.layers.dense({ units: inputDim, name: "cvae_logits", ...seededInit(seed, 4) }).apply(decHidden) as tf.SymbolicTensor;
  const decoder = tf.model({ inputs: [z, yDec], outputs: logits, name: "cvae_decoder" });

  const encode = (images: tf.Tensor, y: tf.Tensor, training = true): CvaePosterior => {
    checkMatrix(images, "x", inputDim, `${fn}.encode`);
    checkMatrix(y, "y (one-hot labels)", numClasses, `${fn}.encode`, images.shape[0]);
    const out = encoder.apply([tf.cast(images, "float32"), tf.cast(y, "float32")], { training }) as tf.Tensor[];
    return { mean: out[0] as tf.Tensor2D, logVariance: out[1] as tf.Tensor2D };
  };
  const decodeLogits = (code: tf.Tensor, y: tf.Tensor, training = true): tf.Tensor2D => {
    checkMatrix(code, "z", latentDim, `${fn}.decode`);
    checkMatrix(y, "y (one-hot labels)", numClasses, `${fn}.decode`, code.shape[0]);
    return decoder.apply([code, tf.cast(y, "float32")], { training }) as tf.Tensor2D;
  };
  const decode = (code: tf.Tensor, y: tf.Tensor, training = true): tf.Tensor2D => tf.tidy(() => tf.sigmoid(decodeLogits(code, y, training)));
  const both = [encoder, decoder];
  const forward = forwardFlopsPerSample(both);
  let disposed = false;
  return {
    encoder, decoder, models: both, encode, decodeLogits, decode,
    reconstruct: (images, y) => tf.tidy(() => decode(encode(images, y, false).mean, y, false)),
    generate: (y, opts = {}) => tf.tidy(() => {
      checkMatrix(y, "y (one-hot labels)", numClasses, `${fn}.generate`);
      const zeros = tf.zeros([y.shape[0], latentDim]);
      return decode(reparameterize(zeros, zeros, opts.seed), y, false);
    }),
    inputDim, latentDim, numClasses,
    paramCount: countParams(both),
    forwardFlopsPerSample: forward,
    trainingFlopsPerSample: TRAINING_FLOPS_FACTOR * forward,
    dispose: () => {
      if (disposed) return;
      disposed = true;
      encoder.dispose();
      decoder.dispose();
    },
  };
}

/** Options of `cvaeLoss`. */
export interface CvaeLossOptions {
  /** p(x | z, y): "bernoulli" (default; binary cross-entropy summed over pixels) or "gaussian" (½ Σ squared errors, unit variance). */
  likelihood?: "bernoulli" | "gaussian";
  /** Key of the flat images in the batch record (default "xs"). */
  imagesKey?: string;
  /** Key of the one-hot labels (default "oneHot"). */
  labelsKey?: string;
}

/**
 * A trainModel loss for the CVAE: { reconstruction: E_q[−log p(x | z, y)] (one sample of z by the
 * reparameterisation trick, seeded per step), kl: KL(q ‖ N(0, I)) }, both per sample (summed over
 * pixels / latent dimensions, averaged over the batch); their sum is −ELBO.
 */
export function cvaeLoss(model: Pick<CvaeModel, "encode" | "decodeLogits">, options: CvaeLossOptions = {}): LossTermsFn {
  const likelihood = options.likelihood ?? "bernoulli";
  if (likelihood !== "bernoulli" && likelihood !== "gaussian") throw new Error(`cvaeLoss: likelihood must be "bernoulli" or "gaussian", got ${JSON.stringify(likelihood)}`);
  const imagesKey = options.imagesKey ?? "xs";
  const labelsKey = options.labelsKey ?? "oneHot";
  return (batch: Record<string, tf.Tensor>, context: LossContext): LossTerms => {
    const images = batch[imagesKey];
    const labels = batch[labelsKey];
    if (!images || !labels) {
      throw new Error(`cvaeLoss: the batch needs "${imagesKey}" (flat images) and "${labelsKey}" (one-hot labels); it has ${Object.keys(batch).join(", ")}`);
    }
    const { mean, logVariance } = model.encode(images, labels, context.training);
    const z = reparameterize(mean, logVariance, context.seed);
    const logits = model.decodeLogits(z, labels, context.training);
    const x = tf.cast(images, "float32");
    const reconstruction = likelihood === "bernoulli"
      ? bernoulliNegLogLikelihood(logits, x)
      : tf.mean(tf.sum(tf.mul(0.5, tf.square(tf.sub(tf.sigmoid(logits), x))), 1)) as tf.Scalar;
    return { reconstruction, kl: gaussianKlDivergence(mean, logVariance) };
  };
}


/**
 * Loss weights that turn `cvaeLoss`'s per-sample −ELBO terms into the CVAE loss of the authors' released code
 * (github.com/anlongstory/CSAE, CVAE.py in the first commits, removed later): binary cross-entropy averaged
 * over every pixel of the batch plus the KL divergence summed over the batch and the latent dimensions, i.e.
 * reconstruction/inputDim + batchSize·kl (Bernoulli likelihood; exact for full batches). Relative to the
 * ELBO this weights the KL term inputDim·batchSize times more (784 × 512 ≈ 4·10⁵ for theirs).
 */
export function cvaeAuthorsLossWeights(batchSize = 512, inputDim = 784): { reconstruction: number; kl: number } {
  for (const [name, value] of [["batchSize", batchSize], ["inputDim", inputDim]] as const) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`cvaeAuthorsLossWeights: ${name} must be a positive integer, got ${value}`);
  }
  return { reconstruction: 1 / inputDim, kl: batchSize };
}
