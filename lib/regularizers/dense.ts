/**
 * One shared-size dense autoencoder x → h = act(xW₁ + b₁) → r = out(hW₂ + b₂), trained five ways
 * (paper 3): plain (undercomplete by size alone), L1-sparse, KL-sparse, denoising and contractive.
 * The model is four plain tf.Variables so the penalties can read the encoder's kernel W₁
 * directly (the contractive closed form, eq. 8); `regularizedObjective` returns the loss-term
 * function and weights for ae.trainModel, and `summarizeAutoencoder` the comparison numbers.
 */
import * as tf from "@tensorflow/tfjs";
import type { Autoencoder } from "../models/autoencoder";
import { CorruptionSpec, corruptInputs } from "../data/noise";
import { LossContext, LossTerms, LossTermsFn, mixSeeds } from "../train";
import { contractivePenalty, klSparsityPenalty, l1ActivationPenalty, sigmoidJacobianNormSquared } from "./penalties";
import { checkPositiveInteger } from "../models/common";
import { meanSumOfSquares } from "../metrics";

export type DenseAutoencoderActivation = "sigmoid" | "linear";

export interface DenseAutoencoderOptions {
  /** Input (and output) width (default 784). */
  inputDim?: number;
  /** Hidden units, the same for every variant (default 128). */
  hiddenUnits?: number;
  /** Encoder activation (default "sigmoid": codes in (0, 1), as the KL penalty and eq. 8 need). */
  hiddenActivation?: DenseAutoencoderActivation;
  /** Decoder activation (default "sigmoid": pixels in [0, 1]; "linear" for real-valued data). */
  outputActivation?: DenseAutoencoderActivation;
  /** Seed of the Glorot-uniform initial weights (default 0); biases start at 0. */
  seed?: number;
  /** Prefix of the variable names (default "dae"). */
  name?: string;
}

/** The autoencoder as its weights and differentiable maps. */
export interface DenseAutoencoder extends Autoencoder<tf.Tensor2D> {
  /** W₁ [inputDim, hiddenUnits]. */
  encoderKernel: tf.Variable;
  /** b₁ [hiddenUnits]. */
  encoderBias: tf.Variable;
  /** W₂ [hiddenUnits, inputDim]. */
  decoderKernel: tf.Variable;
  /** b₂ [inputDim]. */
  decoderBias: tf.Variable;
  /** The four, for trainModel's `variables`. */
  variables: tf.Variable[];
  inputDim: number;
  hiddenUnits: number;
  hiddenActivation: DenseAutoencoderActivation;
  outputActivation: DenseAutoencoderActivation;
  paramCount: number;
  /** x [n, inputDim] → h [n, hiddenUnits]. */
  encode(x: tf.Tensor2D): tf.Tensor2D;
  /** h → r. */
  decode(h: tf.Tensor2D): tf.Tensor2D;
  /** decode(encode(x)). */
  reconstruct(x: tf.Tensor2D): tf.Tensor2D;
  dispose(): void;
}

function checkActivationName(value: string, name: string, fn: string): DenseAutoencoderActivation {
  if (value === "sigmoid" || value === "linear") return value;
  throw new Error(`${fn}: ${name} must be "sigmoid" or "linear", got ${JSON.stringify(value)}`);
}

let autoencoderCounter = 0;

