/**
 * Measures of generated and reconstructed images, for what paper 4 shows only as pictures
 * (Figures 4–8: CSAE's samples "sharper" than CVAE's, each sample "of its class"):
 *   - sharpness: the variance of the 3×3 Laplacian of each image (Pech-Pacheco et al. 2000), mean over a batch;
 *   - classAccuracyOfSamples: how often a fixed, separately trained classifier recognises each
 *     generated image as the class it was generated for.
 * Reconstruction error is the library's meanSquaredError / preciseMeanSquaredError (lib/metrics.ts).
 */
import * as tf from "@tensorflow/tfjs";
import { predictBatched } from "../train";
import { LAPLACIAN_KERNEL } from "../models/csae";

/** Options of `laplacianVariance` and `meanLaplacianVariance`. */
export interface LaplacianVarianceOptions {
  /**
   * Clip pixels to [lo, hi] first, so that every model is measured on the image as displayed
   * (default [0, 1]; null: no clipping). Overshoot past the pixel range would otherwise count as sharpness.
   */
  clip?: [number, number] | null;
}

/** Images as float32 [n, h, w, c]: [n, h, w, c] as is, [n, h, w] with c = 1, flat [n, d] with a square d. */
function toImages4d(images: tf.Tensor, fn: string): tf.Tensor4D {
  if (!(images instanceof tf.Tensor)) throw new Error(`${fn}: images must be a tf.Tensor`);
  const s = images.shape;
  if (s.length === 4) return tf.cast(images, "float32") as tf.Tensor4D;
  if (s.length === 3) return tf.cast(tf.expandDims(images, -1), "float32") as tf.Tensor4D;
  if (s.length === 2) {
    const side = Math.round(Math.sqrt(s[1]));
    if (side * side !== s[1]) throw new Error(`${fn}: flat images [n, d] need a square d (784 = 28×28), got d = ${s[1]}`);
    return tf.reshape(tf.cast(images, "float32"), [s[0], side, side, 1]);
  }
  throw new Error(`${fn}: images must be [n, d] (square d), [n, h, w] or [n, h, w, c]; got shape [${s.join(", ")}]`);
}

/**
 * Sharpness of each image: the variance (divisor count) of its Laplacian G∗x (G of paper 4, eq. 8) over the
 * interior pixels ("valid" convolution, no padding) and all channels. A float32 tensor [n]; 0 for a constant image.
 */
export function laplacianVariance(images: tf.Tensor, options: LaplacianVarianceOptions = {}): tf.Tensor1D {
  const clip = options.clip === undefined ? [0, 1] : options.clip;
  if (clip !== null && !(Array.isArray(clip) && clip.length === 2 && clip[0] < clip[1])) {
    throw new Error(`laplacianVariance: clip must be [lo, hi] with lo < hi, or null; got ${JSON.stringify(clip)}`);
  }
  return tf.tidy(() => {
    let x = toImages4d(images, "laplacianVariance");
    const [n, h, w, c] = x.shape;
    if (h < 3 || w < 3) throw new Error(`laplacianVariance: images must be at least 3×3 pixels, got ${h}×${w}`);
    if (clip !== null) x = tf.clipByValue(x, clip[0], clip[1]);
    const taps = LAPLACIAN_KERNEL.flat();
    const kernel = tf.tensor4d(Array.from({ length: 9 * c }, (_, i) => taps[Math.floor(i / c)]), [3, 3, c, 1]);
    const g = c === 1 ? tf.conv2d(x, kernel, 1, "valid") : tf.depthwiseConv2d(x, kernel, 1, "valid");
    return tf.moments(tf.reshape(g, [n, -1]), 1).variance as tf.Tensor1D;
  });
}

/** Mean over the batch of `laplacianVariance`: one sharpness number for a set of images (higher: sharper). */
export function meanLaplacianVariance(images: tf.Tensor, options: LaplacianVarianceOptions = {}): tf.Scalar {
  return tf.tidy(() => tf.mean(laplacianVariance(images, options)) as tf.Scalar);
}

