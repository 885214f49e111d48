/**
 * Inverse functions of the layers of paper 1's abstract network (Wei & Ren, "A Functionally
 * Separate Autoencoder"): dense layers (pseudo-inverse), sigmoid (logit), leaky ReLU, and the
 * paper's stand-in for the softmax inverse, eq. (4): ln((y + ε) / (1 − y + ε)).
 * All take and return tensors; each runs in tf.tidy.
 */
import * as tf from "@tensorflow/tfjs";
import { pseudoInverse } from "../linalg";

/** Keras' ε, the paper's 1e-7 in eq. (4). */
export const SOFTMAX_INVERSE_EPSILON = 1e-7;

function checkTensor(x: unknown, name: string, fn: string): tf.Tensor {
  if (!(x instanceof tf.Tensor)) throw new Error(`${fn}: ${name} must be a tf.Tensor, got ${x === null ? "null" : typeof x}`);
  if (x.isDisposed) throw new Error(`${fn}: ${name} is disposed`);
  return x;
}

function checkEpsilon(epsilon: number, fn: string): number {
  if (!Number.isFinite(epsilon) || epsilon < 0) throw new Error(`${fn}: epsilon must be a finite number ≥ 0, got ${epsilon}`);
  return epsilon;
}

/** Check the slope of a leaky ReLU: 0 < α < 1 (α = 0 is a plain ReLU, which has no inverse). */
export function checkLeakyReluAlpha(alpha: number, fn: string): number {
  if (!Number.isFinite(alpha) || alpha <= 0 || alpha >= 1) {
    throw new Error(`${fn}: alpha must lie in (0, 1) (α = 0 is a plain ReLU: every negative input maps to 0, so no inverse exists), got ${alpha}`);
  }
  return alpha;
}

/** Options of `leakyReluInverse`. */
export interface LeakyReluInverseOptions {
  /** Slope of the forward leaky ReLU for x < 0 (default 0.3, Keras' default). */
  alpha?: number;
}

/** Inverse of the leaky ReLU y = max(x, αx) (0 < α < 1): x = min(y, y/α) (the paper's formula). */
export function leakyReluInverse(y: tf.Tensor, options: LeakyReluInverseOptions = {}): tf.Tensor {
  const fn = "leakyReluInverse";
  checkTensor(y, "y", fn);
  const alpha = checkLeakyReluAlpha(options.alpha ?? 0.3, fn);
  return tf.tidy(() => tf.minimum(y, tf.div(y, alpha)));
}

/** Options of `logit` and `softmaxInverseApprox`. */
export interface LogitOptions {
  /** Added to numerator and denominator: ln((y + ε)/(1 − y + ε)) (default 0: the exact logit). */
  epsilon?: number;
}

/** Inverse of the sigmoid y = 1/(1 + e^−x): x = ln(y/(1 − y)), or ln((y + ε)/(1 − y + ε)) with ε > 0. */
export function logit(y: tf.Tensor, options: LogitOptions = {}): tf.Tensor {
  const fn = "logit";
  checkTensor(y, "y", fn);
  const epsilon = checkEpsilon(options.epsilon ?? 0, fn);
  return tf.tidy(() => {
    const p = tf.cast(y, "float32");
    return tf.sub(tf.log(tf.add(p, epsilon)), tf.log(tf.add(tf.sub(1, p), epsilon)));
  });
}

/**
 * The paper's replacement for the inverse of softmax, eq. (4): x̃ᵢ = ln((yᵢ + ε)/(1 − yᵢ + ε)),
 * i.e. eq. (3) xᵢ = ln(yᵢ·Σ_{j≠i} e^{xⱼ}/(1 − yᵢ)) with Σ_{j≠i} e^{xⱼ} set to 1 (ε default 1e-7).
 */
export function softmaxInverseApprox(y: tf.Tensor, options: LogitOptions = {}): tf.Tensor {
  return logit(y, { epsilon: options.epsilon ?? SOFTMAX_INVERSE_EPSILON });
}

/**
 * The exact inverse of softmax up to its free additive constant: xᵢ = ln yᵢ − mean_j ln yⱼ
 * (the logits that sum to zero; softmax(x + c) = softmax(x) for every c). Needs yᵢ > 0.
 */
export function softmaxInverseCentered(y: tf.Tensor): tf.Tensor {
  checkTensor(y, "y", "softmaxInverseCentered");
  return tf.tidy(() => {
    const logY = tf.log(tf.cast(y, "float32"));
    return tf.sub(logY, tf.mean(logY, -1, true));
  });
}

/**
 * The term eq. (4) drops from eq. (3), per class: ln Σ_{j≠i} e^{xⱼ} for logits x ([n, k] or [k]).
 * Eq. (3) says xᵢ = ln(yᵢ/(1 − yᵢ)) + ln Σ_{j≠i} e^{xⱼ} exactly.
 */
export function softmaxInverseDroppedTerm(logits: tf.Tensor): tf.Tensor {
  checkTensor(logits, "logits", "softmaxInverseDroppedTerm");
  return tf.tidy(() => {
    const x = tf.cast(logits, "float32");
    // ln(Σ_j e^{xⱼ} − e^{xᵢ}) = lse + ln(1 − softmaxᵢ), computed stably.
    const lse = tf.logSumExp(x, -1, true);
    return tf.add(lse, tf.log1p(tf.neg(tf.softmax(x))));
  });
}

/** Options of `roundProbabilities`. */
export interface RoundOptions {
  /** Values at or above it become 1, below it 0 (default 0.5: Math.round). */
  threshold?: number;
}

/**
 * The paper's round function between the two halves: every probability becomes 0 or 1, so a
 * confident prediction becomes the one-hot label (a row with no probability ≥ 0.5 becomes all zeros).
 */
