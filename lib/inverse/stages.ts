/**
 * Paper 1's abstract (classifying) network read as invertible stages: each stage k is a linear
 * layer (Conv2D or Dense, a Flatten before it allowed) and an invertible activation, a_k =
 * activation(linear(a_{k−1})). The concrete network (concrete.ts) mirrors these stages.
 */
import * as tf from "@tensorflow/tfjs";
import { layerPair } from "../models/common";

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

/** Check that `requested` holds stage numbers in `allowed` (default 1..count); throws naming `fn` and `option`. Internal to lib/inverse. */
export function checkStageNumbers(requested: number[], count: number, fn: string, option: string, allowed: [number, number] = [1, count]): number[] {
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
