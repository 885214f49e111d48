/**
 * Sum on wasm over leading axes (bias gradients: Σ over batch, height, width of an NHWC
 * gradient). wasm's own transposes the reduced axes to the end first (a full copy) and then
 * reduces; ours adds the rows of the [outer, inner] view on the wasm heap in one pass.
 * Measured (one core): ours wins on wide rows over many of them ([128·24·24, 64]: ~25 vs
 * ~40 ms), ties at 16 channels and loses on narrow or few rows (wasm's C loop is vectorised),
 * so ours takes only inner ≥ 32 and outer ≥ 1024. Where the native addon is loaded, its
 * threaded sumRows does that pass (also in float64) for every shape: narrow rows too, which it
 * sums lane-wise in vectors ([128·28·28, 16]: ≈ 0.1 ms, against ≈ 3.5 ms for wasm's transpose
 * and reduce), and the dense layers' [128, 784] (≈ 0.01 ms against ≈ 0.13 ms).
 *
 * Sum over trailing axes with fewer terms per output (not all axes: that is one sum), from NATIVE_MIN_VALUES values: the
 * addon's sumLastAxis, wasm's own arithmetic (float32, term by term) with eight rows' additions overlapping ([128, 784] →
 * [128]: ≈ 0.06 ms → ≈ 0.015 ms with the op's own cost).
 * Sum and Mean over trailing axes (a full reduction among them) with ≥ 2^16 terms per output:
 * wasm's own adds in float32 one term after another, so a mean of 10⁶ terms comes out ~1e-4
 * low and one of 10⁷ ~3e-3 low (the MSE over a test set); ours accumulates in float64, as
 * tfjs-cpu does: on the native addon where it is loaded (its sumRows with one column: float
 * partial sums of 64 terms per vector lane, added in float64; ≈ 0.01 ms for the 10⁵ terms of a
 * training batch's MSE against ≈ 0.08–0.1 ms for the JavaScript loop), else in a JavaScript loop.
 * ArgMax of float32 over any one axis from 4096 values (max pooling's switches: [windows, k², C] over the k²
 * positions): the native addon's pass over the [outer, k, inner] view, where wasm's own first transposes the axis to
 * the end (≈ 4 ms for [25088, 4, 16]). Ties and NaN as wasm's own: the first maximum; a NaN first stays.
 * AeSumOfSquares (lib/train/loss-terms.ts SUM_OF_SQUARES_KERNEL): a weight-decay term's Σ‖v‖² over many tensors in one call,
 * with the bits of tf.addN of each tf.sum(tf.square(v)) (sumOfSquaresWasm below).
 * Other reductions go to wasm's own kernel.
 */
import * as tf from "@tensorflow/tfjs";
import { nativeAddon, nativeCounters, nativeThreads } from "../native/addon";
import { KernelArgs, NATIVE_MIN_VALUES, runStockKernel, WasmBackendLike } from "./common";
import { SUM_OF_SQUARES_KERNEL } from "../../train/loss-terms";

/** Reductions with at least this many terms per output are accumulated in float64 (see the module comment). */
export const LONG_REDUCTION_TERMS = 1 << 16;

/**
 * Σ (or the mean, when `divide`) of x over its trailing axes (`split`, from trailingReduction) with ≥ LONG_REDUCTION_TERMS
 * terms per output, accumulated in float64; null when the case is not this one.
 */
function reduceTrailingFloat64(backend: WasmBackendLike, x: tf.TensorInfo, split: TrailingSplit | null, divide: boolean): tf.TensorInfo | null {
  if (!split || split.cols < LONG_REDUCTION_TERMS) return null;
  const { rows: outer, cols: terms, outShape } = split;
  const out = backend.makeOutput(outShape, "float32");
  const values = backend.typedArrayFromHeap(x) as Float32Array;
  const result = backend.typedArrayFromHeap(out) as Float32Array;
  const native = nativeAddon();
  if (native) {
    for (let o = 0, base = 0; o < outer; o++, base += terms) {
      native.sumRows(values.subarray(base, base + terms), terms, 1, result.subarray(o, o + 1), nativeThreads());
      if (divide) result[o] /= terms;
    }
    nativeCounters.sums++;
    return out;
  }
  for (let o = 0, base = 0; o < outer; o++, base += terms) {
    let acc = 0;
    for (let k = base; k < base + terms; k++) acc += values[k];
    result[o] = divide ? acc / terms : acc;
  }
  return out;
}

