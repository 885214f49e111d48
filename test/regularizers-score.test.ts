/**
 * lib/regularizers/score.ts: the Gaussian mixture's closed-form log-density and score (eqs. S1–S2)
 * against quadrature and tf.grad, the smoothed mixture (S3) against a numerical convolution,
 * Tweedie's optimal denoiser (S4) against a quadrature of the posterior mean, the σ² convergence of
 * (r*(x) − x)/σ² to the score, and a small denoising autoencoder that learns it from samples.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { trainModel } from "../lib/train";
import { mlpAutoencoder } from "../lib/models/autoencoders";
import { addGaussianNoise } from "../lib/data/noise";
import { meanSumOfSquares } from "../lib/metrics";
import {
  denoiserScore, fieldAgreement, gaussianMixture, logLogSlope, mixtureLogDensity, mixtureScore, posteriorMeanQuadrature,
  sampleMixture, smoothedMixture, tweedieDenoiser,
} from "../lib/regularizers";
import { assertClose } from "./helpers/gradcheck";
import { leakedBy } from "./helpers/leaks";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const mix1 = gaussianMixture({ weights: [0.3, 0.5, 0.2], means: [-1.5, 0.4, 2], stds: [0.35, 0.5, 0.3] });
const mix2 = gaussianMixture({ weights: [0.6, 0.4], means: [[-1, 0.5], [1, -0.5]], stds: [0.4, 0.7] });
const grid = (lo: number, hi: number, n: number) => Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));

/** The mixture density in float64, for references independent of the tensor code. */
function density1d(x: number, m = mix1): number {
  return m.weights.reduce((s, w, k) => s + (w * Math.exp(-((x - m.means[k][0]) ** 2) / (2 * m.stds[k] ** 2))) / (m.stds[k] * Math.sqrt(2 * Math.PI)), 0);
}

describe("Gaussian mixture density and score (eqs. S1–S2)", () => {
  it("has log p equal to a float64 evaluation of the density, and p integrates to 1", () => {
    const xs = grid(-3, 3.5, 27);
    const logp = tf.tidy(() => mixtureLogDensity(mix1, tf.tensor2d(xs, [xs.length, 1])).dataSync());
    assertClose(logp, xs.map((x) => Math.log(density1d(x))), { rtol: 0, atol: 2e-5 }, "log p");
    const fine = grid(-6, 6, 12001);
    const integral = fine.reduce((s, x) => s + density1d(x), 0) * (12 / 12000);
    expect(Math.abs(integral - 1)).toBeLessThan(1e-9);
    // 2-D, one point by hand: p = Σ wₖ exp(−‖x − μₖ‖²/2sₖ²)/(2π sₖ²).
    const hand = Math.log(0.6 * Math.exp(-(1 + 0.25) / (2 * 0.16)) / (2 * Math.PI * 0.16) + 0.4 * Math.exp(-(1 + 0.25) / (2 * 0.49)) / (2 * Math.PI * 0.49));
    const at0 = tf.tidy(() => mixtureLogDensity(mix2, tf.tensor2d([[0, 0]])).dataSync()[0]);
    expect(at0).toBeCloseTo(hand, 5);
  });

  it("has the closed-form score equal to tf.grad of log p, in 1-D and 2-D", () => {
    for (const [mix, points] of [[mix1, tf.tensor2d(grid(-3, 3.5, 40), [40, 1])], [mix2, tf.tensor2d(grid(-2, 2, 30).flatMap((v, i) => [v, 1.5 - 0.1 * i]), [30, 2])]] as const) {
      const closed = mixtureScore(mix, points);
      const viaGrad = tf.grad((x: tf.Tensor) => tf.sum(mixtureLogDensity(mix, x as tf.Tensor2D)))(points);
      const cmp = assertClose(closed.dataSync(), viaGrad.dataSync(), { rtol: 1e-5, atol: 1e-5 }, `score dim ${mix.dim}`);
      expect(cmp.scale).toBeGreaterThan(1); // the score is far from zero somewhere on the grid
      tf.dispose([points, closed, viaGrad]);
    }
  });

  it("reduces to −(x − μ)/s² for one component", () => {
    const one = gaussianMixture({ weights: [1], means: [0.7], stds: [0.5] });
    const s = tf.tidy(() => mixtureScore(one, tf.tensor2d([[-1], [0.7], [2]])).dataSync());
    assertClose(s, [1.7 / 0.25, 0, -1.3 / 0.25], { rtol: 1e-6, atol: 1e-5 }, "single Gaussian score");
  });

  it("rejects bad mixtures and points, naming them", () => {
    expect(() => gaussianMixture({ weights: [0.5, 0.4], means: [0, 1], stds: [1, 1] })).toThrow(/weights must sum to 1, got 0.9/);
    expect(() => gaussianMixture({ weights: [1], means: [0], stds: [0] })).toThrow(/stds\[0\] must be a positive number/);
    expect(() => gaussianMixture({ weights: [0.5, 0.5], means: [[0, 1], [1]], stds: [1, 1] })).toThrow(/means\[1\] must be 2 finite numbers/);
    expect(() => gaussianMixture({ weights: [0.5, 0.5], means: [0], stds: [1, 1] })).toThrow(/same non-zero length/);
    const wrong = tf.zeros([3, 2]) as tf.Tensor2D;
    expect(() => mixtureScore(mix1, wrong)).toThrow(/mixtureScore: x must be \[n, 1\] points, got shape \[3, 2\]/);
    expect(() => tweedieDenoiser(mix1, 0, wrong)).toThrow(/sigma must be a positive number, got 0/);
    expect(() => posteriorMeanQuadrature(mix2, 0.1, [0])).toThrow(/must be 1-D, got dim 2/);
    wrong.dispose();
  });

  it("frees every intermediate", () => {
    const x = tf.tensor2d(grid(-2, 2, 9), [9, 1]);
    expect(leakedBy(() => tf.dispose([mixtureScore(mix1, x), mixtureLogDensity(mix1, x), tweedieDenoiser(mix1, 0.2, x)]))).toBe(0);
    x.dispose();
  });
});

