/**
 * lib/stacked/convbn.ts and convstack.ts: batch normalisation against its closed form (eq. 12:
 * output moments, the bias that cancels, eq. 13, against tf.grad), the conv + BN + ReLU unit and
 * its moving averages, the slides' conv autoencoder with every way back up, the clipped-noise
 * PSNR bound (eq. 14), the softmax-regression gradient (eq. 15), the greedy conv stack and the CNN
 * initialised from it; leaks and bad input throughout.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { addGaussianNoise, psnr } from "../lib";
import {
  CONV_BN_UNPOOLINGS, applyConvUnits, batchMoments, batchNormalize, convBnAutoencoder, convClassifier, convClassifierAccuracy, convUnit,
  pretrainConvStack, trainConvClassifier, unpoolBy,
} from "../lib/stacked";

beforeAll(async () => {
  await tf.setBackend("cpu");
  await tf.ready();
});

/** max |a − b| (b omitted: max |a|), intermediates freed. */
const maxAbs = (a: tf.Tensor, b?: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(b ? tf.sub(a, b) : a)).dataSync()[0]);

describe("batch normalisation (eq. 12, 13)", () => {
  it("gives each channel mean β and variance γ²σ²/(σ² + ε) over batch and space", () => {
    const out = tf.tidy(() => {
      const a = tf.add(tf.mul(tf.randomNormal([6, 5, 5, 3], 0, 1, "float32", 1), tf.tensor1d([1, 3, 0.5])), tf.tensor1d([2, -1, 0]));
      const { mean, variance } = batchMoments(a);
      const y = batchNormalize(a, tf.tensor1d([1, 2, 0.5]), tf.tensor1d([0, 1, -2]), mean, variance, 1e-3);
      const m = batchMoments(y);
      const expectedVar = tf.mul(tf.square(tf.tensor1d([1, 2, 0.5])), tf.div(variance, tf.add(variance, 1e-3)));
      return [Array.from(m.mean.dataSync()), maxAbs(m.variance, expectedVar)];
    });
    const [means, varDiff] = out as [number[], number];
    expect(means[0]).toBeCloseTo(0, 5);
    expect(means[1]).toBeCloseTo(1, 5);
    expect(means[2]).toBeCloseTo(-2, 5);
    expect(varDiff).toBeLessThan(1e-4);
  });

  it("cancels a bias added before it: BN(a + b) = BN(a) and ∂L/∂b = 0 by tf.grad (eq. 13), while ∂L/∂γ is not 0", () => {
    const [diff, gradB, gradGamma] = tf.tidy(() => {
      const a = tf.randomNormal([4, 3, 3, 2], 0, 1, "float32", 2);
      const target = tf.randomNormal([4, 3, 3, 2], 0, 1, "float32", 3);
      const gamma = tf.tensor1d([1.5, 0.7]), beta = tf.tensor1d([0.1, -0.3]);
      const bn = (x: tf.Tensor, g: tf.Tensor) => { const { mean, variance } = batchMoments(x); return batchNormalize(x, g, beta, mean, variance); };
      const loss = (b: tf.Tensor, g: tf.Tensor) => tf.sum(tf.square(tf.sub(bn(tf.add(a, b), g), target))) as tf.Scalar;
      const b = tf.tensor1d([0.8, -2]);
      const [gb, gg] = tf.grads(loss)([b, gamma]);
      return [maxAbs(bn(tf.add(a, b), gamma), bn(a, gamma)), maxAbs(gb), maxAbs(gg)];
    });
    expect(diff).toBeLessThan(1e-5);
    expect(gradB).toBeLessThan(1e-4);
    expect(gradGamma).toBeGreaterThan(1e-2);
  });

  it("rejects bad input", () => {
    expect(() => batchMoments(tf.tensor1d([1, 2]))).toThrow(/batchMoments: a must be .*channels/);
    expect(() => batchNormalize(tf.tensor1d([1]), tf.scalar(1), tf.scalar(0), tf.scalar(0), tf.scalar(1))).toThrow(/batchNormalize/);
  });
});

