/**
 * Kernels for @tensorflow/tfjs-backend-wasm 4.22 that our models need and wasm lacks or
 * gets wrong, plus two helpers to find such gaps programmatically (`kernelsUsedBy` records
 * the kernels a computation runs; `unregisteredKernels` says which a backend does not have).
 *
 * What the audit (test/wasm-kernels.test.ts) found for the layers of the five papers
 * (dense, conv2d, conv2dTranspose, max/avg pooling, upsampling, batch norm, leaky relu,
 * sigmoid, tanh, softmax), forward and backward:
 * - missing: `Conv2DBackpropFilter` (the filter gradient of conv2d and conv2dTranspose).
 *   wasm's `Conv3DBackpropFilterV2`, the obvious base, is itself wrong for strides > 1
 *   (its output-range bounds use truncating division), so ours is one XNNPACK Conv2D with batch
 *   and channels swapped (≥ 4 input channels) or im2col + wasm's BatchMatMul (fewer).
 * - wrong: `MaxPoolGrad` starts its running max at FLT_MIN (the smallest *positive* float),
 *   so any pooling window whose values are all ≤ 0 sends its gradient to the wrong place.
 *   Replaced by a typed-array kernel with tfjs-cpu/TensorFlow semantics (first maximum wins;
 *   lib/kernels/pool.ts).
 * - also added: `UnsortedSegmentSum`, the gradient of `tf.gather`.
 * Not added (no model here uses them): the depthwise-conv gradients.
 * Faster (WASM_FASTER_KERNELS, lib/kernels/, profiled with lib/bench/profile.ts): kernels wasm
 * gets right but slowly in training: BatchMatMul with transposes (naive loop → XNNPACK after a
 * Transpose), Conv2DBackpropInput (naive loop → XNNPACK conv with the flipped filter; also
 * conv2dTranspose's forward pass), ResizeNearestNeighborGrad (→ XNNPACK AvgPool), Sum over
 * leading axes (no transpose), GatherV2 of rows and Slice (no whole-input copy).
 * Beware (not ours to fix): with a numeric pad and a non-square filter or stride, tfjs-core
 * 4.22 computes conv output sizes from the height alone, and wasm's forward Conv2D then
 * writes out of bounds. tfjs-layers only uses "same"/"valid", which are fine.
 *
 * Nothing is registered on import: `registerWasmKernels()` does it (initBackend calls it).
 */
import * as tf from "@tensorflow/tfjs";
import { KernelArgs, pair, runWasmKernel, stockKernels, WasmBackendLike } from "./kernels/common";
import { batchMatMulWasm, fusedMatMulWasm } from "./kernels/matmul";
import { gatherV2Wasm } from "./kernels/gather";
import { maxPoolGradWasm } from "./kernels/pool";
import { meanWasm, sumWasm } from "./kernels/reduce";
import { oneHotWasm } from "./kernels/onehot";
import { sliceWasm } from "./kernels/slice";
import { resizeNearestNeighborGradWasm, resizeNearestNeighborWasm } from "./kernels/resize";

export { maxPoolGradWasm } from "./kernels/pool";
import { conv2DBackpropFilterByConv, conv2DBackpropInputWasm } from "./kernels/conv";
import { conv2DWasm, fusedConv2DWasm, nativeConv2DBackpropFilter } from "./kernels/native-conv";
import { addWasm, castWasm, greaterWasm, identityWasm, leakyReluWasm, selectWasm, stepWasm } from "./kernels/native-elementwise";

/** One kernel this module puts on the wasm backend. */
export interface WasmKernelPatch {
  kernelName: string;
  /** "added": wasm had none; "replaced": wasm's own is wrong (or, in WASM_FASTER_KERNELS, right but slow). */
  action: "added" | "replaced";
  /** How ours computes it. */
  method: string;
}

/** The kernels this module puts on the wasm backend. */
export const WASM_EXTRA_KERNELS: readonly WasmKernelPatch[] = [
  { kernelName: "Conv2DBackpropFilter", action: "added", method: "the native addon's im2col(X)ᵀ·dY, or its direct kernel for few channels at stride 1, where it is built; else one XNNPACK convolution with batch and channels swapped (≥ 4 input channels) or transposed im2col in typed arrays on the wasm heap, then wasm's BatchMatMul" },
  { kernelName: "MaxPoolGrad", action: "replaced", method: "the native addon's threaded loop where it is built, else a channel-vectorised typed-array loop on the wasm heap (wasm's own is wrong for windows with no positive value)" },
  { kernelName: "UnsortedSegmentSum", action: "added", method: "typed-array loop" },
  { kernelName: "OneHot", action: "replaced", method: "typed-array fill in the requested dtype (wasm's own writes int32 bits into a float32 output: 1 became 1.4e-45)" },
  { kernelName: "Mean", action: "replaced", method: "over trailing axes with ≥ 2^16 terms per output (a test-set MSE): float64 accumulation on the wasm heap (wasm's own adds in float32, ~3e-3 low at 10⁷ terms); else wasm's own" },
];

