/**
 * lib/metrics.ts against hand-computed values, leak counts and bad-input errors; the
 * linear probe separates separable codes and not random ones.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../lib/backend";
import { accuracy, linearProbe, meanAbsoluteError, meanCosineSimilarity, meanSquaredError, meanSumOfSquares, preciseMeanSquaredError, psnr } from "../lib/metrics";
import { createRng, randomNormal } from "../lib/random";

beforeAll(async () => {
  await initBackend();
});

const read = (s: tf.Scalar) => {
  const v = s.dataSync()[0];
  s.dispose();
  return v;
};

describe("pointwise metrics", () => {
  const a = () => tf.tensor2d([[0, 1], [2, 3]]);
  const b = () => tf.tensor2d([[1, 1], [2, 1]]);

  it("MSE's closed-form gradients equal autodiff through mean((a − b)²) value for value, for a and b (b of another shape), leaving nothing", () => {
    const rng = createRng(5);
    const x = tf.tensor2d(Array.from({ length: 12 * 35 }, () => randomNormal(rng)), [12, 35]);
    const y = tf.tensor3d(Array.from({ length: 12 * 35 }, () => randomNormal(rng)), [12, 5, 7]);
    const w = tf.scalar(1.7);
    const before = tf.memory().numTensors;
    const plain = (p: tf.Tensor, q: tf.Tensor) => tf.mean(tf.squaredDifference(p, q.reshape(p.shape))) as tf.Scalar;
    const [ours, theirs] = [meanSquaredError, plain].map((f) => {
      const { value, grads } = tf.valueAndGrads((p: tf.Tensor, q: tf.Tensor) => tf.mul(f(p, q), w) as tf.Scalar)([x, y]);
      expect(grads[1].shape).toEqual([12, 5, 7]);
      const out = [value, ...grads].map((t) => Array.from(t.dataSync()));
      tf.dispose([value, ...grads]);
      return out;
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(ours).toEqual(theirs);
    tf.dispose([x, y, w]);
  });

  it("MSE, MAE, PSNR match hand computation and leak nothing", () => {
    const x = a();
    const y = b();
    read(meanSquaredError(x, y)); // prime
    const before = tf.memory().numTensors;
    expect(read(meanSquaredError(x, y))).toBeCloseTo((1 + 0 + 0 + 4) / 4, 6);
    expect(read(meanAbsoluteError(x, y))).toBeCloseTo((1 + 0 + 0 + 2) / 4, 6);
    expect(read(psnr(x, y, { maxValue: 3 }))).toBeCloseTo(10 * Math.log10(9 / 1.25), 4);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
  });

  it("mean sum of squares: each sample's squared error summed, averaged over samples (d × MSE), any rank", () => {
    const x = a();
    const y = b();
    const before = tf.memory().numTensors;
    expect(read(meanSumOfSquares(x, y))).toBeCloseTo(((1 + 0) + (0 + 4)) / 2, 6);
    expect(tf.memory().numTensors).toBe(before);
    const images = tf.tidy(() => tf.reshape(tf.range(0, 24), [3, 2, 2, 2]));
    const other = tf.tidy(() => tf.reshape(tf.mul(tf.range(0, 24), 0.5), [3, 8]));
    const mse = read(meanSquaredError(images, other));
    expect(read(meanSumOfSquares(images, other))).toBeCloseTo(8 * mse, 3);
    const wrong = tf.zeros([2, 3]);
    expect(() => meanSumOfSquares(x, wrong)).toThrow(/meanSumOfSquares: the two tensors must hold the same samples/);
    tf.dispose([x, y, images, other, wrong]);
  });

  it("precise MSE: a number accumulated in float64 across samples, equal to a float64 sum by hand", () => {
    const x = tf.randomUniform([500, 784], 0, 1, "float32", 1);
    const y = tf.randomUniform([500, 784], 0, 1, "float32", 2);
    const [xs, ys] = [x.dataSync(), y.dataSync()];
    let byHand = 0;
    for (let i = 0; i < xs.length; i++) byHand += (xs[i] - ys[i]) ** 2;
    byHand /= xs.length;
    const before = tf.memory().numTensors;
    const value = preciseMeanSquaredError(x, y);
    expect(tf.memory().numTensors).toBe(before);
    expect(Math.abs(value - byHand) / byHand).toBeLessThan(1e-6);
    expect(value).toBeCloseTo(1 / 6, 2); // E(u − v)² for independent uniforms
    const wrong = tf.zeros([2, 3]);
    expect(() => preciseMeanSquaredError(x, wrong)).toThrow(/preciseMeanSquaredError: the two tensors must hold the same samples/);
    tf.dispose([x, y, wrong]);
  });

  it("cosine similarity per sample, flattened, averaged; zero rows count as 0", () => {
    const x = tf.tensor3d([[[1, 0]], [[1, 1]], [[0, 0]]]);
    const y = tf.tensor3d([[[2, 0]], [[1, -1]], [[1, 0]]]);
    expect(read(meanCosineSimilarity(x, y))).toBeCloseTo((1 + 0 + 0) / 3, 6);
    tf.dispose([x, y]);
  });

  it("accuracy takes class ids or one-hot labels", () => {
    const scores = tf.tensor2d([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]]);
    const ids = tf.tensor1d([0, 1, 1, 1], "int32");
    const oneHot = tf.oneHot(ids, 2);
    expect(read(accuracy(scores, ids))).toBeCloseTo(0.75, 6);
    expect(read(accuracy(scores, oneHot))).toBeCloseTo(0.75, 6);
    tf.dispose([scores, ids, oneHot]);
  });

  it("names mismatched or bad input", () => {
    const x = tf.zeros([2, 3]);
    const y = tf.zeros([3, 2]);
    expect(() => meanSquaredError(x, y)).toThrow(/meanSquaredError: .*same samples.*\[2,3\].*\[3,2\]/);
    expect(() => psnr(x, x, { maxValue: 0 })).toThrow(/maxValue must be positive/);
    expect(() => accuracy(tf.zeros([2]) as unknown as tf.Tensor2D, x)).toThrow(/scores must be a 2-D tensor/);
    tf.dispose([x, y]);
  });
});

describe("linearProbe", () => {
  function codes(n: number, separable: boolean, seed: number) {
    const rng = createRng(seed);
    const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
    const x = Float32Array.from({ length: n * 4 }, (_, k) => {
      const i = Math.floor(k / 4);
      const j = k % 4;
      return randomNormal(rng) + (separable && j === labels[i] ? 4 : 0);
    });
    return { x: tf.tensor2d(x, [n, 4]), y: tf.tensor1d(labels, "int32") };
  }

  it("separates separable codes, not random ones, and frees its tensors", async () => {
    const train = codes(600, true, 1);
    const test = codes(300, true, 2);
    await linearProbe({ trainX: train.x, trainLabels: train.y, testX: test.x, testLabels: test.y, numClasses: 3, numEpochs: 1 }); // prime
    const before = tf.memory().numTensors;
    const good = await linearProbe({ trainX: train.x, trainLabels: train.y, testX: test.x, testLabels: test.y, numClasses: 3, numEpochs: 15 });
    expect(tf.memory().numTensors).toBe(before);
    expect(good.testAccuracy).toBeGreaterThan(0.9);
    expect(good.trainAccuracy).toBeGreaterThan(0.9);
    const noiseTrain = codes(600, false, 3);
    const noiseTest = codes(300, false, 4);
    const bad = await linearProbe({ trainX: noiseTrain.x, trainLabels: noiseTrain.y, testX: noiseTest.x, testLabels: noiseTest.y, numClasses: 3, numEpochs: 15 });
    expect(bad.testAccuracy).toBeLessThan(0.5);
    tf.dispose([train.x, train.y, test.x, test.y, noiseTrain.x, noiseTrain.y, noiseTest.x, noiseTest.y]);
  });

  it("with a tolerance, trains until an epoch gains less than it, and says so", async () => {
    const train = codes(600, true, 5);
    const test = codes(300, true, 6);
    const fixed = await linearProbe({ trainX: train.x, trainLabels: train.y, testX: test.x, testLabels: test.y, numClasses: 3, numEpochs: 12 });
    expect(fixed).toMatchObject({ epochs: 12, converged: false });
    const before = tf.memory().numTensors;
    const untilFlat = await linearProbe({ trainX: train.x, trainLabels: train.y, testX: test.x, testLabels: test.y, numClasses: 3, numEpochs: 200, tolerance: 0.01, learningRate: 0.05 });
    expect(tf.memory().numTensors).toBe(before);
    expect(untilFlat.converged).toBe(true);
    expect(untilFlat.epochs).toBeGreaterThan(1);
    expect(untilFlat.epochs).toBeLessThan(200);
    expect(untilFlat.testAccuracy).toBeGreaterThan(0.9);
    await expect(linearProbe({ trainX: train.x, trainLabels: train.y, testX: test.x, testLabels: test.y, numClasses: 3, tolerance: 1 })).rejects.toThrow(/tolerance must be a number in \[0, 1\), got 1/);
    tf.dispose([train.x, train.y, test.x, test.y]);
  });

  it("names bad input", async () => {
    const x = tf.zeros([4, 2]) as tf.Tensor2D;
    const y = tf.zeros([4], "int32");
    await expect(linearProbe({ trainX: x, trainLabels: y, testX: tf.zeros([4, 3]) as tf.Tensor2D, testLabels: y })).rejects.toThrow(/same width/);
    await expect(linearProbe({ trainX: x, trainLabels: tf.zeros([3], "int32"), testX: x, testLabels: y })).rejects.toThrow(/trainLabels must be class ids \[4\]/);
    tf.dispose([x, y]);
  });
});
