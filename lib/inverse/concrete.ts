/**
 * Paper 1's concrete (generating) network: the mirror of a trained abstract (classifying)
 * network, built from the inverse of each of its layers, in reverse order: inverse activation,
 * then a dense layer for the inverse of a dense layer (eq. (1)) or a transposed convolution for a
 * valid convolution. Variants: the round function between the halves, jump connections
 * (the abstract layer's output averaged into the symmetric concrete layer's input) and negative
 * feedback (iterated at inference).
 */
import * as tf from "@tensorflow/tfjs";
import { layerPair, seededInit } from "../models/common";
import { denseInverseWeights } from "./functions";
import { inverseLeakyReluLayer, logitLayer, roundLayer, softmaxInverseLayer } from "./layers";
import { meanAbsoluteError, meanCosineSimilarity, meanSquaredError } from "../metrics";
import { LossContext, LossTerms, TrainHistory, TrainOptions, trainModel } from "../train";

/** An activation the concrete network can invert. */
export type InvertibleActivation =
  | { name: "linear" }
  | { name: "leakyRelu"; alpha: number }
  | { name: "sigmoid" }
  | { name: "softmax" };

/** One stage k of the abstract network: a_k = activation(linear(a_{k−1})), a_0 the input. */
export interface AbstractStage {
  /** 1-based: stage k maps a_{k−1} to a_k. */
  index: number;
  kind: "conv2d" | "dense";
  /** The abstract model's layers of this stage, in order (a Flatten before a dense, the linear layer, a LeakyReLU). */
  layers: tf.layers.Layer[];
  /** The Conv2D or Dense layer. */
  linear: tf.layers.Layer;
  activation: InvertibleActivation;
  /** Shape of a_{k−1}, one sample (before any Flatten). */
  inputShape: number[];
  /** Shape of a_k, one sample. */
  outputShape: number[];
  /** A Flatten precedes this dense stage (its inverse ends with a reshape). */
  flattened: boolean;
  /** Convolution settings (conv2d stages). */
  conv?: { kernelSize: [number, number]; strides: [number, number]; padding: "valid" | "same"; filters: number; inChannels: number };
}

const NOT_INVERTIBLE: Record<string, string> = {
  MaxPooling2D: "max pooling keeps one value of each window and drops the rest (and where it was)",
  AveragePooling2D: "average pooling keeps one mean per window; many inputs share it",
  GlobalAveragePooling2D: "global pooling keeps one number per channel",
  GlobalMaxPooling2D: "global pooling keeps one number per channel",
  BatchNormalization: "fold batch normalisation into the layer before it first",
};

function shapeOf(shape: unknown, what: string, fn: string): number[] {
  const s = (Array.isArray(shape) && Array.isArray(shape[0]) ? shape[0] : shape) as Array<number | null>;
  if (!Array.isArray(s) || s.slice(1).some((d) => typeof d !== "number")) throw new Error(`${fn}: cannot read the shape of ${what}: ${JSON.stringify(shape)}`);
  return s.slice(1) as number[];
}

/**
 * Split a sequential abstract network (Conv2D/Dense layers, each with a linear, sigmoid or
 * softmax activation or followed by a LeakyReLU layer; Flatten between) into invertible stages.
 * Throws, naming the layer, on anything without an inverse (ReLU, pooling, …).
 */
