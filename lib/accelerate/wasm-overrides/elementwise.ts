/**
 * Element-wise kernels on the native addon (lib/accelerate/native/addon.ts): LeakyRelu and Step (the forward
 * pass of leaky-ReLU layers, and ReLU's gradient mask), Tanh, Sigmoid and Softplus (tanh and
 * sigmoid layers, a sigmoid's gradient, the CVAE's Bernoulli loss), Greater and Select (leaky ReLU's
 * gradient: where(x > 0, dy, α·dy)), LessEqual and Greater (Minimum's gradient masks), and Add where one operand is a bias or both have one shape. wasm's own run these
 * one element at a time on one thread; the addon's loops are vectorised, branch-free and split
 * over its threads. Each falls back to wasm's own kernel where the addon is not loaded or the
 * case is not the plain one (other dtypes; for Greater and LessEqual, broadcasting other than a scalar second
 * operand; for the binary functions below, broadcasting other than one value or one row of the
 * last axis). Identity and a same-dtype Cast (below) need no addon; a Cast of bool or int32 to float32 goes native from
 * NATIVE_MIN_VALUES values. Add, Sub, Multiply, RealDiv and
 * SquaredDifference of one shape, against one value or against one row of the last axis (a loss and
 * its gradient: x̂ − x, 2·d, dy·mask, 1 − y; a bias; a per-channel (x − μ)/σ), Minimum and Maximum (a
 * leaky ReLU's inverse) go native from NATIVE_MIN_VALUES elements. Their results equal wasm's own
 * kernels' bit for bit on finite values; Minimum and Maximum follow Math.min and Math.max (as tfjs-cpu)
 * where wasm's own does not: NaN if either operand is NaN, and −0 below +0.
 */
import * as tf from "@tensorflow/tfjs";
import { BinaryOp, ComparisonOp, nativeAddon, nativeCounters, nativeThreads, UnaryOp } from "../native/addon";
import { KernelArgs, NATIVE_MIN_VALUES, runStockKernel, WasmBackendLike } from "./common";

const size = tf.util.sizeFromShape;

function unary(kernelName: "LeakyRelu" | "Step" | "Tanh" | "Sigmoid" | "Softplus", op: UnaryOp, args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x } = args.inputs as { x?: tf.TensorInfo };
  const alpha = Number((args.attrs as { alpha?: number } | undefined)?.alpha ?? (kernelName === "LeakyRelu" ? 0.2 : 0));
  const native = nativeAddon();
  if (!native || !x || x.dtype !== "float32" || size(x.shape) === 0) return runStockKernel(kernelName, args);
  const out = backend.makeOutput([...x.shape], "float32");
  native.unary(op, backend.typedArrayFromHeap(x) as Float32Array, backend.typedArrayFromHeap(out) as Float32Array, alpha, nativeThreads());
  nativeCounters.elementwise++;
  return out;
}

/** LeakyRelu: y = x < 0 ? α·x : x. */
export function leakyReluWasm(args: KernelArgs): tf.TensorInfo {
  return unary("LeakyRelu", UnaryOp.LeakyRelu, args);
}

/** Step: y = x > 0 ? 1 : α (NaN stays NaN), ReLU's gradient mask. */
export function stepWasm(args: KernelArgs): tf.TensorInfo {
  return unary("Step", UnaryOp.Step, args);
}

/** Tanh (wasm's own calls libm's tanh value by value: ≈ 11 ms on [128, 28, 28, 16], the addon ≈ 1.6 ms on 2 threads). */
export function tanhWasm(args: KernelArgs): tf.TensorInfo {
  return unary("Tanh", UnaryOp.Tanh, args);
}

/** Sigmoid: 1 / (1 + e^−x). */
export function sigmoidWasm(args: KernelArgs): tf.TensorInfo {
  return unary("Sigmoid", UnaryOp.Sigmoid, args);
}

/** Softplus: ln(1 + e^x) with tfjs's cut-offs (x beyond ±13.94: x, or e^x). */
export function softplusWasm(args: KernelArgs): tf.TensorInfo {
  return unary("Softplus", UnaryOp.Softplus, args);
}

/** A comparison kernel on the addon, `kernelName` its tfjs name: float32 a against b of a's shape or a single value; else wasm's own. */
function comparisonWasm(kernelName: "Greater" | "LessEqual", op: ComparisonOp): (args: KernelArgs) => tf.TensorInfo {
  return (args) => {
    const backend = args.backend as WasmBackendLike;
    const { a, b } = args.inputs as tf.GreaterInputs;
    const native = nativeAddon();
    const n = a ? size(a.shape) : 0;
    if (!native || !a || !b || a.dtype !== "float32" || b.dtype !== "float32" || n === 0 ||
        !(size(b.shape) === 1 || tf.util.arraysEqual(a.shape, b.shape)) || b.shape.length > a.shape.length) {
      return runStockKernel(kernelName, args);
    }
    const out = backend.makeOutput([...a.shape], "bool");
    native.compare(op, backend.typedArrayFromHeap(a) as Float32Array, backend.typedArrayFromHeap(b) as Float32Array, backend.typedArrayFromHeap(out) as Uint8Array, nativeThreads());
    nativeCounters.elementwise++;
    return out;
  };
}

