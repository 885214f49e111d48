/**
 * CSAE-L, the classification supervised autoencoder with linear layers of paper 4
 * (predefined evenly-distributed class centroids, PEDCC): the 784-400-40-400-784 autoencoder
 * trained with three losses,
 *   Loss1 = MSE(z, μ_label)                      (eq. 6: latent code vs its class centroid)
 *   Loss2 = MSE(x*, x)                           (eq. 7: pixels)
 *   Loss3 = MSE(G∗x*, G∗x)                       (eqs. 8–9: Laplacians of output and input)
 *   Loss  = Loss1 + λ1·Loss2 + λ2·Loss3          (eq. 10)
 * or, with edgeLoss: "sobelEnergy", the authors' released code's Loss3 instead of eq. (9):
 *   |mean((S∗x̃)²) − mean((S∗x̃*)²)|, S = Sobel_x + Sobel_y, x̃ = 2x − 1 (a difference of edge energies).
 * and Gaussian noise n0* = α·β·n0 added to z before the decoder in training only (eqs. 11–12).
 * PEDCC itself (Algorithm 1) lives elsewhere; `randomCentroids` gives random unit centroids
 * scaled by α = √d (eq. 5), enough for timing and for tests.
 */
import * as tf from "@tensorflow/tfjs";
import { LossContext, LossTerms, LossTermsFn } from "../train";
import { createRng, randomNormal, randomNormalTensor } from "../random";
import { AutoencoderModel, MlpAutoencoderOptions, mlpAutoencoder } from "./autoencoders";
import { meanSquaredError } from "../metrics";

/** The Laplacian operator G of paper 4, eq. (8). */
export const LAPLACIAN_KERNEL: readonly (readonly number[])[] = [
  [0, 1, 0],
  [1, -4, 1],
  [0, 1, 0],
];

/** Loss weights of eq. (10), Loss1 + λ1·Loss2 + λ2·Loss3, keyed by the term names of `csaeLossTerms`; the paper leaves λ1, λ2 open, 1 here. */
export const CSAE_LOSS_WEIGHTS: Readonly<Record<"centroid" | "pixel" | "laplacian", number>> = { centroid: 1, pixel: 1, laplacian: 1 };

/** Sobel kernels (cross-correlation, as PyTorch's conv2d and tf.conv2d apply them) of the authors' edge loss: x-derivative, then y. */
export const SOBEL_X_KERNEL: readonly (readonly number[])[] = [
  [-1, 0, 1],
  [-2, 0, 2],
  [-1, 0, 1],
];
export const SOBEL_Y_KERNEL: readonly (readonly number[])[] = [
  [-1, -2, -1],
  [0, 0, 0],
  [1, 2, 1],
];

/**
 * Weights that reproduce the authors' released loss (github.com/anlongstory/CSAE, utils.py at commit 35e7173):
 * Loss1 + Loss2 + 0.02·|ΔE|, with Loss2 on [−1, 1] pixels. Our pixels are in [0, 1], where Loss2 is 4 times
 * smaller, hence pixel: 4; the sobelEnergy term maps pixels to [−1, 1] itself, so its weight stays 0.02.
 */
export const CSAE_AUTHORS_LOSS_WEIGHTS: Readonly<Record<"centroid" | "pixel" | "sobelEnergy", number>> = { centroid: 1, pixel: 4, sobelEnergy: 0.02 };

/** Which edge term Loss3 is: "laplacian", eq. (9) as the paper writes it; "sobelEnergy", the authors' released code. */
export type CsaeEdgeLoss = "laplacian" | "sobelEnergy";

/**
 * CSAE-L of paper 4 (§4: "784 → 400 → 400 → 784", latent dimension 40, Adam 1e-3): `mlpAutoencoder`
 * with its defaults (ReLU hidden layers, linear code, sigmoid output, as the authors' released code).
 */
export function csaeLinear(options: MlpAutoencoderOptions = {}): AutoencoderModel {
  return mlpAutoencoder({ name: "csae_linear", ...options });
}

/** Options of `randomCentroids`. */
export interface RandomCentroidsOptions {
  /** Seed (default 0). */
  seed?: number;
  /** Length of every centroid (default √latentDim, paper 4's α of eq. 5). */
  scale?: number;
}