/**
 * Kernels wasm has and gets right, but slowly, that ours replace for speed (lib/kernels/);
 * wasm's own stays reachable (replacedWasmKernel) for the cases ours hands back to it.
 */
export const WASM_FASTER_KERNELS: readonly WasmKernelPatch[] = [
  { kernelName: "BatchMatMul", action: "replaced", method: "the native addon's multithreaded product on the wasm heap where it is built (lib/native.ts); else transposed operands materialised with wasm's Transpose, then wasm's XNNPACK product (its own runs a naive loop when either is transposed)" },
  { kernelName: "_FusedMatMul", action: "replaced", method: "the native addon's product, then a bias row and ReLU in two vectorised passes on the addon (other activations by wasm's kernels), where it is built; else wasm's own" },
  { kernelName: "ResizeNearestNeighborGrad", action: "replaced", method: "integer upscaling (UpSampling2D): the native addon's block sums where it is built, else sh·sw × wasm's XNNPACK AvgPool of dy; else wasm's own" },
  { kernelName: "ResizeNearestNeighbor", action: "replaced", method: "integer upscaling (UpSampling2D): the native addon's row copies where it is built; else wasm's own" },
  { kernelName: "GatherV2", action: "replaced", method: "whole rows (axis 0): one heap memmove per row (the epoch shuffle); else wasm's own (element by element)" },
  { kernelName: "Slice", action: "replaced", method: "heap to heap, only the slice (wasm's own first copies the whole input out with readSync: a dataset copy per batch)" },
  { kernelName: "Sum", action: "replaced", method: "over leading axes (bias gradients): the native addon's threaded pass (narrow rows summed lane-wise in vectors) where it is built, else with rows ≥ 32 wide and ≥ 1024 of them one pass over the rows on the wasm heap, double accumulation; over trailing axes with ≥ 2^16 terms per output: float64 accumulation, as Mean; else wasm's own (which transposes first)" },
  { kernelName: "Conv2DBackpropInput", action: "replaced", method: "the native addon's col2im(dy·Wᵀ), or its direct kernel for few channels at stride 1, where it is built (lib/kernels/native-conv.ts has the policy); else forward wasm Conv2D (XNNPACK) of the (dilated) dy with the flipped, in/out-swapped filter and full padding (wasm's own is a naive loop)" },
  { kernelName: "Conv2D", action: "replaced", method: "the native addon's im2col product, or its direct kernel for few channels at stride 1, where it is built and measured faster; else wasm's own (XNNPACK)" },
  { kernelName: "Identity", action: "replaced", method: "shares the input's memory (refcounted, as tfjs-cpu) where wasm's own copies it" },
  { kernelName: "Cast", action: "replaced", method: "to the dtype the tensor already has: shares its memory as Identity; else wasm's own" },
  { kernelName: "LeakyRelu", action: "replaced", method: "the native addon's vectorised, branch-free, threaded loop where it is built; else wasm's own" },
  { kernelName: "Step", action: "replaced", method: "the native addon's vectorised, branch-free loop (ReLU's gradient mask) where it is built; else wasm's own" },
  { kernelName: "Greater", action: "replaced", method: "the native addon's loop for float32 against a scalar or a same-shape tensor (leaky ReLU's gradient mask) where it is built; else wasm's own" },
  { kernelName: "Select", action: "replaced", method: "the native addon's loop for same-shape operands where it is built; else wasm's own" },
  { kernelName: "Add", action: "replaced", method: "one operand a bias ([..., C] + [C], a conv layer's in training): the native addon's vectorised pass where it is built; else wasm's own" },
  { kernelName: "FusedConv2D", action: "replaced", method: "the native addon's convolution (as Conv2D), then bias and activation as _FusedMatMul, where it is built; else wasm's own" },
];

/** Largest im2col buffer (float32 elements; default 2^23 = 32 MB) before the batch is split into chunks. */
let maxIm2colElements = 1 << 23;

/** How Conv2DBackpropFilter computes: "conv" (one XNNPACK convolution, batch and channels swapped, for ≥ 4 input channels; im2col for fewer or where it cannot) or "im2col". */
let filterMethod: "conv" | "im2col" = "conv";