/** Greater: a > b (leaky ReLU's gradient mask; Minimum's gradient for b). */
export const greaterWasm = comparisonWasm("Greater", ComparisonOp.Greater);
/** LessEqual: a ≤ b (Minimum's gradient for a: wasm's own took ≈ 11 ms for [128, 24, 24, 32]). */
export const lessEqualWasm = comparisonWasm("LessEqual", ComparisonOp.LessEqual);

/** Select: condition ? t : e, all of one shape (bool condition, float32 values). */
export function selectWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { condition, t, e } = args.inputs as tf.SelectInputs;
  const native = nativeAddon();
  if (!native || !condition || !t || !e || condition.dtype !== "bool" || t.dtype !== "float32" || e.dtype !== "float32" || size(t.shape) === 0 ||
      !tf.util.arraysEqual(condition.shape, t.shape) || !tf.util.arraysEqual(t.shape, e.shape)) {
    return runStockKernel("Select", args);
  }
  const out = backend.makeOutput([...t.shape], "float32");
  native.select(backend.typedArrayFromHeap(condition) as Uint8Array, backend.typedArrayFromHeap(t) as Float32Array, backend.typedArrayFromHeap(e) as Float32Array,
    backend.typedArrayFromHeap(out) as Float32Array, nativeThreads());
  nativeCounters.elementwise++;
  return out;
}

/** Whether `row` is one row of `x`'s last axis ([C] or [1, …, 1, C] against [..., C] with more than one row): a bias, a per-channel scale or shift. */
function isRowOf(x: tf.TensorInfo, row: tf.TensorInfo): boolean {
  const channels = x.shape[x.shape.length - 1];
  return x.shape.length >= 2 && row.shape.length >= 1 && row.shape.length <= x.shape.length && row.shape[row.shape.length - 1] === channels &&
    row.shape.slice(0, -1).every((d) => d === 1) && size(x.shape) > channels;
}

/**
 * Add where one operand is a bias: float32 [..., C] + [C] (or [1, …, 1, C]), either way round:
 * a conv layer's bias in training, which tfjs adds outside the convolution (wasm's own
 * broadcasting add took ≈ 1.6 ms on [128, 28, 28, 16], the addon ≈ 0.2). Else wasm's own.
 */
export function addWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { a, b } = args.inputs as tf.AddInputs;
  const native = nativeAddon();
  if (!native || !a || !b || a.dtype !== "float32" || b.dtype !== "float32") return runStockKernel("Add", args);
  if (tf.util.arraysEqual(a.shape, b.shape) && size(a.shape) >= NATIVE_MIN_VALUES) {
    // Same shapes (a gradient summed over a tensor's two uses, a residual add): one threaded pass.
    const out = backend.makeOutput([...a.shape], "float32");
    native.addArrays(backend.typedArrayFromHeap(a) as Float32Array, backend.typedArrayFromHeap(b) as Float32Array, backend.typedArrayFromHeap(out) as Float32Array, nativeThreads());
    nativeCounters.elementwise++;
    return out;
  }
  const [x, bias] = isRowOf(a, b) ? [a, b] : isRowOf(b, a) ? [b, a] : [null, null];
  if (!x || !bias || size(x.shape) === 0) return runStockKernel("Add", args);
  const cols = x.shape[x.shape.length - 1];
  const out = backend.makeOutput([...x.shape], "float32");
  native.addRows(backend.typedArrayFromHeap(x) as Float32Array, backend.typedArrayFromHeap(bias) as Float32Array, backend.typedArrayFromHeap(out) as Float32Array,
    size(x.shape) / cols, cols, nativeThreads());
  nativeCounters.elementwise++;
  return out;
}

/**
 * Sub, Multiply, RealDiv, SquaredDifference, Minimum and Maximum on the addon for float32 operands of one shape,
 * one of them a single value ([] or [1, …, 1], a scalar's broadcast), or one of them one row of the other's last
 * axis ([..., C] with [C]: a per-channel shift or scale, as batch normalisation's), from NATIVE_MIN_VALUES
 * elements: one vectorised, threaded pass with tfjs-cpu's float32 arithmetic. wasm's own
 * broadcasting loop took ≈ 50–250 µs on [128, 784], and ≈ 0.6 ms on [32, 28, 28, 16] with [16]. Else wasm's own.
 */
