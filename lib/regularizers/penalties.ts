/**
 * Sparsity and contraction penalties of paper 3 (regularised autoencoders survey), with the
 * closed forms used to check them:
 *
 *   (2) L1 activation penalty      Ω₁(a) = Σⱼ |aⱼ|                      (per sample, batch mean)
 *   (3) mean activation            ρ̂ⱼ = (1/m) Σᵢ aⱼ(xᵢ)                  (over the m batch samples)
 *   (4) KL sparsity penalty        Ω_KL = Σⱼ KL(ρ‖ρ̂ⱼ),  KL(ρ‖ρ̂) = ρ log(ρ/ρ̂) + (1−ρ) log((1−ρ)/(1−ρ̂))
 *   (5) its derivative             ∂KL/∂ρ̂ = −ρ/ρ̂ + (1−ρ)/(1−ρ̂)
 *   (7) contractive penalty        Ω_C = ‖J_h(x)‖²_F,  J_h = ∂h/∂x
 *   (8) sigmoid encoder closed form ‖J‖²_F = Σⱼ (hⱼ(1−hⱼ))² Σᵢ Wᵢⱼ²     (h = σ(xW + b), W is [inputs, units])
 *
 * The penalties return the unweighted quantity; the weight λ (β) is the caller's (e.g. as
 * `lossWeights` of ae.trainModel). Every function frees its intermediates.
 */
import * as tf from "@tensorflow/tfjs";
import { rowwiseJacobian } from "./spectrum";

function checkLiveTensor(x: unknown, name: string, fn: string): asserts x is tf.Tensor {
  if (!(x instanceof tf.Tensor)) throw new Error(`${fn}: ${name} must be a tf.Tensor`);
  if (x.isDisposed) throw new Error(`${fn}: ${name} has been disposed`);
}

function checkBatch(x: unknown, name: string, fn: string): asserts x is tf.Tensor2D {
  checkLiveTensor(x, name, fn);
  if (x.rank !== 2) throw new Error(`${fn}: ${name} must be [samples, units] (rank 2), got shape [${x.shape.join(", ")}]`);
  if (x.shape[0] === 0) throw new Error(`${fn}: ${name} has no samples`);
}

function checkTargetSparsity(rho: number, fn: string): void {
  if (!(rho > 0 && rho < 1)) throw new Error(`${fn}: targetSparsity ρ must lie strictly between 0 and 1, got ${rho}`);
}

/** L1 activation penalty Σⱼ |aⱼ| of each sample, averaged over the batch (eq. 2, without λ). */
export function l1ActivationPenalty(activations: tf.Tensor): tf.Scalar {
  checkLiveTensor(activations, "activations", "l1ActivationPenalty");
  if (activations.rank < 2) throw new Error(`l1ActivationPenalty: activations must be [samples, …] (rank ≥ 2), got shape [${activations.shape.join(", ")}]`);
  return tf.tidy(() => tf.div(tf.sum(tf.abs(activations)), activations.shape[0]) as tf.Scalar);
}

/** Mean activation ρ̂ⱼ = (1/m) Σᵢ aⱼ(xᵢ) of every unit over the m samples of a batch (eq. 3). */
export function meanActivation(activations: tf.Tensor2D): tf.Tensor1D {
  checkBatch(activations, "activations", "meanActivation");
  return tf.mean(activations, 0) as tf.Tensor1D;
}

/** KL(ρ‖ρ̂) between Bernoulli(ρ) and Bernoulli(ρ̂), in nats (eq. 4, one unit); plain numbers. */
export function bernoulliKl(rho: number, rhoHat: number): number {
  checkTargetSparsity(rho, "bernoulliKl");
  if (!(rhoHat > 0 && rhoHat < 1)) throw new Error(`bernoulliKl: rhoHat must lie strictly between 0 and 1, got ${rhoHat}`);
  return rho * Math.log(rho / rhoHat) + (1 - rho) * Math.log((1 - rho) / (1 - rhoHat));
}

/** ∂KL(ρ‖ρ̂)/∂ρ̂ = −ρ/ρ̂ + (1−ρ)/(1−ρ̂) (eq. 5): zero at ρ̂ = ρ, negative below, positive above. */
export function bernoulliKlDerivative(rho: number, rhoHat: number): number {
  checkTargetSparsity(rho, "bernoulliKlDerivative");
  if (!(rhoHat > 0 && rhoHat < 1)) throw new Error(`bernoulliKlDerivative: rhoHat must lie strictly between 0 and 1, got ${rhoHat}`);
  return -rho / rhoHat + (1 - rho) / (1 - rhoHat);
}

