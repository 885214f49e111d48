/**
 * CSAE-C of paper 4 (§3.3, Table 2, Figure 3): a residual convolutional encoder and a
 * deconvolutional decoder on 32×32 images, with batch normalisation; plus the two
 * baselines of its Table 3: the encoder alone (trained on Loss1 only, classified by the
 * nearest centroid) and "basenet" (the same convolutions, 4×4 average pooling, softmax).
 *
 *   encoder: conv3×3 (c0) + BN + ReLU                          32×32×c0
 *            residual block c0 → c1, stride 2                  16×16×c1
 *            residual block c1 → c2, stride 2                   8×8×c2
 *            residual block c2 → c3, stride 2                   4×4×c3
 *            dense → latentDim (linear)                          d
 *   decoder: dense d → 4·4·c3 (linear), reshape                  4×4×c3
 *            deconvolution block c3 → c3                          8×8×c3
 *            deconvolution block c3 → c1                         16×16×c1
 *            deconvolution block c1 → c0                         32×32×c0
 *            conv1×1 → channels (linear, no sigmoid, as the paper says)
 * Residual block (Figure 3, ResNet's basic block): conv3×3 stride s + BN + ReLU, conv3×3 + BN,
 * plus a 1×1 stride-s projection of the input, then ReLU. Deconvolution block (the paper gives
 * no figure; this is the authors' released code): 2×2 transposed conv stride 2 to half the
 * input channels, conv3×3 + BN + ReLU. Default widths c = [16, 32, 64, 64] as Table 2.
 */
import * as tf from "@tensorflow/tfjs";
import { applyModel, checkPositiveIntegers, checkSeed, seededInit } from "../models/common";
import { TRAINING_FLOPS_FACTOR } from "../models/cost";
import { batchNormTraining, movingAverage } from "../models/batch-norm";
import type { AutoencoderModel } from "../models/autoencoders";

/** Options of `csaeConv`, `csaeConvEncoder` and `csaeBasenet`. */
export interface CsaeConvOptions {
  /** [height, width, channels] (default [32, 32, 1]: MNIST padded to 32×32); height and width divisible by 8. */
  inputShape?: [number, number, number];
  /** Latent dimension d (default 40). */
  latentDim?: number;
  /** Channels [c0, c1, c2, c3] of the stem and the three residual blocks (default [16, 32, 64, 64], Table 2). */
  widths?: [number, number, number, number];
  /** Batch-norm momentum of the moving statistics, Keras convention (default 0.9 = PyTorch's 0.1). */
  batchNormMomentum?: number;
  /** Seed of the initialisers (default 0). */
  seed?: number;
  /** Number of classes of `csaeBasenet` (default 10). */
  numClasses?: number;
}

/** The CSAE-C model as parts, like AutoencoderModel but with functional encoder/decoder and no joined model; `encode`/`decode` take `training` (batch norm uses batch statistics then). `paramCount` counts trainable and non-trainable weights (batch-norm statistics included). */
export interface CsaeConvModel extends Omit<AutoencoderModel, "encoder" | "decoder" | "model"> {
  encoder: tf.LayersModel;
  decoder: tf.LayersModel;
}

interface Resolved {
  inputShape: [number, number, number];
  latentDim: number;
  widths: number[];
  momentum: number;
  seed: number;
}

function resolve(options: CsaeConvOptions, fn: string): Resolved {
  const inputShape = checkPositiveIntegers(options.inputShape ?? [32, 32, 1], "inputShape", fn, 3) as [number, number, number];
  if (inputShape[0] % 8 !== 0 || inputShape[1] % 8 !== 0) {
    throw new Error(`${fn}: inputShape height and width must be divisible by 8 (three stride-2 blocks), got [${inputShape.join(", ")}]`);
  }
  const [latentDim] = checkPositiveIntegers([options.latentDim ?? 40], "latentDim", fn, 1);
  const widths = checkPositiveIntegers(options.widths ?? [16, 32, 64, 64], "widths", fn, 4);
  const momentum = options.batchNormMomentum ?? 0.9;
  if (!(momentum >= 0 && momentum < 1)) throw new Error(`${fn}: batchNormMomentum must be in [0, 1), got ${momentum}`);
  return { inputShape, latentDim, widths, momentum, seed: checkSeed(options.seed ?? 0, fn) };
}

