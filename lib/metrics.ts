/**
 * Evaluation metrics the notebooks share: MSE, MAE, cosine similarity, PSNR, accuracy,
 * and a linear probe (softmax regression on frozen codes). Tensors in, tf.Scalar out,
 * every intermediate inside tf.tidy; read the number with `.dataSync()[0]` or
 * `await s.data()` at a logging point, then dispose it.
 */
import * as tf from "@tensorflow/tfjs";
import { closedFormGradient } from "./closed-form-gradient";
import { trainModel } from "./train";
import { relativeImprovementBelow } from "./stopping";

function checkSameShape(a: tf.Tensor, b: tf.Tensor, fn: string): void {
  if (!(a instanceof tf.Tensor) || !(b instanceof tf.Tensor)) throw new Error(`${fn}: both arguments must be tensors`);
  if (a.size !== b.size || a.shape[0] !== b.shape[0]) {
    throw new Error(`${fn}: the two tensors must hold the same samples, got shapes [${a.shape}] and [${b.shape}]`);
  }
}

/**
 * Mean squared error (1/N) Σ (aᵢ − bᵢ)² over every element, with its gradient in closed form,
 * ∂/∂a = (a − b)·(2·dy/N) = −∂/∂b: one tape node and three kernels where autodiff through the
 * mean and the squared difference runs six (the same products, so the same values).
 */
export function meanSquaredError(a: tf.Tensor, b: tf.Tensor): tf.Scalar {
  checkSameShape(a, b, "meanSquaredError");
  const count = a.size;
  const mse = closedFormGradient<tf.Scalar>(([x, y], save) => {
    save([x, y]);
    return {
      value: tf.mean(tf.squaredDifference(x, y)) as tf.Scalar,
      gradFunc: (dy, [xs, ys]) => {
        const da = tf.mul(tf.sub(xs, ys), tf.mul(tf.div(dy, count), 2));
        return [da, tf.neg(da)];
      },
    };
  });
  return tf.tidy(() => mse(a, b.reshape(a.shape)));
}

/**
 * meanSquaredError read back as a number (a logging point), each sample's squares summed on the
 * device and the samples in float64: one float32 sum over ~10⁷ terms on wasm comes out ~1.5 % low.
 */
export function preciseMeanSquaredError(a: tf.Tensor, b: tf.Tensor): number {
  checkSameShape(a, b, "preciseMeanSquaredError");
  const rows = tf.tidy(() => tf.sum(tf.reshape(tf.squaredDifference(a, b.reshape(a.shape)), [a.shape[0] as number, -1]), 1));
  const sums = rows.dataSync();
  rows.dispose();
  let total = 0;
  for (const v of sums) total += v;
  return total / a.size;
}

/**
 * Each sample's sum of squared differences, averaged over the samples: (1/n) Σₙ Σ_d (aₙd − bₙd)²
 * (= meanSquaredError × values per sample, e.g. 784 × the per-pixel MSE for MNIST). A different
 * quantity from the MSE: the reconstruction loss of papers 2 and 3.
 */
export function meanSumOfSquares(a: tf.Tensor, b: tf.Tensor): tf.Scalar {
  checkSameShape(a, b, "meanSumOfSquares");
  return tf.tidy(() => {
    const n = a.shape[0] as number;
    return tf.mean(tf.sum(tf.reshape(tf.squaredDifference(a, b.reshape(a.shape)), [n, -1]), 1)) as tf.Scalar;
  });
}

/** Mean absolute error (1/N) Σ |aᵢ − bᵢ| over every element. */
export function meanAbsoluteError(a: tf.Tensor, b: tf.Tensor): tf.Scalar {
  checkSameShape(a, b, "meanAbsoluteError");
  return tf.tidy(() => tf.mean(tf.abs(tf.sub(a, b.reshape(a.shape)))) as tf.Scalar);
}

