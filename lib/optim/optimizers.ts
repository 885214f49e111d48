/**
 * The four optimisers of paper 2 (a learning-process demo), written from its equations
 * (7)–(15): SGD, Momentum, RMSProp and Adam. Each is a `CustomOptimizer` that
 * `trainModel` accepts (`optimizer: createAdamOptimizer({ learningRate: 0.005 })`), keeps
 * its state in tf.Variables (one set per trained variable, created at the first step) and
 * frees it in `dispose()`.
 *
 * Where the paper's printed form and TensorFlow.js's optimisers differ, options pick the
 * form: `epsilonPlacement` (ε added outside or inside the square root) and, for Adam,
 * `timeStep` (t counts optimiser steps, or epochs as the original program does).
 */
import * as tf from "@tensorflow/tfjs";
import type { CustomOptimizer, OptimizerStepState } from "../train";

/** The optimisers of equations (7)–(15). */
export type EquationOptimizerName = "sgd" | "momentum" | "rmsprop" | "adam";

/** The names createEquationOptimizer accepts. */
export const EQUATION_OPTIMIZER_NAMES: readonly EquationOptimizerName[] = ["sgd", "momentum", "rmsprop", "adam"];

/** Where ε enters the denominator: √v + ε ("outside") or √(v + ε) ("inside"). */
export type EpsilonPlacement = "outside" | "inside";

export interface EquationOptimizerOptions {
  /** α, the learning rate (η in the program's form). */
  learningRate: number;
  /** β₁ of Momentum (8) and Adam (13); default 0.9. */
  beta1?: number;
  /** β₂ of RMSProp (11) and Adam (14); default 0.999 (the program's default; the paper calls 0.99 usual for RMSProp). */
  beta2?: number;
  /** ε of RMSProp (12) and Adam (15); default 1e-8 (the program's). */
  epsilon?: number;
  /** Default: RMSProp "outside" as in (12); Adam "inside" as (15) is printed. The program's code and tf.train.adam put it outside for Adam; tf.train.rmsprop puts it inside. */
  epsilonPlacement?: EpsilonPlacement;
  /** Adam's t in (13)–(14): "step" (1-based optimiser step, as tf.train.adam) or "epoch" (1-based epoch, as the original program). Default "step". */
  timeStep?: "step" | "epoch";
}

/** A hand-written optimiser with its name, resolved hyperparameters and step count. */
export interface EquationOptimizer extends CustomOptimizer {
  readonly name: EquationOptimizerName;
  learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly epsilonPlacement: EpsilonPlacement;
  readonly timeStep: "step" | "epoch";
  /** Steps applied so far. */
  readonly iterations: number;
  /** Copies of the state m and/or v, one tensor per variable (the caller disposes them); undefined before the first step. */
  state(): { m?: tf.Tensor[]; v?: tf.Tensor[] } | undefined;
  update(variables: tf.Variable[], gradients: tf.Tensor[], state?: Partial<OptimizerStepState>): void;
  dispose(): void;
}

function checkUnitInterval(value: number, name: string, fn: string): void {
  if (!Number.isFinite(value) || value < 0 || value >= 1) throw new Error(`${fn}: ${name} must be a number in [0, 1), got ${value}`);
}

/** Check the options of an equation optimiser and fill in defaults. */
function resolveOptions(name: EquationOptimizerName, options: EquationOptimizerOptions, fn: string) {
  if (options == null || typeof options !== "object") throw new Error(`${fn}: options must be an object such as { learningRate: 0.005 }`);
  const { learningRate } = options;
  if (typeof learningRate !== "number" || !Number.isFinite(learningRate) || learningRate <= 0) {
    throw new Error(`${fn}: learningRate must be a positive number, got ${learningRate}`);
  }
  const beta1 = options.beta1 ?? 0.9;
  const beta2 = options.beta2 ?? 0.999;
  const epsilon = options.epsilon ?? 1e-8;
  checkUnitInterval(beta1, "beta1", fn);
  checkUnitInterval(beta2, "beta2", fn);
  if (!Number.isFinite(epsilon) || epsilon < 0) throw new Error(`${fn}: epsilon must be a non-negative number, got ${epsilon}`);
  const epsilonPlacement = options.epsilonPlacement ?? (name === "adam" ? "inside" : "outside");
  if (epsilonPlacement !== "inside" && epsilonPlacement !== "outside") {
    throw new Error(`${fn}: epsilonPlacement must be "inside" or "outside", got ${JSON.stringify(epsilonPlacement)}`);
  }
  const timeStep = options.timeStep ?? "step";
  if (timeStep !== "step" && timeStep !== "epoch") throw new Error(`${fn}: timeStep must be "step" or "epoch", got ${JSON.stringify(timeStep)}`);
  return { learningRate, beta1, beta2, epsilon, epsilonPlacement, timeStep } as const;
}

