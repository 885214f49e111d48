/**
 * Dense layers as one kernel in training. tfjs-layers' Dense runs activation(x·W + b) through
 * tf.fused.matMul, which fuses only when no gradient is being recorded: in training a ReLU
 * layer becomes BatchMatMul, Add and Relu (three kernels, three tape nodes, each cloning what it
 * saves) and a sigmoid layer _FusedMatMul, Add and Sigmoid, with tfjs's 3-D reshapes around the
 * products. With the accelerator, a float32 Dense layer on a rank-2 input with a bias and a
 * linear, ReLU or sigmoid activation runs one kernel, DENSE_KERNEL (the product, the bias row and
 * the activation by ./wasm-overrides/matmul.ts's _FusedMatMul: the native addon where it is
 * built), and its gradient is registered per input, so that the tape computes only what is
 * needed (no ∂/∂x for a first layer):
 *   dz = dy ⊙ f′ (ReLU: dy·step(y); sigmoid: dy·(y·(1 − y)); linear: dy), as tfjs's own gradients compute it,
 *        in one native pass where the addon runs (DENSE_ACTIVATION_GRAD_KERNEL), else by tfjs's ops
 *   ∂/∂x = dz·Wᵀ,  ∂/∂W = xᵀ·dz,  ∂/∂b = Σ_rows dz
 * The same products as tfjs's autodiff of the unfused ops, so the same values. Other layers,
 * shapes, dtypes and backends without the kernel run tfjs-layers' own Dense.call.
 *
 * Nothing happens on import: {@link registerDenseFusion} registers the kernel on wasm and its
 * gradient, and routes Dense.call (lib/accelerate/index.ts calls it).
 */
import * as tf from "@tensorflow/tfjs";
import { fusedMatMulWasm } from "./wasm-overrides/matmul";
import { KernelArgs, WasmBackendLike, withShape } from "./wasm-overrides/common";
import { BinaryOp, nativeAddon, nativeCounters, nativeThreads } from "./native/addon";

/** The kernel name of a dense layer's forward pass (registered for wasm only). */
export const DENSE_KERNEL = "AeDense";
/** dz = dy ⊙ f′ from dy and y in one native pass (registered for wasm; run only where the addon is loaded). */
export const DENSE_ACTIVATION_GRAD_KERNEL = "AeDenseActivationGrad";

/** Activations the fused layer computes (tfjs-layers' class names). */
const FUSED_ACTIVATIONS = new Set(["linear", "relu", "sigmoid"]);

/** activation(x·W + b) by our _FusedMatMul (inputs x [n, in], W [in, out], bias [out]). */
function denseWasm(args: KernelArgs): tf.TensorInfo {
  const { x, W, bias } = args.inputs as { x: tf.TensorInfo; W: tf.TensorInfo; bias: tf.TensorInfo };
  const { activation } = (args.attrs ?? {}) as { activation?: string };
  const [n, k] = x.shape;
  const m = W.shape[1];
  // Rank-3 views, as tf.fused.matMul passes them (wasm's own fused kernel, used without the addon, reads a batch dimension).
  const out = fusedMatMulWasm({
    inputs: { a: withShape(x, [1, n, k]), b: withShape(W, [1, k, m]), bias }, backend: args.backend,
    attrs: { transposeA: false, transposeB: false, activation: activation ?? "linear" },
  });
  return withShape(out, [n, m]);
}

/** dy·step(y) (ReLU) or dy·(y·(1 − y)) (sigmoid) on the addon, in tfjs's order of operations (same values as its gradients). */
function activationGradWasm(args: KernelArgs): tf.TensorInfo {
  const { dy, y } = args.inputs as { dy: tf.TensorInfo; y: tf.TensorInfo };
  const { activation } = (args.attrs ?? {}) as { activation?: string };
  const native = nativeAddon();
  if (!native) throw new Error(`${DENSE_ACTIVATION_GRAD_KERNEL}: the native addon is not loaded`);
  const backend = args.backend as WasmBackendLike;
  const out = backend.makeOutput([...dy.shape], "float32");
  const view = (t: tf.TensorInfo) => backend.typedArrayFromHeap(t) as Float32Array;
  native.binary(activation === "relu" ? BinaryOp.ReluGrad : BinaryOp.SigmoidGrad, view(dy), view(y), view(out), nativeThreads());
  nativeCounters.elementwise++;
  return out;
}

