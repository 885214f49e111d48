/**
 * CSAE (paper 4): the losses (6)–(10) against closed forms and tf.grad, the latent noise
 * (11)–(12) only in training, the CSAE-C model of Table 2 (shapes, batch norm, baselines),
 * no leaks and clear errors.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { CSAE_AUTHORS_LOSS_WEIGHTS, csaeLoss, csaeLossTerms, laplacian3x3, sobelEnergyDifference, sobelSum3x3 } from "../lib/models/csae";
import { leakedBy } from "./helpers/leaks";
import { CsaeBatchNorm, csaeBasenet, csaeConv, csaeConvEncoder, encoderOnlyLoss } from "../lib/pedcc";
import { evaluateLossTerms, type LossContext } from "../lib/train";
import { csaeLinear } from "../lib/models/csae";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const context = (training: boolean, seed = 5): LossContext => ({ training, epoch: 1, numEpochs: 1, step: 0, batchIndex: 0, batchSize: 4, seed });

/** G∗x by hand with zero padding (eq. 8). */
function laplacianByHand(img: number[][]): number[][] {
  const h = img.length, w = img[0].length;
  const at = (i: number, j: number) => (i < 0 || j < 0 || i >= h || j >= w ? 0 : img[i][j]);
  return img.map((row, i) => row.map((_, j) => at(i - 1, j) + at(i + 1, j) + at(i, j - 1) + at(i, j + 1) - 4 * at(i, j)));
}

