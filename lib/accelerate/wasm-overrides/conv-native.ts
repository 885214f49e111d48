/**
 * 2-D convolutions on the native addon (lib/accelerate/native/addon.ts, lib/accelerate/native/src/): forward,
 * input gradient and filter gradient, on the wasm heap in place, by one of two algorithms:
 * im2col and the addon's matrix product, or (stride 1, few channels) the direct kernels, which
 * copy each image once into a padded channel-major buffer and sum shifted rows of it times the
 * filter taps. Each function returns null where the addon is not loaded, the case is not one it
 * takes (not float32, NCHW), or the policy below keeps it on wasm; the caller then takes its
 * wasm path.
 */
import * as tf from "@tensorflow/tfjs";
import { ConvAlgorithm, ConvMode, nativeAddon, nativeCounters, nativeThreads } from "../native/addon";
import { KernelArgs, runStockKernel, WasmBackendLike } from "./common";
import { addBiasAndActivate } from "./matmul";

const MODES = { forward: ConvMode.Forward, input: ConvMode.InputGradient, filter: ConvMode.FilterGradient } as const;

/**
 * Which convolutions go native, and how: "auto" (default) only where the addon measured faster
 * than wasm's XNNPACK and our wasm kernels (batch 128, 2 threads): the direct kernels where they
 * apply with inC·outC ≤ 128 (forward, input gradient) or ≤ 64 (filter gradient), the conv
 * autoencoders' 1 → 16 → 8 → 1 channels (there im2col's copies cost more than the product:
 * 2.4–10 ms against 0.5–1 ms per call); else im2col for the forward with fh·fw·inC ≥ 32 taps
 * and ≥ 16 output channels, the input gradient with ≥ 16 output channels, the filter gradient
 * with ≥ 8; else wasm. "always" sends every one to the addon, direct where "auto" would;
 * "im2col" sends every one to the addon's im2col (tests use both to cover small shapes).
 */
export type NativeConvPolicy = "auto" | "always" | "im2col";
let policy: NativeConvPolicy = "auto";

/** Set the policy (see NativeConvPolicy); returns the previous one. */
export function setNativeConvPolicy(next: NativeConvPolicy): NativeConvPolicy {
  if (next !== "auto" && next !== "always" && next !== "im2col") throw new Error(`setNativeConvPolicy: expected "auto", "always" or "im2col", got ${JSON.stringify(next)}`);
  const previous = policy;
  policy = next;
  return previous;
}

/** Rows of the direct kernels: at most this many vector registers wide (native/src/kernels.h kMaxRowVectors). */
const DIRECT_MAX_ROW_VECTORS = 4;
/** Widest filter the direct kernels take (native/src/kernels.h kMaxDirectFilterWidth). */
const DIRECT_MAX_FILTER_WIDTH = 7;

/** Whether the addon's direct kernels take this shape (native/src/conv_direct.cc directApplies: stride 1, dilation 1, 0 ≤ pad < filter, narrow rows). */
export function directApplies(info: tf.backend_util.Conv2DInfo, vectorFloats: number): boolean {
  const { top, left } = info.padInfo;
  const rowVectors = (width: number) => Math.ceil(width / vectorFloats);
  return info.strideHeight === 1 && info.strideWidth === 1 && info.dilationHeight === 1 && info.dilationWidth === 1 &&
    top >= 0 && top < info.filterHeight && left >= 0 && left < info.filterWidth && info.filterWidth <= DIRECT_MAX_FILTER_WIDTH &&
    rowVectors(info.outWidth) <= DIRECT_MAX_ROW_VECTORS && rowVectors(info.inWidth) <= DIRECT_MAX_ROW_VECTORS;
}

/** A 1×1 convolution at stride 1 without padding: the addon's im2col path is then one matrix product on x itself (no copy). */
function isPointwise(info: tf.backend_util.Conv2DInfo): boolean {
  return info.filterHeight === 1 && info.filterWidth === 1 && info.strideHeight === 1 && info.strideWidth === 1 &&
    info.padInfo.top === 0 && info.padInfo.left === 0 && info.outHeight === info.inHeight && info.outWidth === info.inWidth;
}

/** How the addon computes a case: "direct", "im2col", or null (wasm's own), by the policy above. */
function algorithmFor(mode: keyof typeof MODES, info: tf.backend_util.Conv2DInfo, vectorFloats: number): "direct" | "im2col" | null {
  if (policy === "im2col" || isPointwise(info)) return "im2col";
  // One or two vectors of output channels (of input channels for the input gradient at stride 1): the addon's im2col entry
  // then skips im2col (native/src/conv_narrow.cc), faster than both im2col and the direct kernels.
  // Four vectors (64 channels) only where ≥ 64 positions per image (conv_narrow.cc's *Applies mirror this).
  const narrow = (channels: number, positions: number) => channels === vectorFloats || channels === 2 * vectorFloats || (channels === 4 * vectorFloats && positions >= 64);
  const stride1 = info.strideHeight === 1 && info.strideWidth === 1;
  if (mode === "forward" && narrow(info.outChannels, stride1 ? Infinity : info.outHeight * info.outWidth)) return "im2col";
  if (mode === "filter" && narrow(info.outChannels, info.outHeight * info.outWidth)) return "im2col";
  const undilated = info.dilationHeight === 1 && info.dilationWidth === 1;
  const strideOne = stride1 && info.padInfo.top < info.filterHeight && info.padInfo.left < info.filterWidth;
  // Stride = filter size, unpadded: a 2×2 stride-2 transposed convolution's forward pass.
  const sideBySide = info.strideHeight === info.filterHeight && info.strideWidth === info.filterWidth && info.padInfo.top === 0 && info.padInfo.left === 0;
  if (mode === "input" && narrow(info.inChannels, info.inHeight * info.inWidth) && undilated && (strideOne || sideBySide)) return "im2col";
  const channelProduct = info.inChannels * info.outChannels;
  if (directApplies(info, vectorFloats) && channelProduct <= (mode === "filter" ? 64 : 128)) return "direct";
  if (policy === "always") return "im2col";
  const taps = info.filterHeight * info.filterWidth * info.inChannels;
  if (mode === "forward") return taps >= 32 && info.outChannels >= 16 ? "im2col" : null;
  if (mode === "input") return info.outChannels >= 16 ? "im2col" : null;
  return info.outChannels >= 8 ? "im2col" : null;
}