/** numClasses random directions in latentDim dimensions, each scaled to length α = √latentDim (eq. 5): a stand-in for PEDCC centroids. */
export function randomCentroids(numClasses: number, latentDim: number, options: RandomCentroidsOptions = {}): tf.Tensor2D {
  for (const [name, value] of [["numClasses", numClasses], ["latentDim", latentDim]] as const) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`randomCentroids: ${name} must be a positive integer, got ${value}`);
  }
  const scale = options.scale ?? Math.sqrt(latentDim);
  if (!(scale > 0) || !Number.isFinite(scale)) throw new Error(`randomCentroids: scale must be a positive number, got ${scale}`);
  const rng = createRng(options.seed ?? 0);
  const values = new Float32Array(numClasses * latentDim);
  for (let c = 0; c < numClasses; c++) {
    let norm = 0;
    const row = new Float64Array(latentDim);
    while (norm === 0) {
      for (let j = 0; j < latentDim; j++) row[j] = randomNormal(rng);
      norm = Math.hypot(...row);
    }
    for (let j = 0; j < latentDim; j++) values[c * latentDim + j] = (row[j] / norm) * scale;
  }
  return tf.tensor2d(values, [numClasses, latentDim]);
}

/** Images as [n, h, w, c] plus a function that puts a result back into the input's shape. */
function asImages(images: tf.Tensor, fn: string): { x4: tf.Tensor4D; restore: (t: tf.Tensor) => tf.Tensor } {
  const shape = images.shape;
  if (shape.length === 4) return { x4: images as tf.Tensor4D, restore: (t) => t };
  if (shape.length === 3) return { x4: tf.expandDims(images, -1) as tf.Tensor4D, restore: (t) => tf.reshape(t, shape) };
  if (shape.length === 2) {
    const side = Math.round(Math.sqrt(shape[1]));
    if (side * side !== shape[1]) {
      throw new Error(`${fn}: flat images [n, d] need a square d (e.g. 784 = 28×28), got d = ${shape[1]}; pass [n, h, w] or [n, h, w, c] instead`);
    }
    return { x4: tf.reshape(images, [shape[0], side, side, 1]), restore: (t) => tf.reshape(t, shape) };
  }
  throw new Error(`${fn}: images must be [n, d] (square d), [n, h, w] or [n, h, w, c]; got shape [${shape.join(", ")}]`);
}

/**
 * The discrete Laplacian G∗x of every image and channel, with G of paper 4 eq. (8) and zero
 * padding ("same" size): (G∗x)_ij = x_{i−1,j} + x_{i+1,j} + x_{i,j−1} + x_{i,j+1} − 4·x_ij.
 * Accepts [n, h, w, c], [n, h, w] or flat [n, h·w] (square) images; returns the same shape.
 */
export function laplacian3x3<T extends tf.Tensor>(images: T): T {
  return filter3x3PerChannel(images, LAPLACIAN_KERNEL.flat(), "laplacian3x3");
}

/** Each channel of `images` cross-correlated with one 3×3 filter (`taps`, row by row), zero padding, same shape. */
function filter3x3PerChannel<T extends tf.Tensor>(images: T, taps: number[], fn: string): T {
  return tf.tidy(() => {
    const { x4, restore } = asImages(images, fn);
    const channels = x4.shape[3];
    const kernel = tf.tensor4d(Array.from({ length: 9 * channels }, (_, i) => taps[Math.floor(i / channels)]), [3, 3, channels, 1]);
    const out = channels === 1
      ? tf.conv2d(tf.cast(x4, "float32") as tf.Tensor4D, kernel, 1, "same")
      : tf.depthwiseConv2d(tf.cast(x4, "float32") as tf.Tensor4D, kernel, 1, "same");
    return restore(out);
  }) as T;
}

/** S∗x with S = Sobel_x + Sobel_y (the authors' `sobel`: the sum of the two signed responses, not the gradient magnitude), zero padding, same shape. */
export function sobelSum3x3<T extends tf.Tensor>(images: T): T {
  return filter3x3PerChannel(images, SOBEL_X_KERNEL.flat().map((v, i) => v + SOBEL_Y_KERNEL.flat()[i]), "sobelSum3x3");
}

/** Options of `sobelEnergyDifference`. */
export interface SobelEnergyOptions {
  /** Pixels are mapped to scale·x + offset before the Sobel filter (default 2 and −1: our [0, 1] to the authors' [−1, 1]). */
  pixelScale?: number;
  /** See pixelScale (default −1). */
  pixelOffset?: number;
}

