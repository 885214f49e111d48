/**
 * Output sizes of convolution layers, as paper 3's Implementation section derives them:
 *
 *   (9)  O = ⌊(W − F + 2P) / S⌋ + 1        (input W, kernel F, zero padding P, stride S)
 *   (10) P = (F − 1) / 2                    ("same" padding for an odd kernel and stride 1: O = W)
 *
 * plus the transposed convolution, pooling and upsampling sizes, and a check that compares
 * each layer's shape from these formulas with the shape TensorFlow.js actually gives it.
 */
import * as tf from "@tensorflow/tfjs";
import { checkPositiveInteger, layerPair } from "../models/common";

/** "same", "valid", or an explicit symmetric zero padding P. */
export type ConvPadding = "same" | "valid" | number;

export interface ConvOutputSizeOptions {
  /** W: input height or width. */
  inputSize: number;
  /** F: kernel size. */
  kernelSize: number;
  /** S (default 1). */
  stride?: number;
  /** P, or "valid" (P = 0) or "same" (P = (F − 1)/2, eq. 10; default "valid"). */
  padding?: ConvPadding;
}

/** "Same" zero padding P = (F − 1)/2 of a kernel of odd size F (eq. 10). */
export function samePadding(kernelSize: number): number {
  checkPositiveInteger(kernelSize, "kernelSize", "samePadding");
  if (kernelSize % 2 === 0) throw new Error(`samePadding: kernelSize must be odd for P = (F − 1)/2 to be a whole number of pixels, got ${kernelSize}`);
  return (kernelSize - 1) / 2;
}

/** Convolution output size O = ⌊(W − F + 2P)/S⌋ + 1 (eq. 9). */
export function convOutputSize(options: ConvOutputSizeOptions): number {
  const fn = "convOutputSize";
  const { inputSize, kernelSize } = options;
  const stride = options.stride ?? 1;
  checkPositiveInteger(inputSize, "inputSize", fn);
  checkPositiveInteger(kernelSize, "kernelSize", fn);
  checkPositiveInteger(stride, "stride", fn);
  const padding = options.padding ?? "valid";
  const p = padding === "same" ? samePadding(kernelSize) : padding === "valid" ? 0 : padding;
  if (!Number.isInteger(p) || p < 0) throw new Error(`${fn}: padding must be "same", "valid" or a non-negative integer, got ${JSON.stringify(padding)}`);
  const span = inputSize - kernelSize + 2 * p;
  if (span < 0) throw new Error(`${fn}: kernel ${kernelSize} is larger than the padded input ${inputSize} + 2·${p}`);
  return Math.floor(span / stride) + 1;
}

/** Transposed convolution output size: "same" W·S, "valid" (W − 1)·S + F (the inverse of eq. 9). */
export function convTransposeOutputSize(options: { inputSize: number; kernelSize: number; stride?: number; padding?: "same" | "valid" }): number {
  const fn = "convTransposeOutputSize";
  const stride = options.stride ?? 1;
  checkPositiveInteger(options.inputSize, "inputSize", fn);
  checkPositiveInteger(options.kernelSize, "kernelSize", fn);
  checkPositiveInteger(stride, "stride", fn);
  const padding = options.padding ?? "valid";
  if (padding === "same") return options.inputSize * stride;
  if (padding === "valid") return (options.inputSize - 1) * stride + Math.max(options.kernelSize, stride);
  throw new Error(`${fn}: padding must be "same" or "valid", got ${JSON.stringify(padding)}`);
}

/** Pooling output size: eq. 9 with F = pool size and S = its stride (default = pool size). */
export function poolOutputSize(options: { inputSize: number; poolSize: number; stride?: number; padding?: "same" | "valid" }): number {
  const fn = "poolOutputSize";
  const stride = options.stride ?? options.poolSize;
  checkPositiveInteger(options.inputSize, "inputSize", fn);
  checkPositiveInteger(options.poolSize, "poolSize", fn);
  checkPositiveInteger(stride, "stride", fn);
  if ((options.padding ?? "valid") === "same") return Math.ceil(options.inputSize / stride);
  return convOutputSize({ inputSize: options.inputSize, kernelSize: options.poolSize, stride });
}

