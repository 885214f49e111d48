/**
 * Conv2DBackpropInput on wasm (the input gradient of conv2d, and the forward pass of
 * conv2dTranspose). wasm's own is a naive loop (~1 GFLOP/s); ours is a forward wasm Conv2D
 * (XNNPACK): dX = conv2d(dilate(dY), flip(W)ᵀ) with "full" padding, where
 *   flip(W)ᵀ[i, j, f, c] = W[fh − 1 − i, fw − 1 − j, c, f]   (rotated 180°, in/out swapped),
 *   dilate(dY) puts stride − 1 zeros between the rows and the columns of dY (stride > 1 only),
 *   padding top/left = filter − 1 − forward pad, bottom/right so that the output is the input size.
 * A fused convolution's input gradient that the tape will not read is not computed
 * (lib/accelerate/unused-input-gradients.ts).
 */
import * as tf from "@tensorflow/tfjs";
import { KernelArgs, runStockKernel, WasmBackendLike } from "./common";
import { nativeConv2DBackpropInput } from "./conv-native";
import { skipsInputGradient } from "../unused-input-gradients";

/** The flipped, in/out-swapped filter [fh, fw, outC, inC] of W [fh, fw, inC, outC]. */
function fillFlippedFilter(out: Float32Array, w: tf.TypedArray, fh: number, fw: number, inC: number, outC: number): void {
  for (let i = 0; i < fh; i++) {
    for (let j = 0; j < fw; j++) {
      const src = ((fh - 1 - i) * fw + (fw - 1 - j)) * inC * outC;
      const dst = (i * fw + j) * outC * inC;
      for (let c = 0; c < inC; c++) {
        for (let f = 0; f < outC; f++) out[dst + f * inC + c] = w[src + c * outC + f];
      }
    }
  }
}

/** dY [b, oh, ow, f] with sh − 1 zero rows and sw − 1 zero columns between its own: [b, (oh−1)·sh+1, (ow−1)·sw+1, f]. */
function fillDilated(out: Float32Array, dy: tf.TypedArray, b: number, oh: number, ow: number, f: number, sh: number, sw: number): void {
  const dh = (oh - 1) * sh + 1;
  const dw = (ow - 1) * sw + 1;
  out.fill(0);
  for (let n = 0; n < b; n++) {
    for (let y = 0; y < oh; y++) {
      const srcRow = ((n * oh + y) * ow) * f;
      const dstRow = ((n * dh + y * sh) * dw) * f;
      for (let x = 0; x < ow; x++) {
        const src = srcRow + x * f;
        const dst = dstRow + x * sw * f;
        for (let c = 0; c < f; c++) out[dst + c] = dy[src + c];
      }
    }
  }
}