/** dz = dy ⊙ f′(y): one native pass where the addon runs (float32), else tfjs's own ReLU and sigmoid gradient ops. */
function activationGradient(activation: string, dy: tf.Tensor, y: tf.Tensor): tf.Tensor {
  if (activation === "linear") return dy;
  // Not while a tape records this gradient (a gradient of a gradient): the native kernel has none of its own.
  const recorded = (tf.engine() as unknown as { isTapeOn(): boolean }).isTapeOn();
  if (!recorded && nativeAddon() && dy.dtype === "float32" && y.dtype === "float32" && tf.getKernel(DENSE_ACTIVATION_GRAD_KERNEL, tf.getBackend())) {
    return tf.engine().runKernel(DENSE_ACTIVATION_GRAD_KERNEL, { dy, y }, { activation } as unknown as tf.NamedAttrMap) as tf.Tensor;
  }
  // As tfjs's Relu and Sigmoid gradients (step(y) = step(x·W + b) for y = max(·, 0)).
  return activation === "relu" ? tf.mul(dy, tf.step(y)) : tf.mul(dy, tf.mul(y, tf.sub(tf.scalar(1), y)));
}

/** The gradient of DENSE_KERNEL, one thunk per input (the tape calls only those on a path to a variable). */
const DENSE_GRADIENT: tf.GradConfig = {
  kernelName: DENSE_KERNEL,
  inputsToSave: ["x", "W"],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [x, W, y] = saved;
    const g = dy as tf.Tensor;
    const dz = activationGradient((attrs as { activation?: string }).activation ?? "linear", g, y);
    return {
      x: () => tf.matMul(dz, W, false, true),
      W: () => tf.matMul(x, dz, true, false),
      bias: () => tf.sum(dz, 0),
    };
  },
};

/** The slice of a tfjs-layers Dense layer that the fused call reads. */
interface DenseLike {
  kernel: { read(): tf.Tensor } | null;
  bias: { read(): tf.Tensor } | null;
  activation: { getClassName(): string } | null;
  invokeCallHook(inputs: tf.Tensor | tf.Tensor[], kwargs: unknown): void;
}

type DenseCall = (this: DenseLike, inputs: tf.Tensor | tf.Tensor[], kwargs: unknown) => tf.Tensor | tf.Tensor[];

let originalCall: DenseCall | null = null;
let enabled = true;
/** Layer calls that ran the fused kernel (tests and the profiler read it). */
export const denseCounters = { fused: 0 };

/** tfjs-layers' Dense class prototype (from an instance: the class is not exported). */
function denseprototype(): { call: DenseCall } {
  const layer = tf.layers.dense({ units: 1 });
  return Object.getPrototypeOf(layer) as { call: DenseCall };
}

/** Dense.call: the fused kernel where it applies, else tfjs-layers' own. */
function fusedCall(this: DenseLike, inputs: tf.Tensor | tf.Tensor[], kwargs: unknown): tf.Tensor | tf.Tensor[] {
  const input = Array.isArray(inputs) ? (inputs.length === 1 ? inputs[0] : null) : inputs;
  const activation = this.activation?.getClassName() ?? "linear";
  if (!enabled || !input || input.rank !== 2 || input.dtype !== "float32" || !this.kernel || !this.bias || !FUSED_ACTIVATIONS.has(activation) ||
      tf.getKernel(DENSE_KERNEL, tf.getBackend()) === undefined) {
    return originalCall!.call(this, inputs, kwargs);
  }
  const W = this.kernel.read();
  const bias = this.bias.read();
  if (W.dtype !== "float32" || bias.dtype !== "float32" || W.rank !== 2 || bias.rank !== 1) return originalCall!.call(this, inputs, kwargs);
  return tf.tidy(() => {
    this.invokeCallHook(inputs, kwargs);
    denseCounters.fused++;
    return tf.engine().runKernel(DENSE_KERNEL, { x: input, W, bias }, { activation } as unknown as tf.NamedAttrMap) as tf.Tensor;
  });
}

/** Register the kernel on wasm, its gradient, and route tfjs-layers' Dense.call through it (idempotent). */
export function registerDenseFusion(): void {
  if (!tf.getKernel(DENSE_KERNEL, "wasm")) tf.registerKernel({ kernelName: DENSE_KERNEL, backendName: "wasm", kernelFunc: denseWasm as unknown as tf.KernelFunc });
  if (!tf.getKernel(DENSE_ACTIVATION_GRAD_KERNEL, "wasm")) {
    tf.registerKernel({ kernelName: DENSE_ACTIVATION_GRAD_KERNEL, backendName: "wasm", kernelFunc: activationGradWasm as unknown as tf.KernelFunc });
  }
  if (tf.getGradient(DENSE_KERNEL) !== DENSE_GRADIENT) tf.registerGradient(DENSE_GRADIENT);
  const proto = denseprototype();
  if (proto.call !== fusedCall) {
    originalCall = proto.call;
    proto.call = fusedCall;
  }
}

/** Turn the fused path on or off (tests compare the two); returns the previous setting. */
export function setDenseFusion(on: boolean): boolean {
  const previous = enabled;
  enabled = on;
  return previous;
}
