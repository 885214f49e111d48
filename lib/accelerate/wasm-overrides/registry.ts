/**
 * The wasm kernel overrides: the table of kernels this folder puts on
 * @tensorflow/tfjs-backend-wasm 4.22 (ones our models need that wasm lacks or gets wrong, and
 * faster ones for kernels it gets right but slowly; each implemented in the file named after its
 * op), the function that registers them, plus two helpers to find such gaps programmatically (`kernelsUsedBy` records
 * the kernels a computation runs; `unregisteredKernels` says which a backend does not have).
 *
 * What the audit (test/accelerate/wasm-layer-audit.test.ts) found for the layers of the five papers
 * (dense, conv2d, conv2dTranspose, max/avg pooling, upsampling, batch norm, leaky relu,
 * sigmoid, tanh, softmax), forward and backward:
 * - missing: `Conv2DBackpropFilter` (the filter gradient of conv2d and conv2dTranspose).
 *   wasm's `Conv3DBackpropFilterV2`, the obvious base, is itself wrong for strides > 1
 *   (its output-range bounds use truncating division), so ours is one XNNPACK Conv2D with batch
 *   and channels swapped (≥ 4 input channels) or im2col + wasm's BatchMatMul (fewer).
 * - wrong: `MaxPoolGrad` starts its running max at FLT_MIN (the smallest *positive* float),
 *   so any pooling window whose values are all ≤ 0 sends its gradient to the wrong place.
 *   Replaced by a typed-array kernel with tfjs-cpu/TensorFlow semantics (first maximum wins;
 *   ./pool.ts).
 * - also added: `UnsortedSegmentSum`, the gradient of `tf.gather`; batch norm in training and its
 *   gradient as two kernels (the names lib/models/batch-norm.ts runs where a backend has them).
 * Not added (no model here uses them): the depthwise-conv gradients.
 * Faster (WASM_FASTER_KERNELS, the files beside this one, profiled with lib/bench/profile.ts): kernels wasm
 * gets right but slowly in training: BatchMatMul with transposes (naive loop → XNNPACK after a
 * Transpose), Conv2DBackpropInput (naive loop → XNNPACK conv with the flipped filter; also
 * conv2dTranspose's forward pass), ResizeNearestNeighborGrad (→ XNNPACK AvgPool), Sum over
 * leading axes (no transpose), GatherV2 of rows and Slice (no whole-input copy).
 * Beware (not ours to fix): with a numeric pad and a non-square filter or stride, tfjs-core
 * 4.22 computes conv output sizes from the height alone, and wasm's forward Conv2D then
 * writes out of bounds. tfjs-layers only uses "same"/"valid", which are fine.
 *
 * Nothing is registered on import: `registerWasmOverrides()` does it (lib/accelerate/index.ts accelerateWasm calls it).
 */
import * as tf from "@tensorflow/tfjs";
import { NATIVE_MIN_VALUES, stockKernels } from "./common";
import { batchMatMulWasm, fusedMatMulWasm } from "./matmul";
import { gatherV2Wasm, unsortedSegmentSumWasm } from "./gather";
import { maxPoolGradWasm } from "./pool";
import { argMaxWasm, meanWasm, sumOfSquaresWasm, sumWasm } from "./reduce";
import { SUM_OF_SQUARES_KERNEL } from "../../train/loss-terms";
import { NATIVE_TRANSPOSE_MAX_RANK, transposeWasm } from "./transpose";
import { oneHotWasm } from "./onehot";
import { sliceWasm } from "./slice";
import { tileWasm } from "./tile";
import { resizeNearestNeighborGradWasm, resizeNearestNeighborWasm } from "./resize";
import { conv2DBackpropInputWasm } from "./conv";
import { conv2DBackpropFilterWasm } from "./conv-filter-gradient";
import { conv2DWasm, fusedConv2DWasm } from "./conv-native";
import { batchNormTrainingGradWasm, batchNormTrainingWasm, movingAverageWasm } from "./batch-norm";
import { BATCH_NORM_KERNELS } from "../../models/batch-norm";
import {
  addWasm, castWasm, greaterWasm, identityWasm, leakyReluWasm, lessEqualWasm, maximumWasm, minimumWasm, multiplyWasm, realDivWasm, selectWasm, sigmoidWasm, softplusWasm, squaredDifferenceWasm, stepWasm,
  subWasm, tanhWasm,
} from "./elementwise";

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
  { kernelName: "Mean", action: "replaced", method: `over trailing axes with ≥ 2^16 terms per output (a test-set or a batch's MSE): float64 accumulation on the wasm heap (the native addon's sumRows where it is built) (wasm's own adds in float32, ~3e-3 low at 10⁷ terms); over leading axes from ${NATIVE_MIN_VALUES} values (batch normalisation's per-channel mean): the native addon's meanRows, which adds each channel in order in float32 as wasm's own does after transposing, so bit for bit; else wasm's own` },
  { kernelName: BATCH_NORM_KERNELS.forward, action: "added", method: "batch norm in training (+ ReLU) as one kernel (lib/models/batch-norm.ts runs it where registered): the native addon's two passes (moments, affine map) where it is built, else the same in typed arrays on the wasm heap" },
  { kernelName: BATCH_NORM_KERNELS.gradient, action: "added", method: "its gradient in closed form as one kernel: the native addon's two passes (Σg, Σg·(x − μ); dx) where it is built, else the same in typed arrays" },
  { kernelName: BATCH_NORM_KERNELS.movingAverage, action: "added", method: "a batch-norm moving statistic's update average·m + value·(1 − m) as one kernel instead of three (and two scalar uploads), bit for bit: a typed-array loop on the wasm heap" },
  { kernelName: SUM_OF_SQUARES_KERNEL, action: "added", method: "Σ‖v‖² over many tensors as one kernel (a weight-decay term's value; lib/train runs it where registered), bit for bit as tf.addN of each tf.sum(tf.square(v)): the native addon where it is built, else a typed-array loop" },
];

