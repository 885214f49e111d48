/**
 * GatherV2 on wasm for whole rows (axis 0, no batch dims): the per-epoch shuffle of
 * lib/train.ts gathers every sample once. wasm's own copies element by element; ours copies
 * each row with one typed-array `copyWithin` on the wasm heap (a memmove). Other gathers go to
 * wasm's own kernel. Out-of-range indices fail as wasm's own do.
 */
import * as tf from "@tensorflow/tfjs";
import { KernelArgs, runStockKernel, WasmBackendLike } from "./common";

/** x[indices] along axis 0 (see the module comment). */
export function gatherV2Wasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike & { wasm: { HEAPU8: Uint8Array }; dataIdMap: { get(id: tf.DataId): { memoryOffset: number } } };
  const { x, indices } = args.inputs as tf.GatherV2Inputs;
  const { axis, batchDims } = args.attrs as unknown as tf.GatherV2Attrs;
  if (!x || !indices) throw new Error("GatherV2 (wasm): inputs x and indices are required");
  const parsedAxis = x.shape.length > 0 ? tf.util.parseAxisParam(axis, x.shape)[0] : -1;
  const bytesPerElement = x.dtype === "float32" || x.dtype === "int32" ? 4 : x.dtype === "bool" ? 1 : 0;
  if (parsedAxis !== 0 || (batchDims ?? 0) !== 0 || bytesPerElement === 0 || indices.dtype !== "int32") return runStockKernel("GatherV2", args);
  const rows = x.shape[0];
  const rowShape = x.shape.slice(1);
  const rowBytes = rowShape.reduce((a, b) => a * b, 1) * bytesPerElement;
  const count = indices.shape.reduce((a, b) => a * b, 1);
  const ids = Int32Array.from(backend.typedArrayFromHeap(indices) as Int32Array);
  for (let i = 0; i < count; i++) {
    if (ids[i] < 0 || ids[i] >= rows) throw new Error(`GatherV2: the index value ${ids[i]} is not in [0, ${rows - 1}]`);
  }
  const out = backend.makeOutput([...indices.shape, ...rowShape], x.dtype);
  if (rowBytes === 0 || count === 0) return out;
  // Offsets are read after the allocation above, which may have moved nothing but can grow the heap.
  const heap = backend.wasm.HEAPU8;
  const src = backend.dataIdMap.get(x.dataId).memoryOffset;
  const dst = backend.dataIdMap.get(out.dataId).memoryOffset;
  for (let i = 0; i < count; i++) heap.copyWithin(dst + i * rowBytes, src + ids[i] * rowBytes, src + (ids[i] + 1) * rowBytes);
  return out;
}
