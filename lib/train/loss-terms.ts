/**
 * Named loss terms: checking what lossTerms returns, the weighted total Σ w_k·t_k and the
 * logged vector [t_1, …, t_K, total], the L2 weight-decay term, and naming a non-finite term.
 */
import * as tf from "@tensorflow/tfjs";
import type { GradientDecay } from "../optimizer-hooks";
import type { LossTerms, TrainOptions, WeightDecayOptions } from "./types";

/** Check a batch's terms: non-empty, scalars, no reserved names, the same names every step. */
export function checkTerms(terms: LossTerms, expected: string[] | null, reserved: string[], fn: string, what: string): string[] {
  if (terms == null || typeof terms !== "object") throw new Error(`${fn}: ${what} must return a record of scalar tensors, e.g. { reconstruction: mse }`);
  const names = Object.keys(terms);
  if (names.length === 0) throw new Error(`${fn}: ${what} returned no terms; return at least one, e.g. { reconstruction: mse }`);
  for (const name of names) {
    const t = terms[name];
    if (!(t instanceof tf.Tensor)) throw new Error(`${fn}: ${what} term '${name}' must be a tf.Scalar`);
    if (t.rank !== 0) throw new Error(`${fn}: ${what} term '${name}' must be a scalar (rank 0), got shape [${t.shape.join(", ")}]; reduce it, e.g. with tf.mean`);
    if (reserved.includes(name)) throw new Error(`${fn}: ${what} may not name a term '${name}' (reserved: ${reserved.join(", ")})`);
  }
  if (expected !== null && (names.length !== expected.length || names.some((n, i) => n !== expected[i]))) {
    throw new Error(`${fn}: ${what} must return the same terms every batch: first [${expected.join(", ")}], now [${names.join(", ")}]`);
  }
  return names;
}

/** Check lossWeights: each names a term (or weightDecay) and is finite. */
export function checkLossWeights(lossWeights: Record<string, number> | undefined, names: string[], fn: string): void {
  if (!lossWeights) return;
  for (const [name, weight] of Object.entries(lossWeights)) {
    if (!names.includes(name)) throw new Error(`${fn}: lossWeights names '${name}', which is not a loss term (terms: ${names.join(", ")})`);
    if (!Number.isFinite(weight)) throw new Error(`${fn}: lossWeights.${name} must be a finite number, got ${weight}`);
  }
}

/** Σ w_k·t_k over the terms, and a vector [t_1, …, t_K, total] (float32). */
export function totalAndVector(terms: LossTerms, names: string[], lossWeights: Record<string, number> | undefined): { total: tf.Scalar; vector: tf.Tensor1D } {
  const values = names.map((n) => (terms[n].dtype === "float32" ? terms[n] : tf.cast(terms[n], "float32")) as tf.Scalar);
  const weighted = values.map((v, i) => {
    const w = lossWeights?.[names[i]];
    return w === undefined || w === 1 ? v : tf.mul(v, w);
  });
  const total = (weighted.length === 1 ? weighted[0] : tf.addN(weighted)) as tf.Scalar;
  return { total, vector: tf.stack([...values, total]) as tf.Tensor1D };
}

/** The first term whose value is NaN or ±Inf, or null. */
export function firstNonFinite(names: string[], values: ArrayLike<number>): { name: string; value: number } | null {
  // Report a named term before "total", which is non-finite whenever one term is.
  for (let i = 0; i < names.length; i++) {
    if (!Number.isFinite(values[i])) return { name: names[i], value: values[i] };
  }
  return null;
}

/** "NaN", "Inf" or "-Inf", as the guard's message names a value. */
export function nonFiniteWord(value: number): string {
  return Number.isNaN(value) ? "NaN" : value > 0 ? "Inf" : "-Inf";
}

/** The weight decay in effect: its rate and the variables it covers. */
export interface WeightDecay {
  rate: number;
  variables: tf.Variable[];
}

/** Resolve TrainOptions.weightDecay over the trained variables; null when unset or rate 0. */
export function resolveWeightDecay(option: TrainOptions["weightDecay"], trained: tf.Variable[], fn: string): WeightDecay | null {
  if (option === undefined) return null;
  const spec: WeightDecayOptions = typeof option === "number" ? { rate: option } : option;
  if (!Number.isFinite(spec.rate) || spec.rate < 0) throw new Error(`${fn}: weightDecay rate must be a non-negative number, got ${spec.rate}`);
  if (spec.rate === 0) return null;
  const variables = spec.variables === undefined ? trained
    : typeof spec.variables === "function" ? trained.filter(spec.variables)
    : spec.variables;
  if (variables.length === 0) throw new Error(`${fn}: weightDecay selects no variables`);
  return { rate: spec.rate, variables };
}

/**
 * A kernel a backend may register (lib/accelerate does, on wasm): Σ_v Σ_i v_i² over its float32 inputs "0", "1", …, as one
 * scalar, bit for bit as tf.addN of each tf.sum(tf.square(v)) on that backend. weightDecayValue runs it where registered.
 */
export const SUM_OF_SQUARES_KERNEL = "AeSumOfSquares";

/**
 * Σ_v ‖v‖² (tf.addN of each tf.sum(tf.square(v)); one kernel where SUM_OF_SQUARES_KERNEL is registered and every v is float32).
 * That kernel has no gradient: take its value outside the gradient tape, as weightDecayValue does, not under tf.grad.
 */
export function sumOfSquares(variables: tf.Tensor[]): tf.Scalar {
  if (tf.getKernel(SUM_OF_SQUARES_KERNEL, tf.getBackend()) !== undefined && variables.every((v) => v.dtype === "float32")) {
    return tf.engine().runKernel(SUM_OF_SQUARES_KERNEL, Object.fromEntries(variables.map((v, i) => [String(i), v]))) as tf.Scalar;
  }
  const squares = variables.map((v) => tf.sum(tf.square(v)));
  return (squares.length === 1 ? squares[0] : tf.addN(squares)) as tf.Scalar;
}

/**
 * The weight-decay term's value (rate/2)·Σ‖v‖², taken outside the gradient tape: its gradient does not go through autodiff
 * (which would add one Multiply and one Add per variable to every step) but is added to the weights' own gradients by the
 * update (weightDecayGradient).
 */
export function weightDecayValue(decay: WeightDecay): tf.Scalar {
  return tf.tidy(() => tf.mul(decay.rate / 2, sumOfSquares(decay.variables))) as tf.Scalar;
}

/**
 * ∂(λ·(rate/2)·Σ‖v‖²)/∂v = (λ·rate)·v for the term weighted λ in the total (λ = 1 when unweighted): the factor in float32,
 * as autodiff of the weighted total would form it (λ and rate each rounded to float32, then their product).
 */
export function weightDecayGradient(decay: WeightDecay, lossWeight = 1): GradientDecay {
  return { factor: Math.fround(Math.fround(lossWeight) * Math.fround(decay.rate)), variables: decay.variables };
}