/**
 * Kernels wasm has and gets right, but slowly, that ours replace for speed (the files beside this one);
 * wasm's own stays reachable (replacedWasmKernel) for the cases ours hands back to it.
 */
export const WASM_FASTER_KERNELS: readonly WasmKernelPatch[] = [
  { kernelName: "BatchMatMul", action: "replaced", method: "the native addon's multithreaded product on the wasm heap where it is built (lib/accelerate/native/addon.ts); else transposed operands materialised with wasm's Transpose, then wasm's XNNPACK product (its own runs a naive loop when either is transposed)" },
  { kernelName: "_FusedMatMul", action: "replaced", method: "the native addon's product, then a bias row and ReLU in two vectorised passes on the addon (other activations by wasm's kernels), where it is built; else wasm's own" },
  { kernelName: "ResizeNearestNeighborGrad", action: "replaced", method: "integer upscaling (UpSampling2D): the native addon's block sums where it is built, else sh·sw × wasm's XNNPACK AvgPool of dy; else wasm's own" },
  { kernelName: "ResizeNearestNeighbor", action: "replaced", method: "integer upscaling (UpSampling2D): the native addon's row copies where it is built; else wasm's own" },
  { kernelName: "GatherV2", action: "replaced", method: "whole rows (axis 0): one heap memmove per row (the epoch shuffle); else wasm's own (element by element)" },
  { kernelName: "Tile", action: "replaced", method: "whole blocks on the wasm heap: the innermost row copied or filled, each axis's block repeated by doubling copies (wasm's own computes every element's source index; ≈ 7 ms to broadcast one value to [128, 784]); broadcastTo and the Mean/Sum gradients (lib/accelerate/gradients.ts) run it" },
  { kernelName: "Slice", action: "replaced", method: "heap to heap, only the slice (wasm's own first copies the whole input out with readSync: a dataset copy per batch)" },
  { kernelName: "Sum", action: "replaced", method: `over leading axes (bias gradients): the native addon's threaded pass (narrow rows summed lane-wise in vectors) where it is built, else with rows ≥ 32 wide and ≥ 1024 of them one pass over the rows on the wasm heap, double accumulation; over trailing axes with ≥ 2^16 terms per output: float64 accumulation, as Mean; over some (not all) trailing axes with fewer, from ${NATIVE_MIN_VALUES} values: the native addon's sumLastAxis, wasm's own float32 sums term by term, bit for bit, eight rows at a time; else wasm's own (which transposes first)` },
  { kernelName: "ArgMax", action: "replaced", method: `float32 over any one axis from ${NATIVE_MIN_VALUES} values (max pooling's switches): the native addon's pass over the [outer, k, inner] view where it is built (wasm's own transposes the axis to the end first, ≈ 4 ms for [25088, 4, 16]); ties and NaN as wasm's own; else wasm's own` },
  { kernelName: "Transpose", action: "replaced", method: `float32 and int32 from ${NATIVE_MIN_VALUES} values, ranks 2–${NATIVE_TRANSPOSE_MAX_RANK}: the native addon's threaded copy where it is built (wasm's own walks a generic index loop above rank 4, ≈ 2 ms for unpooling's [1792, 14, 16, 2, 2]); bit for bit; else wasm's own` },
  { kernelName: "Conv2DBackpropInput", action: "replaced", method: "the native addon's col2im(dy·Wᵀ), or its direct kernel for few channels at stride 1, where it is built (lib/accelerate/wasm-overrides/conv-native.ts has the policy); else forward wasm Conv2D (XNNPACK) of the (dilated) dy with the flipped, in/out-swapped filter and full padding (wasm's own is a naive loop)" },
  { kernelName: "Conv2D", action: "replaced", method: "the native addon's im2col product, or its direct kernel for few channels at stride 1, where it is built and measured faster; else wasm's own (XNNPACK)" },
  { kernelName: "Identity", action: "replaced", method: "shares the input's memory (refcounted, as tfjs-cpu) where wasm's own copies it" },
  { kernelName: "Cast", action: "replaced", method: `to the dtype the tensor already has: shares its memory as Identity; bool or int32 to float32 from ${NATIVE_MIN_VALUES} values: the native addon's conversion where it is built (the same IEEE rounding as wasm's typed-array copy); else wasm's own` },
  { kernelName: "LeakyRelu", action: "replaced", method: "the native addon's vectorised, branch-free, threaded loop where it is built; else wasm's own" },
  { kernelName: "Tanh", action: "replaced", method: "the native addon's vectorised, threaded pass (one vector exponential per value) where it is built; else wasm's own (libm tanh value by value)" },
  { kernelName: "Sigmoid", action: "replaced", method: "the native addon's vectorised, threaded pass where it is built; else wasm's own" },
  { kernelName: "Softplus", action: "replaced", method: "the native addon's vectorised, threaded pass (tfjs's cut-offs) where it is built; else wasm's own" },
  { kernelName: "Step", action: "replaced", method: "the native addon's vectorised, branch-free loop (ReLU's gradient mask) where it is built; else wasm's own" },
  { kernelName: "Greater", action: "replaced", method: "the native addon's loop for float32 against a scalar or a same-shape tensor (leaky ReLU's gradient mask) where it is built; else wasm's own" },
  { kernelName: "LessEqual", action: "replaced", method: "as Greater, with a ≤ b (Minimum's gradient; wasm's own is ≈ 10× slower): the native addon where it is built; else wasm's own" },
  { kernelName: "Select", action: "replaced", method: "the native addon's loop for same-shape operands where it is built; else wasm's own" },
  { kernelName: "Add", action: "replaced", method: `one operand a bias ([..., C] + [C], a conv layer's in training), or both of one shape with ≥ ${NATIVE_MIN_VALUES} elements (gradients summed over two uses, residual adds): the native addon's vectorised, threaded pass where it is built; else wasm's own` },
  { kernelName: "Sub", action: "replaced", method: `float32 operands of one shape, one a single value, or one a row of the other's last axis ([..., C] with [C]: a per-channel shift or scale), from ${NATIVE_MIN_VALUES} elements (a loss's x̂ − x, a sigmoid's 1 − y, batch normalisation's (x − μ)/σ): the native addon's vectorised, threaded pass where it is built; else wasm's own` },
  { kernelName: "Multiply", action: "replaced", method: "as Sub (gradients: dy·mask, 2·d, dy·σ′): the native addon where it is built; else wasm's own" },
  { kernelName: "RealDiv", action: "replaced", method: "as Sub (a mean's gradient, dy / n): the native addon where it is built; else wasm's own" },
  { kernelName: "SquaredDifference", action: "replaced", method: "as Sub ((a − b)², an MSE's terms): the native addon where it is built; else wasm's own" },
  { kernelName: "Minimum", action: "replaced", method: "as Sub (a leaky ReLU's inverse, min(y, y/α); wasm's own is ≈ 14× slower than its Sub), as Math.min (NaN if either is NaN, −0 below +0, as tfjs-cpu; wasm's own differs there): the native addon where it is built; else wasm's own" },
  { kernelName: "Maximum", action: "replaced", method: "as Minimum, with Math.max: the native addon where it is built; else wasm's own" },
  { kernelName: "FusedConv2D", action: "replaced", method: "the native addon's convolution (as Conv2D), then bias and activation as _FusedMatMul, where it is built; else wasm's own" },
];