export function roundProbabilities(y: tf.Tensor, options: RoundOptions = {}): tf.Tensor {
  const fn = "roundProbabilities";
  checkTensor(y, "y", fn);
  const threshold = options.threshold ?? 0.5;
  if (!Number.isFinite(threshold)) throw new Error(`${fn}: threshold must be a finite number, got ${threshold}`);
  return tf.tidy(() => tf.cast(tf.greaterEqual(y, threshold), "float32"));
}

/** Weights of the inverse of a dense layer, in tfjs's row convention y = x·W + b (W: [nIn, nOut]). */
export interface DenseInverseWeights {
  /** W⁺: [nOut, nIn]. */
  kernel: tf.Tensor2D;
  /** −b·W⁺: [nIn]. */
  bias: tf.Tensor1D;
}

/** Options of `denseInverseWeights` and `denseInverse`. */
export interface DenseInverseOptions {
  /** Relative cut-off of small singular values in the pseudo-inverse (default 1e-6). */
  rcond?: number;
}

function checkDense(kernel: tf.Tensor, bias: tf.Tensor | null | undefined, fn: string): void {
  checkTensor(kernel, "kernel", fn);
  if (kernel.rank !== 2) throw new Error(`${fn}: kernel must be a 2-D [nIn, nOut] tensor, got shape [${kernel.shape.join(", ")}]`);
  if (bias != null) {
    checkTensor(bias, "bias", fn);
    if (bias.rank !== 1 || bias.shape[0] !== kernel.shape[1]) {
      throw new Error(`${fn}: bias must have shape [${kernel.shape[1]}] (the kernel's nOut), got [${bias.shape.join(", ")}]`);
    }
  }
}

/**
 * The least-squares inverse of y = x·W + b: x̂ = (y − b)·W⁺ = y·W⁺ + (−b·W⁺), a dense layer
 * itself (eq. (1) with the pseudo-inverse for w⁻¹). Exact (x̂ = x) when W has full row rank
 * nIn ≤ nOut; otherwise x̂ is the minimum-norm x with x̂·W + b = y (the null-space part is lost).
 */
export function denseInverseWeights(kernel: tf.Tensor2D, bias?: tf.Tensor1D | null, options: DenseInverseOptions = {}): DenseInverseWeights {
  const fn = "denseInverseWeights";
  checkDense(kernel, bias, fn);
  return tf.tidy(() => {
    const pinv = pseudoInverse(tf.cast(kernel, "float32") as tf.Tensor2D, { rcond: options.rcond ?? 1e-6 });
    const inverseBias = bias == null
      ? tf.zeros([kernel.shape[0]]) as tf.Tensor1D
      : tf.neg(tf.matMul(tf.reshape(tf.cast(bias, "float32"), [1, -1]), pinv)).reshape([-1]) as tf.Tensor1D;
    return { kernel: pinv, bias: inverseBias };
  });
}

/** Apply the least-squares inverse of a dense layer to y ([n, nOut] → [n, nIn]): (y − b)·W⁺. */
export function denseInverse(y: tf.Tensor2D, kernel: tf.Tensor2D, bias?: tf.Tensor1D | null, options: DenseInverseOptions = {}): tf.Tensor2D {
  const fn = "denseInverse";
  checkDense(kernel, bias, fn);
  checkTensor(y, "y", fn);
  if (y.rank !== 2 || y.shape[1] !== kernel.shape[1]) {
    throw new Error(`${fn}: y must have shape [n, ${kernel.shape[1]}] (the kernel's nOut), got [${y.shape.join(", ")}]`);
  }
  return tf.tidy(() => {
    const w = denseInverseWeights(kernel, bias, options);
    return tf.add(tf.matMul(tf.cast(y, "float32"), w.kernel), w.bias) as tf.Tensor2D;
  });
}

/** Options of `convolutionMatrix`. */
export interface ConvolutionMatrixOptions {
  /** Default 1. */
  strides?: number;
  /** Default "valid" (the paper's choice). */
  padding?: "valid" | "same";
}

/**
 * The explicit matrix M of a 2-D convolution on one [h, w, cIn] input (row convention
 * vec(y) = vec(x)·M, M: [h·w·cIn, h'·w'·cOut]); built by convolving the standard basis, so only
 * for small inputs (at most 4096 input values).
 */
export function convolutionMatrix(kernel: tf.Tensor4D, inputShape: [number, number, number], options: ConvolutionMatrixOptions = {}): tf.Tensor2D {
  const fn = "convolutionMatrix";
  checkTensor(kernel, "kernel", fn);
  if (kernel.rank !== 4) throw new Error(`${fn}: kernel must be 4-D [kh, kw, cIn, cOut], got shape [${kernel.shape.join(", ")}]`);
  if (!Array.isArray(inputShape) || inputShape.length !== 3 || inputShape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new Error(`${fn}: inputShape must be [height, width, channels] of positive integers, got ${JSON.stringify(inputShape)}`);
  }
  if (inputShape[2] !== kernel.shape[2]) throw new Error(`${fn}: inputShape has ${inputShape[2]} channels but the kernel expects ${kernel.shape[2]}`);
  const size = inputShape[0] * inputShape[1] * inputShape[2];
  if (size > 4096) throw new Error(`${fn}: inputShape ${JSON.stringify(inputShape)} has ${size} values; at most 4096 (the matrix is dense)`);
  return tf.tidy(() => {
    const basis = tf.reshape(tf.eye(size), [size, ...inputShape]) as tf.Tensor4D;
    const out = tf.conv2d(basis, tf.cast(kernel, "float32") as tf.Tensor4D, options.strides ?? 1, options.padding ?? "valid");
    return tf.reshape(out, [size, -1]) as tf.Tensor2D;
  });
}