/** Mean over samples of cos(aₙ, bₙ) = aₙ·bₙ / (‖aₙ‖ ‖bₙ‖), each sample flattened; a zero vector counts as cosine 0. */
export function meanCosineSimilarity(a: tf.Tensor, b: tf.Tensor): tf.Scalar {
  checkSameShape(a, b, "meanCosineSimilarity");
  return tf.tidy(() => {
    const n = a.shape[0] as number;
    const a2 = a.reshape([n, -1]);
    const b2 = b.reshape([n, -1]);
    const dot = tf.sum(tf.mul(a2, b2), 1);
    const norms = tf.mul(tf.norm(a2, "euclidean", 1), tf.norm(b2, "euclidean", 1));
    return tf.mean(tf.divNoNan(dot, norms)) as tf.Scalar;
  });
}

export interface PsnrOptions {
  /** The largest possible pixel value (default 1, for images in [0, 1]). */
  maxValue?: number;
}

/** Peak signal-to-noise ratio in dB of `other` against `clean`: 10 log₁₀(max² / MSE), MSE over the whole set. */
export function psnr(clean: tf.Tensor, other: tf.Tensor, options: PsnrOptions = {}): tf.Scalar {
  checkSameShape(clean, other, "psnr");
  const maxValue = options.maxValue ?? 1;
  if (!(maxValue > 0)) throw new Error(`psnr: maxValue must be positive, got ${maxValue}`);
  return tf.tidy(() => {
    return tf.mul(10 / Math.LN10, tf.log(tf.div(maxValue * maxValue, meanSquaredError(clean, other)))) as tf.Scalar;
  });
}

/** Fraction of rows whose largest score is the true class; labels are class ids [n] or one-hot rows [n, C]. */
export function accuracy(scores: tf.Tensor2D, labels: tf.Tensor): tf.Scalar {
  if (!(scores instanceof tf.Tensor) || scores.rank !== 2) throw new Error(`accuracy: scores must be a 2-D tensor [samples, classes], got ${scores instanceof tf.Tensor ? `shape [${scores.shape}]` : typeof scores}`);
  if (!(labels instanceof tf.Tensor) || labels.shape[0] !== scores.shape[0] || labels.rank > 2) {
    throw new Error(`accuracy: labels must be class ids [${scores.shape[0]}] or one-hot rows [${scores.shape[0]}, ${scores.shape[1]}], got ${labels instanceof tf.Tensor ? `shape [${labels.shape}]` : typeof labels}`);
  }
  return tf.tidy(() => {
    const truth = labels.rank === 2 ? tf.argMax(labels, 1) : labels.toInt();
    return tf.mean(tf.equal(tf.argMax(scores, 1), truth).toFloat()) as tf.Scalar;
  });
}

export interface LinearProbeOptions {
  /** Codes of the training set [n, d]. */
  trainX: tf.Tensor2D;
  /** Class ids [n] (int) or one-hot [n, C]. */
  trainLabels: tf.Tensor;
  testX: tf.Tensor2D;
  testLabels: tf.Tensor;
  /** Number of classes (default 10). */
  numClasses?: number;
  /** Default 20; with a tolerance, the most epochs. */
  numEpochs?: number;
  /** Train until converged: stop after the first epoch that lowers the cross-entropy by less than this fraction, (L_{t−1} − L_t) / L_{t−1} < tolerance (default 0: always numEpochs). */
  tolerance?: number;
  /** Default 128. */
  batchSize?: number;
  /** Adam's learning rate (default 0.01). */
  learningRate?: number;
  /** Standardise each code dimension with the training set's mean and std first (default true). */
  standardize?: boolean;
  /** Default 0. */
  seed?: number;
  /** Show the training progress (default false). */
  progress?: boolean;
}

export interface LinearProbeResult {
  trainAccuracy: number;
  testAccuracy: number;
  /** Final training cross-entropy. */
  loss: number;
  /** Epochs trained. */
  epochs: number;
  /** Whether the tolerance rule stopped training before numEpochs (false when tolerance is 0). */
  converged: boolean;
}

function toOneHot(labels: tf.Tensor, n: number, numClasses: number, name: string): tf.Tensor2D {
  if (labels.shape[0] !== n || labels.rank > 2) throw new Error(`linearProbe: ${name} must be class ids [${n}] or one-hot [${n}, ${numClasses}], got shape [${labels.shape}]`);
  if (labels.rank === 2 && labels.shape[1] !== numClasses) throw new Error(`linearProbe: ${name} is one-hot with ${labels.shape[1]} classes, expected numClasses = ${numClasses}`);
  return tf.tidy(() => (labels.rank === 2 ? labels.toFloat() : tf.oneHot(labels.toInt() as tf.Tensor1D, numClasses).toFloat()) as tf.Tensor2D);
}

