/**
 * BatchMatMul and _FusedMatMul on wasm. Where the native addon is built (lib/accelerate/native/addon.ts), both
 * run its multithreaded product directly on the wasm heap (transposes are absorbed by its
 * packing). Without it: wasm's own kernel reaches XNNPACK only when neither operand is
 * transposed, and with transposeA or transposeB it runs a naive loop (about 10–20× slower), so
 * ours materialises each transposed operand with wasm's Transpose kernel (a cheap O(n) copy)
 * and then calls wasm's own kernel untransposed; _FusedMatMul is then wasm's own.
 */
import * as tf from "@tensorflow/tfjs";
import { nativeAddon, nativeCounters, nativeThreads, UnaryOp } from "../native/addon";
import { KernelArgs, runStockKernel, WasmBackendLike, withShape } from "./common";

const product = (dims: readonly number[]): number => dims.reduce((x, y) => x * y, 1);

/**
 * op(A)·op(B) by the native addon into a new wasm tensor [...batch, m, n], or null where it
 * does not apply (no addon, not float32, empty, or batch dimensions it does not broadcast):
 * the caller then takes the wasm path, which also reports shape errors.
 */
export function nativeBatchMatMul(backend: WasmBackendLike, a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean): tf.TensorInfo | null {
  const native = nativeAddon();
  if (!native || a.dtype !== "float32" || b.dtype !== "float32" || a.shape.length < 2 || b.shape.length < 2) return null;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const kB = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (k !== kB || m * n * k === 0) return null;
  const dimsA = a.shape.slice(0, -2);
  const dimsB = b.shape.slice(0, -2);
  let outDims: number[];
  try {
    outDims = tf.backend_util.assertAndGetBroadcastShape(dimsA, dimsB);
  } catch {
    return null;
  }
  const batch = product(outDims);
  const batchA = product(dimsA);
  const batchB = product(dimsB);
  // Each operand is either one matrix for the whole batch (stride 0) or one per output matrix.
  if ((batchA !== 1 && batchA !== batch) || (batchB !== 1 && batchB !== batch)) return null;
  // Allocate first: allocation may grow (and so detach) the wasm heap under earlier views.
  const out = backend.makeOutput([...outDims, m, n], "float32");
  const view = (info: tf.TensorInfo) => backend.typedArrayFromHeap(info) as Float32Array;
  native.gemm(view(a), view(b), view(out), batch, m, n, k, transposeA, transposeB, batchA === 1 ? 0 : m * k, batchB === 1 ? 0 : k * n, nativeThreads());
  nativeCounters.products++;
  return out;
}

/** A rank-3 view [batch, rows, cols] of a matrix operand. */
function asRank3(info: tf.TensorInfo): tf.TensorInfo {
  const rank = info.shape.length;
  const batch = info.shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return withShape(info, [batch, info.shape[rank - 2], info.shape[rank - 1]]);
}

/**
 * C = op(A)·op(B) per batch, op = transpose where asked: transposed operands are copied
 * transposed (wasm's Transpose), then wasm's XNNPACK path multiplies them.
 */
export function batchMatMulWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { a, b } = args.inputs as tf.BatchMatMulInputs;
  const { transposeA, transposeB } = (args.attrs ?? {}) as unknown as tf.BatchMatMulAttrs;
  if (!a || !b) throw new Error("BatchMatMul (wasm): inputs a and b are required");
  const byNative = nativeBatchMatMul(backend, a, b, Boolean(transposeA), Boolean(transposeB));
  if (byNative) return byNative;
  if ((!transposeA && !transposeB) || a.dtype !== "float32" || b.dtype !== "float32" || a.shape.length < 2 || b.shape.length < 2) {
    return runStockKernel("BatchMatMul", args);
  }
  return withMaterialisedTransposes(backend, a, b, Boolean(transposeA), Boolean(transposeB), (a2, b2) =>
    runStockKernel("BatchMatMul", { inputs: { a: a2, b: b2 }, backend, attrs: { transposeA: false, transposeB: false } }));
}