/** dL/dX of conv2d as a forward XNNPACK convolution (see the module comment); falls back to wasm's own where it cannot. */
export function conv2DBackpropInputWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { dy, filter } = args.inputs as tf.Conv2DBackpropInputInputs;
  const attrs = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
  if (!dy || !filter) throw new Error("Conv2DBackpropInput (wasm): inputs dy and filter are required");
  if (attrs.dataFormat === "NCHW" || dy.dtype !== "float32" || filter.dtype !== "float32") return runStockKernel("Conv2DBackpropInput", args);
  if (skipsInputGradient(filter, attrs.inputShape)) {
    // Never read (the tape does not ask for it), so not even written (writing CSAE-C's 1 MB at batch 256 took 0.7 ms);
    // zeros only where tfjs reads every kernel's output (tf.profile, DEBUG: they check outputs for NaN).
    const unread = backend.makeOutput([...attrs.inputShape], "float32");
    if ((tf.engine() as unknown as { state: { profiling: boolean } }).state.profiling || tf.env().getBool("DEBUG")) {
      (backend.typedArrayFromHeap(unread) as Float32Array).fill(0);
    }
    return unread;
  }
  const info = tf.backend_util.computeConv2DInfo(
    attrs.inputShape, filter.shape as [number, number, number, number], attrs.strides, 1, attrs.pad, attrs.dimRoundingMode,
  );
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, strideHeight, strideWidth, filterHeight, filterWidth } = info;
  if (dy.shape.length !== 4 || dy.shape[0] !== batchSize || dy.shape[1] !== outHeight || dy.shape[2] !== outWidth || dy.shape[3] !== outChannels) {
    throw new Error(`Conv2DBackpropInput (wasm): dy has shape [${dy.shape}] but inputShape [${attrs.inputShape}], filter [${filter.shape}] and the strides/padding give [${batchSize},${outHeight},${outWidth},${outChannels}]`);
  }
  const byNative = nativeConv2DBackpropInput(backend, dy, filter, info);
  if (byNative) return byNative;
  const dilatedHeight = (outHeight - 1) * strideHeight + 1;
  const dilatedWidth = (outWidth - 1) * strideWidth + 1;
  const padTop = filterHeight - 1 - info.padInfo.top;
  const padLeft = filterWidth - 1 - info.padInfo.left;
  const padBottom = inHeight + filterHeight - 1 - dilatedHeight - padTop;
  const padRight = inWidth + filterWidth - 1 - dilatedWidth - padLeft;
  if (padTop < 0 || padLeft < 0 || padBottom < 0 || padRight < 0 || outHeight === 0 || outWidth === 0) {
    return runStockKernel("Conv2DBackpropInput", args); // forward padding wider than the filter: rare, keep the exact loop
  }
  const dilate = strideHeight > 1 || strideWidth > 1;
  // Allocate first: allocation may grow (and so detach) the wasm heap under earlier views.
  const flipped = backend.makeOutput([filterHeight, filterWidth, outChannels, inChannels], "float32");
  const dilated = dilate ? backend.makeOutput([batchSize, dilatedHeight, dilatedWidth, outChannels], "float32") : null;
  try {
    fillFlippedFilter(backend.typedArrayFromHeap(flipped) as Float32Array, backend.typedArrayFromHeap(filter), filterHeight, filterWidth, inChannels, outChannels);
    if (dilated) {
      fillDilated(backend.typedArrayFromHeap(dilated) as Float32Array, backend.typedArrayFromHeap(dy), batchSize, outHeight, outWidth, outChannels, strideHeight, strideWidth);
    }
    const out = runStockKernel("Conv2D", {
      inputs: { x: dilated ?? dy, filter: flipped },
      backend,
      attrs: { strides: [1, 1], pad: [[0, 0], [padTop, padBottom], [padLeft, padRight], [0, 0]], dataFormat: "NHWC", dilations: [1, 1] } as unknown as tf.NamedAttrMap,
    });
    if (out.shape[1] !== inHeight || out.shape[2] !== inWidth || out.shape[3] !== inChannels) {
      backend.disposeData(out.dataId);
      throw new Error(`Conv2DBackpropInput (wasm): internal shape mismatch [${out.shape}] vs input [${attrs.inputShape}]`);
    }
    return out;
  } finally {
    backend.disposeData(flipped.dataId);
    if (dilated) backend.disposeData(dilated.dataId);
  }
}

/**
 * Conv2DBackpropFilter as one forward wasm Conv2D (XNNPACK), batch and channels swapped:
 *   dW[i, j, c, f] = Σ_{b,y,x} X[b, y·sh + i − pt, x·sw + j − pl, c] · dY[b, y, x, f]
 * is a convolution of X' = X as [c, H, W, b] (c images with b channels) with the filter
 * dY' = dY as [oh, ow, b, f], dilated by the forward strides, padded top/left by the forward
 * padding, giving [c, fh, fw, f], transposed to [fh, fw, c, f]. The transposes are wasm's.
 * Returns null where the shapes need negative padding (forward "valid" rows that no output
 * reads); the caller then uses im2col.
 */
export function conv2DBackpropFilterByConv(backend: WasmBackendLike, x: tf.TensorInfo, dy: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): tf.TensorInfo | null {
  const { inHeight, inWidth, outHeight, outWidth, strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const { top, left } = info.padInfo;
  const padBottom = filterHeight + (outHeight - 1) * strideHeight - inHeight - top;
  const padRight = filterWidth + (outWidth - 1) * strideWidth - inWidth - left;
  if (padBottom < 0 || padRight < 0 || top < 0 || left < 0) return null;
  const temporaries: tf.TensorInfo[] = [];
  try {
    const xT = runStockKernel("Transpose", { inputs: { x }, backend, attrs: { perm: [3, 1, 2, 0] } });
    temporaries.push(xT);
    const dyT = runStockKernel("Transpose", { inputs: { x: dy }, backend, attrs: { perm: [1, 2, 0, 3] } });
    temporaries.push(dyT);
    const product = runStockKernel("Conv2D", {
      inputs: { x: xT, filter: dyT },
      backend,
      attrs: {
        strides: [1, 1], pad: [[0, 0], [top, padBottom], [left, padRight], [0, 0]], dataFormat: "NHWC", dilations: [strideHeight, strideWidth],
      } as unknown as tf.NamedAttrMap,
    });
    temporaries.push(product);
    if (product.shape[1] !== filterHeight || product.shape[2] !== filterWidth) {
      throw new Error(`Conv2DBackpropFilter (wasm): internal shape mismatch [${product.shape}] for a ${filterHeight}x${filterWidth} filter`);
    }
    return runStockKernel("Transpose", { inputs: { x: product }, backend, attrs: { perm: [1, 2, 0, 3] } });
  } finally {
    for (const t of temporaries) backend.disposeData(t.dataId);
  }
}
