/**
 * Inverse activations as tfjs layers, so a concrete network is an ordinary tf.LayersModel:
 * leaky-ReLU inverse, logit (sigmoid inverse), the paper's softmax-inverse approximation and the
 * round function. None has weights; all are differentiable (round has zero gradient).
 */
import * as tf from "@tensorflow/tfjs";
import {
  SOFTMAX_INVERSE_EPSILON, checkLeakyReluAlpha, leakyReluInverse, logit, roundProbabilities,
} from "./functions";

type Shape = Array<number | null>;

function single(inputs: tf.Tensor | tf.Tensor[], name: string): tf.Tensor {
  if (Array.isArray(inputs)) {
    if (inputs.length !== 1) throw new Error(`${name}: expected one input tensor, got ${inputs.length}`);
    return inputs[0];
  }
  return inputs;
}

/** Inverse of LeakyReLU(α): y ↦ min(y, y/α). */
export class InverseLeakyReLU extends tf.layers.Layer {
  static className = "InverseLeakyReLU";
  readonly alpha: number;
  constructor(args: { alpha?: number; name?: string } = {}) {
    super({ name: args.name });
    this.alpha = checkLeakyReluAlpha(args.alpha ?? 0.3, "InverseLeakyReLU");
  }
  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return leakyReluInverse(single(inputs, this.name), { alpha: this.alpha });
  }
  computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    return inputShape;
  }
  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), alpha: this.alpha };
  }
}

/** Logit ln((y + ε)/(1 − y + ε)): the inverse of sigmoid (ε = 0) or the paper's softmax-inverse stand-in (ε = 1e-7). */
export class LogitLayer extends tf.layers.Layer {
  static className = "LogitLayer";
  readonly epsilon: number;
  constructor(args: { epsilon?: number; name?: string } = {}) {
    super({ name: args.name });
    const epsilon = args.epsilon ?? 0;
    if (!Number.isFinite(epsilon) || epsilon < 0) throw new Error(`LogitLayer: epsilon must be a finite number ≥ 0, got ${epsilon}`);
    this.epsilon = epsilon;
  }
  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return logit(single(inputs, this.name), { epsilon: this.epsilon });
  }
  computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    return inputShape;
  }
  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), epsilon: this.epsilon };
  }
}

/** Round every probability to 0 or 1 (the paper's round function between the halves). */
export class RoundLayer extends tf.layers.Layer {
  static className = "RoundLayer";
  readonly threshold: number;
  constructor(args: { threshold?: number; name?: string } = {}) {
    super({ name: args.name });
    this.threshold = args.threshold ?? 0.5;
  }
  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return roundProbabilities(single(inputs, this.name), { threshold: this.threshold });
  }
  computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    return inputShape;
  }
  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), threshold: this.threshold };
  }
}

/** A layer inverting LeakyReLU(α) (default α 0.3). */
export function inverseLeakyReluLayer(options: { alpha?: number; name?: string } = {}): InverseLeakyReLU {
  return new InverseLeakyReLU(options);
}

/** A layer inverting the sigmoid: ln(y/(1 − y)) (ε default 0). */
export function logitLayer(options: { epsilon?: number; name?: string } = {}): LogitLayer {
  return new LogitLayer(options);
}

/** A layer applying the paper's softmax-inverse approximation, eq. (4), ε default 1e-7. */
export function softmaxInverseLayer(options: { epsilon?: number; name?: string } = {}): LogitLayer {
  return new LogitLayer({ epsilon: options.epsilon ?? SOFTMAX_INVERSE_EPSILON, name: options.name });
}

/** A layer applying the round function (threshold default 0.5). */
export function roundLayer(options: { threshold?: number; name?: string } = {}): RoundLayer {
  return new RoundLayer(options);
}