/** Choose Conv2DBackpropFilter's method (see filterMethod); returns the previous one. For tuning and tests. */
export function setConv2DBackpropFilterMethod(method: "conv" | "im2col"): "conv" | "im2col" {
  if (method !== "conv" && method !== "im2col") throw new Error(`setConv2DBackpropFilterMethod: method must be "conv" or "im2col", got ${JSON.stringify(method)}`);
  const previous = filterMethod;
  filterMethod = method;
  return previous;
}

/** Set the im2col size limit of Conv2DBackpropFilter (float32 elements); returns the previous one. For tuning and tests. */
export function setIm2colLimit(elements: number): number {
  if (!Number.isInteger(elements) || elements < 1) throw new Error(`setIm2colLimit: elements must be a positive integer, got ${elements}`);
  const previous = maxIm2colElements;
  maxIm2colElements = elements;
  return previous;
}


/**
 * Fill the transposed im2col matrix for images [firstImage, firstImage + numImages): row k =
 * (i, j, c) of the filter (filter order), column (b, oy, ox) of the output, holding
 * X[b, oy·sh + i − padTop, ox·sw + j − padLeft, c], or 0 outside the image. Transposed because
 * wasm's BatchMatMul is about 10× slower with transposeA than on a pre-transposed operand.
 */
function fillIm2colTransposed(colsT: Float32Array, x: tf.TypedArray, info: tf.backend_util.Conv2DInfo, firstImage: number, numImages: number): void {
  const { inHeight, inWidth, inChannels, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const { top, left } = info.padInfo;
  const imageSize = inHeight * inWidth * inChannels;
  let dst = 0;
  for (let i = 0; i < filterHeight; i++) {
    for (let j = 0; j < filterWidth; j++) {
      for (let c = 0; c < inChannels; c++) {
        for (let b = firstImage; b < firstImage + numImages; b++) {
          const imageBase = b * imageSize + c;
          for (let oy = 0; oy < outHeight; oy++) {
            const y = oy * strideHeight + i - top;
            if (y < 0 || y >= inHeight) {
              colsT.fill(0, dst, dst + outWidth);
              dst += outWidth;
              continue;
            }
            const rowBase = imageBase + y * inWidth * inChannels;
            for (let ox = 0; ox < outWidth; ox++, dst++) {
              const xx = ox * strideWidth + j - left;
              colsT[dst] = xx < 0 || xx >= inWidth ? 0 : x[rowBase + xx * inChannels];
            }
          }
        }
      }
    }
  }
}

/**
 * Conv2DBackpropFilter on wasm: dL/dW[i,j,c,f] = Σ_{b,y,x} X[b, y·sh + i − padTop, x·sw + j − padLeft, c] · dY[b,y,x,f],
 * i.e. dW = im2col(X)ᵀ · dY with im2col(X) of shape [b·oh·ow, fh·fw·c] and dY as [b·oh·ow, f].
 * im2col(X)ᵀ is filled in typed arrays on the wasm heap; the product is wasm's BatchMatMul.
 * Large batches are split so the im2col buffer stays under 32 MB.
 */
export function conv2DBackpropFilterWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const attrs = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const { x, dy } = args.inputs as tf.Conv2DBackpropFilterInputs;
  if (!x || !dy) throw new Error("Conv2DBackpropFilter (wasm): inputs x and dy are required");
  if (attrs.dataFormat === "NCHW") {
    throw new Error("Conv2DBackpropFilter (wasm): dataFormat 'NCHW' is not supported (wasm's own Conv2D supports only 'NHWC')");
  }
  if (x.dtype !== "float32" || dy.dtype !== "float32") {
    throw new Error(`Conv2DBackpropFilter (wasm): x and dy must be float32, got ${x.dtype} and ${dy.dtype}`);
  }
  const filterShape = attrs.filterShape;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, pair(attrs.strides), 1, attrs.pad, attrs.dimRoundingMode,
  );
  const { batchSize, outHeight, outWidth, outChannels } = info;
  if (dy.shape.length !== 4 || dy.shape[0] !== batchSize || dy.shape[1] !== outHeight || dy.shape[2] !== outWidth || dy.shape[3] !== outChannels) {
    throw new Error(`Conv2DBackpropFilter (wasm): dy has shape [${dy.shape}] but x [${x.shape}], filter [${filterShape}] and the strides/padding give [${batchSize},${outHeight},${outWidth},${outChannels}]`);
  }
  const byNative = nativeConv2DBackpropFilter(backend, x, dy, info);
  if (byNative) return byNative;
  // With few input channels the convolution's GEMM has only c·fh·fw rows (9 for one channel) and
  // im2col is both small and faster (measured on the models' first layers); from 4 channels on, conv wins.
  if (filterMethod === "conv" && info.inChannels >= 4) {
    const byConv = conv2DBackpropFilterByConv(backend, x, dy, info);
    if (byConv) return byConv;
  }
  const rowLength = filterShape[0] * filterShape[1] * filterShape[2];
  const rowsPerImage = outHeight * outWidth;
  const imagesPerChunk = Math.max(1, Math.floor(maxIm2colElements / Math.max(1, rowsPerImage * rowLength)));
  if (imagesPerChunk >= batchSize) {
    const product = im2colProduct(backend, x, dy, info, 0, batchSize);
    return { dataId: product.dataId, shape: [...filterShape], dtype: "float32" };
  }
  const total = new Float32Array(rowLength * outChannels);
  for (let first = 0; first < batchSize; first += imagesPerChunk) {
    const product = im2colProduct(backend, x, dy, info, first, Math.min(imagesPerChunk, batchSize - first));
    const values = backend.typedArrayFromHeap(product);
    for (let k = 0; k < total.length; k++) total[k] += values[k];
    backend.disposeData(product.dataId);
  }
  return backend.makeOutput([...filterShape], "float32", undefined, total);
}

