/**
 * Batch normalisation in training as one differentiable op with its gradient in closed form:
 *   forward   μ = mean(x), σ² = mean((x − μ)²) over every axis but the last (channels);
 *             y = γ·x̂ + β with x̂ = (x − μ)/√(σ² + ε), then max(0, y) when `relu`          (BN.1)
 *   backward  g = ∂L/∂y (times 1[y > 0] under ReLU); ∂L/∂β = Σg, ∂L/∂γ = Σg·x̂;
 *             ∂L/∂x = γ/√(σ² + ε) · (g − Σg/N − x̂·Σ(g·x̂)/N)                              (BN.2)
 * (N values per channel). Autodiff through tfjs's broadcasting ops takes about twenty kernels for
 * this, each a pass over the feature map; (BN.2) takes a few. A backend may also register the two
 * kernels named in BATCH_NORM_KERNELS (inputs and outputs as documented there) to run each
 * direction as one kernel; where the current backend has them they are used, else tfjs ops.
 */
import * as tf from "@tensorflow/tfjs";
import { closedFormGradient } from "../closed-form-gradient";

/**
 * Kernel names a backend may register (float32 only):
 *   forward       inputs { x, gamma, beta }, attrs { epsilon, relu } → [y, mean, variance]          (BN.1)
 *   gradient      inputs { dy, x, gamma, beta, mean, variance }, attrs { epsilon, relu } → [dx, dgamma, dbeta] (BN.2)
 *   movingAverage inputs { average, value }, attrs { momentum } → average·m + value·(1 − m)           (BN.3)
 *                 with each product and the sum rounded to float32 (no gradient)
 */
export const BATCH_NORM_KERNELS = { forward: "AeBatchNormTraining", gradient: "AeBatchNormTrainingGrad", movingAverage: "AeMovingAverage" } as const;

/** Options of {@link batchNormTraining}. */
export interface BatchNormTrainingOptions {
  /** ε of (BN.1) (default 1e-3, tfjs's). */
  epsilon?: number;
  /** Apply ReLU after the affine map (default false). */
  relu?: boolean;
}

/** The normalised output and the batch statistics it used. */
export interface BatchNormTrainingResult {
  y: tf.Tensor;
  /** μ per channel, [C]. */
  mean: tf.Tensor1D;
  /** σ² per channel (biased, divided by N), [C]. */
  variance: tf.Tensor1D;
}

const hasKernel = (name: string) => tf.getKernel(name, tf.getBackend()) !== undefined;

/** (BN.1) by tfjs ops: y, μ, σ². */
function forwardByOps(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number, relu: boolean): tf.Tensor[] {
  const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
  const { mean, variance } = tf.moments(x, axes);
  const scale = tf.mul(gamma, tf.rsqrt(tf.add(variance, epsilon)));
  const y = tf.add(tf.mul(tf.sub(x, mean), scale), beta);
  return [relu ? tf.relu(y) : y, mean, variance];
}

/** (BN.2) by tfjs ops: dx, dγ, dβ. */
function gradientByOps(dy: tf.Tensor, x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor, epsilon: number, relu: boolean): tf.Tensor[] {
  const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
  const n = x.size / x.shape[x.rank - 1];
  const invStd = tf.rsqrt(tf.add(variance, epsilon));
  const scale = tf.mul(gamma, invStd);
  const centred = tf.sub(x, mean);
  const g = relu ? tf.mul(dy, tf.step(tf.add(tf.mul(centred, scale), beta))) : dy;
  const sumG = tf.sum(g, axes);
  const sumGCentred = tf.sum(tf.mul(g, centred), axes);
  // dx = s·(g + a·(x − μ) + b) with s = γ/√(σ²+ε), a = −Σ(g(x−μ))/(N(σ²+ε)), b = −Σg/N.
  const a = tf.neg(tf.div(tf.mul(sumGCentred, tf.square(invStd)), n));
  const b = tf.neg(tf.div(sumG, n));
  const dx = tf.mul(tf.add(tf.add(g, tf.mul(centred, a)), b), scale);
  return [dx, tf.mul(sumGCentred, invStd), sumG];
}