/** Run `fn` on A and B with each transposed operand copied transposed (wasm's Transpose); the copies are freed after. */
function withMaterialisedTransposes(backend: WasmBackendLike, a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean,
  fn: (a2: tf.TensorInfo, b2: tf.TensorInfo) => tf.TensorInfo): tf.TensorInfo {
  const temporaries: tf.TensorInfo[] = [];
  const materialise = (operand: tf.TensorInfo): tf.TensorInfo => {
    const t = runStockKernel("Transpose", { inputs: { x: asRank3(operand) }, backend, attrs: { perm: [0, 2, 1] } });
    temporaries.push(t);
    const rank = operand.shape.length;
    return withShape(t, [...operand.shape.slice(0, -2), operand.shape[rank - 1], operand.shape[rank - 2]]);
  };
  try {
    return fn(transposeA ? materialise(a) : a, transposeB ? materialise(b) : b);
  } finally {
    for (const t of temporaries) backend.disposeData(t.dataId);
  }
}

/** The kernel of each fused activation, applied after the product and bias (linear: none). */
const ACTIVATION_KERNELS: Record<string, string | null> = { linear: null, relu: "Relu", sigmoid: "Sigmoid", elu: "Elu", relu6: "Relu6", leakyrelu: "LeakyRelu", prelu: "Prelu" };

/**
 * How a bias broadcasts onto a batch of m × n products: the index of the bias value for output
 * element (row i, column j) of any matrix, or null for other shapes (then wasm's Add broadcasts it).
 */
function biasIndexer(bias: tf.TensorInfo, m: number, n: number): ((i: number, j: number) => number) | null {
  const dims = bias.shape;
  const rank = dims.length;
  if (bias.dtype !== "float32" || dims.slice(0, -2).some((d) => d !== 1)) return null;
  const rows = rank >= 2 ? dims[rank - 2] : 1;
  const cols = rank >= 1 ? dims[rank - 1] : 1;
  if ((rows !== 1 && rows !== m) || (cols !== 1 && cols !== n)) return null;
  return (i, j) => (rows === 1 ? 0 : i * cols) + (cols === 1 ? 0 : j);
}

/**
 * _FusedMatMul (dense layers' forward pass): activation(op(A)·op(B) + bias).
 * - Untransposed operands, a bias of n values (what dense layers pass) and no native addon:
 *   wasm's own fused kernel (XNNPACK).
 * - Otherwise ours: the product by our BatchMatMul (the native addon where built), then the
 *   bias and ReLU in one pass over the output (wasm's Add for a bias that varies over the batch),
 *   then any other activation by wasm's own kernel. wasm's own fused kernel gets the other cases
 *   wrong (tfjs-backend-wasm 4.22, test/accelerate/wasm-overrides-vs-cpu.test.ts): with a transposed operand it adds the
 *   bias in the wrong places, and it reads a bias of another shape past its end.
 */
export function fusedMatMulWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { a, b, bias, preluActivationWeights } = args.inputs as tf._FusedMatMulInputs;
  const attrs = (args.attrs ?? {}) as unknown as tf._FusedMatMulAttrs;
  const activation = attrs.activation ?? "linear";
  const transposeA = Boolean(attrs.transposeA);
  const transposeB = Boolean(attrs.transposeB);
  if (!a || !b) throw new Error("_FusedMatMul (wasm): inputs a and b are required");
  if (!(activation in ACTIVATION_KERNELS)) throw new Error(`_FusedMatMul (wasm): unknown activation '${activation}'`);
  if (a.dtype !== "float32" || b.dtype !== "float32" || a.shape.length < 2 || b.shape.length < 2) return runStockKernel("_FusedMatMul", args);
  const m = transposeA ? a.shape[a.shape.length - 1] : a.shape[a.shape.length - 2];
  const n = transposeB ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1];
  const vectorBias = !bias || (bias.shape.length === 1 && bias.shape[0] === n && bias.dtype === "float32");
  if (!nativeAddon() && !transposeA && !transposeB && vectorBias) return runStockKernel("_FusedMatMul", args);

  const out = batchMatMulWasm({ inputs: { a, b }, backend, attrs: { transposeA, transposeB } });
  return addBiasAndActivate(backend, out, m, n, { bias, activation, leakyreluAlpha: attrs.leakyreluAlpha, preluActivationWeights });
}

