/**
 * The dense autoencoder of paper 2's learning-process demo: layers L₁ … L_N with one
 * interior code layer of exactly 2 units, the same activation σ on every layer after the
 * input (identity, sigmoid or tanh, eqs. 4–6), z_l = W_l·a_{l−1} + b_l (1), a_l = σ(z_l) (2),
 * weights and biases drawn from 0.1·N(0, 1) with a seed — as the original program.
 *
 * Also: the closed-form activation derivatives, the objective (3) and the program's
 * mean sum of squares, and backpropagation written out (checked against autodiff in tests).
 */
import * as tf from "@tensorflow/tfjs";
import { createRng, randomNormal } from "../random";
import type { Autoencoder } from "../models/autoencoder";
import { meanSquaredError } from "../metrics";

/** The activations of eqs. (4)–(6). */
export type DemoActivation = "identity" | "sigmoid" | "tanh";

/** The activations the demo autoencoder accepts. */
export const DEMO_ACTIVATIONS: readonly DemoActivation[] = ["identity", "sigmoid", "tanh"];

/** How weight gradients are reduced over a mini-batch: "mean" (of the mean loss) or "program" (weights summed over the batch, biases averaged, as the original program's backpropagation). */
export type GradientConvention = "mean" | "program";

export interface DemoAutoencoderOptions {
  /** Units per layer, input first; default [4, 6, 2, 5, 4]. Input and output sizes must match. */
  layerSizes?: number[];
  /** Index into layerSizes of the 2-unit code layer; default: the only interior layer with 2 units. */
  codeLayer?: number;
  /** σ of every layer after the input (default "tanh"). */
  activation?: DemoActivation;
  /** Weights and biases start as weightScale·N(0, 1) (default 0.1). */
  weightScale?: number;
  /** Seed of the initial weights (default 0). */
  seed?: number;
}

/** A plain snapshot of the parameters: weights[l] is W_{l+2} (outputs × inputs), biases[l] its bias. */
export interface DemoParameters {
  weights: number[][][];
  biases: number[][];
}

export interface DemoForwardOptions {
  /** Multiply the gradient reaching every W_l by this (the value is unchanged); "program" convention uses the batch size. Default 1. */
  weightGradientScale?: number;
}

/** What a demo network (or an ensemble of them) is: layer sizes, which layer is the 2-unit code, the activation. */
export interface DemoArchitecture {
  readonly layerSizes: readonly number[];
  readonly codeLayer: number;
  readonly activation: DemoActivation;
}

export interface DemoAutoencoder extends DemoArchitecture, Autoencoder<tf.Tensor2D, tf.Tensor2D> {
  /** W_2 … W_N, each [n_l, n_{l−1}] (z = W·a + b). */
  readonly weights: tf.Variable[];
  /** b_2 … b_N. */
  readonly biases: tf.Variable[];
  /** [W_2, b_2, W_3, b_3, …], what trainModel trains. */
  readonly variables: tf.Variable[];
  /** z_l and a_l of every layer for row-wise inputs x (n × n_1): zs[l−2], activations[l−1] (activations[0] = x). */
  forward(x: tf.Tensor2D, options?: DemoForwardOptions): { zs: tf.Tensor2D[]; activations: tf.Tensor2D[] };
  /** The 2-D codes a_code (n × 2). */
  encode(x: tf.Tensor2D): tf.Tensor2D;
  /** The layers after the code layer applied to 2-D codes (n × 2): the output a_N. */
  decode(code: tf.Tensor2D): tf.Tensor2D;
  /** The output a_N (n × n_N). */
  reconstruct(x: tf.Tensor2D, options?: DemoForwardOptions): tf.Tensor2D;
  /** A plain copy of the current weights and biases. */
  parameters(): DemoParameters;
  /** Overwrite the weights and biases (same shapes). */
  setParameters(parameters: DemoParameters): void;
  /** Σ_l |W_l| + |b_l|. */
  readonly paramCount: number;
  /** The same count, as a method (tfjs's name for it). */
  countParams(): number;
  dispose(): void;
}

