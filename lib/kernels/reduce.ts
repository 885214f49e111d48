/**
 * Sum on wasm over leading axes (bias gradients: Σ over batch, height, width of an NHWC
 * gradient). wasm's own transposes the reduced axes to the end first (a full copy) and then
 * reduces; ours adds the rows of the [outer, inner] view on the wasm heap in one pass.
 * Measured (one core): ours wins on wide rows over many of them ([128·24·24, 64]: ~25 vs
 * ~40 ms), ties at 16 channels and loses on narrow or few rows (wasm's C loop is vectorised),
 * so ours takes only inner ≥ 32 and outer ≥ 1024; other reductions go to wasm's own kernel.
 */
import * as tf from "@tensorflow/tfjs";
import { KernelArgs, runStockKernel, WasmBackendLike } from "./common";

/** Σ over `axis` (see the module comment). */
export function sumWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x } = args.inputs as tf.SumInputs;
  const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
  if (!x) throw new Error("Sum (wasm): input x is required");
  const rank = x.shape.length;
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
  const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
  if (x.dtype !== "float32" || !leading) return runStockKernel("Sum", args);
  const outer = x.shape.slice(0, axes.length).reduce((a, b) => a * b, 1);
  const innerShape = x.shape.slice(axes.length);
  const inner = innerShape.reduce((a, b) => a * b, 1);
  if (inner < 32 || outer < 1024) return runStockKernel("Sum", args);
  const outShape = keepDims ? [...axes.map(() => 1), ...innerShape] : innerShape;
  const out = backend.makeOutput(outShape, "float32");
  const values = backend.typedArrayFromHeap(x) as Float32Array;
  const acc = new Float64Array(inner); // double accumulation, as tfjs-cpu's sum
  for (let n = 0, base = 0; n < outer; n++, base += inner) {
    for (let c = 0; c < inner; c++) acc[c] += values[base + c];
  }
  (backend.typedArrayFromHeap(out) as Float32Array).set(acc);
  return out;
}
