/**
 * Image stacks: any grayscale images a notebook holds (a tensor, nested arrays, typed arrays or
 * one flat array) read into one flat array with their count, height and width.
 */
import type { Tensor } from "@tensorflow/tfjs";

/**
 * A stack of grayscale images with values in [0, 1]:
 * a tf.Tensor of shape [n, h, w], [n, h, w, 1] or [n, h·w];
 * nested arrays [n][h][w] or [n][h·w] (rows may be typed arrays);
 * or one flat array of n·h·w values (then `height` and `width` are required).
 */
export type ImageSource = Tensor | ArrayLike<number> | ArrayLike<ArrayLike<number>> | ArrayLike<ArrayLike<ArrayLike<number>>>;

/** A stack read into one flat array: image k, row y, column x is values[k·h·w + y·w + x]. */
export interface ImageStack {
  count: number;
  height: number;
  width: number;
  values: ArrayLike<number>;
}

/** True for a tf.Tensor (duck-typed, so tensors from another tfjs copy count too). */
export function isTensorLike(value: unknown): value is Tensor {
  return typeof value === "object" && value !== null && typeof (value as Tensor).dataSync === "function" && Array.isArray((value as Tensor).shape);
}

/** True for arrays and typed arrays (what nested image data is made of). */
export function isArrayLike(value: unknown): value is ArrayLike<unknown> {
  return (Array.isArray(value) || ArrayBuffer.isView(value)) && typeof (value as ArrayLike<unknown>).length === "number";
}

function squareSide(pixelsPerImage: number, name: string): number {
  const side = Math.round(Math.sqrt(pixelsPerImage));
  if (side * side !== pixelsPerImage) {
    throw new Error(`${name}: images of ${pixelsPerImage} pixels are not square; give height and width`);
  }
  return side;
}

/** Read any ImageSource into a flat stack (tensors through one dataSync, which makes no new tensors). */
export function readImageStack(source: ImageSource, options: { height?: number; width?: number; name?: string } = {}): ImageStack {
  const name = options.name ?? "images";
  const given = (pixels: number): { height: number; width: number } => {
    if (options.height !== undefined || options.width !== undefined) {
      const height = options.height ?? pixels / options.width!;
      const width = options.width ?? pixels / options.height!;
      if (!Number.isInteger(height) || !Number.isInteger(width) || height * width !== pixels) {
        throw new Error(`${name}: height ${options.height} × width ${options.width} does not match ${pixels} pixels per image`);
      }
      return { height, width };
    }
    const side = squareSide(pixels, name);
    return { height: side, width: side };
  };

  if (isTensorLike(source)) {
    if (source.isDisposed) throw new Error(`${name}: the tensor has been disposed`);
    const shape = source.shape;
    if (source.dtype === "string" || source.dtype === "complex64") throw new Error(`${name}: expected a numeric tensor, got dtype ${source.dtype}`);
    const values = source.dataSync() as ArrayLike<number>;
    if (shape.length === 4) {
      if (shape[3] !== 1) throw new Error(`${name}: a rank-4 tensor must be [n, h, w, 1] (grayscale), got [${shape.join(", ")}]`);
      return { count: shape[0], height: shape[1], width: shape[2], values };
    }
    if (shape.length === 3) return { count: shape[0], height: shape[1], width: shape[2], values };
    if (shape.length === 2) return { count: shape[0], ...given(shape[1]), values };
    throw new Error(`${name}: expected a tensor of shape [n, h, w], [n, h, w, 1] or [n, h·w], got [${shape.join(", ")}]`);
  }

  if (!isArrayLike(source)) throw new Error(`${name}: expected a tensor, a typed array or nested arrays of numbers, got ${typeof source}`);
  if (source.length === 0) return { count: 0, height: options.height ?? 1, width: options.width ?? 1, values: [] };
  const first = source[0];
  if (typeof first === "number") {
    if (options.height === undefined || options.width === undefined) {
      throw new Error(`${name}: a flat array of pixels needs height and width`);
    }
    const pixels = options.height * options.width;
    if (source.length % pixels !== 0) throw new Error(`${name}: ${source.length} values are not a whole number of ${options.height}×${options.width} images`);
    return { count: source.length / pixels, height: options.height, width: options.width, values: source as ArrayLike<number> };
  }
  if (!isArrayLike(first)) throw new Error(`${name}: expected numbers or arrays of numbers, got an array of ${typeof first}`);
  const nested = source as ArrayLike<ArrayLike<unknown>>;
  const count = nested.length;
  if (first.length > 0 && isArrayLike(first[0])) {
    // [n][h][w]
    const height = first.length;
    const width = (first[0] as ArrayLike<number>).length;
    const values = new Float64Array(count * height * width);
    for (let k = 0; k < count; k++) {
      const image = nested[k] as ArrayLike<ArrayLike<number>>;
      if (!isArrayLike(image) || image.length !== height) throw new Error(`${name}: image ${k} has ${isArrayLike(image) ? image.length : "no"} rows, expected ${height}`);
      for (let y = 0; y < height; y++) {
        const row = image[y];
        if (!isArrayLike(row) || row.length !== width) throw new Error(`${name}: image ${k} row ${y} has ${isArrayLike(row) ? row.length : "no"} values, expected ${width}`);
        for (let x = 0; x < width; x++) values[(k * height + y) * width + x] = row[x];
      }
    }
    return { count, height, width, values };
  }
  // [n][h·w]
  const pixels = first.length;
  const { height, width } = given(pixels);
  const values = new Float64Array(count * pixels);
  for (let k = 0; k < count; k++) {
    const image = nested[k] as ArrayLike<number>;
    if (!isArrayLike(image) || image.length !== pixels) throw new Error(`${name}: image ${k} has ${isArrayLike(image) ? image.length : "no"} values, expected ${pixels}`);
    for (let i = 0; i < pixels; i++) values[k * pixels + i] = image[i];
  }
  return { count, height, width, values };
}