/** σ(z) of eqs. (4)–(6). */
export function applyDemoActivation(name: DemoActivation, z: tf.Tensor): tf.Tensor {
  switch (name) {
    case "identity": return z;
    case "sigmoid": return tf.sigmoid(z);
    case "tanh": return tf.tanh(z);
    default: throw new Error(`applyDemoActivation: activation must be one of ${DEMO_ACTIVATIONS.join(", ")}, got ${JSON.stringify(name)}`);
  }
}

/** σ′(z) in closed form: identity 1, sigmoid σ(1 − σ), tanh 1 − tanh². */
export function demoActivationDerivative(name: DemoActivation, z: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    switch (name) {
      case "identity": return tf.onesLike(z);
      case "sigmoid": {
        const s = tf.sigmoid(z);
        return tf.mul(s, tf.sub(1, s));
      }
      case "tanh": return tf.sub(1, tf.square(tf.tanh(z)));
      default: throw new Error(`demoActivationDerivative: activation must be one of ${DEMO_ACTIVATIONS.join(", ")}, got ${JSON.stringify(name)}`);
    }
  });
}

/** Identity in value, gradient times `scale` (used for the program's summed weight gradients). */
export function scaleGradient<T extends tf.Tensor>(x: T, scale: number): T {
  if (scale === 1) return x;
  const op = tf.customGrad(((input: tf.Tensor) => ({ value: tf.clone(input), gradFunc: (dy: tf.Tensor) => tf.mul(dy, scale) })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x) as T;
}

/** Eq. (3) over a batch: √(mean over samples and coordinates of (y − a)²) = √(meanSumOfSquares / d). The program's loss is metrics' meanSumOfSquares. */
export function rootMeanSquareError(target: tf.Tensor2D, output: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.sqrt(meanSquaredError(target, output)) as tf.Scalar);
}

/** Check layer sizes and the code layer; returns the code layer's index. */
export function checkDemoArchitecture(layerSizes: readonly number[], codeLayer: number | undefined, fn: string): number {
  if (!Array.isArray(layerSizes) || layerSizes.length < 3) {
    throw new Error(`${fn}: layerSizes must list at least 3 layers (input, a 2-unit code layer, output), got ${JSON.stringify(layerSizes)}`);
  }
  layerSizes.forEach((s, i) => {
    if (!Number.isInteger(s) || s < 1) throw new Error(`${fn}: layerSizes[${i}] must be a positive integer, got ${s}`);
  });
  if (layerSizes[0] !== layerSizes[layerSizes.length - 1]) {
    throw new Error(`${fn}: the input layer (${layerSizes[0]} units) and the output layer (${layerSizes[layerSizes.length - 1]} units) must have the same size`);
  }
  if (codeLayer === undefined) {
    const candidates = layerSizes.map((s, i) => i).filter((i) => i > 0 && i < layerSizes.length - 1 && layerSizes[i] === 2);
    if (candidates.length !== 1) {
      throw new Error(`${fn}: cannot tell the code layer: ${candidates.length === 0 ? "no interior layer has 2 units" : `interior layers ${candidates.join(", ")} all have 2 units`} in ${JSON.stringify(layerSizes)}; set codeLayer`);
    }
    return candidates[0];
  }
  if (!Number.isInteger(codeLayer) || codeLayer <= 0 || codeLayer >= layerSizes.length - 1) {
    throw new Error(`${fn}: codeLayer must index an interior layer (1 … ${layerSizes.length - 2}) of ${JSON.stringify(layerSizes)}, got ${codeLayer}`);
  }
  if (layerSizes[codeLayer] !== 2) {
    throw new Error(`${fn}: the code layer (layer ${codeLayer}) must have exactly 2 units, got ${layerSizes[codeLayer]}`);
  }
  return codeLayer;
}

function checkActivationName(activation: string, fn: string): DemoActivation {
  if (!(DEMO_ACTIVATIONS as readonly string[]).includes(activation)) {
    throw new Error(`${fn}: activation must be one of ${DEMO_ACTIVATIONS.map((a) => `"${a}"`).join(", ")}, got ${JSON.stringify(activation)}`);
  }
  return activation as DemoActivation;
}