export function abstractStages(model: tf.LayersModel): AbstractStage[] {
  const fn = "abstractStages";
  if (model == null || !Array.isArray((model as tf.LayersModel).layers)) throw new Error(`${fn}: model must be a tf.LayersModel (e.g. fsaeClassifier().model)`);
  if (model.inputs.length !== 1) throw new Error(`${fn}: model must have one input, got ${model.inputs.length}`);
  const stages: AbstractStage[] = [];
  let currentShape = shapeOf(model.inputs[0].shape, "the model input", fn);
  let pending: tf.layers.Layer[] = [];
  let pendingShape: number[] | null = null;
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    const config = layer.getConfig() as Record<string, unknown>;
    if (cls === "InputLayer" || cls === "Dropout") continue;
    if (cls === "Flatten") {
      pendingShape = currentShape;
      pending.push(layer);
      currentShape = shapeOf(layer.outputShape, layer.name, fn);
      continue;
    }
    if (cls === "LeakyReLU") {
      const last = stages[stages.length - 1];
      if (!last || last.activation.name !== "linear" || last.layers[last.layers.length - 1] !== last.linear || pending.length > 0) {
        throw new Error(`${fn}: LeakyReLU layer '${layer.name}' must follow a Conv2D or Dense layer with a linear activation`);
      }
      last.activation = { name: "leakyRelu", alpha: Number(config.alpha ?? 0.3) };
      last.layers.push(layer);
      continue;
    }
    if (cls === "Conv2D" || cls === "Dense") {
      const act = String(config.activation ?? "linear");
      if (act !== "linear" && act !== "sigmoid" && act !== "softmax") {
        const why = act === "relu" ? " (ReLU maps every negative input to 0, so it has no inverse; use a LeakyReLU)" : "";
        throw new Error(`${fn}: layer '${layer.name}' has activation '${act}', which has no inverse here${why}; expected linear, sigmoid, softmax or a following LeakyReLU`);
      }
      if (cls === "Conv2D" && pending.length > 0) throw new Error(`${fn}: a Flatten before Conv2D layer '${layer.name}' is not supported`);
      const inputShape = pendingShape ?? currentShape;
      const outputShape = shapeOf(layer.outputShape, layer.name, fn);
      const stage: AbstractStage = {
        index: stages.length + 1, kind: cls === "Conv2D" ? "conv2d" : "dense", layers: [...pending, layer], linear: layer,
        activation: { name: act } as InvertibleActivation, inputShape, outputShape, flattened: pending.length > 0,
      };
      if (cls === "Conv2D") {
        const dilation = layerPair(config.dilationRate, 1);
        if (dilation[0] !== 1 || dilation[1] !== 1) throw new Error(`${fn}: dilated convolution '${layer.name}' is not supported`);
        const padding = String(config.padding ?? "valid");
        if (padding !== "valid" && padding !== "same") throw new Error(`${fn}: convolution '${layer.name}' has padding '${padding}'; expected valid or same`);
        stage.conv = {
          kernelSize: layerPair(config.kernelSize, 1), strides: layerPair(config.strides, 1), padding: padding as "valid" | "same",
          filters: Number(config.filters), inChannels: inputShape[inputShape.length - 1],
        };
      }
      stages.push(stage);
      pending = [];
      pendingShape = null;
      currentShape = outputShape;
      continue;
    }
    const why = NOT_INVERTIBLE[cls];
    throw new Error(`${fn}: layer '${layer.name}' (${cls}) has no inverse here${why ? `: ${why}` : ""}; expected Conv2D, Dense, LeakyReLU, Flatten`);
  }
  if (pending.length > 0) throw new Error(`${fn}: the model ends with a Flatten; expected a Dense layer last`);
  if (stages.length === 0) throw new Error(`${fn}: the model has no Conv2D or Dense layer`);
  return stages;
}

/** Options of `abstractActivations`. */
export interface AbstractActivationsOptions {
  /** 1-based stage numbers whose outputs a_k to return (default: all). */
  stages?: number[];
  /** Samples per forward pass (default 256). */
  batchSize?: number;
}

function checkStageNumbers(requested: number[], count: number, fn: string, option: string, allowed: [number, number] = [1, count]): number[] {
  if (!Array.isArray(requested)) throw new Error(`${fn}: ${option} must be an array of stage numbers`);
  for (const k of requested) {
    if (!Number.isInteger(k) || k < allowed[0] || k > allowed[1]) {
      throw new Error(`${fn}: ${option} must hold stage numbers in ${allowed[0]}..${allowed[1]} (the network has ${count} stages), got ${JSON.stringify(requested)}`);
    }
  }
  return requested;
}

/** Run the abstract network stage by stage on x (no gradients kept) and return the requested a_k, each [n, …outputShape]. */
export function abstractActivations(model: tf.LayersModel, x: tf.Tensor, options: AbstractActivationsOptions = {}): tf.Tensor[] {
  const fn = "abstractActivations";
  const stages = abstractStages(model);
  const wanted = checkStageNumbers(options.stages ?? stages.map((s) => s.index), stages.length, fn, "stages");
  if (!(x instanceof tf.Tensor) || x.isDisposed) throw new Error(`${fn}: x must be a live tf.Tensor`);
  const expected = stages[0].inputShape;
  if (x.rank !== expected.length + 1 || expected.some((d, i) => d !== x.shape[i + 1])) {
    throw new Error(`${fn}: x must have shape [n, ${expected.join(", ")}], got [${x.shape.join(", ")}]`);
  }
  const batchSize = options.batchSize ?? 256;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`${fn}: batchSize must be a positive integer, got ${batchSize}`);
  const last = Math.max(...wanted);
  const n = x.shape[0];
  const parts: tf.Tensor[][] = wanted.map(() => []);
  try {
    for (let start = 0; start < n; start += batchSize) {
      const size = Math.min(batchSize, n - start);
      const outs = tf.tidy(() => {
        let h: tf.Tensor = size === n ? x : tf.slice(x, start, size);
        const kept: tf.Tensor[] = new Array(wanted.length);
        for (const stage of stages) {
          if (stage.index > last) break;
          for (const layer of stage.layers) h = layer.apply(h, { training: false }) as tf.Tensor;
          wanted.forEach((k, i) => { if (k === stage.index) kept[i] = h === x ? tf.clone(h) : h; });
        }
        return kept;
      });
      outs.forEach((t, i) => parts[i].push(t));
    }
    return parts.map((p) => (p.length === 1 ? p.pop()! : tf.concat(p, 0)));
  } finally {
    for (const p of parts) tf.dispose(p);
  }
}