describe("convUnit", () => {
  it("normalises with batch statistics in training, moves its running statistics, and uses them at inference", () => {
    const unit = convUnit({ inChannels: 1, filters: 4, seed: 1, momentum: 0.5 });
    const x = tf.randomUniform([8, 6, 6, 1], 0, 1, "float32", 4) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const preRelu = tf.tidy(() => {
      const a = tf.conv2d(x, unit.kernel as tf.Tensor4D, 1, "same");
      const { mean, variance } = batchMoments(a);
      return { y: tf.relu(batchNormalize(a, unit.gamma!, unit.beta!, mean, variance)), mean };
    });
    const y = unit.apply(x, true);
    expect(maxAbs(y, preRelu.y)).toBeLessThan(1e-6);
    // m ← 0.5·0 + 0.5·μ_B
    expect(tf.tidy(() => maxAbs(unit.movingMean!, tf.mul(preRelu.mean, 0.5)))).toBeLessThan(1e-6);
    const inference = unit.apply(x, false);
    const expected = tf.tidy(() => tf.relu(batchNormalize(tf.conv2d(x, unit.kernel as tf.Tensor4D, 1, "same"), unit.gamma!, unit.beta!, unit.movingMean!, unit.movingVariance!)));
    expect(maxAbs(inference, expected)).toBeLessThan(1e-6);
    tf.dispose([y, inference, expected, preRelu.y, preRelu.mean]);
    expect(tf.memory().numTensors).toBe(before);
    expect(unit.paramCount).toBe(3 * 3 * 1 * 4 + 4 + 4); // no conv bias with batch norm
    expect(convUnit({ inChannels: 2, filters: 3, batchNorm: false }).paramCount).toBe(3 * 3 * 2 * 3 + 3);
    const copy = convUnit({ inChannels: 1, filters: 4, seed: 9 });
    copy.copyFrom(unit);
    const same = tf.tidy(() => maxAbs(copy.apply(x, false), unit.apply(x, false)));
    expect(same).toBe(0);
    expect(() => copy.copyFrom(convUnit({ inChannels: 1, filters: 3 }))).toThrow(/copyFrom needs a unit of the same shape/);
    expect(() => unit.apply(tf.zeros([1, 4, 4, 2]) as tf.Tensor4D, false)).toThrow(/expects \[n, height, width, 1\]/);
    expect(() => convUnit({ inChannels: 0, filters: 1 })).toThrow(/inChannels must be a positive integer/);
    expect(() => convUnit({ inChannels: 1, filters: 1, activation: "tanh" as never })).toThrow(/activation must be one of/);
    unit.dispose(); copy.dispose(); x.dispose();
  });
});

describe("convBnAutoencoder (slides [3]: conv + BN + ReLU, upsampling decoder)", () => {
  it("maps [n, 28, 28, 1] to a 7×7×8 code and back for every way up, without leaks", () => {
    const x = tf.randomUniform([3, 28, 28, 1], 0, 1, "float32", 5) as tf.Tensor4D;
    for (const kind of CONV_BN_UNPOOLINGS) {
      const net = convBnAutoencoder({ unpooling: kind, seed: 2 });
      expect(net.codeShape).toEqual([7, 7, 8]);
      expect(net.paramCount).toBe((9 * 16 + 32) + (9 * 16 * 8 + 16) + (9 * 8 * 16 + 32) + (9 * 16 + 1));
      expect(net.switchBits).toBe(kind === "switches" ? (14 * 14 * 16 + 7 * 7 * 8) * 2 : 0);
      const before = tf.memory().numTensors;
      const z = net.reconstruct(x, { training: true, seed: 1 });
      expect(z.shape).toEqual([3, 28, 28, 1]);
      const zz = net.reconstruct(x, { seed: 1 });
      tf.dispose([z, zz]);
      expect(tf.memory().numTensors).toBe(before);
      net.dispose();
    }
    expect(() => convBnAutoencoder({ unpooling: "nearest" as never })).toThrow(/unpooling must be one of random, even, switches, upsample/);
    expect(() => convBnAutoencoder({ inputShape: [30, 28, 1] })).toThrow(/divisible by 4/);
    expect(() => unpoolBy("switches", tf.zeros([1, 2, 2, 1]) as tf.Tensor4D)).toThrow(/needs the encoder's switches/);
    x.dispose();
  });

  it("upsample copies each value to its 2×2 window", () => {
    const up = unpoolBy("upsample", tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]));
    expect(Array.from(up.dataSync())).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    up.dispose();
  });

  it("learns: a few Adam steps lower the reconstruction MSE", async () => {
    const x = tf.randomUniform([8, 12, 12, 1], 0, 1, "float32", 6) as tf.Tensor4D;
    const net = convBnAutoencoder({ seed: 3, inputShape: [12, 12, 1], filters: [4, 4] });
    const mse = () => tf.tidy(() => tf.losses.meanSquaredError(x, net.reconstruct(x, { training: true })).dataSync()[0]);
    const first = mse();
    const opt = tf.train.adam(1e-2);
    for (let i = 0; i < 15; i++) opt.minimize(() => tf.losses.meanSquaredError(x, net.reconstruct(x, { training: true })) as tf.Scalar, false, net.variables);
    expect(mse()).toBeLessThan(0.9 * first);
    opt.dispose(); net.dispose(); x.dispose();
  });
});