/** Initial parameters as the program draws them: for each layer W then b, every entry weightScale·N(0, 1) from one seeded stream. */
export function drawDemoParameters(layerSizes: readonly number[], weightScale: number, seed: number): DemoParameters {
  const rng = createRng(seed);
  const draw = () => Math.fround(weightScale * randomNormal(rng));
  const weights: number[][][] = [];
  const biases: number[][] = [];
  for (let l = 1; l < layerSizes.length; l++) {
    const [out, inp] = [layerSizes[l], layerSizes[l - 1]];
    weights.push(Array.from({ length: out }, () => Array.from({ length: inp }, draw)));
    biases.push(Array.from({ length: out }, draw));
  }
  return { weights, biases };
}

/** Build the demo's dense autoencoder (default 4-6-2-5-4, tanh), parameters 0.1·N(0, 1) from `seed`. */
export function demoAutoencoder(options: DemoAutoencoderOptions = {}): DemoAutoencoder {
  const fn = "demoAutoencoder";
  const layerSizes = [...(options.layerSizes ?? [4, 6, 2, 5, 4])];
  const codeLayer = checkDemoArchitecture(layerSizes, options.codeLayer, fn);
  const activation = checkActivationName(options.activation ?? "tanh", fn);
  const weightScale = options.weightScale ?? 0.1;
  if (!Number.isFinite(weightScale) || weightScale < 0) throw new Error(`${fn}: weightScale must be a non-negative number, got ${weightScale}`);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new Error(`${fn}: seed must be an integer, got ${seed}`);

  const initial = drawDemoParameters(layerSizes, weightScale, seed);
  const weights = initial.weights.map((w) => tf.tidy(() => tf.variable(tf.tensor2d(w), true)));
  const biases = initial.biases.map((b) => tf.tidy(() => tf.variable(tf.tensor1d(b), true)));
  const variables = weights.flatMap((w, i) => [w, biases[i]]);
  let disposed = false;
  const alive = () => { if (disposed) throw new Error(`${fn}: this model has been disposed`); };

  const checkInput = (x: tf.Tensor2D, what: string) => {
    if (!(x instanceof tf.Tensor) || x.rank !== 2 || x.shape[1] !== layerSizes[0]) {
      throw new Error(`${what}: x must be a 2-D tensor n × ${layerSizes[0]}, got ${x instanceof tf.Tensor ? `shape [${x.shape.join(", ")}]` : typeof x}`);
    }
  };

  const paramCount = weights.reduce((s, w, i) => s + w.size + biases[i].size, 0);
  const model: DemoAutoencoder = {
    layerSizes, codeLayer, activation, weights, biases, variables, paramCount,
    forward(x, forwardOptions = {}) {
      alive();
      checkInput(x, "forward");
      const scale = forwardOptions.weightGradientScale ?? 1;
      if (!Number.isFinite(scale) || scale <= 0) throw new Error(`forward: weightGradientScale must be a positive number, got ${scale}`);
      const zs: tf.Tensor2D[] = [];
      const activations: tf.Tensor2D[] = [x];
      let a = x;
      weights.forEach((w, i) => {
        // Row-wise batch: z = a·Wᵀ + b is (1) for every row.
        const z = tf.add(tf.matMul(a, scaleGradient(w as tf.Tensor, scale), false, true), biases[i]) as tf.Tensor2D;
        a = applyDemoActivation(activation, z) as tf.Tensor2D;
        zs.push(z);
        activations.push(a);
      });
      return { zs, activations };
    },
    encode(x) {
      return tf.tidy(() => {
        const { activations } = model.forward(x);
        return activations[codeLayer].clone();
      });
    },
    decode(code) {
      alive();
      const width = layerSizes[codeLayer];
      if (!(code instanceof tf.Tensor) || code.rank !== 2 || code.shape[1] !== width) {
        throw new Error(`decode: code must be a 2-D tensor n × ${width}, got ${code instanceof tf.Tensor ? `shape [${code.shape.join(", ")}]` : typeof code}`);
      }
      return tf.tidy(() => {
        let a: tf.Tensor2D = code;
        for (let i = codeLayer; i < weights.length; i++) {
          a = applyDemoActivation(activation, tf.add(tf.matMul(a, weights[i], false, true), biases[i])) as tf.Tensor2D;
        }
        return a === code ? a.clone() : a;
      });
    },
    reconstruct(x, forwardOptions) {
      return tf.tidy(() => {
        const { activations } = model.forward(x, forwardOptions);
        const out = activations[activations.length - 1];
        return out === x ? out.clone() : out;
      });
    },
    parameters() {
      alive();
      return {
        weights: weights.map((w) => w.arraySync() as number[][]),
        biases: biases.map((b) => b.arraySync() as number[]),
      };
    },
    setParameters(parameters) {
      alive();
      if (!parameters || !Array.isArray(parameters.weights) || !Array.isArray(parameters.biases)
        || parameters.weights.length !== weights.length || parameters.biases.length !== biases.length) {
        throw new Error(`setParameters: expected ${weights.length} weight matrices and ${biases.length} bias vectors`);
      }
      weights.forEach((w, i) => {
        const [out, inp] = w.shape;
        const m = parameters.weights[i];
        if (!Array.isArray(m) || m.length !== out || m.some((row) => !Array.isArray(row) || row.length !== inp)) {
          throw new Error(`setParameters: weights[${i}] must be ${out} × ${inp}`);
        }
        const b = parameters.biases[i];
        if (!Array.isArray(b) || b.length !== out) throw new Error(`setParameters: biases[${i}] must have ${out} entries`);
      });
      tf.tidy(() => {
        weights.forEach((w, i) => w.assign(tf.tensor2d(parameters.weights[i])));
        biases.forEach((b, i) => b.assign(tf.tensor1d(parameters.biases[i])));
      });
    },
    countParams() {
      return paramCount;
    },
    dispose() {
      if (disposed) return;
      tf.dispose(variables);
      disposed = true;
    },
  };
  return model;
}