/**
 * The authors' released edge loss (anlongstory/CSAE utils.py, commit 35e7173), unweighted: |E(x) − E(x*)| with
 * E(x) = mean over the whole batch of (S∗x̃)², x̃ = pixelScale·x + pixelOffset, S = Sobel_x + Sobel_y, zero padding.
 * A scalar per batch (the energies are batch means), not eq. (9)'s per-pixel comparison.
 */
export function sobelEnergyDifference(images: tf.Tensor, reconstruction: tf.Tensor, options: SobelEnergyOptions = {}): tf.Scalar {
  const scale = options.pixelScale ?? 2;
  const offset = options.pixelOffset ?? -1;
  if (!Number.isFinite(scale) || !Number.isFinite(offset)) throw new Error(`sobelEnergyDifference: pixelScale and pixelOffset must be finite numbers, got ${scale} and ${offset}`);
  if (images.size !== reconstruction.size || images.rank !== reconstruction.rank) {
    throw new Error(`sobelEnergyDifference: reconstruction [${reconstruction.shape.join(", ")}] must have the shape of images [${images.shape.join(", ")}]`);
  }
  return tf.tidy(() => {
    const energy = (t: tf.Tensor) => tf.mean(tf.square(sobelSum3x3(tf.add(tf.mul(tf.cast(t, "float32"), scale), offset))));
    return tf.abs(tf.sub(energy(images), energy(reconstruction))) as tf.Scalar;
  });
}

/** What `csaeLossTerms` compares. */
export interface CsaeLossInputs {
  /** Input images x ([n, 784], [n, h, w] or [n, h, w, c]). */
  images: tf.Tensor;
  /** Decoder output x*, same shape as images. */
  reconstruction: tf.Tensor;
  /** Encoder output z, [n, d] (before any training noise). */
  latent: tf.Tensor;
  /** The centroid of each sample's class μ_label, [n, d]. */
  targetCentroids: tf.Tensor;
}

/** Options of `csaeLossTerms`: which Loss3 (default "laplacian", eq. 9), and the pixel mapping of the "sobelEnergy" one. */
export interface CsaeLossTermsOptions extends SobelEnergyOptions {
  edgeLoss?: CsaeEdgeLoss;
}

/**
 * Paper 4's three loss terms, named: centroid (Loss1, eq. 6), pixel (Loss2, eq. 7) and laplacian (Loss3, eqs. 8–9),
 * each a mean over elements; with edgeLoss: "sobelEnergy" the third is sobelEnergy, the authors' code's (`sobelEnergyDifference`).
 */
export function csaeLossTerms(inputs: CsaeLossInputs, options?: CsaeLossTermsOptions & { edgeLoss?: "laplacian" }): { centroid: tf.Scalar; pixel: tf.Scalar; laplacian: tf.Scalar };
export function csaeLossTerms(inputs: CsaeLossInputs, options: CsaeLossTermsOptions & { edgeLoss: "sobelEnergy" }): { centroid: tf.Scalar; pixel: tf.Scalar; sobelEnergy: tf.Scalar };
export function csaeLossTerms(inputs: CsaeLossInputs, options?: CsaeLossTermsOptions): LossTerms;
export function csaeLossTerms(inputs: CsaeLossInputs, options: CsaeLossTermsOptions = {}): LossTerms {
  const { images, reconstruction, latent, targetCentroids } = inputs;
  const same = (a: tf.Tensor, b: tf.Tensor) => a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
  if (!same(images, reconstruction)) {
    throw new Error(`csaeLossTerms: reconstruction [${reconstruction.shape.join(", ")}] must have the shape of images [${images.shape.join(", ")}]`);
  }
  if (!same(latent, targetCentroids)) {
    throw new Error(`csaeLossTerms: targetCentroids [${targetCentroids.shape.join(", ")}] must have the shape of latent [${latent.shape.join(", ")}] (one centroid per sample)`);
  }
  const edgeLoss = options.edgeLoss ?? "laplacian";
  if (edgeLoss !== "laplacian" && edgeLoss !== "sobelEnergy") throw new Error(`csaeLossTerms: edgeLoss must be "laplacian" or "sobelEnergy", got ${JSON.stringify(edgeLoss)}`);
  return tf.tidy((): LossTerms => {
    const centroid = meanSquaredError(latent, targetCentroids);
    const pixel = meanSquaredError(reconstruction, images);
    if (edgeLoss === "sobelEnergy") return { centroid, pixel, sobelEnergy: sobelEnergyDifference(images, reconstruction, options) };
    // G is linear, so G∗x* − G∗x = G∗(x* − x): one convolution instead of two.
    const edgeDifference = laplacian3x3(tf.sub(reconstruction, tf.cast(images, "float32")));
    return { centroid, pixel, laplacian: tf.mean(tf.square(edgeDifference)) as tf.Scalar };
  });
}

