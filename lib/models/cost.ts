/**
 * What a model costs: parameters and floating-point operations per sample, computed
 * analytically from the layer shapes (no profiling, no tensors made).
 *
 * Convention (the usual one for benchmarks): one multiply-add counts as 2 FLOPs; only the
 * layers with a weight matrix are counted (Dense, Conv2D, Conv2DTranspose); activations,
 * pooling, up-sampling, biases and losses are left out (they are O(outputs), not
 * O(outputs × fan-in)). A training step costs ≈ 3× the forward pass: the forward product,
 * the product for the input gradient and the one for the weight gradient.
 */
import * as tf from "@tensorflow/tfjs";

/** A model, a layer, or several of them (e.g. an encoder and a decoder trained together). */
export type CostSource = tf.LayersModel | tf.layers.Layer | ReadonlyArray<tf.LayersModel | tf.layers.Layer>;

/** One weight-carrying layer's share of the cost. */
export interface LayerCost {
  /** The layer's tfjs name, e.g. "dense_Dense3". */
  name: string;
  /** Its class, e.g. "Dense", "Conv2D", "Conv2DTranspose". */
  className: string;
  /** Weights of the layer (kernel + bias). */
  params: number;
  /** Multiply-adds of one sample's forward pass. */
  multiplyAdds: number;
  /** Output shape of one sample (batch dimension dropped). */
  outputShape: number[];
}

/** Training FLOPs ÷ forward FLOPs (forward product + input-gradient product + weight-gradient product). */
export const TRAINING_FLOPS_FACTOR = 3;

/** The internals of a tfjs layer read here (public in tfjs-layers, but not in its top-level types). */
interface LayerInternals {
  inboundNodes?: Array<{ inputShapes: Array<number | null> | Array<Array<number | null>> }>;
  layers?: tf.layers.Layer[];
  dataFormat?: string;
}

const MODEL_CLASSES = new Set(["Sequential", "Model", "Functional"]);

function isModel(layer: tf.layers.Layer): boolean {
  const internals = layer as unknown as LayerInternals;
  return MODEL_CLASSES.has(layer.getClassName()) && Array.isArray(internals.layers);
}

/** Product of the non-batch dimensions, failing on an unknown (null) one. */
function perSample(shape: ReadonlyArray<number | null>, what: string): number[] {
  const dims = shape.slice(1);
  if (dims.some((d) => d === null || !Number.isFinite(d))) {
    throw new Error(`layerCosts: ${what} has an unknown dimension ([${shape.join(", ")}]); give the model a fixed inputShape`);
  }
  return dims as number[];
}

function product(values: number[]): number {
  return values.reduce((a, b) => a * b, 1);
}

function singleShape(shape: unknown, what: string): Array<number | null> {
  if (!Array.isArray(shape)) throw new Error(`layerCosts: ${what} is not known; build the model (give its first layer an inputShape) first`);
  if (shape.length > 0 && Array.isArray(shape[0])) {
    if (shape.length !== 1) throw new Error(`layerCosts: ${what} has ${shape.length} inputs/outputs; only single-input layers are supported`);
    return shape[0] as Array<number | null>;
  }
  return shape as Array<number | null>;
}

function inputShapeOf(layer: tf.layers.Layer): Array<number | null> {
  const nodes = (layer as unknown as LayerInternals).inboundNodes ?? [];
  if (nodes.length === 0) throw new Error(`layerCosts: layer ${layer.name} is not connected to an input; build the model first`);
  return singleShape(nodes[0].inputShapes, `the input shape of layer ${layer.name}`);
}

function kernelShape(layer: tf.layers.Layer): number[] {
  const kernel = layer.weights.find((w) => /kernel$/.test(w.originalName ?? w.name)) ?? layer.weights[0];
  return kernel.shape as number[];
}

function checkChannelsLast(layer: tf.layers.Layer): void {
  const format = (layer as unknown as LayerInternals).dataFormat;
  if (format !== undefined && format !== "channelsLast") {
    throw new Error(`layerCosts: layer ${layer.name} uses dataFormat "${format}"; only "channelsLast" is supported`);
  }
}