describe("CSAE losses (eqs. 6–10)", () => {
  it("Loss1, Loss2, Loss3 equal their closed forms", () => {
    const x = tf.randomUniform([2, 5, 5, 1], 0, 1, "float32", 1);
    const xr = tf.randomUniform([2, 5, 5, 1], 0, 1, "float32", 2);
    const z = tf.randomNormal([2, 4], 0, 1, "float32", 3);
    const mu = tf.randomNormal([2, 4], 0, 1, "float32", 4);
    const t = csaeLossTerms({ images: x, reconstruction: xr, latent: z, targetCentroids: mu });
    const zs = z.arraySync() as number[][], ms = mu.arraySync() as number[][];
    let l1 = 0;
    zs.forEach((r, i) => r.forEach((v, k) => { l1 += (v - ms[i][k]) ** 2; }));
    expect(t.centroid.dataSync()[0]).toBeCloseTo(l1 / 8, 5);
    const xs = (x.squeeze([3]).arraySync() as number[][][]), xrs = (xr.squeeze([3]).arraySync() as number[][][]);
    let l2 = 0, l3 = 0;
    for (let n = 0; n < 2; n++) {
      const gx = laplacianByHand(xs[n]), gxr = laplacianByHand(xrs[n]);
      for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) {
        l2 += (xrs[n][i][j] - xs[n][i][j]) ** 2;
        l3 += (gxr[i][j] - gx[i][j]) ** 2;
      }
    }
    expect(t.pixel.dataSync()[0]).toBeCloseTo(l2 / 50, 5);
    expect(t.laplacian.dataSync()[0]).toBeCloseTo(l3 / 50, 5);
    tf.dispose([x, xr, z, mu, t.centroid, t.pixel, t.laplacian]);
  });

  it("the gradient of Loss3 w.r.t. x* is (2/N)·G∗(G∗(x* − x)) (G symmetric), as tf.grad gives", () => {
    const x = tf.randomUniform([1, 6, 6, 1], 0, 1, "float32", 7);
    const xr = tf.randomUniform([1, 6, 6, 1], 0, 1, "float32", 8);
    const auto = tf.grad((r: tf.Tensor) => csaeLossTerms({ images: x, reconstruction: r, latent: tf.zeros([1, 2]), targetCentroids: tf.zeros([1, 2]) }).laplacian)(xr);
    const closed = tf.mul(2 / 36, laplacian3x3(laplacian3x3(tf.sub(xr, x))));
    expect(tf.max(tf.abs(tf.sub(auto, closed))).dataSync()[0]).toBeLessThan(1e-6);
    tf.dispose([x, xr, auto, closed]);
  });

  it("the laplacian of a constant image is zero inside and counts the missing neighbours at the border", () => {
    const g = laplacian3x3(tf.ones([1, 4, 4])).arraySync() as number[][][];
    expect(g[0][1][1]).toBe(0);
    expect(g[0][0][0]).toBe(-2);
    expect(g[0][0][1]).toBe(-1);
  });

  it("noise n0* = αβ·n0 reaches the decoder in training only (eqs. 11–12), with standard deviation αβ", () => {
    const d = 40;
    const centroids = tf.zeros([10, d]) as tf.Tensor2D;
    let seen: tf.Tensor | null = null;
    const z = tf.ones([2000, d]);
    const fake = {
      encode: (x: tf.Tensor) => tf.mul(tf.mean(x, 1, true), tf.onesLike(z)),
      decode: (input: tf.Tensor) => { seen = tf.keep(input.clone()); return tf.zeros([2000, 4]); },
    };
    const loss = csaeLoss(fake, { centroids, noiseFactor: 0.05 });
    const batch = { xs: tf.ones([2000, 4]), labels: tf.zeros([2000], "int32") };
    tf.tidy(() => { loss(batch, context(false)); });
    expect(tf.max(tf.abs(tf.sub(seen!, z))).dataSync()[0]).toBe(0);
    (seen as unknown as tf.Tensor).dispose();
    tf.tidy(() => { loss(batch, context(true)); });
    const noise = tf.sub(seen!, z);
    const { mean, variance } = tf.moments(noise);
    expect(Math.abs(mean.dataSync()[0])).toBeLessThan(0.01);
    expect(Math.sqrt(variance.dataSync()[0])).toBeCloseTo(Math.sqrt(d) * 0.05, 2);
    tf.dispose([centroids, z, batch.xs, batch.labels, seen!, noise, mean, variance]);
  });

  it("the total (10) is Loss1 + λ1·Loss2 + λ2·Loss3 when the terms are weighted through the training loop", async () => {
    const model = csaeLinear({ layerSizes: [16, 8, 4, 8, 16], seed: 1 });
    const centroids = tf.randomNormal([3, 4], 0, 1, "float32", 9) as tf.Tensor2D;
    const data = { xs: tf.randomUniform([10, 16], 0, 1, "float32", 4), labels: tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2, 0], "int32") };
    const loss = csaeLoss(model, { centroids, noiseFactor: 0.04 });
    const terms = await evaluateLossTerms(data, loss, { batchSize: 10, lossWeights: { centroid: 1, pixel: 4, laplacian: 0.4 } });
    expect(terms.total).toBeCloseTo(terms.centroid + 4 * terms.pixel + 0.4 * terms.laplacian, 5);
    tf.dispose([centroids, data.xs, data.labels]);
    model.dispose();
  });

  it("encoderOnlyLoss is Loss1 alone and names its inputs on error", () => {
    const centroids = tf.tensor2d([[1, 0], [0, 1]]);
    const loss = encoderOnlyLoss((x) => x, centroids);
    const t = tf.tidy(() => loss({ xs: tf.tensor2d([[1, 1], [0, 0]]), labels: tf.tensor1d([0, 1], "int32") }, context(true)).centroid.dataSync()[0]);
    expect(t).toBeCloseTo((0 + 1 + 0 + 1) / 4, 6);
    expect(() => loss({ xs: tf.zeros([1, 2]) }, context(true))).toThrow(/needs "xs" and "labels"/);
    expect(() => encoderOnlyLoss((x) => x, tf.zeros([2]) as unknown as tf.Tensor2D)).toThrow(/centroids must be/);
    centroids.dispose();
  });
});

/** (Sobel_x + Sobel_y)∗img by hand: cross-correlation with zero padding, as the authors' F.conv2d(padding=1). */
function sobelSumByHand(img: number[][]): number[][] {
  const h = img.length, w = img[0].length;
  const kx = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], ky = [[-1, -2, -1], [0, 0, 0], [1, 2, 1]];
  const at = (i: number, j: number) => (i < 0 || j < 0 || i >= h || j >= w ? 0 : img[i][j]);
  return img.map((row, i) => row.map((_, j) => {
    let s = 0;
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) s += (kx[a][b] + ky[a][b]) * at(i + a - 1, j + b - 1);
    return s;
  }));
}