/** Options of `csaeLoss`. */
export interface CsaeLossOptions {
  /** Class centroids [numClasses, latentDim] (PEDCC, or `randomCentroids`). */
  centroids: tf.Tensor2D;
  /** β of eq. (11): noise amplitude relative to α (default 0.04, the paper's Fashion-MNIST choice and its code's). */
  noiseFactor?: number;
  /** α of eqs. (5) and (11) (default √latentDim). */
  alpha?: number;
  /** Key of the images in the batch record (default "xs"). */
  imagesKey?: string;
  /** Key of the int32 class labels in the batch record (default "labels"). */
  labelsKey?: string;
  /** Loss3: "laplacian" (default, eq. 9) or "sobelEnergy" (the authors' code; weight it with CSAE_AUTHORS_LOSS_WEIGHTS). */
  edgeLoss?: CsaeEdgeLoss;
  /** Pixel mapping of the "sobelEnergy" term (default 2x − 1, our [0, 1] to the authors' [−1, 1]). */
  sobel?: SobelEnergyOptions;
}

/**
 * A `trainModel` loss for CSAE: z = encoder(x); in training z̃ = z + α·β·n0, n0 ~ N(0, I)
 * seeded per step (eqs. 11–12), else z̃ = z; x* = decoder(z̃); returns `csaeLossTerms` with the chosen edgeLoss
 * (weight them with CSAE_LOSS_WEIGHTS, CSAE_AUTHORS_LOSS_WEIGHTS or your own λ1, λ2 through trainModel's lossWeights).
 */
export function csaeLoss(csae: Pick<AutoencoderModel, "encode" | "decode">, options: CsaeLossOptions): LossTermsFn {
  const { centroids } = options;
  if (!(centroids instanceof tf.Tensor) || centroids.rank !== 2) throw new Error("csaeLoss: centroids must be a [numClasses, latentDim] tensor");
  const latentDim = centroids.shape[1];
  const noiseFactor = options.noiseFactor ?? 0.04;
  const alpha = options.alpha ?? Math.sqrt(latentDim);
  if (!(noiseFactor >= 0) || !Number.isFinite(noiseFactor)) throw new Error(`csaeLoss: noiseFactor must be a finite number ≥ 0, got ${noiseFactor}`);
  const imagesKey = options.imagesKey ?? "xs";
  const labelsKey = options.labelsKey ?? "labels";
  const edgeLoss = options.edgeLoss ?? "laplacian";
  if (edgeLoss !== "laplacian" && edgeLoss !== "sobelEnergy") throw new Error(`csaeLoss: edgeLoss must be "laplacian" or "sobelEnergy", got ${JSON.stringify(edgeLoss)}`);
  return (batch: Record<string, tf.Tensor>, context: LossContext): LossTerms => {
    const images = batch[imagesKey];
    const labels = batch[labelsKey];
    if (!images || !labels) {
      throw new Error(`csaeLoss: the batch needs "${imagesKey}" (images) and "${labelsKey}" (int32 labels); it has ${Object.keys(batch).join(", ")}`);
    }
    const latent = csae.encode(images, context.training);
    if (latent.rank !== 2 || latent.shape[1] !== latentDim) {
      throw new Error(`csaeLoss: the encoder gives [${latent.shape.join(", ")}] but the centroids are ${latentDim}-dimensional`);
    }
    const decoderInput = context.training && noiseFactor > 0
      ? tf.add(latent, randomNormalTensor(latent.shape, { stdDev: alpha * noiseFactor, seed: (context.seed >>> 0) + 1 }))
      : latent;
    const reconstruction = csae.decode(decoderInput, context.training);
    const targetCentroids = tf.gather(centroids, tf.cast(labels, "int32"));
    return csaeLossTerms({ images, reconstruction, latent, targetCentroids }, { ...options.sobel, edgeLoss });
  };
}
