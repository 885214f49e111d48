/**
 * Transpose on wasm: float32 and int32 tensors from 4096 values go to the native addon's one threaded pass (data
 * movement, bit for bit), where wasm's own walks every element through a generic index loop for ranks above 4
 * (≈ 2 ms for the [1792, 14, 16, 2, 2] of lib/stacked/unpool.ts's one-hot pattern). Other dtypes, small tensors,
 * ranks above 8 and no-op permutations stay wasm's own.
 */
import * as tf from "@tensorflow/tfjs";
import { nativeAddon, nativeCounters, nativeThreads } from "../native/addon";
import { KernelArgs, NATIVE_MIN_VALUES, runStockKernel, WasmBackendLike } from "./common";

/** The most axes the addon's transpose takes (kMaxTransposeRank in native/src/kernels.h; the addon refuses more). */
export const NATIVE_TRANSPOSE_MAX_RANK = 8;

/** Transpose: the addon's pass (see the module comment); else wasm's own. */
export function transposeWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x } = args.inputs as tf.TransposeInputs;
  const { perm } = args.attrs as unknown as tf.TransposeAttrs;
  const native = nativeAddon();
  const rank = x ? x.shape.length : 0;
  if (!native || !x || (x.dtype !== "float32" && x.dtype !== "int32") || rank < 2 || rank > NATIVE_TRANSPOSE_MAX_RANK || perm.length !== rank ||
      perm.every((p, i) => p === i) || tf.util.sizeFromShape(x.shape) < NATIVE_MIN_VALUES) {
    return runStockKernel("Transpose", args);
  }
  const out = backend.makeOutput(perm.map((p) => x.shape[p]), x.dtype);
  native.transpose(backend.typedArrayFromHeap(x) as Float32Array | Int32Array, backend.typedArrayFromHeap(out) as Float32Array | Int32Array,
    Int32Array.from(x.shape), Int32Array.from(perm), nativeThreads());
  nativeCounters.elementwise++;
  return out;
}
