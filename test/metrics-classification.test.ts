/** Binary cross-entropy against its closed form; k-NN accuracy against brute force. */
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { binaryCrossEntropy, knnAccuracy } from "../lib/metrics";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("binaryCrossEntropy", () => {
  it("is the closed form, averaged over every element, and zero-free at the clip", () => {
    const x = tf.tensor2d([[1, 0], [0.5, 1]]);
    const r = tf.tensor2d([[0.9, 0.2], [0.5, 0]]);
    const got = binaryCrossEntropy(x, r);
    const e = 1e-7;
    const expected = -(Math.log(0.9) + Math.log(0.8) + (0.5 * Math.log(0.5) + 0.5 * Math.log(0.5)) + Math.log(e)) / 4;
    expect(got.dataSync()[0]).toBeCloseTo(expected, 4);
    expect(() => binaryCrossEntropy(x, tf.zeros([3]))).toThrow(/binaryCrossEntropy: the two tensors must hold the same samples/);
    tf.dispose([x, r, got]);
  });
});

/** k-NN by brute force in plain JS, the reference. */
function bruteKnn(train: number[][], trainLabels: number[], test: number[][], testLabels: number[], k: number): number {
  let correct = 0;
  test.forEach((row, i) => {
    const order = train.map((t, j) => ({ j, d: t.reduce((s, v, c) => s + (v - row[c]) ** 2, 0) })).sort((a, b) => a.d - b.d).slice(0, k);
    const votes = new Array(10).fill(0);
    for (const { j } of order) votes[trainLabels[j]]++;
    if (votes.indexOf(Math.max(...votes)) === testLabels[i]) correct++;
  });
  return correct / test.length;
}

describe("knnAccuracy", () => {
  it("agrees with brute force on random data, across chunk sizes, and leaks nothing", () => {
    let s = 12345;
    const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const train = Array.from({ length: 60 }, () => [rand(), rand(), rand()]);
    const test = Array.from({ length: 25 }, () => [rand(), rand(), rand()]);
    const trainLabels = train.map((r) => Math.floor(r[0] * 3) + 3 * Math.floor(r[1] * 2));
    const testLabels = test.map((r) => Math.floor(r[0] * 3) + 3 * Math.floor(r[1] * 2));
    const trainX = tf.tensor2d(train), testX = tf.tensor2d(test);
    const before = tf.memory().numTensors;
    const expected = bruteKnn(train, trainLabels, test, testLabels, 5);
    expect(expected).toBeGreaterThan(0.3);
    expect(expected).toBeLessThan(1);
    for (const chunk of [1, 7, 500]) expect(knnAccuracy({ trainX, trainLabels, testX, testLabels, k: 5, chunk })).toBeCloseTo(expected, 10);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => knnAccuracy({ trainX, trainLabels, testX, testLabels, k: 61 })).toThrow(/k must be an integer in \[1, 60\]/);
    expect(() => knnAccuracy({ trainX, trainLabels: trainLabels.slice(1), testX, testLabels })).toThrow(/trainLabels has 59 entries for 60 rows/);
    tf.dispose([trainX, testX]);
  });
});