describe("the authors' edge loss (released code: 0.02·|mse(sobel(x), 0) − mse(sobel(x*), 0)| on [−1, 1] pixels)", () => {
  it("a 2×2 worked example: x = [[1, 0], [0, 0]] has S∗x = [[0, −2], [−2, −2]], energy 3; x* = [[0, 0], [0, ½]] has [[1, 1], [1, 0]], energy ¾", () => {
    const x = tf.tensor4d([1, 0, 0, 0], [1, 2, 2, 1]);
    const xr = tf.tensor4d([0, 0, 0, 0.5], [1, 2, 2, 1]);
    expect(Array.from(sobelSum3x3(x).dataSync())).toEqual([0, -2, -2, -2]);
    expect(Array.from(sobelSum3x3(xr).dataSync())).toEqual([1, 1, 1, 0]);
    const raw = { pixelScale: 1, pixelOffset: 0 };
    expect(sobelEnergyDifference(x, xr, raw).dataSync()[0]).toBeCloseTo(3 - 0.75, 6);
    expect(sobelEnergyDifference(xr, x, raw).dataSync()[0]).toBeCloseTo(2.25, 6);
    tf.dispose([x, xr]);
  });

  it("equals the hand computation on random images mapped to [−1, 1] (default), border frame of the −1 background included", () => {
    const x = tf.randomUniform([3, 6, 5, 1], 0, 1, "float32", 21);
    const xr = tf.randomUniform([3, 6, 5, 1], 0, 1, "float32", 22);
    const energy = (t: tf.Tensor) => {
      const imgs = (t.squeeze([3]).arraySync() as number[][][]).map((img) => img.map((row) => row.map((v) => 2 * v - 1)));
      let s = 0, count = 0;
      for (const img of imgs) for (const row of sobelSumByHand(img)) for (const v of row) { s += v * v; count++; }
      return s / count;
    };
    const expected = Math.abs(energy(x) - energy(xr));
    expect(sobelEnergyDifference(x, xr).dataSync()[0]).toBeCloseTo(expected, 4);
    // a blank image is not edge-free on [−1, 1]: zero padding makes a frame around the −1 background
    const blank = tf.zeros([1, 4, 4, 1]);
    expect(sobelEnergyDifference(blank, blank, {}).dataSync()[0]).toBe(0);
    const frame = sobelSumByHand([[-1, -1, -1, -1], [-1, -1, -1, -1], [-1, -1, -1, -1], [-1, -1, -1, -1]]);
    expect(frame[1][1]).toBe(0);
    expect(frame[0][0]).toBe(-6);
    expect(sobelSum3x3(tf.fill([1, 4, 4, 1], -1)).dataSync()[0]).toBe(-6);
    tf.dispose([x, xr, blank]);
  });

  it("compares batch-mean energies, not images: swapping two reconstructions within a batch leaves it at 0, unlike eq. (9)", () => {
    const a = tf.randomUniform([1, 5, 5, 1], 0, 1, "float32", 31), b = tf.randomUniform([1, 5, 5, 1], 0, 1, "float32", 32);
    const x = tf.concat([a, b]), xr = tf.concat([b, a]);
    const z = tf.zeros([2, 3]);
    const sobelTerms = csaeLossTerms({ images: x, reconstruction: xr, latent: z, targetCentroids: z }, { edgeLoss: "sobelEnergy" });
    const laplacianTerms = csaeLossTerms({ images: x, reconstruction: xr, latent: z, targetCentroids: z });
    expect(sobelTerms.sobelEnergy.dataSync()[0]).toBeLessThan(1e-5);
    expect(laplacianTerms.laplacian.dataSync()[0]).toBeGreaterThan(0.1);
    expect(Object.keys(sobelTerms).sort()).toEqual(["centroid", "pixel", "sobelEnergy"]);
    expect(sobelTerms.pixel.dataSync()[0]).toBeCloseTo(laplacianTerms.pixel.dataSync()[0], 6);
    tf.dispose([a, b, x, xr, z, sobelTerms.centroid, sobelTerms.pixel, sobelTerms.sobelEnergy, laplacianTerms.centroid, laplacianTerms.pixel, laplacianTerms.laplacian]);
  });

  it("its gradient pushes x*'s edge energy toward x's: sign(E(x*) − E(x))·(2/N)·scale·Sᵀ(S∗x̃*)", () => {
    const x = tf.randomUniform([2, 5, 5, 1], 0, 1, "float32", 41);
    const xr = tf.mul(tf.randomUniform([2, 5, 5, 1], 0, 1, "float32", 42), 0.1);
    const auto = tf.grad((r: tf.Tensor) => sobelEnergyDifference(x, r))(xr);
    const energy = (t: tf.Tensor) => tf.tidy(() => tf.mean(tf.square(sobelSum3x3(tf.sub(tf.mul(t, 2), 1)))).dataSync()[0]);
    const sign = Math.sign(energy(xr) - energy(x));
    expect(sign).not.toBe(0);
    // Sᵀ is the cross-correlation with S rotated by 180°, i.e. −S for these antisymmetric kernels
    const sT = (t: tf.Tensor) => tf.neg(sobelSum3x3(t));
    const closed = tf.tidy(() => tf.mul(sign * (2 / 50) * 2, sT(sobelSum3x3(tf.sub(tf.mul(xr, 2), 1)))));
    expect(tf.max(tf.abs(tf.sub(auto, closed))).dataSync()[0]).toBeLessThan(1e-5);
    tf.dispose([x, xr, auto, closed]);
  });

  it("csaeLoss with edgeLoss: \"sobelEnergy\" weighted by CSAE_AUTHORS_LOSS_WEIGHTS is Loss1 + 4·Loss2 + 0.02·|ΔE|, and leaks nothing", async () => {
    const model = csaeLinear({ layerSizes: [16, 8, 4, 8, 16], seed: 1 });
    const centroids = tf.randomNormal([3, 4], 0, 1, "float32", 9) as tf.Tensor2D;
    const data = { xs: tf.randomUniform([10, 16], 0, 1, "float32", 4), labels: tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2, 0], "int32") };
    const loss = csaeLoss(model, { centroids, edgeLoss: "sobelEnergy" });
    const terms = await evaluateLossTerms(data, loss, { batchSize: 10, lossWeights: { ...CSAE_AUTHORS_LOSS_WEIGHTS } });
    expect(terms.total).toBeCloseTo(terms.centroid + 4 * terms.pixel + 0.02 * terms.sobelEnergy, 5);
    const recon = tf.tidy(() => model.decode(model.encode(data.xs, false), false));
    expect(terms.sobelEnergy).toBeCloseTo(sobelEnergyDifference(data.xs, recon).dataSync()[0], 4);
    expect(leakedBy(() => tf.dispose(Object.values(tf.tidy(() => loss(data, context(true))))))).toBe(0);
    expect(leakedBy(() => tf.dispose(sobelEnergyDifference(data.xs, recon)))).toBe(0);
    expect(() => csaeLoss(model, { centroids, edgeLoss: "sobel" as never })).toThrow(/edgeLoss must be "laplacian" or "sobelEnergy"/);
    expect(() => sobelEnergyDifference(data.xs, tf.zeros([10, 9]))).toThrow(/must have the shape of images/);
    expect(() => sobelEnergyDifference(data.xs, recon, { pixelScale: NaN })).toThrow(/pixelScale and pixelOffset must be finite/);
    tf.dispose([centroids, data.xs, data.labels, recon]);
    model.dispose();
  });
});

