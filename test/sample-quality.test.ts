/**
 * Measures of generated samples (paper 4, Figures 4–8): the variance of the Laplacian against a
 * hand computation, blur lowering it, and the class accuracy of samples under a fixed classifier,
 * exactly counted; no leaks, clear errors.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { classAccuracyOfSamples, laplacianVariance, meanLaplacianVariance } from "../lib/pedcc";
import { leakedBy } from "./helpers/leaks";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("sharpness: variance of the 3×3 Laplacian", () => {
  it("a single bright pixel at (1, 1) of a 4×4 image: interior Laplacian [−4, 1, 1, 0], variance 17/4", () => {
    const img = new Array(16).fill(0);
    img[1 * 4 + 1] = 1;
    const x = tf.tensor4d(img, [1, 4, 4, 1]);
    expect(laplacianVariance(x).dataSync()[0]).toBeCloseTo(17 / 4, 5);
    // the same image flat, as [n, h, w], and twice in a batch: the same per image, the mean of them
    expect(laplacianVariance(x.reshape([1, 16])).dataSync()[0]).toBeCloseTo(17 / 4, 5);
    const two = tf.concat([x, tf.zeros([1, 4, 4, 1])]);
    expect(Array.from(laplacianVariance(two.squeeze([3])).dataSync())).toEqual([expect.closeTo(4.25, 5), 0]);
    expect(meanLaplacianVariance(two).dataSync()[0]).toBeCloseTo(17 / 8, 5);
    tf.dispose([x, two]);
  });

  it("is 0 for a constant image, falls when images are blurred, and clips to [0, 1] unless told not to", () => {
    expect(laplacianVariance(tf.fill([1, 6, 6, 1], 0.7)).dataSync()[0]).toBeCloseTo(0, 6);
    const sharp = tf.cast(tf.greater(tf.randomUniform([4, 12, 12, 1], 0, 1, "float32", 3), 0.7), "float32");
    const box = tf.fill([3, 3, 1, 1], 1 / 9) as tf.Tensor4D;
    const blurred = tf.conv2d(sharp as tf.Tensor4D, box, 1, "same");
    const s = laplacianVariance(sharp).dataSync(), b = laplacianVariance(blurred).dataSync();
    for (let i = 0; i < 4; i++) expect(b[i]).toBeLessThan(0.25 * s[i]);
    const doubled = tf.mul(sharp, 2);  // pixels 0 or 2: clipped back to 0 or 1 by default
    expect(laplacianVariance(doubled).dataSync()[0]).toBeCloseTo(s[0], 5);
    expect(laplacianVariance(doubled, { clip: null }).dataSync()[0]).toBeCloseTo(4 * s[0], 4);
    tf.dispose([sharp, box, blurred, doubled]);
  });

  it("leaks nothing and names bad input", () => {
    const x = tf.randomUniform([3, 8, 8, 1]);
    expect(leakedBy(() => laplacianVariance(x).dispose())).toBe(0);
    expect(leakedBy(() => meanLaplacianVariance(x).dispose())).toBe(0);
    expect(() => laplacianVariance(tf.zeros([2, 10]))).toThrow(/square d/);
    expect(() => laplacianVariance(tf.zeros([2, 2, 2, 1]))).toThrow(/at least 3×3/);
    expect(() => laplacianVariance(x, { clip: [1, 0] })).toThrow(/clip must be \[lo, hi\]/);
    x.dispose();
  });
});

describe("classAccuracyOfSamples", () => {
  // A fixed "classifier": the class is the index of the brightest of the first 3 pixels.
  const brightest = (x: tf.Tensor) => tf.slice(tf.reshape(x, [x.shape[0], -1]), [0, 0], [-1, 3]);

  it("counts how often the classifier sees the intended class, per class and as a confusion matrix", async () => {
    const images = tf.tensor2d([
      [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], // classes 0, 1, 2
      [0, 1, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], // classes 1, 1, 2
    ]);
    const intended = [0, 1, 2, 0, 1, 2];
    const r = await classAccuracyOfSamples(brightest, images, intended, { batchSize: 4 });
    expect(r.n).toBe(6);
    expect(r.accuracy).toBeCloseTo(5 / 6, 10);
    expect(r.perClass).toEqual([0.5, 1, 1]);
    expect(r.confusion).toEqual([[1, 1, 0], [0, 2, 0], [0, 0, 2]]);
    expect(Array.from(r.predicted)).toEqual([0, 1, 2, 1, 1, 2]);
    // a class with no samples gets NaN, labels may come as a tensor
    const labels = tf.tensor1d([0, 0, 2, 0, 0, 2], "int32");
    const r2 = await classAccuracyOfSamples(brightest, images, labels);
    expect(r2.perClass[1]).toBeNaN();
    expect(r2.accuracy).toBeCloseTo(3 / 6, 10);
    tf.dispose([images, labels]);
  });

  it("takes a LayersModel and a transform, and leaves no tensors behind", async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2, useBias: false, weights: [tf.tensor2d([[1, 0], [0, 1], [0, 0], [0, 0]])] })] });
    const images = tf.tensor4d([1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0], [3, 2, 2, 1]);
    await classAccuracyOfSamples(model, images, [0, 1, 0], { transform: (x) => tf.reshape(x, [x.shape[0], 4]) });
    const before = tf.memory().numTensors;
    const r = await classAccuracyOfSamples(model, images, [0, 1, 0], { transform: (x) => tf.reshape(x, [x.shape[0], 4]), batchSize: 2 });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.accuracy).toBeCloseTo(2 / 3, 10);
    expect(r.confusion).toEqual([[1, 1], [0, 1]]);
    tf.dispose(images);
    model.dispose();
  });

  it("names bad input", async () => {
    const images = tf.zeros([2, 4]);
    await expect(classAccuracyOfSamples(brightest, images, [0])).rejects.toThrow(/1 intended labels for 2 images/);
    await expect(classAccuracyOfSamples(brightest, images, [0, 5])).rejects.toThrow(/intended label 5 at row 1 is not a class of the classifier \(0\.\.2\)/);
    await expect(classAccuracyOfSamples((x) => tf.sum(x, 1), images, [0, 0])).rejects.toThrow(/must give scores \[2, numClasses\]/);
    await expect(classAccuracyOfSamples({} as never, images, [0, 0])).rejects.toThrow(/classifier must be a model/);
    images.dispose();
  });
});
