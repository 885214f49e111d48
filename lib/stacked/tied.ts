/**
 * Tied weights W′ = Wᵀ (lecture slide "weights between the input and hidden layer are often
 * tied with weights between the hidden layer and output"): a decoder layer that owns only
 * its bias b′ and reads the kernel of an encoder Dense layer, transposed.
 *
 * In tfjs a Dense kernel K is stored [inputDim, units] and computes x·K + b, so the lecture's
 * y = φ(Wx + b) has W = Kᵀ; the tied decoder z = φ(W′y + b′) with W′ = Wᵀ = K computes y·Kᵀ + b′.
 */
import * as tf from "@tensorflow/tfjs";
import type { Autoencoder } from "../models/autoencoder";
import { LayerActivation, checkActivation } from "../models/common";

/** The rank-2 kernel variable of a built Dense-like layer (the weight whose name ends in "kernel", else its only rank-2 weight). */
export function denseKernelVariable(layer: tf.layers.Layer, fn = "denseKernelVariable"): tf.Variable {
  if (layer == null || !Array.isArray((layer as { weights?: unknown }).weights)) {
    throw new Error(`${fn}: tiedTo must be a tf.layers.Layer (a Dense layer), got ${layer === null ? "null" : typeof layer}`);
  }
  if (!layer.built) {
    throw new Error(`${fn}: the layer '${layer.name}' it is tied to is not built yet; build or call the encoder first (give it an inputShape)`);
  }
  const rank2 = layer.weights.filter((w) => w.shape.length === 2);
  const byName = rank2.filter((w) => /kernel$/.test(w.originalName ?? w.name));
  const chosen = byName.length === 1 ? byName[0] : rank2.length === 1 ? rank2[0] : null;
  if (chosen === null) {
    throw new Error(`${fn}: the layer '${layer.name}' has ${rank2.length} rank-2 weights; expected exactly one kernel (a Dense layer)`);
  }
  return chosen.read() as tf.Variable;
}

function applyActivation(x: tf.Tensor, activation: LayerActivation): tf.Tensor {
  switch (activation) {
    case "linear": return x;
    case "relu": return tf.relu(x);
    case "leakyRelu": return tf.leakyRelu(x, 0.3);
    case "sigmoid": return tf.sigmoid(x);
    case "tanh": return tf.tanh(x);
    case "softmax": return tf.softmax(x);
    case "elu": return tf.elu(x);
    case "selu": return tf.selu(x);
    case "softplus": return tf.softplus(x);
  }
}

/**
 * The tied decoder as a plain function: φ(y·Kᵀ + b′) = φ(W′y + b′) with W′ = Wᵀ, for a Dense
 * kernel K = Wᵀ of shape [inputDim, codeDim] (lecture: z = φ(W′y + b′)). Differentiable in all inputs.
 */
export function tiedDenseApply(codes: tf.Tensor2D, kernel: tf.Tensor2D, bias?: tf.Tensor1D | null, activation: LayerActivation = "linear"): tf.Tensor2D {
  const fn = "tiedDenseApply";
  if (!(codes instanceof tf.Tensor) || codes.rank !== 2) throw new Error(`${fn}: codes must be a rank-2 tensor [n, codeDim], got ${codes instanceof tf.Tensor ? `shape [${codes.shape}]` : typeof codes}`);
  if (!(kernel instanceof tf.Tensor) || kernel.rank !== 2) throw new Error(`${fn}: kernel must be a rank-2 tensor [inputDim, codeDim]`);
  if (kernel.shape[1] !== codes.shape[1]) {
    throw new Error(`${fn}: codes have ${codes.shape[1]} columns but the kernel [${kernel.shape}] maps ${kernel.shape[0]} inputs to ${kernel.shape[1]} units; expected codeDim ${kernel.shape[1]}`);
  }
  if (bias != null && (bias.rank !== 1 || bias.shape[0] !== kernel.shape[0])) {
    throw new Error(`${fn}: bias must have shape [${kernel.shape[0]}], got [${bias.shape}]`);
  }
  checkActivation(activation, "activation", fn);
  return tf.tidy(() => {
    const linear = tf.matMul(codes, kernel, false, true);
    return applyActivation(bias != null ? tf.add(linear, bias) : linear, activation) as tf.Tensor2D;
  });
}

/** Options of `tiedDense`. */
export interface TiedDenseOptions {
  /** The encoder Dense layer whose kernel (transposed) this layer uses; built before this layer is. */
  tiedTo: tf.layers.Layer;
  /** Activation φ of the output (default "linear"). */
  activation?: LayerActivation;
  /** Learn an own bias b′ (default true). */
  useBias?: boolean;
  /** Layer name (default: tfjs's unique name). */
  name?: string;
  /** Whether b′ is trained (default true); the shared kernel trains with the encoder. */
  trainable?: boolean;
}

/**
 * A Dense layer with tied weights W′ = Wᵀ: output φ(y·Kᵀ + b′) where K is `tiedTo`'s kernel.
 * It owns only b′ (so a tied autoencoder has d·k + k + d parameters, not 2·d·k + k + d);
 * gradients reach K through both uses. Works in tf.sequential models and with trainModel
 * (list the encoder too, or its kernel is not trained). Not serialisable (it holds a reference).
 */
export class TiedDense extends tf.layers.Layer {
  static className = "TiedDense";
  readonly tiedTo: tf.layers.Layer;
  readonly activation: LayerActivation;
  readonly useBias: boolean;
  private bias: tf.LayerVariable | null = null;

