/**
 * ResizeNearestNeighbor and its gradient on wasm, for an integer upscaling (output = input ×
 * (sh, sw), alignCorners and halfPixelCenters false: what tfjs-layers' UpSampling2D does).
 * Where the native addon is loaded, both are its upsample (row copies; block sums), ≈ 10× faster
 * than wasm's own forward. Without it: the forward is wasm's own, and in the gradient each input
 * pixel receives the sum of its sh×sw block of dY: dX = sh·sw · AvgPool(dY, [sh, sw], stride
 * [sh, sw]), with wasm's XNNPACK average pooling. Anything else goes to wasm's own kernels.
 */
import * as tf from "@tensorflow/tfjs";
import { nativeAddon, nativeCounters, nativeThreads, UpsampleMode } from "../native/addon";
import { KernelArgs, runStockKernel, WasmBackendLike } from "./common";

/** The integer factors (sh, sw) of an UpSampling2D-like resize of float32 NHWC `small` to [outH, outW], or null. */
function integerFactors(small: tf.TensorInfo, outH: number, outW: number, alignCorners: boolean, halfPixelCenters: boolean): [number, number] | null {
  if (alignCorners || halfPixelCenters || small.dtype !== "float32" || small.shape.length !== 4) return null;
  const [batch, inH, inW, channels] = small.shape;
  const sh = outH / inH;
  const sw = outW / inW;
  if (!Number.isInteger(sh) || !Number.isInteger(sw) || sh < 1 || sw < 1 || batch === 0 || channels === 0) return null;
  return [sh, sw];
}

/** Nearest-neighbour resize: the addon's upsample for an integer upscaling, else wasm's own. */
export function resizeNearestNeighborWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { images } = args.inputs as tf.ResizeNearestNeighborInputs;
  const { alignCorners, halfPixelCenters, size } = args.attrs as unknown as tf.ResizeNearestNeighborAttrs;
  if (!images) throw new Error("ResizeNearestNeighbor (wasm): input images is required");
  const native = nativeAddon();
  const factors = native ? integerFactors(images, size[0], size[1], alignCorners, halfPixelCenters) : null;
  if (!native || !factors) return runStockKernel("ResizeNearestNeighbor", args);
  const [batch, inH, inW, channels] = images.shape;
  const out = backend.makeOutput([batch, size[0], size[1], channels], "float32");
  native.upsample(UpsampleMode.Upscale, backend.typedArrayFromHeap(images) as Float32Array, backend.typedArrayFromHeap(out) as Float32Array, batch, inH, inW, channels, factors[0], factors[1], nativeThreads());
  nativeCounters.elementwise++;
  return out;
}

/** dL/dX of nearest-neighbour resizing (see the module comment). */
export function resizeNearestNeighborGradWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { images, dy } = args.inputs as tf.ResizeNearestNeighborGradInputs;
  const { alignCorners, halfPixelCenters } = args.attrs as unknown as tf.ResizeNearestNeighborGradAttrs;
  if (!images || !dy) throw new Error("ResizeNearestNeighborGrad (wasm): inputs images and dy are required");
  const [batch, inH, inW, channels] = images.shape;
  const factors = dy.dtype === "float32" && dy.shape.length === 4 ? integerFactors(images, dy.shape[1], dy.shape[2], alignCorners, halfPixelCenters) : null;
  if (!factors) return runStockKernel("ResizeNearestNeighborGrad", args);
  const [sh, sw] = factors;
  const native = nativeAddon();
  if (native) {
    const out = backend.makeOutput([batch, inH, inW, channels], "float32");
    native.upsample(UpsampleMode.Gradient, backend.typedArrayFromHeap(out) as Float32Array, backend.typedArrayFromHeap(dy) as Float32Array, batch, inH, inW, channels, sh, sw, nativeThreads());
    nativeCounters.elementwise++;
    return out;
  }
  const pooled = runStockKernel("AvgPool", {
    inputs: { x: dy }, backend, attrs: { filterSize: [sh, sw], strides: [sh, sw], pad: "valid" } as unknown as tf.NamedAttrMap,
  });
  if (sh * sw === 1) return pooled;
  try {
    const scale = backend.makeOutput([], "float32", undefined, new Float32Array([sh * sw]));
    try {
      return runStockKernel("Multiply", { inputs: { a: pooled, b: scale }, backend });
    } finally {
      backend.disposeData(scale.dataId);
    }
  } finally {
    backend.disposeData(pooled.dataId);
  }
}