/** wasm's own kernels that registerWasmOverrides replaced: kept so tests can show they are still wrong, and so ours can fall back to them. */
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
  Tanh: tanhWasm,
  Sigmoid: sigmoidWasm,
  Softplus: softplusWasm,
  Greater: greaterWasm,
  LessEqual: lessEqualWasm,
  Select: selectWasm,
  Add: addWasm,
  Sub: subWasm,
  Multiply: multiplyWasm,
  RealDiv: realDivWasm,
  SquaredDifference: squaredDifferenceWasm,
  Minimum: minimumWasm,
  Maximum: maximumWasm,
  ResizeNearestNeighborGrad: resizeNearestNeighborGradWasm,
  ResizeNearestNeighbor: resizeNearestNeighborWasm,
  Sum: sumWasm,
  Mean: meanWasm,
  ArgMax: argMaxWasm,
  Transpose: transposeWasm,
  OneHot: oneHotWasm,
  GatherV2: gatherV2Wasm,
  Slice: sliceWasm,
  Tile: tileWasm,
  [BATCH_NORM_KERNELS.forward]: batchNormTrainingWasm,
  [BATCH_NORM_KERNELS.gradient]: batchNormTrainingGradWasm,
  [BATCH_NORM_KERNELS.movingAverage]: movingAverageWasm,
  [SUM_OF_SQUARES_KERNEL]: sumOfSquaresWasm,
};

/**
 * Put our kernels on the wasm backend (idempotent). An "added" kernel is registered only
 * where wasm has none; a "replaced" one takes the place of wasm's own. Returns the names
 * registered by this call.
 */
export function registerWasmOverrides(): string[] {
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