  constructor(options: TiedDenseOptions) {
    super({ name: options.name, trainable: options.trainable ?? true } as never);
    if (options == null || options.tiedTo == null || !Array.isArray((options.tiedTo as { weights?: unknown }).weights)) {
      throw new Error("TiedDense: options.tiedTo must be the encoder's Dense layer (a tf.layers.Layer)");
    }
    this.tiedTo = options.tiedTo;
    this.activation = checkActivation(options.activation ?? "linear", "activation", "TiedDense");
    this.useBias = options.useBias ?? true;
  }

  /** The shared kernel K = Wᵀ ([outputDim, inputDim] of this layer). */
  kernel(): tf.Variable {
    return denseKernelVariable(this.tiedTo, "TiedDense");
  }

  build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const kernel = this.kernel();
    const inputDim = shape[shape.length - 1];
    if (inputDim !== kernel.shape[1]) {
      throw new Error(`TiedDense: its input has ${inputDim} features but '${this.tiedTo.name}' has ${kernel.shape[1]} units; a tied decoder takes that layer's output`);
    }
    if (this.useBias) this.bias = this.addWeight("bias", [kernel.shape[0]], "float32", tf.initializers.zeros());
    this.built = true;
  }

  computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [...shape.slice(0, -1), this.kernel().shape[0]];
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return tiedDenseApply(x as tf.Tensor2D, this.kernel() as tf.Tensor2D, this.bias ? (this.bias.read() as tf.Tensor1D) : null, this.activation);
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), tiedTo: this.tiedTo.name, activation: this.activation, useBias: this.useBias };
  }
}

/** Build a `TiedDense` layer (W′ = Wᵀ of `options.tiedTo`). */
export function tiedDense(options: TiedDenseOptions): TiedDense {
  return new TiedDense(options);
}

/** Options of `basicAutoencoder`. */
export interface BasicAutoencoderOptions {
  /** Input width d (default 784). */
  inputDim?: number;
  /** Code width k. */
  codeDim: number;
  /** Tie the decoder to the encoder, W′ = Wᵀ (default false). */
  tiedWeights?: boolean;
  /** φ of the code y (default "sigmoid", the lecture's basic autoencoder). */
  activation?: LayerActivation;
  /** φ of the reconstruction z (default "sigmoid"). */
  outputActivation?: LayerActivation;
  /** Seed of the Glorot-uniform kernels (default 0). */
  seed?: number;
}

/** A one-hidden-layer autoencoder y = φ(Wx + b), z = φ(W′y + b′), its parts and its parameter count. */
export interface BasicAutoencoder extends Autoencoder<tf.Tensor2D> {
  encoderLayer: tf.layers.Layer;
  decoderLayer: tf.layers.Layer;
  /** x → z as one model (encoder then decoder). */
  model: tf.Sequential;
  encode(x: tf.Tensor2D): tf.Tensor2D;
  decode(y: tf.Tensor2D): tf.Tensor2D;
  reconstruct(x: tf.Tensor2D): tf.Tensor2D;
  tiedWeights: boolean;
  /** d·k + k + (tied ? 0 : k·d) + d. */
  paramCount: number;
  dispose(): void;
}

/** The lecture's basic autoencoder d → k → d (slide equations y = φ(Wx + b), z = φ(W′y + b′)), tied (W′ = Wᵀ) or not. */
export function basicAutoencoder(options: BasicAutoencoderOptions): BasicAutoencoder {
  const fn = "basicAutoencoder";
  if (options == null || !Number.isInteger(options.codeDim) || options.codeDim < 1) throw new Error(`${fn}: codeDim must be a positive integer, got ${options?.codeDim}`);
  const inputDim = options.inputDim ?? 784;
  if (!Number.isInteger(inputDim) || inputDim < 1) throw new Error(`${fn}: inputDim must be a positive integer, got ${inputDim}`);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new Error(`${fn}: seed must be an integer, got ${seed}`);
  const activation = checkActivation(options.activation ?? "sigmoid", "activation", fn);
  const outputActivation = checkActivation(options.outputActivation ?? "sigmoid", "outputActivation", fn);
  if (activation === "leakyRelu" || outputActivation === "leakyRelu") throw new Error(`${fn}: activation "leakyRelu" is not supported here; use relu, sigmoid, tanh or linear`);
  const tiedWeights = options.tiedWeights ?? false;
  const init = (salt: number) => tf.initializers.glorotUniform({ seed: ((seed * 7919 + salt) >>> 0) % 2147483647 + 1 });
  const encoderLayer = tf.layers.dense({ units: options.codeDim, inputShape: [inputDim], activation: activation as Exclude<LayerActivation, "leakyRelu">, kernelInitializer: init(1) });
  const model = tf.sequential();
  model.add(encoderLayer);
  const decoderLayer = tiedWeights
    ? tiedDense({ tiedTo: encoderLayer, activation: outputActivation })
    : tf.layers.dense({ units: inputDim, activation: outputActivation as Exclude<LayerActivation, "leakyRelu">, kernelInitializer: init(2) });
  model.add(decoderLayer);
  const applyLayer = (layer: tf.layers.Layer, x: tf.Tensor) => layer.apply(x) as tf.Tensor2D;
  return {
    encoderLayer, decoderLayer, model, tiedWeights,
    encode: (x) => applyLayer(encoderLayer, x),
    decode: (y) => applyLayer(decoderLayer, y),
    reconstruct: (x) => model.apply(x) as tf.Tensor2D,
    paramCount: model.countParams(),
    dispose: () => model.dispose(),
  };
}