/** The denominator √v + ε or √(v + ε). */
function rootWithEpsilon(v: tf.Tensor, epsilon: number, placement: EpsilonPlacement): tf.Tensor {
  return placement === "inside" ? tf.sqrt(tf.add(v, epsilon)) : tf.add(tf.sqrt(v), epsilon);
}

/** Build one of the optimisers of equations (7)–(15) by name. */
export function createEquationOptimizer(name: EquationOptimizerName, options: EquationOptimizerOptions): EquationOptimizer {
  const fn = `create${name === "sgd" ? "Sgd" : name === "momentum" ? "Momentum" : name === "rmsprop" ? "RmsProp" : name === "adam" ? "Adam" : ""}Optimizer`;
  if (!(EQUATION_OPTIMIZER_NAMES as readonly string[]).includes(name)) {
    throw new Error(`createEquationOptimizer: name must be one of ${EQUATION_OPTIMIZER_NAMES.map((n) => `"${n}"`).join(", ")}, got ${JSON.stringify(name)}`);
  }
  const resolved = resolveOptions(name, options, fn);
  const { beta1, beta2, epsilon, epsilonPlacement, timeStep } = resolved;
  const needsM = name === "momentum" || name === "adam";
  const needsV = name === "rmsprop" || name === "adam";
  // State (m, v) is kept for all variables at once, as one flat vector θ (the paper's "vector containing all of the
  // model parameters"): a step is then a dozen tensor ops instead of a dozen per variable.
  let tracked: tf.Variable[] | null = null;
  let sizes: number[] = [];
  let m: tf.Variable | null = null;
  let v: tf.Variable | null = null;
  let iterations = 0;
  let disposed = false;

  const optimizer: EquationOptimizer = {
    name,
    learningRate: resolved.learningRate,
    beta1, beta2, epsilon, epsilonPlacement, timeStep,
    get iterations() { return iterations; },
    state() {
      if (tracked === null) return undefined;
      const split = (flat: tf.Variable | null) => (flat === null ? undefined : tf.tidy(() => tf.split(flat, sizes).map((part, i) => tf.reshape(part, tracked![i].shape))));
      return { m: split(m), v: split(v) };
    },
    update(variables, gradients, stepState = {}) {
      if (disposed) throw new Error(`${fn}: this optimiser has been disposed`);
      if (!Array.isArray(variables) || !Array.isArray(gradients) || variables.length !== gradients.length || variables.length === 0) {
        throw new Error(`${fn}: update needs one gradient per variable, got ${variables?.length} variables and ${gradients?.length} gradients`);
      }
      variables.forEach((variable, i) => {
        if (!(variable instanceof tf.Variable)) throw new Error(`${fn}: variables[${i}] must be a tf.Variable`);
        const g = gradients[i];
        if (!(g instanceof tf.Tensor)) throw new Error(`${fn}: gradients[${i}] (for ${variable.name}) must be a tensor, got ${g}`);
        if (g.shape.length !== variable.shape.length || g.shape.some((d, k) => d !== variable.shape[k])) {
          throw new Error(`${fn}: gradient ${i} has shape [${g.shape.join(", ")}] but variable ${variable.name} has [${variable.shape.join(", ")}]`);
        }
      });
      if (tracked === null) {
        tracked = [...variables];
        sizes = variables.map((x) => x.size);
        const total = sizes.reduce((s, x) => s + x, 0);
        if (needsM) m = tf.tidy(() => tf.variable(tf.zeros([total]), false));
        if (needsV) v = tf.tidy(() => tf.variable(tf.zeros([total]), false));
      } else if (variables.length !== tracked.length || variables.some((x, i) => x !== tracked![i])) {
        throw new Error(`${fn}: update must get the same variables, in the same order, at every step (its state m, v belongs to them)`);
      }
      const alpha = optimizer.learningRate;
      if (!Number.isFinite(alpha) || alpha < 0) throw new Error(`${fn}: learningRate must be a non-negative number, got ${alpha}`);
      // t of (13)–(14): 1-based.
      let t = iterations + 1;
      if (name === "adam" && timeStep === "epoch") {
        t = stepState.epoch ?? NaN;
        if (!Number.isInteger(t) || t < 1) throw new Error(`${fn}: timeStep "epoch" needs state.epoch (a 1-based integer), got ${stepState.epoch}`);
      }
      tf.tidy(() => {
        if (name === "sgd") {
          variables.forEach((x, i) => x.assign(tf.sub(x, tf.mul(gradients[i], alpha)))); // (7)
          return;
        }
        const g = variables.length === 1 ? tf.reshape(gradients[0], [-1]) : tf.concat(gradients.map((x) => tf.reshape(x, [-1])));
        let step: tf.Tensor;
        if (name === "momentum") {
          const mNew = tf.add(tf.mul(m!, beta1), tf.mul(g, 1 - beta1)); // (8)
          m!.assign(mNew);
          step = mNew; // (9)
        } else if (name === "rmsprop") {
          const vNew = tf.add(tf.mul(v!, beta2), tf.mul(tf.square(g), 1 - beta2)); // (10)–(11)
          v!.assign(vNew);
          step = tf.div(g, rootWithEpsilon(vNew, epsilon, epsilonPlacement)); // (12)
        } else {
          const mNew = tf.add(tf.mul(m!, beta1), tf.mul(g, 1 - beta1)); // (8)
          const vNew = tf.add(tf.mul(v!, beta2), tf.mul(tf.square(g), 1 - beta2)); // (11)
          m!.assign(mNew);
          v!.assign(vNew);
          const mHat = tf.div(mNew, 1 - Math.pow(beta1, t)); // (13)
          const vHat = tf.div(vNew, 1 - Math.pow(beta2, t)); // (14)
          step = tf.div(mHat, rootWithEpsilon(vHat, epsilon, epsilonPlacement)); // (15)
        }
        const delta = tf.mul(step, alpha);
        const parts = variables.length === 1 ? [delta] : tf.split(delta, sizes);
        variables.forEach((x, i) => x.assign(tf.sub(x, tf.reshape(parts[i], x.shape))));
      });
      iterations++;
    },
    dispose() {
      m?.dispose();
      v?.dispose();
      m = v = null;
      tracked = null;
      disposed = true;
    },
  };
  return optimizer;
}

/** Stochastic gradient descent, eq. (7): θᵢ = θᵢ₋₁ − α∇J. */
export function createSgdOptimizer(options: EquationOptimizerOptions): EquationOptimizer {
  return createEquationOptimizer("sgd", options);
}

/** Momentum, eqs. (8)–(9): m = β₁m + (1−β₁)∇J, θ −= αm (the EMA form; tf.train.momentum(α(1−β₁), β₁) is the same). */
export function createMomentumOptimizer(options: EquationOptimizerOptions): EquationOptimizer {
  return createEquationOptimizer("momentum", options);
}

/** RMSProp, eqs. (10)–(12): v = β₂v + (1−β₂)∇J⊙∇J, θ −= α∇J/(√v + ε). */
export function createRmsPropOptimizer(options: EquationOptimizerOptions): EquationOptimizer {
  return createEquationOptimizer("rmsprop", options);
}

/** Adam, eqs. (8), (11), (13)–(15): bias-corrected m and v, θ −= α·m̂/√(v̂ + ε) (ε inside as printed; "outside" as tf.train.adam). */
export function createAdamOptimizer(options: EquationOptimizerOptions): EquationOptimizer {
  return createEquationOptimizer("adam", options);
}