describe("Tweedie's optimal denoiser (eqs. S3–S4)", () => {
  it("smooths the mixture by adding σ² to each variance: p_σ equals the numerical convolution p * N(0, σ²)", () => {
    const sigma = 0.3;
    const smooth = smoothedMixture(mix1, sigma);
    expect(smooth.stds.map((s, k) => s * s - mix1.stds[k] ** 2)).toEqual(smooth.stds.map(() => expect.closeTo(sigma * sigma, 12)));
    const ys = grid(-8, 8, 16001), h = 16 / 16000;
    for (const x of [-2, -0.3, 1.1, 3]) {
      const conv = ys.reduce((s, y) => s + density1d(y) * Math.exp(-((x - y) ** 2) / (2 * sigma * sigma)), 0) * h / (sigma * Math.sqrt(2 * Math.PI));
      expect(density1d(x, smooth)).toBeCloseTo(conv, 10);
    }
  });

  it("equals the posterior mean E[x | x̃] computed by quadrature, at small and large σ", () => {
    const xt = grid(-3, 3.5, 27);
    for (const sigma of [0.05, 0.2, 0.6]) {
      const quad = posteriorMeanQuadrature(mix1, sigma, xt);
      const tweedie = tf.tidy(() => tweedieDenoiser(mix1, sigma, tf.tensor2d(xt, [xt.length, 1])).dataSync());
      assertClose(tweedie, quad, { rtol: 0, atol: 2e-5 }, `Tweedie vs quadrature, σ = ${sigma}`);
    }
    // The posterior mean is pulled towards the data: at x̃ = 3.5 (right of every mean) E[x | x̃] < x̃.
    expect(posteriorMeanQuadrature(mix1, 0.3, [3.5])[0]).toBeLessThan(3.5);
  });

  it("gives (r*(x) − x)/σ² → ∇ log p(x) with an error of order σ²", () => {
    const sigmas = [0.2, 0.1, 0.05, 0.025];
    const x = tf.tensor2d(grid(-2.5, 3, 56), [56, 1]);
    const truth = mixtureScore(mix1, x);
    const errors = sigmas.map((sigma) => {
      const estimate = tf.tidy(() => tf.div(tf.sub(tweedieDenoiser(mix1, sigma, x), x), sigma * sigma));
      const a = fieldAgreement(estimate, truth);
      estimate.dispose();
      return a.rmsError;
    });
    for (let i = 1; i < errors.length; i++) expect(errors[i]).toBeLessThan(errors[i - 1] / 3); // halving σ divides it by ≈ 4
    const slope = logLogSlope(sigmas, errors);
    expect(slope).toBeGreaterThan(1.8);
    expect(slope).toBeLessThan(2.2);
    tf.dispose([x, truth]);
  });
});