describe("PSNR of clipped Gaussian noise (eq. 14) and the softmax-regression gradient (eq. 15)", () => {
  it("unclipped noise gives PSNR ≈ −20 log₁₀ σ; clipping to [0, 1] never lowers it", () => {
    const x = tf.randomUniform([200, 784], 0, 1, "float32", 7);
    for (const sigma of [0.1, 0.5]) {
      const raw = addGaussianNoise(x, { noiseFactor: sigma, clip: false, seed: 3 });
      const clipped = addGaussianNoise(x, { noiseFactor: sigma, seed: 3 });
      const [pRaw, pClip] = [psnr(x, raw), psnr(x, clipped)].map((s) => { const v = s.dataSync()[0]; s.dispose(); return v; });
      expect(Math.abs(pRaw + 20 * Math.log10(sigma))).toBeLessThan(0.05);
      expect(pClip).toBeGreaterThan(pRaw);
      // elementwise: |clip(x̃) − x| ≤ |x̃ − x|
      expect(tf.tidy(() => tf.max(tf.sub(tf.abs(tf.sub(clipped, x)), tf.abs(tf.sub(raw, x)))).dataSync()[0])).toBeLessThanOrEqual(1e-7);
      tf.dispose([raw, clipped]);
    }
    x.dispose();
  });

  it("∂/∂W of the mean softmax cross-entropy is Xᵀ(P − Y)/n", () => {
    const diff = tf.tidy(() => {
      const X = tf.randomNormal([7, 5], 0, 1, "float32", 8), W = tf.randomNormal([5, 3], 0, 1, "float32", 9);
      const Y = tf.oneHot(tf.tensor1d([0, 2, 1, 1, 0, 2, 2], "int32"), 3).toFloat();
      const auto = tf.grad((w: tf.Tensor) => tf.losses.softmaxCrossEntropy(Y, tf.matMul(X, w)) as tf.Scalar)(W);
      const hand = tf.div(tf.matMul(X, tf.sub(tf.softmax(tf.matMul(X, W)), Y), true), 7);
      return maxAbs(auto, hand);
    });
    expect(diff).toBeLessThan(1e-6);
  });
});

describe("a stack of conv autoencoders and the CNN it initialises", () => {
  it("pre-trains unit by unit, gives top features, and a CNN that starts from exactly those features", async () => {
    const images = tf.randomUniform([24, 28, 28, 1], 0, 1, "float32", 10) as tf.Tensor4D;
    const labels = tf.oneHot(tf.tensor1d(Array.from({ length: 24 }, (_, i) => i % 10), "int32"), 10).toFloat() as tf.Tensor2D;
    const stack = await pretrainConvStack({ data: images, filters: [4, 2], numEpochs: 2, batchSize: 8, seed: 1, progress: false });
    expect(stack.units.map((u) => [u.inChannels, u.filters])).toEqual([[1, 4], [4, 2]]);
    expect(stack.histories).toHaveLength(2);
    for (const h of stack.histories) expect(h.terms.mse.every(Number.isFinite)).toBe(true);
    expect(stack.topShape).toEqual([7, 7, 2]);
    const before = tf.memory().numTensors;
    const features = stack.features(images);
    const throwAway = convClassifier({ filters: [4, 2], seed: 1 });
    throwAway.dispose();
    expect(tf.memory().numTensors - before).toBe(1); // a classifier made and disposed leaves nothing
    expect(features.shape).toEqual([24, 98]);
    const fromStack = convClassifier({ from: stack, seed: 4 });
    const top = tf.tidy(() => tf.reshape(applyConvUnits(fromStack.units, images), [24, 98]));
    expect(maxAbs(top, features)).toBe(0); // identical topology, identical weights
    const random = convClassifier({ filters: [4, 2], seed: 4 });
    const randomTop = tf.tidy(() => tf.reshape(applyConvUnits(random.units, images), [24, 98]));
    expect(maxAbs(randomTop, features)).toBeGreaterThan(1e-3);
    expect(fromStack.paramCount).toBe(random.paramCount);
    expect(fromStack.paramCount).toBe((9 * 4 + 8) + (9 * 4 * 2 + 4) + 98 * 10 + 10);
    // Fine-tuning changes the CNN, never the stack.
    const stackKernel = stack.units[0].kernel.dataSync().slice();
    const history = await trainConvClassifier({ model: fromStack, images, oneHot: labels, numEpochs: 3, batchSize: 8, seed: 2, progress: false });
    expect(history.terms.crossEntropy[2]).toBeLessThan(history.terms.crossEntropy[0]);
    expect(Array.from(stack.units[0].kernel.dataSync())).toEqual(Array.from(stackKernel));
    const acc = convClassifierAccuracy(fromStack, images, labels);
    expect(acc).toBeGreaterThanOrEqual(0);
    expect(acc).toBeLessThanOrEqual(1);
    tf.dispose([features, top, randomTop]);
    fromStack.dispose(); random.dispose();
    expect(tf.memory().numTensors).toBe(before);
    stack.dispose();
    await expect(pretrainConvStack({ data: tf.zeros([2, 784]) as never })).rejects.toThrow(/data must be a live tf.Tensor4D/);
    await expect(pretrainConvStack({ data: images, filters: [2, 2, 2] })).rejects.toThrow(/divisible by 8/);
    expect(() => convClassifier({ filters: [] })).toThrow(/filters must be a non-empty list/);
    tf.dispose([images, labels]);
  });
});
