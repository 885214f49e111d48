/**
 * The extrapolation data of paper 4's §4.4 stand-in: MNIST split by classes (seen for training,
 * held-out for testing) and Fashion-MNIST in the same format; subsets seeded and stratified,
 * everything freed by dispose(), bad choices named.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { datasetAvailable } from "../lib/data/mnist";
import { HELD_OUT_DIGITS, loadExtrapolationData } from "../lib/pedcc";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const classesOf = (d: { labelValues: Uint8Array }) => [...new Set(d.labelValues)].sort((a, b) => a - b);

describe("loadExtrapolationData", () => {
  it("trains on 8 digits and tests on the 2 held out (8 and 9 by default), all in one image format", () => {
    expect(HELD_OUT_DIGITS).toEqual([8, 9]);
    const before = tf.memory().numTensors;
    const data = loadExtrapolationData({ trainSize: 80, testSize: 40, seed: 3, fashion: false, flatten: false });
    try {
      expect(data.seenClasses).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(data.heldOut).toEqual([8, 9]);
      expect(classesOf(data.train)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(data.train.n).toBe(80);
      expect(data.train.split).toBe("train");
      expect(classesOf(data.seenTest)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(classesOf(data.unseenTest)).toEqual([8, 9]);
      expect(Array.from(data.unseenTest.labelValues).filter((l) => l === 8).length).toBe(20);
      expect(data.unseenTest.split).toBe("test");
      expect(data.unseenTest.images.shape).toEqual([40, 28, 28, 1]);
      expect(data.fashionTest).toBeNull();
    } finally {
      data.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it("without trainSize trains on every image of the seen classes (what full mode uses; a stratified 48,000 does not exist, class 0 has 5,923)", () => {
    const before = tf.memory().numTensors;
    const data = loadExtrapolationData({ testSize: 20, fashion: false });
    try {
      expect(data.train.n).toBe(60000 - 5851 - 5949); // MNIST's training split holds 5,851 eights and 5,949 nines
      expect(classesOf(data.train)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    } finally {
      data.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(() => loadExtrapolationData({ trainSize: 48000, testSize: 20, fashion: false })).toThrow(/class 0 has only 5923 examples, 6000 asked for/);
  });

  it.runIf(datasetAvailable("fashion"))("adds Fashion-MNIST test images shaped like the MNIST ones (32×32 when padded)", () => {
    const data = loadExtrapolationData({ heldOut: [3], trainSize: 90, testSize: 30, pad32: true });
    try {
      expect(data.seenClasses).toEqual([0, 1, 2, 4, 5, 6, 7, 8, 9]);
      expect(classesOf(data.unseenTest)).toEqual([3]);
      const f = data.fashionTest!;
      expect(f.dataset).toBe("fashion");
      expect(f.n).toBe(30);
      expect(f.imageShape).toEqual(data.unseenTest.imageShape);
      expect(f.images.shape).toEqual([30, 1024]);
      expect(tf.min(f.images).dataSync()[0]).toBeGreaterThanOrEqual(0);
      expect(tf.max(f.images).dataSync()[0]).toBeLessThanOrEqual(1);
    } finally {
      data.dispose();
    }
  });

  it("names bad choices and frees what it loaded before failing", () => {
    const before = tf.memory().numTensors;
    expect(() => loadExtrapolationData({ heldOut: [] })).toThrow(/heldOut must be 1 to 9 distinct digits in 0\.\.9, got \[\]/);
    expect(() => loadExtrapolationData({ heldOut: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] })).toThrow(/heldOut must be 1 to 9/);
    expect(() => loadExtrapolationData({ heldOut: [8, 8] })).toThrow(/distinct/);
    // 5000 test images of the held-out digits do not exist: the datasets loaded before are freed
    expect(() => loadExtrapolationData({ trainSize: 50, testSize: 5000, fashion: false })).toThrow(/subsetSize must be an integer in 0\.\.1983/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