/** A dense one-hidden-layer autoencoder with Glorot-uniform weights (the shared model of the five variants). */
export function denseAutoencoder(options: DenseAutoencoderOptions = {}): DenseAutoencoder {
  const fn = "denseAutoencoder";
  const inputDim = options.inputDim ?? 784;
  const hiddenUnits = options.hiddenUnits ?? 128;
  checkPositiveInteger(inputDim, "inputDim", fn);
  checkPositiveInteger(hiddenUnits, "hiddenUnits", fn);
  const hiddenActivation = checkActivationName(options.hiddenActivation ?? "sigmoid", "hiddenActivation", fn);
  const outputActivation = checkActivationName(options.outputActivation ?? "sigmoid", "outputActivation", fn);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new Error(`${fn}: seed must be an integer, got ${seed}`);
  const prefix = `${options.name ?? "dae"}_${autoencoderCounter++}`;
  const limit = Math.sqrt(6 / (inputDim + hiddenUnits));
  const w1 = tf.tidy(() => tf.randomUniform([inputDim, hiddenUnits], -limit, limit, "float32", mixSeeds(seed, 1) + 1));
  const w2 = tf.tidy(() => tf.randomUniform([hiddenUnits, inputDim], -limit, limit, "float32", mixSeeds(seed, 2) + 1));
  const b1 = tf.zeros([hiddenUnits]);
  const b2 = tf.zeros([inputDim]);
  // tf.variable shares the initial value's data but leaves that tensor alive: free the four initial values.
  const encoderKernel = tf.variable(w1, true, `${prefix}_W1`);
  const decoderKernel = tf.variable(w2, true, `${prefix}_W2`);
  const encoderBias = tf.variable(b1, true, `${prefix}_b1`);
  const decoderBias = tf.variable(b2, true, `${prefix}_b2`);
  tf.dispose([w1, w2, b1, b2]);
  const act = (z: tf.Tensor2D, a: DenseAutoencoderActivation): tf.Tensor2D => (a === "sigmoid" ? tf.sigmoid(z) : z);
  const encode = (x: tf.Tensor2D): tf.Tensor2D => {
    if (x.rank !== 2 || x.shape[1] !== inputDim) throw new Error(`${fn}.encode: x must be [samples, ${inputDim}], got shape [${x.shape.join(", ")}]`);
    return tf.tidy(() => act(tf.add(tf.matMul(x, encoderKernel), encoderBias) as tf.Tensor2D, hiddenActivation));
  };
  const decode = (h: tf.Tensor2D): tf.Tensor2D => tf.tidy(() => act(tf.add(tf.matMul(h, decoderKernel), decoderBias) as tf.Tensor2D, outputActivation));
  return {
    encoderKernel, encoderBias, decoderKernel, decoderBias,
    variables: [encoderKernel, encoderBias, decoderKernel, decoderBias],
    inputDim, hiddenUnits, hiddenActivation, outputActivation,
    paramCount: 2 * inputDim * hiddenUnits + inputDim + hiddenUnits,
    encode,
    decode,
    reconstruct: (x) => tf.tidy(() => decode(encode(x))),
    dispose: () => tf.dispose([encoderKernel, encoderBias, decoderKernel, decoderBias]),
  };
}

/** The five ways of paper 3 to keep an autoencoder from copying its input. */
export type RegularizerKind = "plain" | "l1" | "kl" | "denoising" | "contractive";

export const REGULARIZER_KINDS: readonly RegularizerKind[] = ["plain", "l1", "kl", "denoising", "contractive"];

export interface RegularizerSettings {
  /** λ of the L1 activation penalty (eq. 2; default 0.3, with the per-sample squared error as reconstruction loss). */
  l1Weight?: number;
  /** β of the KL sparsity penalty (eq. 4; default 3). */
  klWeight?: number;
  /** ρ of the KL penalty (default 0.05). */
  targetSparsity?: number;
  /** λ of the contractive penalty (eq. 7; default 0.5). */
  contractiveWeight?: number;
  /** q_D of the denoising variant (default additive Gaussian, noise factor 0.3, clipped to [0, 1]). */
  corruption?: CorruptionSpec;
}

/** What ae.trainModel needs for one variant. */
export interface RegularizedObjective {
  kind: RegularizerKind;
  /** Batch { xs } → { reconstruction, [penalty] }. */
  lossTerms: LossTermsFn<{ xs: tf.Tensor }>;
  /** Weight of each term (reconstruction 1). */
  lossWeights: Record<string, number>;
}

/**
 * The loss terms of one variant for ae.trainModel (reconstruction = per-sample squared error):
 * plain L(x, r(x)); l1 + λΣ|h| (eq. 2); kl + βΣKL(ρ‖ρ̂) (eq. 4); denoising L(x, r(x̃)), x̃ ~ q_D(x̃|x)
 * (eq. 6); contractive + λ‖J‖²_F (eqs. 7–8, sigmoid encoder).
 */