/** Forward multiply-adds of one sample through one (non-model) layer. */
function layerMultiplyAdds(layer: tf.layers.Layer): number {
  const className = layer.getClassName();
  if (layer.weights.length === 0) return 0;
  const out = perSample(singleShape(layer.outputShape, `the output shape of layer ${layer.name}`), `the output of layer ${layer.name}`);
  switch (className) {
    case "Dense": {
      const [fanIn, units] = kernelShape(layer);
      // Dense on rank > 2 inputs applies the same matrix at every leading position.
      return (product(out) / units) * fanIn * units;
    }
    case "Conv2D": {
      checkChannelsLast(layer);
      const [kh, kw, inChannels, filters] = kernelShape(layer);
      const [oh, ow] = out;
      return oh * ow * filters * kh * kw * inChannels;
    }
    case "Conv2DTranspose": {
      checkChannelsLast(layer);
      // tfjs/Keras store a transposed-convolution kernel as [kh, kw, filters, inChannels];
      // each input pixel scatters kh·kw·filters products.
      const [kh, kw, filters, inChannels] = kernelShape(layer);
      const [ih, iw] = perSample(inputShapeOf(layer), `the input of layer ${layer.name}`);
      return ih * iw * inChannels * kh * kw * filters;
    }
    default:
      throw new Error(
        `layerCosts: no FLOP formula for layer ${layer.name} (class ${className}), which has weights; ` +
          `supported: Dense, Conv2D, Conv2DTranspose and weight-free layers`,
      );
  }
}

function sources(source: CostSource): Array<tf.LayersModel | tf.layers.Layer> {
  if (Array.isArray(source)) return source as Array<tf.LayersModel | tf.layers.Layer>;
  return [source as tf.LayersModel | tf.layers.Layer];
}

/** Each weight-carrying layer of the model(s) with its parameters and forward multiply-adds per sample (nested models flattened). */
export function layerCosts(source: CostSource): LayerCost[] {
  const out: LayerCost[] = [];
  const seen = new Set<tf.layers.Layer>();
  const visit = (layer: tf.layers.Layer) => {
    if (layer == null || typeof (layer as { getClassName?: unknown }).getClassName !== "function") {
      throw new Error("layerCosts: expected a tf.LayersModel or tf.layers.Layer");
    }
    if (seen.has(layer)) return; // a layer shared between models is counted once per call
    seen.add(layer);
    if (isModel(layer)) {
      for (const inner of (layer as unknown as LayerInternals).layers as tf.layers.Layer[]) visit(inner);
      return;
    }
    if (layer.weights.length === 0) return;
    out.push({
      name: layer.name,
      className: layer.getClassName(),
      params: layer.countParams(),
      multiplyAdds: layerMultiplyAdds(layer),
      outputShape: perSample(singleShape(layer.outputShape, `the output shape of layer ${layer.name}`), `the output of layer ${layer.name}`),
    });
  };
  for (const s of sources(source)) visit(s as tf.layers.Layer);
  return out;
}

/** Parameters (trainable and not) of the model(s); a layer shared between them is counted once. */
export function countParams(source: CostSource): number {
  let total = 0;
  const seen = new Set<string>();
  for (const s of sources(source)) {
    if (s == null || !Array.isArray((s as { weights?: unknown }).weights)) {
      throw new Error("countParams: expected a tf.LayersModel or tf.layers.Layer");
    }
    for (const w of s.weights) {
      if (seen.has(w.name)) continue;
      seen.add(w.name);
      total += product(w.shape as number[]);
    }
  }
  return total;
}

/** FLOPs of one sample's forward pass: 2 × Σ multiply-adds of the Dense/Conv2D/Conv2DTranspose layers. */
export function forwardFlopsPerSample(source: CostSource): number {
  return 2 * layerCosts(source).reduce((sum, l) => sum + l.multiplyAdds, 0);
}

/** FLOPs of one sample's training step: TRAINING_FLOPS_FACTOR (3) × the forward FLOPs. */
export function trainingFlopsPerSample(source: CostSource): number {
  return TRAINING_FLOPS_FACTOR * forwardFlopsPerSample(source);
}