/** Minimal structural view of a tfjs LayerVariable (read and write its value). */
interface WeightHandle {
  read(): tf.Tensor;
  write(value: tf.Tensor): unknown;
}

/**
 * Batch normalisation over the channel axis of NHWC feature maps (or the last axis of [n, c]):
 * y = γ·(x − μ_B)/√(σ²_B + ε) + β in training (moving statistics updated with momentum), the
 * moving statistics otherwise; with `relu`, max(0, y) (the BN + ReLU pairs of CSAE-C as one layer).
 * Training runs `batchNormTraining` (lib/models/batch-norm.ts: one op with its gradient in closed
 * form), not tfjs's fused batch-norm op, whose gradient tiles its statistics (the wasm Tile kernel
 * made it the slowest op of CSAE-C), nor autodiff through broadcasting ops (about twenty kernels).
 */
export class CsaeBatchNorm extends tf.layers.Layer {
  static className = "CsaeBatchNorm";
  private readonly momentum: number;
  private readonly epsilon: number;
  private readonly relu: boolean;
  private gamma!: WeightHandle;
  private beta!: WeightHandle;
  private movingMean!: WeightHandle;
  private movingVariance!: WeightHandle;

  constructor(config: { momentum?: number; epsilon?: number; relu?: boolean; name?: string } = {}) {
    super({ name: config.name });
    this.momentum = config.momentum ?? 0.9;
    if (!(this.momentum >= 0 && this.momentum < 1)) throw new Error(`CsaeBatchNorm: momentum must be in [0, 1), got ${config.momentum}`);
    this.epsilon = config.epsilon ?? 1e-5;
    this.relu = config.relu ?? false;
  }

  build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const channels = shape[shape.length - 1];
    if (channels == null) throw new Error("CsaeBatchNorm: the channel (last) dimension must be known");
    this.gamma = this.addWeight("gamma", [channels], "float32", tf.initializers.ones());
    this.beta = this.addWeight("beta", [channels], "float32", tf.initializers.zeros());
    this.movingMean = this.addWeight("moving_mean", [channels], "float32", tf.initializers.zeros(), undefined, false);
    this.movingVariance = this.addWeight("moving_variance", [channels], "float32", tf.initializers.ones(), undefined, false);
    this.built = true;
  }

  call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      if (kwargs.training) {
        const { y, mean, variance } = batchNormTraining(x, this.gamma.read(), this.beta.read(), { epsilon: this.epsilon, relu: this.relu });
        const m = this.momentum;
        const oldMean = this.movingMean.read();
        const oldVariance = this.movingVariance.read();
        this.movingMean.write(movingAverage(oldMean, mean, m));
        this.movingVariance.write(movingAverage(oldVariance, variance, m));
        return y;
      }
      const mean = this.movingMean.read();
      const scale = tf.mul(this.gamma.read(), tf.rsqrt(tf.add(this.movingVariance.read(), this.epsilon)));
      const y = tf.add(tf.mul(tf.sub(x, mean), scale), this.beta.read());
      return this.relu ? tf.relu(y) : y;
    });
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), momentum: this.momentum, epsilon: this.epsilon, relu: this.relu };
  }
}

let batchNormRegistered = false;
/** Register CsaeBatchNorm for model (de)serialisation, once, on first use (nothing happens on import). */
function registerCsaeBatchNorm(): void {
  if (!batchNormRegistered) tf.serialization.registerClass(CsaeBatchNorm);
  batchNormRegistered = true;
}

