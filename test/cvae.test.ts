/**
 * lib/models/cvae.ts: paper 4's CVAE baseline. The KL term against its closed form (by hand and by
 * Monte Carlo over the reparameterised samples), the reparameterisation's moments, the Bernoulli
 * term against binary cross-entropy on probabilities, shapes and parameter count of the
 * 784-400-40-400-784 network, gradients reaching every weight, no leaked tensors through
 * trainModel, and bad input.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { bernoulliNegLogLikelihood, cvae, cvaeAuthorsLossWeights, cvaeLoss, gaussianKlDivergence, reparameterize } from "../lib/models/cvae";
import { trainModel, LossContext } from "../lib/train";

beforeAll(async () => {
  await tf.setBackend("cpu");
  await tf.ready();
});

const context = (training: boolean, seed = 7): LossContext => ({ training, epoch: 1, numEpochs: 1, step: 0, batchIndex: 0, batchSize: 4, seed });

describe("bernoulliNegLogLikelihood", () => {
  it("value and closed-form gradient (σ(l) − x)/n equal autodiff through Σ softplus(l) − x·l, rows averaged; no tensor left", () => {
    const l = tf.mul(tf.randomNormal([6, 50], 0, 1, "float32", 31), 8); // logits past softplus's cut-offs (±13.9) too
    const x = tf.randomUniform([6, 50], 0, 1, "float32", 32);
    const before = tf.memory().numTensors;
    const plain = (t: tf.Tensor) => tf.mean(tf.sum(tf.sub(tf.softplus(t), tf.mul(x, t)), 1)) as tf.Scalar;
    const [ours, theirs] = [(t: tf.Tensor) => bernoulliNegLogLikelihood(t, x), plain].map((f) => {
      const { value, grad } = tf.valueAndGrad(f)(l);
      const read = [value.dataSync()[0], Array.from(grad.dataSync())] as const;
      tf.dispose([value, grad]);
      return read;
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(ours[0]).toBeCloseTo(theirs[0], 5);
    const scale = Math.max(...theirs[1].map(Math.abs));
    ours[1].forEach((g, i) => expect(Math.abs(g - theirs[1][i])).toBeLessThanOrEqual(1e-6 * scale));
    expect(() => bernoulliNegLogLikelihood(l, tf.zeros([6, 49]))).toThrow(/bernoulliNegLogLikelihood: logits \[6, 50\] and x \[6, 49\] must have the same shape/);
    tf.dispose([l, x]);
  });
});

describe("gaussianKlDivergence", () => {
  it("closed-form gradients μ/n and ½(σ² − 1)/n equal autodiff through the formula; no tensor left", () => {
    const mu = tf.randomNormal([7, 5], 0, 1, "float32", 41);
    const lv = tf.randomNormal([7, 5], 0, 2, "float32", 42);
    const before = tf.memory().numTensors;
    const plain = (m: tf.Tensor, v: tf.Tensor) => tf.mul(0.5, tf.mean(tf.sum(tf.sub(tf.add(tf.square(m), tf.exp(v)), tf.add(v, 1)), 1))) as tf.Scalar;
    const [ours, theirs] = [gaussianKlDivergence, plain].map((f) => {
      const { value, grads } = tf.valueAndGrads((m: tf.Tensor, v: tf.Tensor) => tf.mul(f(m, v), 3) as tf.Scalar)([mu, lv]);
      const read = [value.dataSync()[0], ...grads.map((g) => Array.from(g.dataSync()))] as [number, number[], number[]];
      tf.dispose([value, ...grads]);
      return read;
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(ours[0]).toBeCloseTo(theirs[0], 5);
    for (const k of [1, 2] as const) {
      const scale = Math.max(...theirs[k].map(Math.abs));
      ours[k].forEach((g, i) => expect(Math.abs(g - theirs[k][i])).toBeLessThanOrEqual(1e-6 * scale));
    }
    tf.dispose([mu, lv]);
  });

  it("matches ½ Σ (μ² + σ² − 1 − log σ²) computed by hand, averaged over rows", () => {
    const mu = [[0.5, -1, 0], [2, 0.1, -0.3]];
    const lv = [[0, 0.7, -1.2], [-0.5, 1.5, 0.2]];
    const byHand = mu.map((row, i) => row.reduce((s, m, j) => s + 0.5 * (m * m + Math.exp(lv[i][j]) - 1 - lv[i][j]), 0));
    const expected = (byHand[0] + byHand[1]) / 2;
    const got = tf.tidy(() => gaussianKlDivergence(tf.tensor2d(mu), tf.tensor2d(lv)).dataSync()[0]);
    expect(got).toBeCloseTo(expected, 5);
    expect(tf.tidy(() => gaussianKlDivergence(tf.zeros([3, 4]), tf.zeros([3, 4])).dataSync()[0])).toBe(0);
  });

  it("equals the Monte Carlo mean of log q(z) − log p(z) over reparameterised samples (within 4 standard errors)", () => {
    const mu = [0.8, -0.4, 1.5];
    const lv = [-0.6, 0.9, 0.1];
    const n = 200_000;
    const { mc, se, closed } = tf.tidy(() => {
      const mean = tf.tile(tf.tensor2d([mu]), [n, 1]);
      const logVar = tf.tile(tf.tensor2d([lv]), [n, 1]);
      const z = reparameterize(mean, logVar, 3);
      // log q − log p per sample, summed over dimensions (the 2π terms cancel).
      const logQ = tf.mul(-0.5, tf.add(logVar, tf.div(tf.square(tf.sub(z, mean)), tf.exp(logVar))));
      const logP = tf.mul(-0.5, tf.square(z));
      const diff = tf.sum(tf.sub(logQ, logP), 1);
      const { mean: m, variance } = tf.moments(diff);
      return { mc: m.dataSync()[0], se: Math.sqrt(variance.dataSync()[0] / n), closed: gaussianKlDivergence(tf.tensor2d([mu]), tf.tensor2d([lv])).dataSync()[0] };
    });
    expect(Math.abs(mc - closed)).toBeLessThan(4 * se);
    expect(se).toBeLessThan(0.01);
  });

  it("has gradient μ and ½(σ² − 1) per row divided by the number of rows", () => {
    const mu = tf.tensor2d([[0.5, -1], [2, 0.25]]);
    const lv = tf.tensor2d([[0.3, -0.2], [0, 1]]);
    const [gMu, gLv] = tf.grads((m: tf.Tensor, l: tf.Tensor) => gaussianKlDivergence(m, l))([mu, lv]);
    const expectedMu = [0.25, -0.5, 1, 0.125];
    Array.from(gMu.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expectedMu[i], 6));
    const expectedLv = Array.from(tf.tidy(() => tf.mul(0.25, tf.sub(tf.exp(lv), 1))).dataSync());
    Array.from(gLv.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expectedLv[i], 6));
    tf.dispose([mu, lv, gMu, gLv]);
  });
});

describe("reparameterize", () => {
  it("draws z with mean μ and standard deviation exp(½ log σ²), seeded, and passes gradients to both", () => {
    const n = 50_000;
    const stats = tf.tidy(() => {
      const z = reparameterize(tf.fill([n, 2], 1.5), tf.tile(tf.tensor2d([[Math.log(4), Math.log(0.25)]]), [n, 1]), 11);
      const { mean, variance } = tf.moments(z, 0);
      return { mean: Array.from(mean.dataSync()), sd: Array.from(tf.sqrt(variance).dataSync()) };
    });
    expect(stats.mean[0]).toBeCloseTo(1.5, 1);
    expect(stats.mean[1]).toBeCloseTo(1.5, 1);
    expect(stats.sd[0]).toBeCloseTo(2, 1);
    expect(stats.sd[1]).toBeCloseTo(0.5, 2);
    const same = tf.tidy(() => tf.max(tf.abs(tf.sub(reparameterize(tf.zeros([3, 2]), tf.zeros([3, 2]), 5), reparameterize(tf.zeros([3, 2]), tf.zeros([3, 2]), 5)))).dataSync()[0]);
    expect(same).toBe(0);
    const [gm, gl] = tf.grads((m: tf.Tensor, l: tf.Tensor) => tf.sum(reparameterize(m, l, 2)) as tf.Scalar)([tf.zeros([4, 3]), tf.zeros([4, 3])]);
    expect(Array.from(gm.dataSync()).every((v) => v === 1)).toBe(true);
    expect(Array.from(gl.dataSync()).some((v) => v !== 0)).toBe(true);
    tf.dispose([gm, gl]);
  });

  it("its closed-form gradients (1 and ½·ε⊙σ) are autodiff's through μ + exp(½ log σ²)⊙ε, value for value; no tensor left", () => {
    const m = tf.randomNormal([5, 4], 0, 1, "float32", 51);
    const l = tf.randomNormal([5, 4], 0, 1, "float32", 52);
    const w = tf.randomNormal([5, 4], 0, 1, "float32", 53);
    const before = tf.memory().numTensors;
    const plain = (mu: tf.Tensor, lv: tf.Tensor) => tf.add(mu, tf.mul(tf.exp(tf.mul(lv, 0.5)), tf.randomNormal(mu.shape, 0, 1, "float32", 8)));
    const [ours, theirs] = [(mu: tf.Tensor, lv: tf.Tensor) => reparameterize(mu, lv, 7), plain].map((f) => {
      const { value, grads } = tf.valueAndGrads((mu: tf.Tensor, lv: tf.Tensor) => tf.sum(tf.mul(f(mu, lv), w)) as tf.Scalar)([m, l]);
      const read = [value, ...grads].map((t) => Array.from(t.dataSync()));
      tf.dispose([value, ...grads]);
      return read;
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(ours).toEqual(theirs);
    tf.dispose([m, l, w]);
  });
});

describe("cvae (784-400-40-400-784, conditioned on the one-hot label)", () => {
  it("has the paper's structure, counts its weights and FLOPs, and gives the right shapes", () => {
    const before = tf.memory().numTensors;
    const net = cvae({ seed: 1 });
    // encoder (784 + 10)·400 + 400, μ and log σ² 2·(400·40 + 40); decoder (40 + 10)·400 + 400, 400·784 + 784
    expect(net.paramCount).toBe(794 * 400 + 400 + 2 * (400 * 40 + 40) + 50 * 400 + 400 + 400 * 784 + 784);
    expect(net.paramCount).toBe(684_864);
    expect(net.forwardFlopsPerSample).toBe(2 * (794 * 400 + 400 * 80 + 50 * 400 + 400 * 784));
    expect(net.trainingFlopsPerSample).toBe(3 * net.forwardFlopsPerSample);
    tf.tidy(() => {
      const x = tf.randomUniform([5, 784], 0, 1, "float32", 1);
      const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 9], "int32"), 10);
      const q = net.encode(x, y, false);
      expect(q.mean.shape).toEqual([5, 40]);
      expect(q.logVariance.shape).toEqual([5, 40]);
      const out = net.reconstruct(x, y);
      expect(out.shape).toEqual([5, 784]);
      const values = out.dataSync();
      expect(values.every((v) => v > 0 && v < 1)).toBe(true);
      const samples = net.generate(y, { seed: 3 });
      expect(samples.shape).toEqual([5, 784]);
      expect(tf.max(tf.abs(tf.sub(samples, net.generate(y, { seed: 3 })))).dataSync()[0]).toBe(0);
    });
    net.dispose();
    net.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("cvaeLoss: the Bernoulli term is binary cross-entropy on the pixel means, summed over pixels; the KL term is the closed form", () => {
    const net = cvae({ inputDim: 16, hiddenUnits: 8, latentDim: 3, numClasses: 4, seed: 2 });
    tf.tidy(() => {
      const xs = tf.randomUniform([6, 16], 0, 1, "float32", 4);
      const oneHot = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 0, 1], "int32"), 4);
      const terms = cvaeLoss(net)({ xs, oneHot }, context(true, 9));
      // Recompute with the same z (same seed) by hand from probabilities.
      const q = net.encode(xs, oneHot, true);
      const z = reparameterize(q.mean, q.logVariance, 9);
      const p = tf.clipByValue(net.decode(z, oneHot, true), 1e-7, 1 - 1e-7);
      const bce = tf.neg(tf.add(tf.mul(xs, tf.log(p)), tf.mul(tf.sub(1, xs), tf.log(tf.sub(1, p)))));
      expect(terms.reconstruction.dataSync()[0]).toBeCloseTo(tf.mean(tf.sum(bce, 1)).dataSync()[0], 3);
      expect(terms.kl.dataSync()[0]).toBeCloseTo(gaussianKlDivergence(q.mean, q.logVariance).dataSync()[0], 6);
      const gaussian = cvaeLoss(net, { likelihood: "gaussian" })({ xs, oneHot }, context(true, 9));
      const half = tf.mul(0.5, tf.sum(tf.square(tf.sub(net.decode(z, oneHot, true), xs)), 1));
      expect(gaussian.reconstruction.dataSync()[0]).toBeCloseTo(tf.mean(half).dataSync()[0], 5);
    });
    net.dispose();
  });

  it("cvaeAuthorsLossWeights: the weighted terms are the authors' code's loss, BCE averaged over all pixels + KL summed over the batch", () => {
    const net = cvae({ inputDim: 16, hiddenUnits: 8, latentDim: 3, numClasses: 4, seed: 5 });
    tf.tidy(() => {
      const xs = tf.randomUniform([6, 16], 0, 1, "float32", 6);
      const oneHot = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 0, 1], "int32"), 4);
      const terms = cvaeLoss(net)({ xs, oneHot }, context(true, 11));
      const w = cvaeAuthorsLossWeights(6, 16);
      expect(w).toEqual({ reconstruction: 1 / 16, kl: 6 });
      const weighted = w.reconstruction * terms.reconstruction.dataSync()[0] + w.kl * terms.kl.dataSync()[0];
      // by hand, as the released code: mean BCE over the 6 × 16 pixels, and −½ Σ over all 6 × 3 entries of (1 + log σ² − μ² − σ²)
      const q = net.encode(xs, oneHot, true);
      const p = tf.clipByValue(net.decode(reparameterize(q.mean, q.logVariance, 11), oneHot, true), 1e-7, 1 - 1e-7);
      const bceMean = tf.mean(tf.neg(tf.add(tf.mul(xs, tf.log(p)), tf.mul(tf.sub(1, xs), tf.log(tf.sub(1, p)))))).dataSync()[0];
      const kldSum = tf.mul(-0.5, tf.sum(tf.sub(tf.sub(tf.add(1, q.logVariance), tf.square(q.mean)), tf.exp(q.logVariance)))).dataSync()[0];
      expect(weighted).toBeCloseTo(bceMean + kldSum, 3);
    });
    expect(cvaeAuthorsLossWeights()).toEqual({ reconstruction: 1 / 784, kl: 512 });
    expect(() => cvaeAuthorsLossWeights(0)).toThrow(/batchSize must be a positive integer, got 0/);
    net.dispose();
  });

  it("passes gradients to every weight of the encoder and the decoder through the sampled z", () => {
    const net = cvae({ inputDim: 16, hiddenUnits: 8, latentDim: 3, numClasses: 4, seed: 3 });
    const loss = cvaeLoss(net);
    const variables = net.models.flatMap((m) => m.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val));
    expect(variables).toHaveLength(10);
    const xs = tf.randomUniform([6, 16], 0, 1, "float32", 5);
    const oneHot = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 0, 1], "int32"), 4);
    const { value, grads } = tf.variableGrads(() => {
      const t = loss({ xs, oneHot }, context(true, 1));
      return tf.add(t.reconstruction, t.kl) as tf.Scalar;
    }, variables);
    for (const v of variables) {
      const g = grads[v.name];
      expect(g, v.name).toBeDefined();
      expect(tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0]), v.name).toBeGreaterThan(0);
    }
    tf.dispose([value, xs, oneHot, ...Object.values(grads)]);
    net.dispose();
  });

  it("trains through trainModel: the loss falls, no tensor is left behind", async () => {
    const before = tf.memory().numTensors;
    const net = cvae({ inputDim: 16, hiddenUnits: 12, latentDim: 2, numClasses: 2, seed: 4 });
    const xs = tf.tidy(() => tf.concat([tf.tile(tf.tensor2d([[1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0]]), [32, 1]), tf.tile(tf.tensor2d([[0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1]]), [32, 1])]));
    const oneHot = tf.tidy(() => tf.oneHot(tf.concat([tf.zeros([32], "int32"), tf.ones([32], "int32")]), 2));
    const history = await trainModel({
      data: { xs, oneHot }, lossTerms: cvaeLoss(net), models: net.models, optimizer: { name: "adam", learningRate: 1e-2 }, numEpochs: 8, batchSize: 16, progress: false,
    });
    const total = history.terms.total;
    expect(total[total.length - 1]).toBeLessThan(0.5 * total[0]);
    expect(Object.keys(history.terms).sort()).toEqual(["kl", "reconstruction", "total"]);
    tf.dispose([xs, oneHot]);
    net.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("rejects bad options and inputs, naming them", () => {
    expect(() => cvae({ latentDim: 0 })).toThrow(/cvae: inputDim, hiddenUnits, latentDim and numClasses must hold positive integers/);
    expect(() => cvae({ seed: 1.5 })).toThrow(/cvae: seed/);
    const net = cvae({ inputDim: 16, hiddenUnits: 4, latentDim: 2, numClasses: 3 });
    const x = tf.zeros([2, 16]);
    const y = tf.zeros([2, 3]);
    expect(() => net.encode(tf.zeros([2, 15]), y)).toThrow(/cvae\.encode: x must be \[n, 16\], got \[2, 15\]/);
    expect(() => net.encode(x, tf.zeros([3, 3]))).toThrow(/cvae\.encode: y \(one-hot labels\) has 3 rows, expected 2/);
    expect(() => net.encode(x, tf.zeros([2, 4]))).toThrow(/y \(one-hot labels\) must be \[n, 3\]/);
    expect(() => net.decode(tf.zeros([2, 3]), y)).toThrow(/cvae\.decode: z must be \[n, 2\]/);
    expect(() => net.generate(tf.zeros([2]))).toThrow(/cvae\.generate: y \(one-hot labels\) must be \[n, 3\]/);
    expect(() => cvaeLoss(net)({ xs: x }, context(true))).toThrow(/cvaeLoss: the batch needs "xs" \(flat images\) and "oneHot" \(one-hot labels\); it has xs/);
    expect(() => cvaeLoss(net, { likelihood: "laplace" as "gaussian" })).toThrow(/cvaeLoss: likelihood must be "bernoulli" or "gaussian"/);
    expect(() => reparameterize(tf.zeros([2, 2]), tf.zeros([2, 3]))).toThrow(/reparameterize: mean \[2, 2\] and logVariance \[2, 3\] must have the same shape/);
    expect(() => gaussianKlDivergence(tf.zeros([2, 2]), tf.zeros([2, 3]))).toThrow(/gaussianKlDivergence: .* must have the same shape/);
    const disposed = tf.zeros([2, 16]);
    disposed.dispose();
    expect(() => net.encode(disposed, y)).toThrow(/x has been disposed/);
    tf.dispose([x, y]);
    net.dispose();
  });
});