/** One layer of a model: its output shape by the formulas above and as TensorFlow.js builds it. */
export interface LayerShapeCheck {
  layer: string;
  kind: string;
  /** [height, width, channels] from eqs. 9–10 (null for layers the formulas do not cover). */
  formula: number[] | null;
  /** [height, width, channels] as the layer reports it (batch dimension dropped). */
  actual: number[];
  params: number;
  /** formula equals actual (true for layers without a formula). */
  ok: boolean;
}

/** Every leaf layer of a model, nested Sequentials flattened, in order. */
function leafLayers(model: tf.LayersModel | tf.layers.Layer): tf.layers.Layer[] {
  const inner = (model as tf.LayersModel).layers;
  if (Array.isArray(inner)) return inner.flatMap((l) => leafLayers(l as tf.layers.Layer));
  return [model as tf.layers.Layer];
}

/** Output shape [h, w, c] of a Conv2D / Conv2DTranspose / pooling / UpSampling2D layer by eqs. 9–10, given its input [h, w, c]. */
export function formulaOutputShape(layer: tf.layers.Layer, input: number[]): number[] | null {
  const config = layer.getConfig() as Record<string, unknown>;
  const kind = layer.getClassName();
  const [h, w, c] = input;
  const padding = (config.padding as "same" | "valid" | undefined) ?? "valid";
  if (kind === "Conv2D") {
    const [fh, fw] = layerPair(config.kernelSize);
    const [sh, sw] = layerPair(config.strides ?? 1);
    // tfjs's "same" pads so that O = ⌈W/S⌉, which eq. 9 with P = (F−1)/2 gives for odd F.
    return [convOutputSize({ inputSize: h, kernelSize: fh, stride: sh, padding }), convOutputSize({ inputSize: w, kernelSize: fw, stride: sw, padding }), Number(config.filters)];
  }
  if (kind === "Conv2DTranspose") {
    const [fh, fw] = layerPair(config.kernelSize);
    const [sh, sw] = layerPair(config.strides ?? 1);
    return [convTransposeOutputSize({ inputSize: h, kernelSize: fh, stride: sh, padding }), convTransposeOutputSize({ inputSize: w, kernelSize: fw, stride: sw, padding }), Number(config.filters)];
  }
  if (kind === "MaxPooling2D" || kind === "AveragePooling2D") {
    const [ph, pw] = layerPair(config.poolSize);
    const [sh, sw] = layerPair(config.strides ?? config.poolSize);
    return [poolOutputSize({ inputSize: h, poolSize: ph, stride: sh, padding }), poolOutputSize({ inputSize: w, poolSize: pw, stride: sw, padding }), c];
  }
  if (kind === "UpSampling2D") {
    const [uh, uw] = layerPair(config.size ?? 2);
    return [h * uh, w * uw, c];
  }
  return null;
}

/** Compare eqs. 9–10 with the real output shape of every layer of a 2-D convolutional model (nested models flattened). */
export function checkLayerShapes(model: tf.LayersModel): LayerShapeCheck[] {
  if (model == null || !Array.isArray((model as tf.LayersModel).layers)) throw new Error("checkLayerShapes: model must be a tf.LayersModel");
  const inputShape = (model.inputs[0].shape as Array<number | null>).slice(1) as number[];
  if (inputShape.length !== 3) throw new Error(`checkLayerShapes: expected images [height, width, channels] as input, got [${inputShape.join(", ")}]`);
  const rows: LayerShapeCheck[] = [];
  let current = inputShape;
  for (const layer of leafLayers(model)) {
    const raw = layer.outputShape as Array<number | null>;
    const actual = raw.slice(1) as number[];
    const formula = formulaOutputShape(layer, current);
    rows.push({
      layer: layer.name, kind: layer.getClassName(), formula, actual, params: layer.countParams(),
      ok: formula === null || (formula.length === actual.length && formula.every((v, i) => v === actual[i])),
    });
    current = actual;
  }
  return rows;
}