/** im2col(X[images])ᵀ · dY[images] as a [1, fh·fw·c, f] wasm tensor (the caller disposes it). */
function im2colProduct(
  backend: WasmBackendLike, x: tf.TensorInfo, dy: tf.TensorInfo, info: tf.backend_util.Conv2DInfo, firstImage: number, numImages: number,
): tf.TensorInfo {
  const rowLength = info.filterHeight * info.filterWidth * info.inChannels;
  const rows = numImages * info.outHeight * info.outWidth;
  const wholeBatch = firstImage === 0 && numImages === info.batchSize;
  // Allocate first: allocation may grow (and so detach) the wasm heap under earlier views.
  const colsT = backend.makeOutput([1, rowLength, rows], "float32");
  const dyChunk = wholeBatch ? null : backend.makeOutput([1, rows, info.outChannels], "float32");
  try {
    fillIm2colTransposed(backend.typedArrayFromHeap(colsT) as Float32Array, backend.typedArrayFromHeap(x), info, firstImage, numImages);
    if (dyChunk) {
      const chunkSize = rows * info.outChannels;
      const start = firstImage * info.outHeight * info.outWidth * info.outChannels;
      (backend.typedArrayFromHeap(dyChunk) as Float32Array).set(backend.typedArrayFromHeap(dy).subarray(start, start + chunkSize));
    }
    const dy3d: tf.TensorInfo = dyChunk ?? { dataId: dy.dataId, shape: [1, rows, info.outChannels], dtype: "float32" };
    return runWasmKernel("BatchMatMul", {
      inputs: { a: colsT, b: dy3d },
      backend,
      attrs: { transposeA: false, transposeB: false },
    });
  } finally {
    backend.disposeData(colsT.dataId);
    if (dyChunk) backend.disposeData(dyChunk.dataId);
  }
}

/**
 * UnsortedSegmentSum on wasm: out[s, …] = Σ_{i : segmentIds[i] = s} x[i, …]; ids outside
 * [0, numSegments) are dropped (as tfjs's cpu kernel does). It is the gradient of `tf.gather`.
 */
export function unsortedSegmentSumWasm(args: KernelArgs): tf.TensorInfo {
  const { x, segmentIds } = args.inputs as tf.UnsortedSegmentSumInputs;
  const { numSegments } = args.attrs as unknown as tf.UnsortedSegmentSumAttrs;
  const backend = args.backend as WasmBackendLike;
  if (!x || !segmentIds) throw new Error("UnsortedSegmentSum (wasm): inputs x and segmentIds are required");
  const idsRank = segmentIds.shape.length;
  for (let axis = 0; axis < idsRank; axis++) {
    if (segmentIds.shape[axis] !== x.shape[axis]) {
      throw new Error(`UnsortedSegmentSum (wasm): segmentIds shape [${segmentIds.shape}] must be a prefix of x shape [${x.shape}]`);
    }
  }
  if (x.dtype !== "float32" && x.dtype !== "int32") throw new Error(`UnsortedSegmentSum (wasm): x must be float32 or int32, got ${x.dtype}`);
  const innerShape = x.shape.slice(idsRank);
  const inner = innerShape.reduce((a, b) => a * b, 1);
  const xValues = backend.typedArrayFromHeap(x);
  const ids = backend.typedArrayFromHeap(segmentIds);
  const out = x.dtype === "float32" ? new Float32Array(numSegments * inner) : new Int32Array(numSegments * inner);
  for (let i = 0; i < ids.length; i++) {
    const segment = ids[i];
    if (segment < 0 || segment >= numSegments) continue;
    const from = i * inner;
    const to = segment * inner;
    for (let j = 0; j < inner; j++) out[to + j] += xValues[from + j];
  }
  // Inputs were read before this allocation, which may grow (and detach) the wasm heap.
  return backend.makeOutput([numSegments, ...innerShape], x.dtype, undefined, out);
}