/**
 * The abstract network as a differentiable function of its input (for gradients through it, e.g.
 * an unrolled feedback loop): applies the stages' layers to x and returns a_k for each k in `wanted`.
 * No tf.tidy here, so call it inside one (or under the gradient tape of ae.trainModel).
 */
export function applyAbstractStages(stages: AbstractStage[], x: tf.Tensor, wanted: number[]): tf.Tensor[] {
  const fn = "applyAbstractStages";
  if (!Array.isArray(stages) || stages.length === 0) throw new Error(`${fn}: stages must come from abstractStages(model)`);
  checkStageNumbers(wanted, stages.length, fn, "wanted");
  const last = Math.max(...wanted);
  const outputs: tf.Tensor[] = new Array(wanted.length);
  let h = x;
  for (const stage of stages) {
    if (stage.index > last) break;
    for (const layer of stage.layers) h = layer.apply(h, { training: false }) as tf.Tensor;
    wanted.forEach((k, i) => { if (k === stage.index) outputs[i] = h; });
  }
  return outputs;
}

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

/** Options of `calibrateConcreteNetwork`. */
export interface CalibrateOptions {
  /** RMS every hidden trainable layer's output is scaled to (default 1). */
  hiddenRms?: number;
  /** RMS the output is scaled to (default: the RMS of `target` when given, else 1). */
  target?: tf.Tensor;
}

/**
 * Data-dependent start (LSUV-style): for each trainable layer from the top down, divide its kernel
 * and bias so its output on a calibration batch has the requested RMS. The inverse leaky ReLU
 * multiplies negative values by 1/α at every stage and eq. (4) outputs ±16, so Glorot starts
 * produce outputs thousands of times too large. Returns the RMS seen before each rescale.
 */
export function calibrateConcreteNetwork(network: ConcreteNetwork, inputs: ConcreteInputs, options: CalibrateOptions = {}): Array<{ layer: string; rmsBefore: number }> {
  const fn = "calibrateConcreteNetwork";
  const hiddenRms = options.hiddenRms ?? 1;
  if (!Number.isFinite(hiddenRms) || hiddenRms <= 0) throw new Error(`${fn}: hiddenRms must be a positive number, got ${hiddenRms}`);
  if (inputs.jumps.length !== network.jumps.length) throw new Error(`${fn}: expected ${network.jumps.length} jump tensor(s), got ${inputs.jumps.length}`);
  const outputRms = options.target ? tf.tidy(() => tf.sqrt(tf.mean(tf.square(options.target!))).dataSync()[0]) : 1;
  const trainable = network.model.layers.filter((l) => l.trainableWeights.length > 0);
  const report: Array<{ layer: string; rmsBefore: number }> = [];
  for (const layer of trainable) {
    const probe = tf.model({ inputs: network.model.inputs, outputs: layer.output as tf.SymbolicTensor });
    const rms = tf.tidy(() => {
      const out = probe.predict([inputs.top, ...inputs.jumps]) as tf.Tensor;
      return tf.sqrt(tf.mean(tf.square(out))).dataSync()[0];
    });
    if (!Number.isFinite(rms) || rms === 0) throw new Error(`${fn}: layer '${layer.name}' gives RMS ${rms} on the calibration batch`);
    const wanted = layer === trainable[trainable.length - 1] ? outputRms : hiddenRms;
    const scaled = tf.tidy(() => layer.getWeights().map((w) => tf.mul(w, wanted / rms)));
    layer.setWeights(scaled);
    tf.dispose(scaled);
    report.push({ layer: layer.name, rmsBefore: rms });
  }
  return report;
}

/** MSE, MAE and mean cosine similarity of generated images against their inputs (the paper's training metrics). */
export interface GenerationMetrics {
  mse: number;
  mae: number;
  cosineSimilarity: number;
}

/** The paper's metrics of a generation: MSE, MAE and cosine similarity per sample, averaged (read back: a logging point). */
export function generationMetrics(target: tf.Tensor, output: tf.Tensor): GenerationMetrics {
  const values = tf.tidy(() => tf.stack([meanSquaredError(target, output), meanAbsoluteError(target, output), meanCosineSimilarity(target, output)]).dataSync());
  return { mse: values[0], mae: values[1], cosineSimilarity: values[2] };
}