function binary(kernelName: "Sub" | "Multiply" | "RealDiv" | "SquaredDifference" | "Minimum" | "Maximum", op: BinaryOp, args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { a, b } = args.inputs as tf.BinaryInputs;
  const native = nativeAddon();
  if (!native || !a || !b || a.dtype !== "float32" || b.dtype !== "float32") return runStockKernel(kernelName, args);
  const na = size(a.shape);
  const nb = size(b.shape);
  const sameShape = tf.util.arraysEqual(a.shape, b.shape);
  // One operand a single value: the output has the other's shape (when the single value's rank is not higher).
  const outShape = sameShape ? a.shape : nb === 1 && b.shape.length <= a.shape.length ? a.shape : na === 1 && a.shape.length <= b.shape.length ? b.shape : null;
  if (outShape) {
    if (size(outShape) < NATIVE_MIN_VALUES) return runStockKernel(kernelName, args);
    const out = backend.makeOutput([...outShape], "float32");
    native.binary(op, backend.typedArrayFromHeap(a) as Float32Array, backend.typedArrayFromHeap(b) as Float32Array, backend.typedArrayFromHeap(out) as Float32Array, nativeThreads());
    nativeCounters.elementwise++;
    return out;
  }
  const full = isRowOf(a, b) ? a : isRowOf(b, a) ? b : null;
  if (!full || size(full.shape) < NATIVE_MIN_VALUES) return runStockKernel(kernelName, args);
  const out = backend.makeOutput([...full.shape], "float32");
  native.binaryRows(op, backend.typedArrayFromHeap(a) as Float32Array, backend.typedArrayFromHeap(b) as Float32Array, backend.typedArrayFromHeap(out) as Float32Array,
    full.shape[full.shape.length - 1], nativeThreads());
  nativeCounters.elementwise++;
  return out;
}

/** Sub: a − b. */
export function subWasm(args: KernelArgs): tf.TensorInfo {
  return binary("Sub", BinaryOp.Sub, args);
}

/** Multiply: a·b. */
export function multiplyWasm(args: KernelArgs): tf.TensorInfo {
  return binary("Multiply", BinaryOp.Mul, args);
}

/** RealDiv: a / b. */
export function realDivWasm(args: KernelArgs): tf.TensorInfo {
  return binary("RealDiv", BinaryOp.Div, args);
}

/** SquaredDifference: (a − b)². */
export function squaredDifferenceWasm(args: KernelArgs): tf.TensorInfo {
  return binary("SquaredDifference", BinaryOp.SquaredDifference, args);
}

/**
 * Minimum: Math.min(a, b), NaN if either is NaN and −0 below +0 (wasm's own, which smaller tensors keep, gives
 * min(NaN, 0) = 0 and min(0, −0) = +0). The inverse of a leaky ReLU, min(y, y/α); wasm's own took ≈ 50 ms on
 * [256, 28, 28, 16], 14× its Sub.
 */
export function minimumWasm(args: KernelArgs): tf.TensorInfo {
  return binary("Minimum", BinaryOp.Minimum, args);
}

/** Maximum: Math.max(a, b), NaN if either is NaN and +0 above −0 (as Minimum). */
export function maximumWasm(args: KernelArgs): tf.TensorInfo {
  return binary("Maximum", BinaryOp.Maximum, args);
}

/**
 * Identity, and Cast to the dtype a tensor already has: the output shares the input's memory
 * (as tfjs-cpu does) where wasm's own copies it, 43 times per step in the CNN (≈ 20 ms). Safe
 * because no kernel writes into its inputs; the one in-place writer here, FusedAdamOptimizer,
 * gives a weight whose memory is shared its own copy before it writes.
 */
export function identityWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike & { incRef(dataId: tf.DataId): void };
  const { x } = args.inputs as tf.IdentityInputs;
  if (!x || x.dtype === "string") return runStockKernel("Identity", args);
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

/**
 * Cast: to the same dtype, a shared view as identityWasm; bool or int32 to float32 from NATIVE_MIN_VALUES values on the
 * addon (a mask as numbers: Minimum's gradient, a one-hot pattern; wasm's own converts value by value in a typed-array copy,
 * ≈ 0.6 ms for [128, 24, 24, 32]; the same conversion, so the same values); else wasm's own.
 */
export function castWasm(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs as tf.CastInputs;
  const { dtype } = (args.attrs ?? {}) as unknown as tf.CastAttrs;
  if (x && x.dtype === dtype && dtype !== "string") return identityWasm({ ...args, inputs: { x } });
  const native = nativeAddon();
  if (native && x && dtype === "float32" && (x.dtype === "bool" || x.dtype === "int32") && size(x.shape) >= NATIVE_MIN_VALUES) {
    const backend = args.backend as WasmBackendLike;
    const out = backend.makeOutput([...x.shape], "float32");
    native.toFloat32(backend.typedArrayFromHeap(x) as Uint8Array | Int32Array, backend.typedArrayFromHeap(out) as Float32Array, nativeThreads());
    nativeCounters.elementwise++;
    return out;
  }
  return runStockKernel("Cast", args);
}