export function regularizedObjective(model: DenseAutoencoder, kind: RegularizerKind, settings: RegularizerSettings = {}): RegularizedObjective {
  const fn = "regularizedObjective";
  if (!REGULARIZER_KINDS.includes(kind)) throw new Error(`${fn}: kind must be one of ${REGULARIZER_KINDS.join(", ")}, got ${JSON.stringify(kind)}`);
  const weight = (value: number | undefined, fallback: number, name: string): number => {
    const v = value ?? fallback;
    if (!(v >= 0) || !Number.isFinite(v)) throw new Error(`${fn}: ${name} must be a finite number ≥ 0, got ${v}`);
    return v;
  };
  if ((kind === "kl" || kind === "contractive") && model.hiddenActivation !== "sigmoid") {
    throw new Error(`${fn}: the ${kind} penalty needs a sigmoid encoder (codes in (0, 1)), got hiddenActivation "${model.hiddenActivation}"`);
  }
  const corruption: CorruptionSpec = settings.corruption ?? { kind: "gaussian", noiseFactor: 0.3 };
  const targetSparsity = settings.targetSparsity ?? 0.05;
  const x2 = (x: tf.Tensor): tf.Tensor2D => x as tf.Tensor2D;
  const raw = build();
  // Intermediates (codes, reconstructions, noisy inputs) are freed even when called outside trainModel's tidy.
  return { ...raw, lossTerms: (batch, context) => tf.tidy(() => raw.lossTerms(batch, context)) as LossTerms };

  function build(): RegularizedObjective {
    switch (kind) {
      case "plain":
        return { kind, lossWeights: { reconstruction: 1 }, lossTerms: (b) => ({ reconstruction: meanSumOfSquares(b.xs, model.reconstruct(x2(b.xs))) }) };
      case "l1": {
        const lossWeights = { reconstruction: 1, l1: weight(settings.l1Weight, 0.3, "l1Weight") };
        return { kind, lossWeights, lossTerms: (b) => {
          const h = model.encode(x2(b.xs));
          return { reconstruction: meanSumOfSquares(b.xs, model.decode(h)), l1: l1ActivationPenalty(h) };
        } };
      }
      case "kl": {
        const lossWeights = { reconstruction: 1, kl: weight(settings.klWeight, 3, "klWeight") };
        return { kind, lossWeights, lossTerms: (b) => {
          const h = model.encode(x2(b.xs));
          return { reconstruction: meanSumOfSquares(b.xs, model.decode(h)), kl: klSparsityPenalty(h, { targetSparsity }) };
        } };
      }
      case "denoising":
        return { kind, lossWeights: { reconstruction: 1 }, lossTerms: (b, context: LossContext) => {
          const noisy = corruptInputs(b.xs, { ...corruption, seed: context.seed } as CorruptionSpec);
          return { reconstruction: meanSumOfSquares(b.xs, model.reconstruct(x2(noisy))) };
        } };
      case "contractive": {
        const lossWeights = { reconstruction: 1, contractive: weight(settings.contractiveWeight, 0.5, "contractiveWeight") };
        return { kind, lossWeights, lossTerms: (b) => {
          const h = model.encode(x2(b.xs));
          return { reconstruction: meanSumOfSquares(b.xs, model.decode(h)), contractive: contractivePenalty(h, model.encoderKernel as tf.Tensor as tf.Tensor2D) };
        } };
      }
    }
  }
}

/** The comparison numbers of one trained variant. */
export interface AutoencoderSummary {
  /** Per-pixel MSE of clean test inputs. */
  testMse: number;
  /** Mean hidden activation over test samples and units. */
  meanActivation: number;
  /** Fraction of (sample, unit) activations below `nearZeroThreshold`. */
  nearZeroFraction: number;
  /** Mean over test points of the Frobenius norm ‖J_h(x)‖_F (eq. 8; sigmoid encoders). */
  meanJacobianNorm: number;
  /** Per-pixel MSE of r(x̃) against the clean x, for the noisy test inputs given (NaN when none). */
  noisyMse: number;
}