/** The gradients of J = ½·mean_n Σ_d (a_N − y)² by backpropagation written out (Nielsen's BP1–BP4):
 * δ_N = (a_N − y) ⊙ σ′(z_N), δ_l = (δ_{l+1} W_{l+1}) ⊙ σ′(z_l), ∂J/∂b_l = mean_n δ_l,
 * ∂J/∂W_l = δ_lᵀ a_{l−1} / m ("mean") or δ_lᵀ a_{l−1} ("program": summed over the batch). */
export function demoBackprop(model: DemoAutoencoder, x: tf.Tensor2D, y: tf.Tensor2D, convention: GradientConvention = "mean"): { weights: tf.Tensor2D[]; biases: tf.Tensor1D[] } {
  if (convention !== "mean" && convention !== "program") throw new Error(`demoBackprop: convention must be "mean" or "program", got ${JSON.stringify(convention)}`);
  if (!(y instanceof tf.Tensor) || y.rank !== 2 || y.shape[0] !== x.shape[0] || y.shape[1] !== model.layerSizes[model.layerSizes.length - 1]) {
    throw new Error(`demoBackprop: y must be ${x.shape[0]} × ${model.layerSizes[model.layerSizes.length - 1]}, got ${y instanceof tf.Tensor ? `[${y.shape.join(", ")}]` : typeof y}`);
  }
  return tf.tidy(() => {
    const { zs, activations } = model.forward(x);
    const m = x.shape[0];
    const layers = model.weights.length;
    const gw: tf.Tensor2D[] = new Array(layers);
    const gb: tf.Tensor1D[] = new Array(layers);
    const last = activations[activations.length - 1];
    let delta = tf.mul(tf.sub(last, y), demoActivationDerivative(model.activation, zs[layers - 1])) as tf.Tensor2D;
    for (let i = layers - 1; i >= 0; i--) {
      gb[i] = tf.mean(delta, 0) as tf.Tensor1D;
      const summed = tf.matMul(delta, activations[i], true, false) as tf.Tensor2D;
      gw[i] = convention === "program" ? summed : (tf.div(summed, m) as tf.Tensor2D);
      if (i > 0) delta = tf.mul(tf.matMul(delta, model.weights[i]), demoActivationDerivative(model.activation, zs[i - 1])) as tf.Tensor2D;
    }
    return { weights: gw, biases: gb };
  });
}