/**
 * Σ_v Σ_i v_i² over the inputs "0", "1", … (lib/train/loss-terms.ts SUM_OF_SQUARES_KERNEL: a weight-decay term's value in one call,
 * where tf.addN of tf.sum(tf.square(v)) takes 2 per variable + 1), bit for bit as those ops on wasm with our kernels: each
 * square rounded to float32; a sum of fewer than LONG_REDUCTION_TERMS terms in float32 term by term (wasm's own Sum), a
 * longer one as reduceTrailingFloat64; the sums added in order from 0 (wasm's AddN). On the native addon where it is loaded.
 */
export function sumOfSquaresWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const inputs = Object.keys(args.inputs).sort((a, b) => Number(a) - Number(b)).map((key) => args.inputs[key] as tf.TensorInfo);
  for (const x of inputs) if (x.dtype !== "float32") throw new Error(`${SUM_OF_SQUARES_KERNEL} (wasm): inputs must be float32, got ${x.dtype}`);
  const arrays = inputs.map((x) => backend.typedArrayFromHeap(x) as Float32Array);
  const native = nativeAddon();
  let total: number;
  if (native) {
    total = native.sumOfSquares(arrays, LONG_REDUCTION_TERMS, nativeThreads());
    nativeCounters.sums++;
  } else {
    total = 0;
    for (const values of arrays) {
      let sum = 0;
      if (values.length >= LONG_REDUCTION_TERMS) {
        for (let i = 0; i < values.length; i++) sum += Math.fround(values[i] * values[i]);
      } else {
        for (let i = 0; i < values.length; i++) sum = Math.fround(sum + Math.fround(values[i] * values[i]));
      }
      total = Math.fround(total + Math.fround(sum));
    }
  }
  // Inputs were read before this allocation, which may grow (and detach) the wasm heap.
  return backend.makeOutput([], "float32", undefined, new Float32Array([total]));
}

/** A reduction seen as a [rows, cols] matrix, and its output's shape. */
interface TrailingSplit { rows: number; cols: number; outShape: number[] }

/** A float32 reduction over trailing axes (all of them included) seen as a [rows, cols] matrix summed along its rows, and its output's shape; null for any other. */
function trailingReduction(x: tf.TensorInfo, axes: number[], keepDims: boolean): TrailingSplit | null {
  const rank = x.shape.length;
  const trailing = axes.length > 0 && axes.every((a, i) => a === rank - axes.length + i);
  if (x.dtype !== "float32" || !trailing) return null;
  const outerShape = x.shape.slice(0, rank - axes.length);
  return {
    rows: tf.util.sizeFromShape(outerShape),
    cols: tf.util.sizeFromShape(x.shape.slice(rank - axes.length)),
    outShape: keepDims ? [...outerShape, ...axes.map(() => 1)] : outerShape,
  };
}

/** A float32 reduction over leading axes seen as a [rows, cols] matrix summed down its columns, and its output's shape; null for any other. */
function leadingReduction(x: tf.TensorInfo, axes: number[], keepDims: boolean): { rows: number; cols: number; outShape: number[] } | null {
  const leading = axes.length > 0 && axes.length < x.shape.length && axes.every((a, i) => a === i);
  if (x.dtype !== "float32" || !leading) return null;
  const innerShape = x.shape.slice(axes.length);
  return {
    rows: tf.util.sizeFromShape(x.shape.slice(0, axes.length)),
    cols: tf.util.sizeFromShape(innerShape),
    outShape: keepDims ? [...axes.map(() => 1), ...innerShape] : innerShape,
  };
}

/**
 * The mean over `axis`: long trailing reductions in float64 (see the module comment); over leading axes
 * (batch normalisation's per-channel mean over batch, height and width) from NATIVE_MIN_VALUES values, the
 * addon's meanRows, which sums each column in order in float32 as wasm's own does after its transpose, so bit for
 * bit; else wasm's own.
 */
