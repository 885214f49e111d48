/**
 * MaxPoolGrad on wasm (wasm's own is wrong: it starts its running max at FLT_MIN, so windows
 * with no positive value send their gradient to the wrong place). Ours has tfjs-cpu/TensorFlow
 * semantics (the first maximum of each window, in row-major window order, gets the gradient;
 * windows clipped by padding), computed channel-vectorised: for each output pixel, one pass
 * over its window updates the running max and argmax of all channels at once, writing
 * straight into the output on the wasm heap. Where the native addon is loaded (lib/accelerate/native/addon.ts),
 * its maxPoolGrad does the same in C++ on its threads, vectorised for 2×2 windows (≈ 9 ms →
 * ≈ 0.3 ms for the conv autoencoder's [128, 28, 28, 16]).
 */
import * as tf from "@tensorflow/tfjs";
import { nativeAddon, nativeCounters, nativeThreads } from "../native/addon";
import { KernelArgs, WasmBackendLike } from "./common";

/** Scratch arrays reused across calls (grown as needed). */
let bestValues = new Float32Array(64);
let bestIndices = new Int32Array(64);

/** dL/dX of max pooling (see the module comment). */
export function maxPoolGradWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { dy, input } = args.inputs as tf.MaxPoolGradInputs;
  const attrs = args.attrs as unknown as tf.MaxPoolGradAttrs;
  if (!dy || !input) throw new Error("MaxPoolGrad (wasm): inputs dy and input are required");
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode,
  );
  const { batchSize, inHeight, inWidth, inChannels: C, outHeight, outWidth, strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const { top, left } = info.padInfo;
  // Allocate first: allocation may grow (and so detach) the wasm heap under earlier views.
  const out = backend.makeOutput([...input.shape], "float32");
  const dx = backend.typedArrayFromHeap(out) as Float32Array;
  const x = backend.typedArrayFromHeap(input);
  const g = backend.typedArrayFromHeap(dy);
  const native = nativeAddon();
  if (native && input.dtype === "float32" && dy.dtype === "float32") {
    native.maxPoolGrad(g as Float32Array, x as Float32Array, dx, {
      batch: batchSize, inH: inHeight, inW: inWidth, channels: C, outH: outHeight, outW: outWidth,
      fH: filterHeight, fW: filterWidth, strideH: strideHeight, strideW: strideWidth, padTop: top, padLeft: left,
    }, nativeThreads());
    nativeCounters.pooling++;
    return out;
  }
  dx.fill(0);
  if (bestValues.length < C) {
    bestValues = new Float32Array(C);
    bestIndices = new Int32Array(C);
  }
  if (filterHeight === 2 && filterWidth === 2 && strideHeight === 2 && strideWidth === 2 && top === 0 && left === 0 &&
      2 * outHeight <= inHeight && 2 * outWidth <= inWidth) {
    maxPoolGrad2x2(dx, x, g, batchSize, inHeight, inWidth, C, outHeight, outWidth);
    return out;
  }
  const best = bestValues;
  const where = bestIndices;
  const rowStride = inWidth * C;
  for (let b = 0; b < batchSize; b++) {
    const imageBase = b * inHeight * rowStride;
    for (let oy = 0; oy < outHeight; oy++) {
      const yStart = Math.max(0, oy * strideHeight - top);
      const yEnd = Math.min(inHeight, oy * strideHeight - top + filterHeight);
      for (let ox = 0; ox < outWidth; ox++) {
        const xStart = Math.max(0, ox * strideWidth - left);
        const xEnd = Math.min(inWidth, ox * strideWidth - left + filterWidth);
        const dyBase = ((b * outHeight + oy) * outWidth + ox) * C;
        if (yStart >= yEnd || xStart >= xEnd) continue;
        best.fill(Number.NEGATIVE_INFINITY, 0, C);
        where.fill(-1, 0, C);
        for (let y = yStart; y < yEnd; y++) {
          for (let xx = xStart; xx < xEnd; xx++) {
            const base = imageBase + y * rowStride + xx * C;
            for (let c = 0; c < C; c++) {
              const v = x[base + c];
              if (v > best[c]) {
                best[c] = v;
                where[c] = base + c;
              }
            }
          }
        }
        for (let c = 0; c < C; c++) {
          // A window of NaNs (or −∞ only) sends nothing, as in tfjs-cpu.
          if (where[c] >= 0) dx[where[c]] += g[dyBase + c];
        }
      }
    }
  }
  return out;
}

/**
 * The 2×2, stride-2 case with every window inside the image (MaxPooling2D's default on even
 * sizes): the four candidates compared in window order, first maximum wins; a window of NaNs
 * sends nothing (as the general loop and tfjs-cpu).
 */
function maxPoolGrad2x2(
  dx: Float32Array, x: tf.TypedArray, g: tf.TypedArray, batchSize: number, inHeight: number, inWidth: number, C: number, outHeight: number, outWidth: number,
): void {
  const rowStride = inWidth * C;
  for (let b = 0; b < batchSize; b++) {
    const imageBase = b * inHeight * rowStride;
    for (let oy = 0; oy < outHeight; oy++) {
      for (let ox = 0; ox < outWidth; ox++) {
        const p00 = imageBase + 2 * oy * rowStride + 2 * ox * C;
        const p01 = p00 + C;
        const p10 = p00 + rowStride;
        const p11 = p10 + C;
        const dyBase = ((b * outHeight + oy) * outWidth + ox) * C;
        for (let c = 0; c < C; c++) {
          let best = Number.NEGATIVE_INFINITY;
          let where = -1;
          let v = x[p00 + c];
          if (v > best) { best = v; where = p00 + c; }
          v = x[p01 + c];
          if (v > best) { best = v; where = p01 + c; }
          v = x[p10 + c];
          if (v > best) { best = v; where = p10 + c; }
          v = x[p11 + c];
          if (v > best) { where = p11 + c; }
          if (where >= 0) dx[where] += g[dyBase + c];
        }
      }
    }
  }
}