/** Elementwise KL(ρ‖ρ̂) for a tensor of mean activations ρ̂ ∈ (0, 1) (eq. 4). */
export function bernoulliKlTensor(rho: number, rhoHat: tf.Tensor): tf.Tensor {
  checkTargetSparsity(rho, "bernoulliKlTensor");
  checkLiveTensor(rhoHat, "rhoHat", "bernoulliKlTensor");
  return tf.tidy(() => tf.add(
    tf.mul(rho, tf.log(tf.div(rho, rhoHat))),
    tf.mul(1 - rho, tf.log(tf.div(1 - rho, tf.sub(1, rhoHat)))),
  ));
}

/** Elementwise closed-form derivative ∂KL(ρ‖ρ̂)/∂ρ̂ = −ρ/ρ̂ + (1−ρ)/(1−ρ̂) (eq. 5). */
export function bernoulliKlGradient(rho: number, rhoHat: tf.Tensor): tf.Tensor {
  checkTargetSparsity(rho, "bernoulliKlGradient");
  checkLiveTensor(rhoHat, "rhoHat", "bernoulliKlGradient");
  return tf.tidy(() => tf.add(tf.neg(tf.div(rho, rhoHat)), tf.div(1 - rho, tf.sub(1, rhoHat))));
}

export interface KlSparsityOptions {
  /** The target mean activation ρ (default 0.05). */
  targetSparsity?: number;
  /** ρ̂ is clipped to [ε, 1−ε] so the logarithms stay finite (default 1e-6). */
  epsilon?: number;
}

/** KL sparsity penalty Σⱼ KL(ρ‖ρ̂ⱼ) over the units of [samples, units] activations in (0, 1) (eqs. 3–4, without β). */
export function klSparsityPenalty(activations: tf.Tensor2D, options: KlSparsityOptions = {}): tf.Scalar {
  const fn = "klSparsityPenalty";
  checkBatch(activations, "activations", fn);
  const rho = options.targetSparsity ?? 0.05;
  checkTargetSparsity(rho, fn);
  const epsilon = options.epsilon ?? 1e-6;
  if (!(epsilon > 0 && epsilon < 0.5)) throw new Error(`${fn}: epsilon must lie in (0, 0.5), got ${epsilon}`);
  return tf.tidy(() => {
    const rhoHat = tf.clipByValue(tf.mean(activations, 0), epsilon, 1 - epsilon);
    return tf.sum(bernoulliKlTensor(rho, rhoHat)) as tf.Scalar;
  });
}

/** The Figure 5 curve: KL(ρ‖ρ̂) on `numPoints` values of ρ̂ evenly spread over (0, 1), ends excluded. */
export function klPenaltyCurve(rho: number, options: { numPoints?: number } = {}): { rhoHat: number[]; kl: number[] } {
  checkTargetSparsity(rho, "klPenaltyCurve");
  const n = options.numPoints ?? 199;
  if (!Number.isInteger(n) || n < 2) throw new Error(`klPenaltyCurve: numPoints must be an integer ≥ 2, got ${n}`);
  const rhoHat = Array.from({ length: n }, (_, i) => (i + 1) / (n + 1));
  return { rhoHat, kl: rhoHat.map((r) => bernoulliKl(rho, r)) };
}

// ---------------------------------------------------------------------------
// Contractive penalty
// ---------------------------------------------------------------------------

function checkSigmoidPair(hidden: unknown, kernel: unknown, fn: string): asserts hidden is tf.Tensor2D {
  checkBatch(hidden, "hidden", fn);
  checkLiveTensor(kernel, "kernel", fn);
  if (kernel.rank !== 2) throw new Error(`${fn}: kernel must be the encoder's [inputs, units] weight matrix (rank 2), got shape [${kernel.shape.join(", ")}]`);
  if (kernel.shape[1] !== hidden.shape[1]) {
    throw new Error(`${fn}: kernel has ${kernel.shape[1]} units (shape [${kernel.shape.join(", ")}]) but hidden has ${hidden.shape[1]} (shape [${hidden.shape.join(", ")}])`);
  }
}