/** Run the addon's conv2d in `mode` by `algorithm`; `out` is the tensor it writes (y, dx or dW). */
function run(backend: WasmBackendLike, mode: keyof typeof MODES, algorithm: "direct" | "im2col", info: tf.backend_util.Conv2DInfo,
  x: tf.TensorInfo, w: tf.TensorInfo, y: tf.TensorInfo): void {
  const native = nativeAddon() as NonNullable<ReturnType<typeof nativeAddon>>;
  const view = (t: tf.TensorInfo) => backend.typedArrayFromHeap(t) as Float32Array;
  native.conv2d(MODES[mode], algorithm === "direct" ? ConvAlgorithm.Direct : ConvAlgorithm.Im2col, view(x), view(w), view(y), {
    batch: info.batchSize, inH: info.inHeight, inW: info.inWidth, inC: info.inChannels, outH: info.outHeight, outW: info.outWidth, outC: info.outChannels,
    fH: info.filterHeight, fW: info.filterWidth, strideH: info.strideHeight, strideW: info.strideWidth, dilH: info.dilationHeight, dilW: info.dilationWidth,
    padTop: info.padInfo.top, padLeft: info.padInfo.left,
  }, nativeThreads());
  nativeCounters.convolutions++;
  if (algorithm === "direct") nativeCounters.directConvolutions++;
}

/** The algorithm for this case, or null where the addon is not loaded, cannot take it (dtype, NCHW, empty) or the policy says wasm. */
function plan(mode: keyof typeof MODES, info: tf.backend_util.Conv2DInfo, ...tensors: tf.TensorInfo[]): "direct" | "im2col" | null {
  const native = nativeAddon();
  const usable = native !== null && info.dataFormat === "channelsLast" && tensors.every((t) => t.dtype === "float32") &&
    info.batchSize * info.outHeight * info.outWidth * info.outChannels * info.inChannels > 0;
  return usable ? algorithmFor(mode, info, native.vectorFloats()) : null;
}

/** y = conv2d(x, W) [b, oh, ow, outC] by the addon, or null. */
export function nativeConv2D(backend: WasmBackendLike, x: tf.TensorInfo, filter: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): tf.TensorInfo | null {
  const algorithm = plan("forward", info, x, filter);
  if (!algorithm) return null;
  const out = backend.makeOutput([info.batchSize, info.outHeight, info.outWidth, info.outChannels], "float32");
  run(backend, "forward", algorithm, info, x, filter, out);
  return out;
}

/** dL/dX [b, h, w, inC] of conv2d from dY and W by the addon (col2im of dY·Wᵀ, or the flipped filter's direct convolution), or null. */
export function nativeConv2DBackpropInput(backend: WasmBackendLike, dy: tf.TensorInfo, filter: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): tf.TensorInfo | null {
  const algorithm = plan("input", info, dy, filter);
  if (!algorithm) return null;
  const out = backend.makeOutput([info.batchSize, info.inHeight, info.inWidth, info.inChannels], "float32");
  run(backend, "input", algorithm, info, out, filter, dy);
  return out;
}

/** dL/dW [fh, fw, inC, outC] of conv2d from X and dY by the addon (im2col(X)ᵀ·dY, or direct), or null. */
export function nativeConv2DBackpropFilter(backend: WasmBackendLike, x: tf.TensorInfo, dy: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): tf.TensorInfo | null {
  const algorithm = plan("filter", info, x, dy);
  if (!algorithm) return null;
  const out = backend.makeOutput([info.filterHeight, info.filterWidth, info.inChannels, info.outChannels], "float32");
  run(backend, "filter", algorithm, info, x, out, dy);
  return out;
}

/** The Conv2DInfo of a forward Conv2D / FusedConv2D kernel call. */
function forwardInfo(x: tf.TensorInfo, filter: tf.TensorInfo, attrs: tf.Conv2DAttrs): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filter.shape as [number, number, number, number], attrs.strides, attrs.dilations,
    attrs.pad, attrs.dimRoundingMode, false, tf.backend_util.convertConv2DDataFormat(attrs.dataFormat),
  );
}

/** Conv2D on wasm: the addon's where it is built and the policy sends it there, else wasm's own (XNNPACK). */
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