/** wasm's own kernels that registerWasmKernels replaced: kept so tests can show they are still wrong, and so ours can fall back to them. */
const replacedKernels = stockKernels;

const KERNEL_FUNCS: Record<string, tf.KernelFunc> = {
  Conv2DBackpropFilter: conv2DBackpropFilterWasm,
  MaxPoolGrad: maxPoolGradWasm,
  UnsortedSegmentSum: unsortedSegmentSumWasm,
  BatchMatMul: batchMatMulWasm,
  _FusedMatMul: fusedMatMulWasm,
  Conv2DBackpropInput: conv2DBackpropInputWasm,
  Conv2D: conv2DWasm,
  FusedConv2D: fusedConv2DWasm,
  LeakyRelu: leakyReluWasm,
  Identity: identityWasm,
  Cast: castWasm,
  Step: stepWasm,
  Greater: greaterWasm,
  Select: selectWasm,
  Add: addWasm,
  ResizeNearestNeighborGrad: resizeNearestNeighborGradWasm,
  ResizeNearestNeighbor: resizeNearestNeighborWasm,
  Sum: sumWasm,
  Mean: meanWasm,
  OneHot: oneHotWasm,
  GatherV2: gatherV2Wasm,
  Slice: sliceWasm,
};

/**
 * Put our kernels on the wasm backend (idempotent). An "added" kernel is registered only
 * where wasm has none; a "replaced" one takes the place of wasm's own. Returns the names
 * registered by this call.
 */
export function registerWasmKernels(): string[] {
  const registered: string[] = [];
  for (const { kernelName, action } of [...WASM_EXTRA_KERNELS, ...WASM_FASTER_KERNELS]) {
    const existing = tf.getKernel(kernelName, "wasm");
    if (existing && (existing.kernelFunc === KERNEL_FUNCS[kernelName] || action === "added")) continue;
    if (existing) {
      replacedKernels.set(kernelName, existing);
      tf.unregisterKernel(kernelName, "wasm");
    }
    // Keep the stock kernel's setup: wasm runs it when the backend starts (after this call when
    // initBackend registers first), and our kernels call the stock one, which needs it.
    const setupFunc = existing?.setupFunc;
    const disposeFunc = existing?.disposeFunc;
    tf.registerKernel({ kernelName, backendName: "wasm", kernelFunc: KERNEL_FUNCS[kernelName], ...(setupFunc ? { setupFunc } : {}), ...(disposeFunc ? { disposeFunc } : {}) });
    registered.push(kernelName);
  }
  return registered;
}

/** wasm's own kernel that ours replaced (undefined if none was replaced). */
export function replacedWasmKernel(kernelName: string): tf.KernelConfig | undefined {
  return replacedKernels.get(kernelName);
}

/** Whether the wasm kernel of this name is the one from this module. */
export function isOurWasmKernel(kernelName: string): boolean {
  const config = tf.getKernel(kernelName, "wasm");
  return config !== undefined && KERNEL_FUNCS[kernelName] !== undefined && config.kernelFunc === KERNEL_FUNCS[kernelName];
}

/**
 * The kernel names a computation runs (forward, and backward when `fn` takes gradients),
 * recorded with `tf.profile` on the current backend; op-scope names (`…__op`) are left out.
 * Run it on a backend that has every kernel (cpu) to see what another backend would need.
 */
export async function kernelsUsedBy(fn: () => tf.TensorContainer): Promise<string[]> {
  const info = await tf.profile(fn);
  tf.dispose(info.result as tf.TensorContainer);
  return [...new Set(info.kernelNames.filter((name) => !name.endsWith("__op")))].sort();
}

/** The names in `kernelNames` that `backendName` has no kernel for. */
export function unregisteredKernels(kernelNames: Iterable<string>, backendName: string): string[] {
  return [...new Set(kernelNames)].filter((name) => !tf.getKernel(name, backendName)).sort();
}
