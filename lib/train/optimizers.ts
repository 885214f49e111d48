/**
 * Optimisers: built-in ones from a spec (Adam and momentum SGD through the hooks in lib/optimizer-hooks.ts, so
 * an accelerator can register a faster one with the same arithmetic), learning-rate
 * schedules, and the one interface the loop drives whatever the caller passed.
 */
import * as tf from "@tensorflow/tfjs";
import { addDecay, createAdam, createMomentum, decaysInUpdate, GradientDecay } from "../optimizer-hooks";
import type { CustomOptimizer, OptimizerName, OptimizerSpec, OptimizerStepState, TrainOptions } from "./types";

/** Scheduled learning rate: initial·factor^⌊(epoch−1)/every⌋ (e.g. every 30 epochs ÷10: { every: 30, factor: 0.1 }). */
export function stepDecay(options: { every: number; factor: number }): (epoch: number, initialLearningRate: number) => number {
  const { every, factor } = options;
  if (!Number.isInteger(every) || every < 1) throw new Error(`stepDecay: every must be a positive integer, got ${every}`);
  if (!Number.isFinite(factor) || factor <= 0) throw new Error(`stepDecay: factor must be a positive number, got ${factor}`);
  return (epoch, initial) => initial * Math.pow(factor, Math.floor((epoch - 1) / every));
}

const DEFAULT_LEARNING_RATES: Record<OptimizerName, number> = {
  sgd: 0.01, momentum: 0.01, adagrad: 0.01, adam: 0.001, rmsprop: 0.001, adadelta: 0.001, adamax: 0.002,
};

/**
 * Free everything a tf optimiser holds. tfjs 4.22's MomentumOptimizer.dispose() frees its
 * momentum scalar and slots but not the learning-rate scalar it inherits from SGD, so a
 * plain dispose() leaves one tensor per momentum optimiser; this frees that too.
 */
export function disposeOptimizer(optimizer: tf.Optimizer): void {
  optimizer.dispose();
  const learningRateScalar = (optimizer as unknown as { c?: tf.Tensor }).c;
  if (learningRateScalar instanceof tf.Tensor && !learningRateScalar.isDisposed) learningRateScalar.dispose();
}

/** Build a tf optimiser from a spec (the caller disposes it, with disposeOptimizer). */
export function createOptimizer(spec: OptimizerSpec): tf.Optimizer {
  if (!(spec.name in DEFAULT_LEARNING_RATES)) {
    throw new Error(`createOptimizer: unknown optimizer ${JSON.stringify(spec.name)}; expected one of ${Object.keys(DEFAULT_LEARNING_RATES).join(", ")}`);
  }
  const lr = spec.learningRate ?? DEFAULT_LEARNING_RATES[spec.name];
  if (!Number.isFinite(lr) || lr < 0) throw new Error(`createOptimizer: learningRate must be a non-negative number, got ${lr}`);
  switch (spec.name) {
    case "sgd": return tf.train.sgd(lr);
    // tfjs's momentum SGD, or an accelerator's with the same arithmetic (lib/optimizer-hooks.ts).
    case "momentum": return createMomentum(lr, spec.momentum ?? 0.9, spec.useNesterov ?? false);
    // tfjs's Adam, or an accelerator's with the same arithmetic (lib/optimizer-hooks.ts).
    case "adam": return createAdam(lr, spec.beta1 ?? 0.9, spec.beta2 ?? 0.999, spec.epsilon);
    case "rmsprop": return tf.train.rmsprop(lr, spec.decay ?? 0.9, spec.momentum ?? 0, spec.epsilon, spec.centered ?? false);
    case "adagrad": return tf.train.adagrad(lr);
    case "adamax": return tf.train.adamax(lr, spec.beta1 ?? 0.9, spec.beta2 ?? 0.999, spec.epsilon, spec.decay ?? 0);
    case "adadelta": return tf.train.adadelta(lr, spec.rho ?? 0.95, spec.epsilon);
  }
}

/** The loop's view of any optimiser: a tf one, one built from a spec (owned: disposed here), or a hand-written one. */
export interface ResolvedOptimizer {
  /** One update from `grads` (by variable name), weight decay's gradient added first where `decay` is given (addDecay's arithmetic). */
  apply(variables: tf.Variable[], grads: tf.NamedTensorMap, state: OptimizerStepState, decay?: GradientDecay | null): void;
  setLearningRate(lr: number): void;
  learningRate(): number;
  dispose(): void;
}

/** Wrap what TrainOptions.optimizer holds (default: Adam, learning rate 1e-3) as a ResolvedOptimizer. */
export function resolveOptimizer(optimizer: TrainOptions["optimizer"], fn: string): ResolvedOptimizer {
  const spec = optimizer ?? { name: "adam" as const, learningRate: 0.001 };
  const readLr = (o: object): number => {
    const lr = (o as { learningRate?: unknown }).learningRate;
    return typeof lr === "number" ? lr : NaN;
  };
  if (typeof (spec as CustomOptimizer).update === "function" && typeof (spec as tf.Optimizer).applyGradients !== "function") {
    const custom = spec as CustomOptimizer;
    return {
      apply: (variables, grads, state, decay) => {
        const decayed = decay ? addDecay(grads, decay) : grads;
        custom.update(variables, variables.map((v) => decayed[v.name]), state);
      },
      setLearningRate: (lr) => { custom.learningRate = lr; },
      learningRate: () => readLr(custom),
      dispose: () => {},
    };
  }
  let owned = false;
  let tfOptimizer: tf.Optimizer;
  if (typeof (spec as tf.Optimizer).applyGradients === "function") tfOptimizer = spec as tf.Optimizer;
  else if (typeof (spec as OptimizerSpec).name === "string") {
    tfOptimizer = createOptimizer(spec as OptimizerSpec);
    owned = true;
  } else {
    throw new Error(`${fn}: optimizer must be a tf.Optimizer, a spec such as { name: "adam", learningRate: 1e-3 }, or an object with update(variables, gradients, state)`);
  }
  return {
    apply: (_variables, grads, _state, decay) => {
      if (!decay) tfOptimizer.applyGradients(grads);
      else if (decaysInUpdate(tfOptimizer)) tfOptimizer.applyGradientsWithDecay(grads, decay);
      else tfOptimizer.applyGradients(addDecay(grads, decay));
    },
    setLearningRate: (lr) => {
      const withSetter = tfOptimizer as unknown as { setLearningRate?: (lr: number) => void; learningRate?: number };
      if (typeof withSetter.setLearningRate === "function") withSetter.setLearningRate(lr);
      else withSetter.learningRate = lr;
    },
    learningRate: () => readLr(tfOptimizer),
    dispose: () => { if (owned) disposeOptimizer(tfOptimizer); },
  };
}
