/**
 * 2-D convolutions on the native addon (lib/native.ts, lib/native/kernels.cc): forward,
 * input gradient and filter gradient by im2col and the addon's matrix product, on the wasm
 * heap in place. Each function returns null where the addon is not loaded, the case is not one
 * it takes (not float32, NCHW), or the policy below keeps it on wasm; the caller then takes its
 * wasm path.
 */
import * as tf from "@tensorflow/tfjs";
import { nativeAddon, nativeCounters, nativeThreads } from "../native";
import { KernelArgs, runStockKernel, WasmBackendLike } from "./common";
import { addBiasAndActivate } from "./matmul";

const MODES = { forward: 0, input: 1, filter: 2 } as const;

/**
 * Which convolutions go native: "auto" (default) only where the addon measured faster than
 * wasm's XNNPACK and our wasm kernels (CPU time per call, batch 128, one thread each; see
 * lib/native.ts): forward with fh·fw·inC ≥ 32 taps and ≥ 16 output channels, the input
 * gradient with ≥ 16 output channels, the filter gradient with ≥ 8. Few-channel convolutions
 * (the conv autoencoders') stay on wasm, where im2col's copies cost more than the product.
 * "always" sends every one to the addon (tests use it to cover small shapes).
 */
export type NativeConvPolicy = "auto" | "always";
let policy: NativeConvPolicy = "auto";

/** Set the policy (see NativeConvPolicy); returns the previous one. */
export function setNativeConvPolicy(next: NativeConvPolicy): NativeConvPolicy {
  if (next !== "auto" && next !== "always") throw new Error(`setNativeConvPolicy: expected "auto" or "always", got ${JSON.stringify(next)}`);
  const previous = policy;
  policy = next;
  return previous;
}

/** Whether "auto" sends this case to the addon. */
function worthIt(mode: keyof typeof MODES, info: tf.backend_util.Conv2DInfo): boolean {
  if (policy === "always") return true;
  const taps = info.filterHeight * info.filterWidth * info.inChannels;
  if (mode === "forward") return taps >= 32 && info.outChannels >= 16;
  if (mode === "input") return info.outChannels >= 16;
  return info.outChannels >= 8;
}

/** Run the addon's conv2d in `mode`; `out` is the tensor it writes (y, dx or dW). */
function run(backend: WasmBackendLike, mode: keyof typeof MODES, info: tf.backend_util.Conv2DInfo, x: tf.TensorInfo, w: tf.TensorInfo, y: tf.TensorInfo): void {
  const native = nativeAddon() as NonNullable<ReturnType<typeof nativeAddon>>;
  const view = (t: tf.TensorInfo) => backend.typedArrayFromHeap(t) as Float32Array;
  native.conv2d(MODES[mode], view(x), view(w), view(y), info.batchSize, info.inHeight, info.inWidth, info.inChannels,
    info.outHeight, info.outWidth, info.outChannels, info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth,
    info.dilationHeight, info.dilationWidth, info.padInfo.top, info.padInfo.left, nativeThreads());
  nativeCounters.convolutions++;
}

function usable(info: tf.backend_util.Conv2DInfo, ...tensors: tf.TensorInfo[]): boolean {
  return nativeAddon() !== null && info.dataFormat === "channelsLast" && tensors.every((t) => t.dtype === "float32") &&
    info.batchSize * info.outHeight * info.outWidth * info.outChannels * info.inChannels > 0;
}

/** y = conv2d(x, W) [b, oh, ow, outC] by the addon, or null. */
export function nativeConv2D(backend: WasmBackendLike, x: tf.TensorInfo, filter: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): tf.TensorInfo | null {
  if (!usable(info, x, filter) || !worthIt("forward", info)) return null;
  const out = backend.makeOutput([info.batchSize, info.outHeight, info.outWidth, info.outChannels], "float32");
  run(backend, "forward", info, x, filter, out);
  return out;
}

/** dL/dX [b, h, w, inC] of conv2d from dY and W by the addon (col2im of dY·Wᵀ), or null. */
export function nativeConv2DBackpropInput(backend: WasmBackendLike, dy: tf.TensorInfo, filter: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): tf.TensorInfo | null {
  if (!usable(info, dy, filter) || !worthIt("input", info)) return null;
  const out = backend.makeOutput([info.batchSize, info.inHeight, info.inWidth, info.inChannels], "float32");
  run(backend, "input", info, out, filter, dy);
  return out;
}

/** dL/dW [fh, fw, inC, outC] of conv2d from X and dY by the addon (im2col(X)ᵀ·dY), or null. */
export function nativeConv2DBackpropFilter(backend: WasmBackendLike, x: tf.TensorInfo, dy: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): tf.TensorInfo | null {
  if (!usable(info, x, dy) || !worthIt("filter", info)) return null;
  const out = backend.makeOutput([info.filterHeight, info.filterWidth, info.inChannels, info.outChannels], "float32");
  run(backend, "filter", info, x, out, dy);
  return out;
}

/** The Conv2DInfo of a forward Conv2D / FusedConv2D kernel call. */
function forwardInfo(x: tf.TensorInfo, filter: tf.TensorInfo, attrs: tf.Conv2DAttrs): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filter.shape as [number, number, number, number], attrs.strides, attrs.dilations,
    attrs.pad, attrs.dimRoundingMode, false, tf.backend_util.convertConv2DDataFormat(attrs.dataFormat),
  );
}

/** Conv2D on wasm: the addon's im2col product where it is built, else wasm's own (XNNPACK). */
export function conv2DWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x, filter } = args.inputs as tf.Conv2DInputs;
  if (!x || !filter) throw new Error("Conv2D (wasm): inputs x and filter are required");
  if (nativeAddon() && x.shape.length === 4 && filter.shape.length === 4) {
    const out = nativeConv2D(backend, x, filter, forwardInfo(x, filter, args.attrs as unknown as tf.Conv2DAttrs));
    if (out) return out;
  }
  return runStockKernel("Conv2D", args);
}

/** FusedConv2D on wasm (conv layers with a bias and an activation): the addon's product, then the bias and activation as in _FusedMatMul; else wasm's own. */
export function fusedConv2DWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x, filter, bias, preluActivationWeights } = args.inputs as tf.FusedConv2DInputs;
  const attrs = args.attrs as unknown as tf.FusedConv2DAttrs;
  if (!x || !filter) throw new Error("FusedConv2D (wasm): inputs x and filter are required");
  if (nativeAddon() && x.shape.length === 4 && filter.shape.length === 4) {
    const info = forwardInfo(x, filter, attrs);
    const out = nativeConv2D(backend, x, filter, info);
    if (out) {
      return addBiasAndActivate(backend, out, info.batchSize * info.outHeight * info.outWidth, info.outChannels,
        { bias, activation: attrs.activation, leakyreluAlpha: attrs.leakyreluAlpha, preluActivationWeights });
    }
  }
  return runStockKernel("FusedConv2D", args);
}