/** What a fused kernel applies after its product: a bias, then an activation. */
export interface FusedEpilogue {
  bias?: tf.TensorInfo;
  activation?: string;
  leakyreluAlpha?: number;
  preluActivationWeights?: tf.TensorInfo;
}

/**
 * activation(out + bias) for a product `out` seen as matrices of m × n (a batch of them, or
 * m = every output position of a convolution and n its channels). The bias and ReLU go in one
 * pass over `out` (wasm's Add for a bias that varies over the batch), two vectorised passes on
 * the native addon where it runs and the bias is one row of n; other activations are wasm's
 * own kernels. Consumes `out` (returns it, or a new tensor after disposing it).
 */
export function addBiasAndActivate(backend: WasmBackendLike, product: tf.TensorInfo, m: number, n: number, epilogue: FusedEpilogue): tf.TensorInfo {
  const { bias, preluActivationWeights } = epilogue;
  const activation = epilogue.activation ?? "linear";
  let out = product;
  const replace = (next: tf.TensorInfo) => {
    backend.disposeData(out.dataId);
    out = next;
  };
  try {
    if (!(activation in ACTIVATION_KERNELS)) throw new Error(`fused kernel (wasm): unknown activation '${activation}'`);
    const biasAt = bias ? biasIndexer(bias, m, n) : null;
    if (bias && !biasAt) replace(runStockKernel("Add", { inputs: { a: out, b: bias }, backend }));
    const reluInLoop = activation === "relu";
    const native = nativeAddon();
    // One row of n values, n = 1 included (a conv layer to one channel, a one-unit dense layer): the JavaScript loop below
    // took ≈ 0.5 ms for a [128, 32, 32, 1] output. Both add in float32 (the loop's float64 sum of two float32 values rounds
    // to the same float32), so the addon's values are the loop's.
    const columnBias = bias !== undefined && biasAt !== null && tf.util.sizeFromShape(bias.shape) === n && bias.shape[bias.shape.length - 1] === n;
    if (native && (columnBias || (!biasAt && reluInLoop))) {
      // On the addon: the bias row added to every row, then ReLU, each one vectorised pass in place.
      const values = backend.typedArrayFromHeap(out) as Float32Array;
      if (columnBias) native.addRows(values, backend.typedArrayFromHeap(bias) as Float32Array, values, values.length / n, n, nativeThreads());
      if (reluInLoop) native.unary(UnaryOp.Relu, values, values, 0, nativeThreads());
      nativeCounters.elementwise++;
    } else if (biasAt || reluInLoop) {
      const values = backend.typedArrayFromHeap(out) as Float32Array;
      const biasValues = biasAt && bias ? (backend.typedArrayFromHeap(bias) as Float32Array) : null;
      for (let start = 0; start < values.length; start += m * n) {
        for (let i = 0; i < m; i++) {
          const row = start + i * n;
          for (let j = 0; j < n; j++) {
            let v = values[row + j];
            if (biasValues && biasAt) v += biasValues[biasAt(i, j)];
            values[row + j] = reluInLoop && v < 0 ? 0 : v;
          }
        }
      }
    }
    const kernelName = reluInLoop ? null : ACTIVATION_KERNELS[activation];
    if (native && activation === "sigmoid") {
      // In place on the addon (a dense layer's sigmoid output: no second tensor).
      const values = backend.typedArrayFromHeap(out) as Float32Array;
      native.unary(UnaryOp.Sigmoid, values, values, 0, nativeThreads());
      nativeCounters.elementwise++;
    } else if (kernelName) {
      const inputs: tf.NamedTensorInfoMap = activation === "prelu" ? { x: out, alpha: preluActivationWeights as tf.TensorInfo } : { x: out };
      const activationAttrs: tf.NamedAttrMap = activation === "leakyrelu" ? { alpha: epilogue.leakyreluAlpha ?? 0.2 } : {};
      replace(runStockKernel(kernelName, { inputs, backend, attrs: activationAttrs }));
    }
    return out;
  } catch (error) {
    backend.disposeData(out.dataId);
    throw error;
  }
}