/** How linearly separable the codes are: softmax regression p = softmax(xW + b) trained with cross-entropy (through trainModel), accuracy on train and test. */
export async function linearProbe(options: LinearProbeOptions): Promise<LinearProbeResult> {
  const { trainX, testX } = options;
  const numClasses = options.numClasses ?? 10;
  for (const [name, x] of [["trainX", trainX], ["testX", testX]] as const) {
    if (!(x instanceof tf.Tensor) || x.rank !== 2) throw new Error(`linearProbe: ${name} must be a 2-D tensor [samples, features], got ${x instanceof tf.Tensor ? `shape [${x.shape}]` : typeof x}`);
  }
  if (trainX.shape[1] !== testX.shape[1]) throw new Error(`linearProbe: trainX and testX must have the same width, got ${trainX.shape[1]} and ${testX.shape[1]}`);
  if (!Number.isInteger(numClasses) || numClasses < 2) throw new Error(`linearProbe: numClasses must be an integer ≥ 2, got ${numClasses}`);
  const d = trainX.shape[1];
  const standardize = options.standardize ?? true;
  const tolerance = options.tolerance ?? 0;
  if (!Number.isFinite(tolerance) || tolerance < 0 || tolerance >= 1) throw new Error(`linearProbe: tolerance must be a number in [0, 1), got ${tolerance}`);
  const { mean, std } = tf.tidy(() => {
    if (!standardize) return { mean: tf.zeros([d]), std: tf.ones([d]) };
    const m = tf.moments(trainX, 0);
    return { mean: m.mean, std: tf.add(tf.sqrt(m.variance), 1e-6) };
  });
  const prep = (x: tf.Tensor2D) => tf.tidy(() => tf.div(tf.sub(x, mean), std) as tf.Tensor2D);
  const trainInputs = prep(trainX);
  const testInputs = prep(testX);
  const trainTargets = toOneHot(options.trainLabels, trainX.shape[0], numClasses, "trainLabels");
  const testTargets = toOneHot(options.testLabels, testX.shape[0], numClasses, "testLabels");
  const weights = tf.tidy(() => tf.variable(tf.zeros([d, numClasses]), true));
  const bias = tf.tidy(() => tf.variable(tf.zeros([numClasses]), true));
  const logits = (x: tf.Tensor) => tf.add(tf.matMul(x as tf.Tensor2D, weights), bias) as tf.Tensor2D;
  try {
    const history = await trainModel({
      data: { x: trainInputs, y: trainTargets },
      variables: [weights, bias],
      /** Cross-entropy of softmax(xW + b) against the one-hot labels. */
      lossTerms: (batch) => ({ crossEntropy: tf.losses.softmaxCrossEntropy(batch.y, logits(batch.x)) as tf.Scalar }),
      optimizer: { name: "adam", learningRate: options.learningRate ?? 0.01 },
      numEpochs: options.numEpochs ?? 20,
      batchSize: options.batchSize ?? 128,
      seed: options.seed ?? 0,
      progress: options.progress ?? false,
      label: "linear probe",
      stopWhen: tolerance > 0 ? relativeImprovementBelow(tolerance) : undefined,
    });
    const score = (x: tf.Tensor2D, y: tf.Tensor2D) => {
      const s = tf.tidy(() => accuracy(logits(x), y));
      const value = s.dataSync()[0];
      s.dispose();
      return value;
    };
    const terms = history.terms.crossEntropy ?? history.terms.total;
    return { trainAccuracy: score(trainInputs, trainTargets), testAccuracy: score(testInputs, testTargets), loss: terms[terms.length - 1], epochs: history.epochs.length, converged: history.stoppedEarly };
  } finally {
    tf.dispose([mean, std, trainInputs, testInputs, trainTargets, testTargets, weights, bias]);
  }
}