/** Batched evaluation (no tensors left behind) of reconstruction, sparsity, contraction and robustness on a test set. */
export async function summarizeAutoencoder(
  model: DenseAutoencoder,
  testX: tf.Tensor2D,
  options: { noisyTestX?: tf.Tensor2D; nearZeroThreshold?: number; batchSize?: number } = {},
): Promise<AutoencoderSummary> {
  const fn = "summarizeAutoencoder";
  if (!(testX instanceof tf.Tensor) || testX.rank !== 2 || testX.shape[1] !== model.inputDim) {
    throw new Error(`${fn}: testX must be [samples, ${model.inputDim}], got ${testX instanceof tf.Tensor ? `[${testX.shape.join(", ")}]` : typeof testX}`);
  }
  const noisy = options.noisyTestX;
  if (noisy !== undefined && noisy.shape.join() !== testX.shape.join()) {
    throw new Error(`${fn}: noisyTestX [${noisy.shape.join(", ")}] must match testX [${testX.shape.join(", ")}]`);
  }
  const threshold = options.nearZeroThreshold ?? 0.05;
  const batchSize = options.batchSize ?? 1000;
  checkPositiveInteger(batchSize, "batchSize", fn);
  const n = testX.shape[0];
  const sigmoid = model.hiddenActivation === "sigmoid";
  // Running sums on the device: [Σ squared error, Σ h, Σ [h < t], Σ ‖J‖_F, Σ noisy squared error].
  let sums = tf.zeros([5]);
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    const next = tf.tidy(() => {
      const x = tf.slice(testX, start, size) as tf.Tensor2D;
      const h = model.encode(x);
      const r = model.decode(h);
      const jac = sigmoid ? tf.sum(tf.sqrt(sigmoidJacobianNormSquared(h, model.encoderKernel as tf.Tensor as tf.Tensor2D))) : tf.scalar(NaN);
      const noisyErr = noisy ? tf.sum(tf.square(tf.sub(model.reconstruct(tf.slice(noisy, start, size) as tf.Tensor2D), x))) : tf.scalar(0);
      return tf.add(sums, tf.stack([
        tf.sum(tf.square(tf.sub(r, x))), tf.sum(h), tf.sum(tf.cast(tf.less(h, threshold), "float32")), jac, noisyErr,
      ]));
    });
    sums.dispose();
    sums = next;
  }
  const v = await sums.data();
  sums.dispose();
  const pixels = n * model.inputDim;
  const units = n * model.hiddenUnits;
  return {
    testMse: v[0] / pixels,
    meanActivation: v[1] / units,
    nearZeroFraction: v[2] / units,
    meanJacobianNorm: v[3] / n,
    noisyMse: noisy ? v[4] / pixels : NaN,
  };
}

/** Each hidden unit's incoming weights W₁[:, j] min–max scaled to [0, 1], as [units, inputDim] images (learned features). */
export function featureImages(kernel: tf.Tensor2D, options: { maxUnits?: number } = {}): tf.Tensor2D {
  if (!(kernel instanceof tf.Tensor) || kernel.rank !== 2) throw new Error("featureImages: kernel must be an [inputs, units] tf.Tensor2D");
  const units = Math.min(kernel.shape[1], options.maxUnits ?? kernel.shape[1]);
  return tf.tidy(() => {
    const w = tf.transpose(tf.slice(kernel, [0, 0], [kernel.shape[0], units])); // [units, inputs]
    const lo = tf.min(w, 1, true);
    const hi = tf.max(w, 1, true);
    return tf.div(tf.sub(w, lo), tf.maximum(tf.sub(hi, lo), 1e-12)) as tf.Tensor2D;
  });
}

/** Histogram of values in [min, max] with `bins` equal bins: bin centres and the fraction of values in each. */
export function activationHistogram(values: ArrayLike<number>, options: { bins?: number; min?: number; max?: number } = {}): { centers: number[]; fractions: number[] } {
  const bins = options.bins ?? 50;
  checkPositiveInteger(bins, "bins", "activationHistogram");
  const min = options.min ?? 0;
  const max = options.max ?? 1;
  if (!(max > min)) throw new Error(`activationHistogram: max (${max}) must exceed min (${min})`);
  if (values.length === 0) throw new Error("activationHistogram: values is empty");
  const counts = new Array<number>(bins).fill(0);
  const width = (max - min) / bins;
  for (let i = 0; i < values.length; i++) {
    const k = Math.min(bins - 1, Math.max(0, Math.floor((values[i] - min) / width)));
    counts[k]++;
  }
  return { centers: counts.map((_, k) => min + (k + 0.5) * width), fractions: counts.map((c) => c / values.length) };
}