/**
 * Batch norm with batch statistics (training), (BN.1), differentiable in x, γ and β by (BN.2).
 * x is [..., C] float32; gamma and beta [C]. Returns y and the statistics (for moving averages;
 * they carry no gradient).
 */
export function batchNormTraining(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, options: BatchNormTrainingOptions = {}): BatchNormTrainingResult {
  const epsilon = options.epsilon ?? 1e-3;
  const relu = options.relu ?? false;
  const channels = x.shape[x.rank - 1];
  if (x.rank < 2 || x.dtype !== "float32") throw new Error(`batchNormTraining: x must be a float32 tensor [..., C] of rank ≥ 2, got ${x.dtype} [${x.shape.join(", ")}]`);
  for (const [name, t] of [["gamma", gamma], ["beta", beta]] as const) {
    if (t.rank !== 1 || t.shape[0] !== channels) throw new Error(`batchNormTraining: ${name} must be [${channels}] (x's channels), got [${t.shape.join(", ")}]`);
  }
  if (!(epsilon >= 0) || !Number.isFinite(epsilon)) throw new Error(`batchNormTraining: epsilon must be a finite number ≥ 0, got ${epsilon}`);
  const attrs = { epsilon, relu };
  let statistics: tf.Tensor[] = [];
  const op = closedFormGradient(([xIn, gammaIn, betaIn], save) => {
    const [y, mean, variance] = hasKernel(BATCH_NORM_KERNELS.forward)
      ? (tf.engine().runKernel(BATCH_NORM_KERNELS.forward, { x: xIn, gamma: gammaIn, beta: betaIn }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[])
      : forwardByOps(xIn, gammaIn, betaIn, epsilon, relu);
    statistics = [tf.keep(mean), tf.keep(variance)]; // outlive customGrad's tidy; re-tracked below
    save([xIn, gammaIn, betaIn, mean, variance]);
    return {
      value: y,
      gradFunc: (g, [xs, gs, bs, ms, vs]) => (hasKernel(BATCH_NORM_KERNELS.gradient)
        ? (tf.engine().runKernel(BATCH_NORM_KERNELS.gradient, { dy: g, x: xs, gamma: gs, beta: bs, mean: ms, variance: vs }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[])
        : gradientByOps(g, xs, gs, bs, ms, vs, epsilon, relu)),
    };
  });
  const y = op(x, gamma, beta);
  const [mean, variance] = statistics.map((t) => tf.clone(t) as tf.Tensor1D);
  tf.dispose(statistics);
  return { y, mean, variance };
}

/**
 * A moving statistic's update (BN.3): average·m + value·(1 − m), the values of
 * tf.add(tf.mul(average, m), tf.mul(value, 1 − m)) bit for bit, as one kernel where the backend
 * registers BATCH_NORM_KERNELS.movingAverage (else those ops). Not differentiable: statistics only.
 */
export function movingAverage(average: tf.Tensor, value: tf.Tensor, momentum: number): tf.Tensor {
  if (!Number.isFinite(momentum)) throw new Error(`movingAverage: momentum must be a finite number, got ${momentum}`);
  if (average.dtype !== "float32" || value.dtype !== "float32" || !tf.util.arraysEqual(average.shape, value.shape)) {
    throw new Error(`movingAverage: average and value must be float32 tensors of one shape, got ${average.dtype} [${average.shape.join(", ")}] and ${value.dtype} [${value.shape.join(", ")}]`);
  }
  if (hasKernel(BATCH_NORM_KERNELS.movingAverage)) {
    return tf.engine().runKernel(BATCH_NORM_KERNELS.movingAverage, { average, value }, { momentum } as unknown as tf.NamedAttrMap) as tf.Tensor;
  }
  return tf.tidy(() => tf.add(tf.mul(average, momentum), tf.mul(value, 1 - momentum)));
}