/** Builds layers with distinct seeded initialisers (index counts up). */
class LayerFactory {
  private index = 0;
  constructor(private readonly seed: number, private readonly momentum: number) {
    registerCsaeBatchNorm();
  }
  conv(filters: number, kernelSize: number, strides: number, useBias: boolean): tf.layers.Layer {
    return tf.layers.conv2d({ filters, kernelSize, strides, padding: "same", useBias, ...seededInit(this.seed, this.index++) });
  }
  deconv(filters: number): tf.layers.Layer {
    return tf.layers.conv2dTranspose({ filters, kernelSize: 2, strides: 2, padding: "valid", ...seededInit(this.seed, this.index++) });
  }
  dense(units: number): tf.layers.Layer {
    return tf.layers.dense({ units, ...seededInit(this.seed, this.index++) });
  }
  /** Batch norm, followed by ReLU in the same layer when `relu`. */
  bn(relu = false): tf.layers.Layer {
    return new CsaeBatchNorm({ momentum: this.momentum, epsilon: 1e-5, relu });
  }
}

/** Residual basic block (Figure 3): relu(BN(conv(relu(BN(conv_s(x))))) + proj_s(x)). */
function residualBlock(x: tf.SymbolicTensor, filters: number, strides: number, f: LayerFactory): tf.SymbolicTensor {
  let y = f.conv(filters, 3, strides, false).apply(x) as tf.SymbolicTensor;
  y = f.bn(true).apply(y) as tf.SymbolicTensor;
  y = f.bn().apply(f.conv(filters, 3, 1, false).apply(y)) as tf.SymbolicTensor;
  const inChannels = x.shape[3];
  const shortcut = strides !== 1 || inChannels !== filters ? (f.conv(filters, 1, strides, true).apply(x) as tf.SymbolicTensor) : x;
  return tf.layers.reLU().apply(tf.layers.add().apply([y, shortcut])) as tf.SymbolicTensor;
}

/** Deconvolution block: 2×2 transposed conv stride 2 to ⌈in/2⌉ channels, conv3×3 + BN + ReLU. */
function deconvBlock(x: tf.SymbolicTensor, filters: number, f: LayerFactory): tf.SymbolicTensor {
  const inChannels = x.shape[3] as number;
  let y = f.deconv(Math.max(1, Math.ceil(inChannels / 2))).apply(x) as tf.SymbolicTensor;
  return f.bn(true).apply(f.conv(filters, 3, 1, false).apply(y)) as tf.SymbolicTensor;
}

/** The convolutional trunk shared by the encoder and basenet: stem + three residual blocks → [h/8, w/8, c3]. */
function convTrunk(input: tf.SymbolicTensor, r: Resolved, f: LayerFactory): tf.SymbolicTensor {
  let x = f.conv(r.widths[0], 3, 1, false).apply(input) as tf.SymbolicTensor;
  x = f.bn(true).apply(x) as tf.SymbolicTensor;
  x = residualBlock(x, r.widths[1], 2, f);
  x = residualBlock(x, r.widths[2], 2, f);
  return residualBlock(x, r.widths[3], 2, f);
}

function buildEncoder(r: Resolved, name: string): tf.LayersModel {
  const f = new LayerFactory(r.seed, r.momentum);
  const input = tf.input({ shape: r.inputShape });
  const trunk = convTrunk(input, r, f);
  const z = f.dense(r.latentDim).apply(tf.layers.flatten().apply(trunk)) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: z, name });
}

function buildDecoder(r: Resolved, name: string): tf.LayersModel {
  const f = new LayerFactory(r.seed + 7919, r.momentum);
  const [h, w, channels] = r.inputShape;
  const [c0, c1, , c3] = r.widths;
  const input = tf.input({ shape: [r.latentDim] });
  let x = f.dense((h / 8) * (w / 8) * c3).apply(input) as tf.SymbolicTensor;
  x = tf.layers.reshape({ targetShape: [h / 8, w / 8, c3] }).apply(x) as tf.SymbolicTensor;
  x = deconvBlock(x, c3, f);
  x = deconvBlock(x, c1, f);
  x = deconvBlock(x, c0, f);
  const out = f.conv(channels, 1, 1, true).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name });
}

