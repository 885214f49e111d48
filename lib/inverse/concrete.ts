/**
 * Paper 1's concrete (generating) network: the mirror of a trained abstract (classifying)
 * network, built from the inverse of each of its layers, in reverse order: inverse activation,
 * then a dense layer for the inverse of a dense layer (eq. (1)) or a transposed convolution for a
 * valid convolution. Variants: the round function between the halves, jump connections
 * (the abstract layer's output averaged into the symmetric concrete layer's input) and negative
 * feedback (iterated at inference). Training it: train-concrete.ts.
 */
import * as tf from "@tensorflow/tfjs";
import { seededInit } from "../models/common";
import { denseInverseWeights } from "./functions";
import { inverseLeakyReluLayer, logitLayer, roundLayer, softmaxInverseLayer } from "./layers";
import { AbstractStage, InvertibleActivation, abstractActivations, abstractStages, checkStageNumbers } from "./stages";

/** Options of `concreteNetwork`. */
export interface ConcreteNetworkOptions {
  /** Abstract stages k (1..K−1) whose output a_k is averaged into the concrete layer that rebuilds a_{k−1} from â_k (default none). */
  jumps?: number[];
  /** Put the round function between the halves: the concrete network sees 0/1 class vectors (default false). */
  round?: boolean;
  /** "glorot" (default, as Keras would): trained from scratch; "pseudoInverse": dense layers start as the exact least-squares inverses of the abstract ones. */
  initialization?: "glorot" | "pseudoInverse";
  /** ε of the softmax-inverse approximation, eq. (4) (default 1e-7). */
  softmaxEpsilon?: number;
  /** ε of the logit inverting a sigmoid (default 1e-7). */
  sigmoidEpsilon?: number;
  /** Seed of the initialisers (default 0). */
  seed?: number;
  /** Model name (default "concrete"). */
  name?: string;
}

/** A concrete network and how to feed it. */
export interface ConcreteNetwork {
  /** Inputs [top a_K, …jump inputs a_k in `jumps` order] → the generated input â_0. */
  model: tf.LayersModel;
  /** The abstract network's stages it mirrors. */
  stages: AbstractStage[];
  /** Jump stages, ascending. */
  jumps: number[];
  round: boolean;
  /** Generate from the top output (class probabilities or one-hot labels) and the jump values (differentiable). */
  generate(top: tf.Tensor, jumpValues?: tf.Tensor[], training?: boolean): tf.Tensor;
  paramCount: number;
  dispose(): void;
}

function inverseActivationLayer(activation: InvertibleActivation, options: ConcreteNetworkOptions, name: string): tf.layers.Layer | null {
  switch (activation.name) {
    case "linear": return null;
    case "leakyRelu": return inverseLeakyReluLayer({ alpha: activation.alpha, name });
    case "sigmoid": return logitLayer({ epsilon: options.sigmoidEpsilon ?? 1e-7, name });
    case "softmax": return softmaxInverseLayer({ epsilon: options.softmaxEpsilon, name });
  }
}

/**
 * Build the concrete network mirroring an abstract one (the abstract model is only read):
 * for k = K…1, [average with a_k if k is a jump] → inverse activation → dense (eq. (1)) or
 * transposed convolution back to a_{k−1}'s shape. The output â_0 has no activation.
 */
export function concreteNetwork(abstract: tf.LayersModel, options: ConcreteNetworkOptions = {}): ConcreteNetwork {
  const fn = "concreteNetwork";
  const stages = abstractStages(abstract);
  const K = stages.length;
  const jumps = [...new Set(checkStageNumbers(options.jumps ?? [], K, fn, "jumps", [1, K - 1]))].sort((a, b) => a - b);
  const initialization = options.initialization ?? "glorot";
  if (initialization !== "glorot" && initialization !== "pseudoInverse") throw new Error(`${fn}: initialization must be "glorot" or "pseudoInverse", got ${JSON.stringify(initialization)}`);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new Error(`${fn}: seed must be an integer, got ${seed}`);
  const name = options.name ?? "concrete";
  const round = options.round ?? false;

  const top = tf.input({ shape: stages[K - 1].outputShape, name: `${name}_top` });
  const jumpInputs = new Map<number, tf.SymbolicTensor>();
  for (const k of jumps) jumpInputs.set(k, tf.input({ shape: stages[k - 1].outputShape, name: `${name}_jump${k}` }));
  let h: tf.SymbolicTensor = top;
  if (round) h = roundLayer({ name: `${name}_round` }).apply(h) as tf.SymbolicTensor;
  const denseInits: Array<{ layer: tf.layers.Layer; stage: AbstractStage }> = [];
  for (let k = K; k >= 1; k--) {
    const stage = stages[k - 1];
    const jump = jumpInputs.get(k);
    if (jump) h = tf.layers.average({ name: `${name}_jump${k}_mean` }).apply([h, jump]) as tf.SymbolicTensor;
    const inv = inverseActivationLayer(stage.activation, options, `${name}_inv_act${k}`);
    if (inv) h = inv.apply(h) as tf.SymbolicTensor;
    const init = seededInit(seed, 100 + k);
    if (stage.kind === "dense") {
      const units = stage.inputShape.reduce((a, b) => a * b, 1);
      const dense = tf.layers.dense({ units, name: `${name}_inv_dense${k}`, ...init });
      h = dense.apply(h) as tf.SymbolicTensor;
      denseInits.push({ layer: dense, stage });
      if (stage.flattened) h = tf.layers.reshape({ targetShape: stage.inputShape, name: `${name}_unflatten${k}` }).apply(h) as tf.SymbolicTensor;
    } else {
      const c = stage.conv!;
      h = tf.layers.conv2dTranspose({
        filters: c.inChannels, kernelSize: c.kernelSize, strides: c.strides, padding: c.padding, name: `${name}_inv_conv${k}`, ...init,
      }).apply(h) as tf.SymbolicTensor;
      const got = h.shape.slice(1);
      if (got.some((d, i) => d !== stage.inputShape[i])) {
        throw new Error(`${fn}: the transposed convolution of stage ${k} gives [${got.join(", ")}], not the abstract input [${stage.inputShape.join(", ")}] (a strided valid convolution dropped border pixels)`);
      }
    }
  }
  const model = tf.model({ inputs: [top, ...jumps.map((k) => jumpInputs.get(k)!)], outputs: h, name });
  if (initialization === "pseudoInverse") {
    for (const { layer, stage } of denseInits) {
      const [kernel, bias] = stage.linear.getWeights();
      const inv = denseInverseWeights(kernel as tf.Tensor2D, bias as tf.Tensor1D | undefined);
      layer.setWeights([inv.kernel, inv.bias]);
      tf.dispose([inv.kernel, inv.bias]);
    }
  }
  const generate = (topValue: tf.Tensor, jumpValues: tf.Tensor[] = [], training = false): tf.Tensor => {
    if (jumpValues.length !== jumps.length) {
      throw new Error(`${name}.generate: expected ${jumps.length} jump tensor(s) (a_k for k = ${jumps.join(", ") || "none"}), got ${jumpValues.length}`);
    }
    const out = model.apply([topValue, ...jumpValues], { training });
    if (Array.isArray(out) || !(out instanceof tf.Tensor)) throw new Error(`${name}.generate: expected one output tensor`);
    return out;
  };
  return { model, stages, jumps, round, generate, paramCount: model.countParams(), dispose: () => model.dispose() };
}