/**
 * ‖J_h(x)‖²_F of a sigmoid encoder h = σ(xW + b), per sample, in closed form (eq. 8):
 * Σⱼ (hⱼ(1−hⱼ))² Σᵢ Wᵢⱼ². `hidden` is h for a batch [n, units], `kernel` is W [inputs, units]. Returns [n].
 */
export function sigmoidJacobianNormSquared(hidden: tf.Tensor2D, kernel: tf.Tensor2D): tf.Tensor1D {
  checkSigmoidPair(hidden, kernel, "sigmoidJacobianNormSquared");
  return tf.tidy(() => {
    const slope = tf.mul(hidden, tf.sub(1, hidden)); // σ'(z) = h(1 − h)
    const columnNorms = tf.sum(tf.square(kernel), 0); // Σᵢ Wᵢⱼ², [units]
    return tf.sum(tf.mul(tf.square(slope), columnNorms), 1) as tf.Tensor1D;
  });
}

/** Contractive penalty: the batch mean of ‖J_h(x)‖²_F for a sigmoid encoder (eqs. 7–8, without λ). */
export function contractivePenalty(hidden: tf.Tensor2D, kernel: tf.Tensor2D): tf.Scalar {
  checkSigmoidPair(hidden, kernel, "contractivePenalty");
  return tf.tidy(() => tf.mean(sigmoidJacobianNormSquared(hidden, kernel)) as tf.Scalar);
}

/**
 * The Jacobian ∂f(x)/∂x [units, inputs] of a vector function f at one point x [inputs], built
 * by autodiff one row at a time: tf.grad of a vector function returns the gradient of its sum,
 * so row j is tf.grad(x ↦ f(x)ⱼ)(x). For checking closed forms (cost: one backward pass per unit).
 */
export function autodiffJacobian(f: (x: tf.Tensor1D) => tf.Tensor, x: tf.Tensor1D): tf.Tensor2D {
  const fn = "autodiffJacobian";
  if (typeof f !== "function") throw new Error(`${fn}: f must be a function x [inputs] → [units]`);
  checkLiveTensor(x, "x", fn);
  if (x.rank !== 1) throw new Error(`${fn}: x must be one point, a rank-1 tensor [inputs], got shape [${x.shape.join(", ")}]`);
  return tf.tidy(() => {
    const probe = f(x);
    if (!(probe instanceof tf.Tensor) || probe.rank !== 1) {
      throw new Error(`${fn}: f must return a rank-1 tensor [units] for a rank-1 x, got ${probe instanceof tf.Tensor ? `shape [${probe.shape.join(", ")}]` : typeof probe}`);
    }
    // One point as a batch of one: row j of J is rowwiseJacobian's tf.grad of unit j.
    const asRows = (batch: tf.Tensor2D) => tf.expandDims(f(tf.squeeze(batch, [0]) as tf.Tensor1D), 0);
    return tf.squeeze(rowwiseJacobian(asRows, tf.expandDims(x, 0) as tf.Tensor2D), [0]) as tf.Tensor2D;
  });
}

/** The Jacobian of h = σ(xW + b) at one point x, in closed form: Jⱼᵢ = hⱼ(1−hⱼ)·Wᵢⱼ, [units, inputs]. */
export function sigmoidEncoderJacobian(x: tf.Tensor1D, kernel: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  const fn = "sigmoidEncoderJacobian";
  checkLiveTensor(x, "x", fn);
  checkLiveTensor(kernel, "kernel", fn);
  checkLiveTensor(bias, "bias", fn);
  if (x.rank !== 1 || kernel.rank !== 2 || kernel.shape[0] !== x.shape[0] || bias.rank !== 1 || bias.shape[0] !== kernel.shape[1]) {
    throw new Error(`${fn}: expected x [inputs], kernel [inputs, units], bias [units]; got [${x.shape}], [${kernel.shape}], [${bias.shape}]`);
  }
  return tf.tidy(() => {
    const h = tf.sigmoid(tf.add(tf.matMul(tf.expandDims(x, 0), kernel), bias)); // [1, units]
    const slope = tf.reshape(tf.mul(h, tf.sub(1, h)), [kernel.shape[1], 1]);
    return tf.mul(slope, tf.transpose(kernel)) as tf.Tensor2D;
  });
}
