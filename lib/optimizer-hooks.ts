/**
 * The hooks through which an accelerator may change how training runs: the Adam and the
 * momentum SGD that `createOptimizer` (lib/train/optimizers.ts) builds. By default they are tfjs's
 * `tf.train.adam` and `tf.train.momentum`; faster optimisers with the same arithmetic
 * (lib/accelerate/fused-adam.ts, fused-momentum.ts, registered by the accelerator when its native
 * addon loads) can take their place, so the teaching code reads as plain tfjs and imports no
 * accelerator code. Weight decay's gradient may be added inside an optimiser's own update
 * (DecayInUpdate), with the arithmetic of `addDecay`, which is what every other optimiser gets.
 */
import * as tf from "@tensorflow/tfjs";

/** Weight decay's gradient for one step: g ← g + factor·v for each of `variables` (factor a float32 value). */
export interface GradientDecay {
  factor: number;
  variables: tf.Variable[];
}

/**
 * The gradients with factor·v added to each decayed variable's (tf.mul, then tf.add: two float32 roundings); new tensors, others
 * as given. For a variable that the loss reads once, these are the bits of autodiff through the term; for one read more than
 * once the tape adds the data gradients first here, so the last bit may differ from a tape that had the term.
 */
export function addDecay(grads: tf.NamedTensorMap, decay: GradientDecay): tf.NamedTensorMap {
  const out: tf.NamedTensorMap = { ...grads };
  for (const v of decay.variables) {
    const g = grads[v.name];
    if (g != null) out[v.name] = tf.add(g, tf.mul(v, decay.factor));
  }
  return out;
}

/** An optimiser that adds weight decay's gradient inside its own update, bit for bit as `addDecay` then applyGradients. */
export interface DecayInUpdate {
  applyGradientsWithDecay(grads: tf.NamedTensorMap, decay: GradientDecay): void;
}

/** Whether `optimizer` adds weight decay inside its update (lib/accelerate's fused momentum SGD does). */
export function decaysInUpdate(optimizer: object): optimizer is DecayInUpdate {
  return typeof (optimizer as Partial<DecayInUpdate>).applyGradientsWithDecay === "function";
}

/** Builds an Adam optimiser from tfjs's four arguments (an AdamOptimizer, or a subclass with its arithmetic). */
export type AdamFactory = (learningRate: number, beta1: number, beta2: number, epsilon?: number) => tf.AdamOptimizer;

/** A factory and a short description of it, for the backend report. */
export interface AdamProvider {
  /** e.g. "tfjs's Adam" or "fused native Adam (one pass per weight)". */
  description: string;
  create: AdamFactory;
}

/** tfjs's own Adam: the default. */
export const TFJS_ADAM: AdamProvider = {
  description: "tfjs's Adam",
  create: (learningRate, beta1, beta2, epsilon) => tf.train.adam(learningRate, beta1, beta2, epsilon),
};

let provider: AdamProvider = TFJS_ADAM;

/** Make `next` the Adam that createOptimizer builds (TFJS_ADAM restores the default); returns the previous one. */
export function registerAdamProvider(next: AdamProvider): AdamProvider {
  if (next == null || typeof next.create !== "function" || typeof next.description !== "string") {
    throw new Error("registerAdamProvider: expected { description: string, create: (learningRate, beta1, beta2, epsilon?) => tf.AdamOptimizer }");
  }
  const previous = provider;
  provider = next;
  return previous;
}

/** The Adam createOptimizer builds now. */
export function adamProvider(): AdamProvider {
  return provider;
}

/** An Adam optimiser from the registered provider (tfjs's unless an accelerator registered its own). */
export function createAdam(learningRate: number, beta1: number, beta2: number, epsilon?: number): tf.AdamOptimizer {
  return provider.create(learningRate, beta1, beta2, epsilon);
}

/** Builds a momentum optimiser from tfjs's three arguments (a MomentumOptimizer, or a subclass with its arithmetic). */
export type MomentumFactory = (learningRate: number, momentum: number, useNesterov: boolean) => tf.MomentumOptimizer;

/** A momentum factory and a short description of it, for the backend report. */
export interface MomentumProvider {
  /** e.g. "tfjs's momentum SGD" or "fused native momentum SGD (one pass per weight)". */
  description: string;
  create: MomentumFactory;
}

/** tfjs's own momentum SGD: the default. */
export const TFJS_MOMENTUM: MomentumProvider = {
  description: "tfjs's momentum SGD",
  create: (learningRate, momentum, useNesterov) => tf.train.momentum(learningRate, momentum, useNesterov),
};

let momentumProviderNow: MomentumProvider = TFJS_MOMENTUM;

/** Make `next` the momentum SGD that createOptimizer builds (TFJS_MOMENTUM restores the default); returns the previous one. */
export function registerMomentumProvider(next: MomentumProvider): MomentumProvider {
  if (next == null || typeof next.create !== "function" || typeof next.description !== "string") {
    throw new Error("registerMomentumProvider: expected { description: string, create: (learningRate, momentum, useNesterov) => tf.MomentumOptimizer }");
  }
  const previous = momentumProviderNow;
  momentumProviderNow = next;
  return previous;
}

/** The momentum SGD createOptimizer builds now. */
export function momentumProvider(): MomentumProvider {
  return momentumProviderNow;
}

/** A momentum optimiser from the registered provider (tfjs's unless an accelerator registered its own). */
export function createMomentum(learningRate: number, momentum: number, useNesterov: boolean): tf.MomentumOptimizer {
  return momentumProviderNow.create(learningRate, momentum, useNesterov);
}