describe("CSAE-C (Table 2)", () => {
  it("maps [n, 32, 32, 1] → [n, 40] → [n, 32, 32, 1]; narrower widths work; costs are counted", () => {
    const m = csaeConv({ widths: [4, 8, 8, 8] });
    const x = tf.randomUniform([3, 32, 32, 1]);
    const z = m.encode(x, false);
    const r = m.decode(z, false);
    expect(z.shape).toEqual([3, 40]);
    expect(r.shape).toEqual([3, 32, 32, 1]);
    expect(m.latentShape).toEqual([40]);
    expect(m.paramCount).toBeGreaterThan(1000);
    expect(m.trainingFlopsPerSample).toBe(3 * m.forwardFlopsPerSample);
    tf.dispose([x, z, r]);
    m.dispose();
    const full = csaeConv();
    // encoder: stem 1→16 and the three blocks' convolutions at 32, 16, 8, 4 pixels; the dense layer 1024→40
    const encoderMacs = 32 * 32 * 16 * 9 + 16 * 16 * 32 * (9 * 16 + 9 * 32 + 16) + 8 * 8 * 64 * (9 * 32 + 9 * 64 + 32) + 4 * 4 * 64 * (9 * 64 + 9 * 64 + 64) + 1024 * 40;
    const decoderMacs = 40 * 1024 + (8 * 8 * 32 * 64 + 8 * 8 * 64 * 9 * 32) + (16 * 16 * 32 * 64 + 16 * 16 * 32 * 9 * 32) + (32 * 32 * 16 * 32 + 32 * 32 * 16 * 9 * 16) + 32 * 32 * 16;
    expect(full.forwardFlopsPerSample).toBe(2 * (encoderMacs + decoderMacs));
    full.dispose();
  });

  it("leaks nothing in inference; batch norm uses batch statistics in training and updates its moving averages", () => {
    const m = csaeConv({ widths: [4, 8, 8, 8] });
    const x = tf.randomUniform([4, 32, 32, 1]);
    tf.tidy(() => { m.reconstruct(x, false); });
    tf.tidy(() => { m.reconstruct(x, true); });
    const before = tf.memory().numTensors;
    tf.tidy(() => { m.reconstruct(x, false); });
    tf.tidy(() => { m.reconstruct(x, true); });
    expect(tf.memory().numTensors).toBe(before);
    const inference = tf.tidy(() => m.encode(x, false));
    const training = tf.tidy(() => m.encode(x, true));
    expect(tf.max(tf.abs(tf.sub(inference, training))).dataSync()[0]).toBeGreaterThan(1e-4);
    tf.dispose([x, inference, training]);
    m.dispose();
  });

  it("CsaeBatchNorm: normalises per channel, moves its statistics by momentum, and matches tf.batchNorm's gradient", () => {
    const bn = new CsaeBatchNorm({ momentum: 0.9, epsilon: 1e-5 });
    const x = tf.add(tf.mul(tf.randomNormal([8, 3, 3, 2], 0, 1, "float32", 11), 3), 5);
    const y = bn.apply(x, { training: true }) as tf.Tensor;
    const { mean, variance } = tf.moments(y, [0, 1, 2]);
    expect(Math.max(...Array.from(mean.dataSync()).map(Math.abs))).toBeLessThan(1e-4);
    for (const v of variance.dataSync()) expect(v).toBeCloseTo(1, 3);
    const batchMean = tf.moments(x, [0, 1, 2]).mean;
    const moving = bn.getWeights()[2];
    expect(tf.max(tf.abs(tf.sub(moving, tf.mul(batchMean, 0.1)))).dataSync()[0]).toBeLessThan(1e-5);
    // gradient w.r.t. x of a weighted sum equals the one through tfjs's own batchNorm op
    const w = tf.randomNormal([8, 3, 3, 2], 0, 1, "float32", 12);
    const ours = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(bn.apply(input, { training: true }) as tf.Tensor, w)))(x);
    const reference = tf.grad((input: tf.Tensor) => {
      const m = tf.moments(input, [0, 1, 2]);
      return tf.sum(tf.mul(tf.batchNorm(input, m.mean, m.variance, tf.zeros([2]), tf.ones([2]), 1e-5), w));
    })(x);
    expect(tf.max(tf.abs(tf.sub(ours, reference))).dataSync()[0]).toBeLessThan(1e-4);
    const inference = bn.apply(x, { training: false }) as tf.Tensor;
    expect(inference.shape).toEqual([8, 3, 3, 2]);
  });

  it("the baselines: encoder alone gives codes, basenet gives class probabilities", () => {
    const enc = csaeConvEncoder({ widths: [4, 8, 8, 8], latentDim: 12 });
    const base = csaeBasenet({ widths: [4, 8, 8, 8] });
    const x = tf.randomUniform([2, 32, 32, 1]);
    expect((enc.apply(x) as tf.Tensor).shape).toEqual([2, 12]);
    const p = base.apply(x) as tf.Tensor;
    expect(p.shape).toEqual([2, 10]);
    for (const s of tf.sum(p, 1).dataSync()) expect(s).toBeCloseTo(1, 5);
    enc.dispose();
    base.dispose();
  });

  it("rejects bad options with clear errors", () => {
    expect(() => csaeConv({ inputShape: [28, 28, 1] })).toThrow(/divisible by 8/);
    expect(() => csaeConv({ widths: [16, 32, 64] as unknown as [number, number, number, number] })).toThrow(/widths must be an array of 4/);
    expect(() => csaeConv({ batchNormMomentum: 1 })).toThrow(/batchNormMomentum/);
    expect(() => csaeConv({ latentDim: 0 })).toThrow(/latentDim/);
  });
});
