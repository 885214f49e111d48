/**
 * GatherV2 on wasm for whole rows (axis 0, no batch dims): the per-epoch shuffle in
 * lib/train/batches.ts gathers every sample once. wasm's own copies element by element; ours copies
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

/**
 * UnsortedSegmentSum on wasm: out[s, …] = Σ_{i : segmentIds[i] = s} x[i, …]; ids outside
 * [0, numSegments) are dropped (as tfjs's cpu kernel does). It is the gradient of `tf.gather`.
 */
export function unsortedSegmentSumWasm(args: KernelArgs): tf.TensorInfo {
  const { x, segmentIds } = args.inputs as tf.UnsortedSegmentSumInputs;
  const { numSegments } = args.attrs as unknown as tf.UnsortedSegmentSumAttrs;
  const backend = args.backend as WasmBackendLike;
  if (!x || !segmentIds) throw new Error("UnsortedSegmentSum (wasm): inputs x and segmentIds are required");
  const idsRank = segmentIds.shape.length;
  for (let axis = 0; axis < idsRank; axis++) {
    if (segmentIds.shape[axis] !== x.shape[axis]) {
      throw new Error(`UnsortedSegmentSum (wasm): segmentIds shape [${segmentIds.shape}] must be a prefix of x shape [${x.shape}]`);
    }
  }
  if (x.dtype !== "float32" && x.dtype !== "int32") throw new Error(`UnsortedSegmentSum (wasm): x must be float32 or int32, got ${x.dtype}`);
  const innerShape = x.shape.slice(idsRank);
  const inner = innerShape.reduce((a, b) => a * b, 1);
  const xValues = backend.typedArrayFromHeap(x);
  const ids = backend.typedArrayFromHeap(segmentIds);
  const out = x.dtype === "float32" ? new Float32Array(numSegments * inner) : new Int32Array(numSegments * inner);
  for (let i = 0; i < ids.length; i++) {
    const segment = ids[i];
    if (segment < 0 || segment >= numSegments) continue;
    const from = i * inner;
    const to = segment * inner;
    for (let j = 0; j < inner; j++) out[to + j] += xValues[from + j];
  }
  // Inputs were read before this allocation, which may grow (and detach) the wasm heap.
  return backend.makeOutput([numSegments, ...innerShape], x.dtype, undefined, out);
}