/** Options of `trainConcreteNetwork`. */
export interface TrainConcreteOptions {
  /** The frozen abstract network. */
  abstract: tf.LayersModel;
  network: ConcreteNetwork;
  /** Training images (the abstract network's input); they are also the targets. */
  images: tf.Tensor;
  numEpochs: number;
  /** Default 64. */
  batchSize?: number;
  /** Default adam 1e-3 (the paper's optimiser). */
  optimizer?: TrainOptions["optimizer"];
  /** Rescale the starting weights on the first 256 samples first (default true; see calibrateConcreteNetwork). */
  calibrate?: boolean;
  /** Images whose MSE is evaluated after each epoch (a held-out set). */
  validationImages?: tf.Tensor;
  seed?: number;
  progress?: TrainOptions["progress"];
  label?: string;
  /**
   * Passes of the negative-feedback loop unrolled in training (default 1: no feedback). With P > 1 the loss is the
   * MSE of pass P's output, u_{t+1} = u_t + κ(x − x̂_t) as in negativeFeedback, and gradients flow through every
   * pass (through the frozen abstract network to its input).
   */
  feedbackPasses?: number;
  /** κ of the unrolled loop (default 1). */
  feedbackGain?: number;
  /** Passed to ae.trainModel (e.g. to record running means every `logEvery` steps). */
  logEvery?: number;
  callbacks?: TrainOptions["callbacks"];
}

/**
 * Train a concrete network with ae.trainModel while the abstract one stays frozen: its outputs
 * (the top a_K and the jump values) are computed once, the loss is the MSE between the generated
 * and the input image (self-supervised: the label is the input).
 */
export async function trainConcreteNetwork(options: TrainConcreteOptions): Promise<TrainHistory> {
  const fn = "trainConcreteNetwork";
  const { abstract, network, images } = options;
  if (!(images instanceof tf.Tensor) || images.isDisposed) throw new Error(`${fn}: images must be a live tf.Tensor`);
  if (abstract.trainable) throw new Error(`${fn}: freeze the abstract network first (ae.freeze(model)): the paper trains the concrete half alone`);
  const passes = options.feedbackPasses ?? 1;
  if (!Number.isInteger(passes) || passes < 1) throw new Error(`${fn}: feedbackPasses must be a positive integer, got ${passes}`);
  const gain = options.feedbackGain ?? 1;
  if (!Number.isFinite(gain)) throw new Error(`${fn}: feedbackGain must be a finite number, got ${gain}`);
  const wanted = [network.stages.length, ...network.jumps];
  const toRecord = (x: tf.Tensor): Record<string, tf.Tensor> => {
    const inputs = concreteInputs(abstract, network, x);
    const record: Record<string, tf.Tensor> = { top: inputs.top, target: tf.clone(x) };
    inputs.jumps.forEach((j, i) => { record[`jump${i}`] = j; });
    return record;
  };
  const data = toRecord(images);
  const validation = options.validationImages ? toRecord(options.validationImages) : undefined;
  try {
    if (options.calibrate ?? true) {
      const count = Math.min(256, images.shape[0]);
      tf.tidy(() => {
        const slice = (t: tf.Tensor) => tf.slice(t, 0, count);
        calibrateConcreteNetwork(network, { top: slice(data.top), jumps: network.jumps.map((_, i) => slice(data[`jump${i}`])) }, { target: slice(data.target) });
      });
    }
    const lossTerms = (batch: Record<string, tf.Tensor>, context: LossContext): LossTerms => {
      let output = network.generate(batch.top, network.jumps.map((_, i) => batch[`jump${i}`]), context.training);
      let input = batch.target;
      for (let pass = 2; pass <= passes; pass++) {
        input = tf.add(input, tf.mul(gain, tf.sub(batch.target, output)));
        const [top, ...jumps] = applyAbstractStages(network.stages, input, wanted);
        output = network.generate(top, jumps, context.training);
      }
      return { mse: tf.mean(tf.squaredDifference(output, batch.target)) as tf.Scalar };
    };
    return await trainModel({
      data, lossTerms, models: [network.model], numEpochs: options.numEpochs, batchSize: options.batchSize ?? 64,
      optimizer: options.optimizer ?? { name: "adam", learningRate: 1e-3 }, validationData: validation, seed: options.seed ?? 0,
      progress: options.progress, label: options.label, logEvery: options.logEvery, callbacks: options.callbacks,
    });
  } finally {
    tf.dispose(Object.values(data));
    if (validation) tf.dispose(Object.values(validation));
  }
}