/** Mean binary cross-entropy −[x log r + (1 − x) log(1 − r)] of probabilities r (e.g. sigmoid outputs) against targets x in [0, 1], over every element; r is clipped to [ε, 1 − ε]. */
export function binaryCrossEntropy(x: tf.Tensor, r: tf.Tensor, epsilon = 1e-7): tf.Scalar {
  checkSameShape(x, r, "binaryCrossEntropy");
  if (!(epsilon > 0 && epsilon < 0.5)) throw new Error(`binaryCrossEntropy: epsilon must be in (0, 0.5), got ${epsilon}`);
  return tf.tidy(() => {
    const p = tf.clipByValue(r.reshape(x.shape), epsilon, 1 - epsilon);
    return tf.neg(tf.mean(tf.add(tf.mul(x, tf.log(p)), tf.mul(tf.sub(1, x), tf.log(tf.sub(1, p)))))) as tf.Scalar;
  });
}

export interface KnnAccuracyOptions {
  /** Reference codes [n, d] with their class ids. */
  trainX: tf.Tensor2D;
  trainLabels: ArrayLike<number>;
  /** Codes to classify [m, d] with their true class ids. */
  testX: tf.Tensor2D;
  testLabels: ArrayLike<number>;
  /** Neighbours that vote (default 10). */
  k?: number;
  /** Test rows per distance block (default 500; bounds memory at chunk × n floats). */
  chunk?: number;
}

/** Share of test rows whose k nearest training rows (Euclidean) vote for the true class; a tied vote goes to the smaller class id. */
export function knnAccuracy(options: KnnAccuracyOptions): number {
  const fn = "knnAccuracy";
  const { trainX, testX, trainLabels, testLabels } = options;
  const k = options.k ?? 10;
  const chunk = options.chunk ?? 500;
  for (const [name, x] of [["trainX", trainX], ["testX", testX]] as const) {
    if (!(x instanceof tf.Tensor) || x.rank !== 2) throw new Error(`${fn}: ${name} must be a 2-D tensor [rows, features], got ${x instanceof tf.Tensor ? `shape [${x.shape}]` : typeof x}`);
  }
  if (trainX.shape[1] !== testX.shape[1]) throw new Error(`${fn}: trainX and testX must have the same width, got ${trainX.shape[1]} and ${testX.shape[1]}`);
  if (trainLabels.length !== trainX.shape[0]) throw new Error(`${fn}: trainLabels has ${trainLabels.length} entries for ${trainX.shape[0]} rows of trainX`);
  if (testLabels.length !== testX.shape[0]) throw new Error(`${fn}: testLabels has ${testLabels.length} entries for ${testX.shape[0]} rows of testX`);
  if (!Number.isInteger(k) || k < 1 || k > trainX.shape[0]) throw new Error(`${fn}: k must be an integer in [1, ${trainX.shape[0]}] (the training rows), got ${k}`);
  if (!Number.isInteger(chunk) || chunk < 1) throw new Error(`${fn}: chunk must be a positive integer, got ${chunk}`);
  const trainNorms = tf.tidy(() => tf.sum(tf.square(trainX), 1));
  let correct = 0;
  try {
    for (let start = 0; start < testX.shape[0]; start += chunk) {
      const size = Math.min(chunk, testX.shape[0] - start);
      const neighbours = tf.tidy(() => {
        const a = testX.slice([start, 0], [size, -1]);
        // ‖a − b‖² = ‖a‖² − 2a·b + ‖b‖²; ‖a‖² does not change the ranking within a row.
        const distances = tf.add(tf.mul(-2, tf.matMul(a, trainX, false, true)), trainNorms);
        return tf.topk(tf.neg(distances), k).indices;
      });
      const ids = neighbours.dataSync();
      neighbours.dispose();
      for (let i = 0; i < size; i++) {
        const votes = new Map<number, number>();
        for (let j = 0; j < k; j++) {
          const label = trainLabels[ids[i * k + j]];
          votes.set(label, (votes.get(label) ?? 0) + 1);
        }
        let best = Infinity, bestVotes = -1;
        for (const [label, count] of votes) if (count > bestVotes || (count === bestVotes && label < best)) [best, bestVotes] = [label, count];
        if (best === testLabels[start + i]) correct++;
      }
    }
  } finally {
    trainNorms.dispose();
  }
  return correct / testX.shape[0];
}