export function meanWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const x = (args.inputs as tf.MeanInputs).x as tf.TensorInfo;
  const { axis, keepDims } = args.attrs as unknown as tf.MeanAttrs;
  if (!x) throw new Error("Mean (wasm): input x is required");
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
  const long = reduceTrailingFloat64(backend, x, trailingReduction(x, axes, keepDims), true);
  if (long) return long;
  const native = nativeAddon();
  const split = leadingReduction(x, axes, keepDims);
  if (!native || !split || split.rows * split.cols < NATIVE_MIN_VALUES) return runStockKernel("Mean", args);
  const out = backend.makeOutput(split.outShape, "float32");
  native.meanRows(backend.typedArrayFromHeap(x) as Float32Array, split.rows, split.cols, backend.typedArrayFromHeap(out) as Float32Array, nativeThreads());
  nativeCounters.sums++;
  return out;
}

/**
 * Σ of x over its trailing axes (`split`), not all of them, with fewer than LONG_REDUCTION_TERMS terms per output (a per-sample sum over pixels,
 * [128, 784] → [128]) from NATIVE_MIN_VALUES values, on the addon: each output's sum in float32 term by term as wasm's own, bit
 * for bit, but eight rows at a time (wasm's waits on each addition); null for any other case.
 */
function trailingShortSum(backend: WasmBackendLike, x: tf.TensorInfo, split: TrailingSplit | null): tf.TensorInfo | null {
  const native = nativeAddon();
  // A full reduction is one sum, one chain of additions either way: wasm's own.
  if (!native || !split || split.rows < 2 || split.cols >= LONG_REDUCTION_TERMS || split.rows * split.cols < NATIVE_MIN_VALUES) return null;
  const { rows, cols, outShape } = split;
  const out = backend.makeOutput(outShape, "float32");
  native.sumLastAxis(backend.typedArrayFromHeap(x) as Float32Array, rows, cols, backend.typedArrayFromHeap(out) as Float32Array, nativeThreads());
  nativeCounters.sums++;
  return out;
}

/** Σ over `axis` (see the module comment). */
export function sumWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x } = args.inputs as tf.SumInputs;
  const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
  if (!x) throw new Error("Sum (wasm): input x is required");
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
  const trailingSplit = trailingReduction(x, axes, keepDims);
  const long = reduceTrailingFloat64(backend, x, trailingSplit, false);
  if (long) return long;
  const trailing = trailingShortSum(backend, x, trailingSplit);
  if (trailing) return trailing;
  const split = leadingReduction(x, axes, keepDims);
  if (!split) return runStockKernel("Sum", args);
  const { rows, cols } = split;
  const native = nativeAddon();
  if (!native && (rows < 1024 || cols < 32)) return runStockKernel("Sum", args);
  const out = backend.makeOutput(split.outShape, "float32");
  const values = backend.typedArrayFromHeap(x) as Float32Array;
  if (native) {
    native.sumRows(values, rows, cols, backend.typedArrayFromHeap(out) as Float32Array, nativeThreads());
    nativeCounters.sums++;
    return out;
  }
  const acc = new Float64Array(cols); // double accumulation, as tfjs-cpu's sum
  for (let n = 0, base = 0; n < rows; n++, base += cols) {
    for (let c = 0; c < cols; c++) acc[c] += values[base + c];
  }
  (backend.typedArrayFromHeap(out) as Float32Array).set(acc);
  return out;
}

/** ArgMax over one axis of a float32 tensor: the addon's pass over [outer, k, inner] (see the module comment); else wasm's own. */
export function argMaxWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x } = args.inputs as tf.ArgMaxInputs;
  const { axis } = (args.attrs ?? {}) as unknown as tf.ArgMaxAttrs;
  const native = nativeAddon();
  if (!native || !x || x.dtype !== "float32" || x.shape.length === 0 || tf.util.sizeFromShape(x.shape) < NATIVE_MIN_VALUES) return runStockKernel("ArgMax", args);
  const axes = tf.util.parseAxisParam(axis, x.shape);
  if (axes.length !== 1) return runStockKernel("ArgMax", args);
  const [a] = axes;
  const outer = tf.util.sizeFromShape(x.shape.slice(0, a));
  const inner = tf.util.sizeFromShape(x.shape.slice(a + 1));
  const out = backend.makeOutput([...x.shape.slice(0, a), ...x.shape.slice(a + 1)], "int32");
  native.argMax(backend.typedArrayFromHeap(x) as Float32Array, backend.typedArrayFromHeap(out) as Int32Array, outer, x.shape[a], inner, nativeThreads());
  nativeCounters.pooling++; // max pooling's switches, as the addon's other pooling kernels
  return out;
}