/** 2 × multiply-adds of one sample through the Dense/Conv2D/Conv2DTranspose layers of CSAE-C, its encoder or basenet (batch norm, ReLU, adds left out, as lib/models/cost). */
export function csaeConvFlopsPerSample(models: tf.LayersModel[]): number {
  let macs = 0;
  for (const model of models) {
    for (const layer of model.layers) {
      const weights = layer.getWeights();
      if (weights.length === 0) continue;
      const kernel = weights[0].shape as number[];
      const out = layer.outputShape as number[];
      if (kernel.length < 2) continue;
      const cls = layer.getClassName();
      if (cls === "Dense") macs += kernel[0] * kernel[1];
      else if (cls === "Conv2D") macs += out[1] * out[2] * out[3] * kernel[0] * kernel[1] * kernel[2];
      else if (cls === "Conv2DTranspose") macs += ((out[1] * out[2]) / (kernel[0] * kernel[1])) * kernel[0] * kernel[1] * kernel[2] * kernel[3];
    }
  }
  return 2 * macs;
}

function disposeModels(models: tf.LayersModel[]): void {
  for (const m of models) {
    try {
      m.dispose();
    } catch (error) {
      if (!(error instanceof Error && /already disposed/.test(error.message))) throw error;
    }
  }
}

/** CSAE-C of paper 4 (Table 2): residual conv encoder to a d-dimensional code, deconvolutional decoder back to the image (no sigmoid). */
export function csaeConv(options: CsaeConvOptions = {}): CsaeConvModel {
  const r = resolve(options, "csaeConv");
  const encoder = buildEncoder(r, "csae_conv_encoder");
  const decoder = buildDecoder(r, "csae_conv_decoder");
  const both = [encoder, decoder];
  const forward = csaeConvFlopsPerSample(both);
  return {
    encoder,
    decoder,
    encode: (x, training = true) => applyModel(encoder, x, training),
    decode: (z, training = true) => applyModel(decoder, z, training),
    reconstruct: (x, training = true) => applyModel(decoder, applyModel(encoder, x, training), training),
    inputShape: [...r.inputShape],
    latentShape: [r.latentDim],
    paramCount: encoder.countParams() + decoder.countParams(),
    forwardFlopsPerSample: forward,
    trainingFlopsPerSample: TRAINING_FLOPS_FACTOR * forward,
    dispose: () => disposeModels(both),
  };
}

/** The CSAE-C encoder alone (paper 4's CSAE_encoder baseline: trained on Loss1 only, classified by the nearest centroid). */
export function csaeConvEncoder(options: CsaeConvOptions = {}): tf.LayersModel {
  return buildEncoder(resolve(options, "csaeConvEncoder"), "csae_encoder_only");
}

/** Paper 4's "basenet": the encoder's convolutions, 4×4 average pooling and a softmax layer, trained with cross-entropy. */
export function csaeBasenet(options: CsaeConvOptions = {}): tf.LayersModel {
  const r = resolve(options, "csaeBasenet");
  const [numClasses] = checkPositiveIntegers([options.numClasses ?? 10], "numClasses", "csaeBasenet", 1);
  const f = new LayerFactory(r.seed, r.momentum);
  const input = tf.input({ shape: r.inputShape });
  const trunk = convTrunk(input, r, f);
  const pooled = tf.layers.globalAveragePooling2d({}).apply(trunk) as tf.SymbolicTensor;
  const probabilities = tf.layers.dense({ units: numClasses, activation: "softmax", ...seededInit(r.seed, 999) }).apply(pooled) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: probabilities, name: "csae_basenet" });
}