describe("sampling and agreement", () => {
  it("samples the mixture with its mean and variance, seeded", () => {
    const a = sampleMixture(mix1, 40000, { seed: 3 });
    const b = sampleMixture(mix1, 40000, { seed: 3 });
    expect(Array.from(a.dataSync().slice(0, 50))).toEqual(Array.from(b.dataSync().slice(0, 50)));
    const mean = mix1.weights.reduce((s, w, k) => s + w * mix1.means[k][0], 0);
    const variance = mix1.weights.reduce((s, w, k) => s + w * (mix1.stds[k] ** 2 + mix1.means[k][0] ** 2), 0) - mean * mean;
    const v = Array.from(a.dataSync());
    const m = v.reduce((s, x) => s + x, 0) / v.length;
    const s2 = v.reduce((s, x) => s + (x - m) ** 2, 0) / v.length;
    expect(Math.abs(m - mean)).toBeLessThan(4 * Math.sqrt(variance / v.length));
    expect(Math.abs(s2 - variance)).toBeLessThan(0.03 * variance);
    expect(() => sampleMixture(mix1, 0)).toThrow(/n must be a positive integer/);
    tf.dispose([a, b]);
  });

  it("measures agreement: zero error and correlation 1 for the field itself, relative error 1 for twice it", () => {
    const t = tf.tensor2d([[1, 0], [0, 2], [-1, -2]]);
    const same = fieldAgreement(t, t);
    expect(same).toEqual({ rmsError: 0, maxError: 0, relativeError: 0, correlation: expect.closeTo(1, 12) });
    const twice = tf.mul(t, 2);
    const a = fieldAgreement(twice, t);
    expect(a.relativeError).toBeCloseTo(1, 12);
    expect(a.correlation).toBeCloseTo(1, 6);
    expect(a.maxError).toBeCloseTo(Math.sqrt(5), 6);
    expect(a.rmsError).toBeCloseTo(Math.sqrt((1 + 4 + 5) / 3), 6);
    expect(() => fieldAgreement(t, tf.zeros([3, 1]))).toThrow(/same shape/);
    expect(logLogSlope([1, 2, 4], [3, 12, 48])).toBeCloseTo(2, 12);
    expect(() => logLogSlope([1, 2], [1, 0])).toThrow(/must be positive/);
    tf.dispose([t, twice]);
  });

  it("a small denoising autoencoder trained on samples learns (r(x) − x)/σ² ≈ ∇ log p_σ where the data are", async () => {
    const sigma = 0.3;
    const data = sampleMixture(mix1, 1500, { seed: 1 });
    const net = mlpAutoencoder({ layerSizes: [1, 32, 32, 32, 1], hiddenActivation: "relu", latentActivation: "relu", outputActivation: "linear", seed: 0 });
    await trainModel({ data: { xs: data }, models: [net.model], numEpochs: 20, batchSize: 100, optimizer: { name: "adam", learningRate: 0.01 }, seed: 0, progress: false,
      lossTerms: (b, c) => ({ reconstruction: meanSumOfSquares(b.xs, net.reconstruct(addGaussianNoise(b.xs, { noiseFactor: sigma, clip: false, seed: c.seed }))) }),
      learningRateSchedule: (epoch, lr) => lr * 0.1 ** ((epoch - 1) / 19) });
    const x = tf.tensor2d(grid(-2, 2.3, 44), [44, 1]);
    const estimate = denoiserScore((v) => net.reconstruct(v, false), sigma, x);
    const smoothScore = mixtureScore(smoothedMixture(mix1, sigma), x);
    const score = mixtureScore(mix1, x);
    const toSmooth = fieldAgreement(estimate, smoothScore), toP = fieldAgreement(estimate, score);
    // Seeded run on the cpu backend: correlation 0.924, relative error 0.405 (vs 0.636 against p's own score).
    expect(toSmooth.correlation).toBeGreaterThan(0.9);
    expect(toSmooth.relativeError).toBeLessThan(0.45);
    // At σ = 0.3 it estimates the smoothed score, measurably not p's own.
    expect(toP.relativeError).toBeGreaterThan(toSmooth.relativeError + 0.15);
    expect(() => denoiserScore((v) => tf.sum(v), sigma, x)).toThrow(/reconstruct must return \[44, 1\]/);
    tf.dispose([data, x, estimate, smoothScore, score]);
    net.dispose();
  });
});
