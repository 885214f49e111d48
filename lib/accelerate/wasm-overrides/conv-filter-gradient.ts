/**
 * Conv2DBackpropFilter on wasm (the filter gradient of conv2d and conv2dTranspose), which
 * tfjs-backend-wasm 4.22 lacks: the native addon's kernel where it is built
 * (./conv-native.ts), else one XNNPACK convolution with batch and channels swapped
 * (./conv.ts, ≥ 4 input channels), else im2col(X)ᵀ filled on the wasm heap and wasm's
 * BatchMatMul (this file).
 */
import * as tf from "@tensorflow/tfjs";
import { KernelArgs, pair, runWasmKernel, WasmBackendLike } from "./common";
import { conv2DBackpropFilterByConv } from "./conv";
import { nativeConv2DBackpropFilter } from "./conv-native";
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
