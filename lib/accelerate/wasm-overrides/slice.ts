/**
 * Slice on wasm. wasm's own starts with `readSync` of the whole input, which copies all of it
 * out of the heap, before copying the slice: taking a batch from a dataset costs a copy of the
 * dataset (trainModel slices every batch from the epoch's shuffled data). Ours copies only
 * the slice, heap to heap: one block for a contiguous slice, else one run per row of the
 * last dimension. Strings go to wasm's own.
 */
import * as tf from "@tensorflow/tfjs";
import { KernelArgs, runStockKernel, WasmBackendLike } from "./common";

/** x[begin : begin + size] (see the module comment). */
export function sliceWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x } = args.inputs as tf.SliceInputs;
  const { begin, size } = args.attrs as unknown as tf.SliceAttrs;
  if (!x) throw new Error("Slice (wasm): input x is required");
  if (x.dtype === "string") return runStockKernel("Slice", args);
  const [begin_, size_] = tf.slice_util.parseSliceParams(x as tf.TensorInfo as unknown as tf.Tensor, begin, size);
  const rank = x.shape.length;
  const out = backend.makeOutput(size_, x.dtype);
  const total = size_.reduce((a, b) => a * b, 1);
  if (total === 0) return out;
  // Views after the allocation above (which may grow, and so detach, the heap).
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  if (rank === 0) {
    dst[0] = src[0];
    return out;
  }
  const strides = tf.util.computeStrides(x.shape);
  if (tf.slice_util.isSliceContinous(x.shape, begin_, size_)) {
    const offset = tf.slice_util.computeFlatOffset(begin_, strides);
    dst.set(src.subarray(offset, offset + total));
    return out;
  }
  // One contiguous run of the last dimension per output row.
  const inner = size_[rank - 1];
  const counter = new Array<number>(Math.max(0, rank - 1)).fill(0);
  let srcOffset = begin_[rank - 1];
  for (let axis = 0; axis < rank - 1; axis++) srcOffset += begin_[axis] * strides[axis];
  for (let dstOffset = 0; dstOffset < total; dstOffset += inner) {
    dst.set(src.subarray(srcOffset, srcOffset + inner), dstOffset);
    // Advance the row counter (last outer axis fastest) and the source offset with it.
    for (let axis = rank - 2; axis >= 0; axis--) {
      counter[axis]++;
      srcOffset += strides[axis];
      if (counter[axis] < size_[axis]) break;
      srcOffset -= counter[axis] * strides[axis];
      counter[axis] = 0;
    }
  }
  return out;
}