/** A classifier: a model with predict, or a function, giving class scores [n, numClasses] (logits or probabilities). */
export type SampleClassifier = { predict(x: tf.Tensor): tf.Tensor | tf.Tensor[] } | ((x: tf.Tensor) => tf.Tensor);

/** Options of `classAccuracyOfSamples`. */
export interface ClassAccuracyOfSamplesOptions {
  /** Images per forward pass (default 256). */
  batchSize?: number;
  /** Applied to each batch of images before the classifier (e.g. reshape to [b, 28, 28, 1], or crop 32×32 to 28×28). */
  transform?: (images: tf.Tensor) => tf.Tensor;
}

/** What `classAccuracyOfSamples` found. */
export interface ClassAccuracyOfSamples {
  /** Fraction of images classified as their intended class. */
  accuracy: number;
  n: number;
  /** Accuracy per intended class (NaN for a class with no images). */
  perClass: number[];
  /** confusion[intended][predicted]: counts. */
  confusion: number[][];
  /** The classifier's class for each image. */
  predicted: Int32Array;
}

/**
 * The accuracy with which a fixed, separately trained classifier recognises each generated image as the
 * class it was generated for (argmax of its scores vs intendedLabels), with per-class accuracy and confusion counts.
 */
export async function classAccuracyOfSamples(
  classifier: SampleClassifier,
  images: tf.Tensor,
  intendedLabels: tf.Tensor | ArrayLike<number>,
  options: ClassAccuracyOfSamplesOptions = {},
): Promise<ClassAccuracyOfSamples> {
  const fn = "classAccuracyOfSamples";
  if (!(typeof classifier === "function" || (classifier != null && typeof classifier.predict === "function"))) {
    throw new Error(`${fn}: classifier must be a model with predict() or a function (images) => scores [n, numClasses]`);
  }
  if (!(images instanceof tf.Tensor) || images.rank < 2) throw new Error(`${fn}: images must be a tf.Tensor [n, …]`);
  const intended = intendedLabels instanceof tf.Tensor ? await intendedLabels.data() : intendedLabels;
  const n = images.shape[0];
  if (intended == null || intended.length !== n) throw new Error(`${fn}: ${intended == null ? "no" : intended.length} intended labels for ${n} images`);
  let numClasses = 0;
  const predictedTensor = predictBatched((batch) => {
    const input = options.transform ? options.transform(batch) : batch;
    const raw = typeof classifier === "function" ? classifier(input) : classifier.predict(input);
    const scores = Array.isArray(raw) ? raw[0] : raw;
    if (!(scores instanceof tf.Tensor) || scores.rank !== 2 || scores.shape[0] !== batch.shape[0]) {
      throw new Error(`${fn}: the classifier must give scores [${batch.shape[0]}, numClasses], got ${scores instanceof tf.Tensor ? `[${scores.shape.join(", ")}]` : typeof scores}`);
    }
    numClasses = scores.shape[1] as number;
    return tf.argMax(scores, 1);
  }, images, { batchSize: options.batchSize ?? 256 });
  const predicted = Int32Array.from(await predictedTensor.data());
  predictedTensor.dispose();
  for (let i = 0; i < n; i++) {
    const c = intended[i];
    if (!(Number.isInteger(c) && c >= 0 && c < numClasses)) throw new Error(`${fn}: intended label ${c} at row ${i} is not a class of the classifier (0..${numClasses - 1})`);
  }
  const confusion = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  let right = 0;
  for (let i = 0; i < n; i++) {
    confusion[intended[i]][predicted[i]]++;
    if (predicted[i] === intended[i]) right++;
  }
  const perClass = confusion.map((row, c) => {
    const total = row.reduce((s, v) => s + v, 0);
    return total === 0 ? NaN : row[c] / total;
  });
  return { accuracy: n === 0 ? NaN : right / n, n, perClass, confusion, predicted };
}
