/**
 * Tile on wasm (also tf.broadcastTo, which runs Tile): out[i] = x[i mod shape(x)] per axis.
 * wasm's own kernel computes each output element's source index one by one (≈ 7 ms to broadcast
 * one value to [128, 784]); ours builds the output from whole blocks on the wasm heap: the
 * innermost row copied (or filled, for a row of one value), then each axis's block repeated
 * by doubling copies. Used by the Mean and Sum gradients (lib/accelerate/gradients.ts).
 */
import * as tf from "@tensorflow/tfjs";
import { KernelArgs, runStockKernel, WasmBackendLike } from "./common";

type HeapArray = Float32Array | Int32Array | Uint8Array;

/** Repeat dst[from, from + block) `times` times in place (the first copy already there), by doubling. */
function repeatBlock(dst: HeapArray, from: number, block: number, times: number): void {
  const total = block * times;
  let filled = block;
  while (filled < total) {
    const n = Math.min(filled, total - filled);
    dst.copyWithin(from + filled, from, from + n);
    filled += n;
  }
}

export function tileWasm(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs as tf.TileInputs;
  const { reps } = (args.attrs ?? {}) as unknown as tf.TileAttrs;
  const backend = args.backend as WasmBackendLike;
  if (!x) throw new Error("Tile (wasm): input x is required");
  const rank = x.shape.length;
  if (!["float32", "int32", "bool"].includes(x.dtype) || rank === 0 || !reps || reps.length !== rank || reps.some((r) => !Number.isInteger(r) || r < 0)) {
    return runStockKernel("Tile", args);
  }
  const outShape = x.shape.map((d, i) => d * reps[i]);
  // Allocate first: allocation may grow (and so detach) the wasm heap under earlier views.
  const out = backend.makeOutput(outShape, x.dtype);
  if (outShape.some((d) => d === 0)) return out;
  const src = backend.typedArrayFromHeap(x) as HeapArray;
  const dst = backend.typedArrayFromHeap(out) as HeapArray;
  // Strides (elements) of x and of the output per axis.
  const srcStride = new Array<number>(rank);
  const dstStride = new Array<number>(rank);
  srcStride[rank - 1] = 1;
  dstStride[rank - 1] = 1;
  for (let a = rank - 2; a >= 0; a--) {
    srcStride[a] = srcStride[a + 1] * x.shape[a + 1];
    dstStride[a] = dstStride[a + 1] * outShape[a + 1];
  }
  const fillAxis = (axis: number, from: number, to: number): void => {
    const d = x.shape[axis];
    if (axis === rank - 1) {
      if (d === 1) dst.fill(src[from], to, to + reps[axis]);
      else {
        dst.set(src.subarray(from, from + d), to);
        repeatBlock(dst, to, d, reps[axis]);
      }
      return;
    }
    for (let j = 0; j < d; j++) fillAxis(axis + 1, from + j * srcStride[axis], to + j * dstStride[axis]);
    repeatBlock(dst, to, d * dstStride[axis], reps[axis]);
  };
  fillAxis(0, 0, 0);
  return out;
}