/** The inputs a concrete network needs for images x: the top a_K and its jump values a_k. */
export interface ConcreteInputs {
  top: tf.Tensor;
  jumps: tf.Tensor[];
}

/** Run the abstract network on x and collect what `network` takes: { top: a_K, jumps: [a_k for k in network.jumps] }. */
export function concreteInputs(abstract: tf.LayersModel, network: ConcreteNetwork, x: tf.Tensor, options: { batchSize?: number } = {}): ConcreteInputs {
  const K = network.stages.length;
  const [top, ...jumps] = abstractActivations(abstract, x, { stages: [K, ...network.jumps], batchSize: options.batchSize });
  return { top, jumps };
}

/** The whole autoencoder without feedback: x → abstract → concrete → x̂ (batched, no gradients kept). */
export function reconstruct(abstract: tf.LayersModel, network: ConcreteNetwork, x: tf.Tensor, options: { batchSize?: number } = {}): tf.Tensor {
  const batchSize = options.batchSize ?? 256;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`reconstruct: batchSize must be a positive integer, got ${batchSize}`);
  const parts: tf.Tensor[] = [];
  try {
    for (let start = 0; start < x.shape[0]; start += batchSize) {
      const size = Math.min(batchSize, x.shape[0] - start);
      parts.push(tf.tidy(() => {
        const batch = tf.slice(x, start, size);
        const inputs = concreteInputs(abstract, network, batch, { batchSize: size });
        return network.generate(inputs.top, inputs.jumps);
      }));
    }
    return parts.length === 1 ? parts.pop()! : tf.concat(parts, 0);
  } finally {
    tf.dispose(parts);
  }
}

/** Options of `negativeFeedback`. */
export interface NegativeFeedbackOptions {
  /** Passes through the network (default 4; pass 1 is the plain autoencoder). */
  iterations?: number;
  /** κ in u_{t+1} = u_t + κ·(x − x̂_t) (default 1: the difference is added in full). */
  gain?: number;
  /** Samples per forward pass (default 256). */
  batchSize?: number;
}

/**
 * Negative feedback read as an integral controller: u_1 = x, x̂_t = concrete(abstract(u_t)),
 * u_{t+1} = u_t + κ·(x − x̂_t), i.e. the accumulated difference of input and output is added to
 * the next input. Returns x̂_1 … x̂_T (caller disposes).
 */
export function negativeFeedback(abstract: tf.LayersModel, network: ConcreteNetwork, x: tf.Tensor, options: NegativeFeedbackOptions = {}): tf.Tensor[] {
  const fn = "negativeFeedback";
  const iterations = options.iterations ?? 4;
  if (!Number.isInteger(iterations) || iterations < 1) throw new Error(`${fn}: iterations must be a positive integer, got ${iterations}`);
  const gain = options.gain ?? 1;
  if (!Number.isFinite(gain)) throw new Error(`${fn}: gain must be a finite number, got ${gain}`);
  if (!(x instanceof tf.Tensor) || x.isDisposed) throw new Error(`${fn}: x must be a live tf.Tensor`);
  const outputs: tf.Tensor[] = [];
  let u = tf.clone(x);
  try {
    for (let t = 0; t < iterations; t++) {
      const y = reconstruct(abstract, network, u, { batchSize: options.batchSize });
      outputs.push(y);
      if (t + 1 < iterations) {
        const next = tf.tidy(() => tf.add(u, tf.mul(gain, tf.sub(x, y))));
        u.dispose();
        u = next;
      }
    }
    return outputs;
  } catch (error) {
    tf.dispose(outputs);
    throw error;
  } finally {
    u.dispose();
  }
}
