/**
 * ResizeNearestNeighborGrad on wasm (UpSampling2D's gradient). When the forward pass is an
 * integer upscaling (output = input × (sh, sw), alignCorners and halfPixelCenters false: what
 * tfjs-layers' UpSampling2D does), each input pixel receives the sum of its sh×sw block of dY:
 * dX = sh·sw · AvgPool(dY, [sh, sw], stride [sh, sw]), with wasm's XNNPACK average pooling.
 * Anything else goes to wasm's own kernel.
 */
import * as tf from "@tensorflow/tfjs";
import { KernelArgs, runStockKernel, WasmBackendLike } from "./common";

/** dL/dX of nearest-neighbour resizing (see the module comment). */
export function resizeNearestNeighborGradWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { images, dy } = args.inputs as tf.ResizeNearestNeighborGradInputs;
  const { alignCorners, halfPixelCenters } = args.attrs as unknown as tf.ResizeNearestNeighborGradAttrs;
  if (!images || !dy) throw new Error("ResizeNearestNeighborGrad (wasm): inputs images and dy are required");
  const [batch, inH, inW, channels] = images.shape;
  const [, outH, outW] = dy.shape;
  const sh = outH / inH;
  const sw = outW / inW;
  if (alignCorners || halfPixelCenters || dy.dtype !== "float32" || images.shape.length !== 4 || !Number.isInteger(sh) || !Number.isInteger(sw) || sh < 1 || sw < 1 || batch === 0 || channels === 0) {
    return runStockKernel("ResizeNearestNeighborGrad", args);
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
