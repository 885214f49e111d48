/**
 * Shared plumbing of our wasm kernels: the slice of tfjs-backend-wasm's backend object they
 * use, the kernel-argument type, and access to wasm's own (stock) kernels, including the
 * ones that ours replace in the registry.
 */
import * as tf from "@tensorflow/tfjs";

/** The slice of tfjs-backend-wasm's `BackendWasm` that our kernels use. */
export interface WasmBackendLike {
  typedArrayFromHeap(info: tf.TensorInfo): tf.TypedArray;
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: tf.TypedArray): tf.TensorInfo;
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
}

/** Arguments every kernel function receives. */
export interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: {};
  attrs?: tf.NamedAttrMap;
}

/**
 * Element-wise passes, reductions, casts and copies go to the native addon from this many values: below it the call
 * costs more than wasm's own loop saves (a [32, 28, 28, 16] tensor has 401,408; a dense layer's bias 400).
 */
export const NATIVE_MIN_VALUES = 4096;

/** wasm's own kernels that ours replaced in the registry (filled by registerWasmOverrides). */
export const stockKernels = new Map<string, tf.KernelConfig>();

/** Run wasm's own kernel `kernelName` (the stock one even where ours replaced it), or fail saying it is missing. */
export function runStockKernel(kernelName: string, args: KernelArgs): tf.TensorInfo {
  const config = stockKernels.get(kernelName) ?? tf.getKernel(kernelName, "wasm");
  if (!config) throw new Error(`wasm kernels: the wasm backend has no '${kernelName}' kernel to build on (is @tensorflow/tfjs-backend-wasm 4.22 loaded?)`);
  return config.kernelFunc(args) as tf.TensorInfo;
}

/** Run the kernel now registered for wasm under `kernelName` (ours where we replaced it). */
export function runWasmKernel(kernelName: string, args: KernelArgs): tf.TensorInfo {
  const config = tf.getKernel(kernelName, "wasm");
  if (!config) throw new Error(`wasm kernels: the wasm backend has no '${kernelName}' kernel to build on (is @tensorflow/tfjs-backend-wasm 4.22 loaded?)`);
  return config.kernelFunc(args) as tf.TensorInfo;
}

/** A view of `info` with another shape of the same size (no copy; wasm tensors are flat). */
export function withShape(info: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  return { dataId: info.dataId, shape, dtype: info.dtype };
}

/** Normalise a stride or size attribute to [height, width]. */
export function pair(value: number | [number, number]): [number, number] {
  return typeof value === "number" ? [value, value] : value;
}
