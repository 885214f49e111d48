/**
 * lib/regularizers: the sparsity and contractive penalties of paper 3 checked against tf.grad,
 * finite differences and autodiff Jacobians; the convolution output-size formulas against real
 * layers; the five-way dense autoencoder's objectives; the toy manifold and its vector field.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../lib/backend";
import { convDenoisingAutoencoder } from "../lib/models/autoencoders";
import { trainModel } from "../lib/train";
import {
  activationHistogram, autodiffJacobian, bernoulliKl, bernoulliKlDerivative, bernoulliKlGradient, bernoulliKlTensor,
  checkLayerShapes, circleManifoldData, contractivePenalty, convOutputSize, convTransposeOutputSize, denseAutoencoder,
  featureImages, fieldAlignmentWithCircle, klPenaltyCurve, klSparsityPenalty, l1ActivationPenalty, meanActivation,
  poolOutputSize, reconstructionField, REGULARIZER_KINDS, regularizedObjective, samePadding, sigmoidEncoderJacobian,
  sigmoidJacobianNormSquared, summarizeAutoencoder, vectorFieldFigure,
} from "../lib/regularizers";
import { meanSumOfSquares } from "../lib/metrics";
import { assertClose, seededNormal } from "./helpers/gradcheck";
import { leakedBy } from "./helpers/leaks";

beforeAll(async () => {
  await initBackend({ backend: "cpu" });
});

/** Activations in (0, 1): sigmoid of seeded normals, [rows, cols]. */
function sigmoidBatch(rows: number, cols: number, seed: number): tf.Tensor2D {
  return tf.tidy(() => tf.sigmoid(tf.tensor2d(seededNormal(rows * cols, seed, 1.5), [rows, cols])));
}

describe("KL sparsity penalty (eqs. 3–5)", () => {
  it("is zero at ρ̂ = ρ, positive elsewhere, and its curve has its minimum at ρ (Figure 5)", () => {
    expect(bernoulliKl(0.2, 0.2)).toBeCloseTo(0, 12);
    expect(bernoulliKl(0.2, 0.5)).toBeGreaterThan(0);
    expect(bernoulliKl(0.2, 0.05)).toBeGreaterThan(0);
    // KL(0.2‖0.5) = 0.2 ln 0.4 + 0.8 ln 1.6 by hand.
    expect(bernoulliKl(0.2, 0.5)).toBeCloseTo(0.2 * Math.log(0.4) + 0.8 * Math.log(1.6), 12);
    const curve = klPenaltyCurve(0.2, { numPoints: 99 });
    const argmin = curve.kl.indexOf(Math.min(...curve.kl));
    expect(curve.rhoHat[argmin]).toBeCloseTo(0.2, 10);
    expect(curve.kl[argmin]).toBeCloseTo(0, 12);
  });

  it("has the derivative −ρ/ρ̂ + (1−ρ)/(1−ρ̂): closed form = finite differences = tf.grad", () => {
    for (const rho of [0.05, 0.2, 0.7]) {
      for (const r of [0.01, 0.1, 0.2, 0.45, 0.9, 0.99]) {
        const h = 1e-6 * Math.min(r, 1 - r);
        const fd = (bernoulliKl(rho, r + h) - bernoulliKl(rho, r - h)) / (2 * h);
        expect(Math.abs(bernoulliKlDerivative(rho, r) - fd)).toBeLessThan(1e-6 * Math.max(1, Math.abs(fd)));
      }
    }
    const rhoHat = tf.tensor1d([0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 0.95]);
    const viaGrad = tf.grad((t: tf.Tensor) => tf.sum(bernoulliKlTensor(0.2, t)))(rhoHat);
    const closed = bernoulliKlGradient(0.2, rhoHat);
    assertClose(viaGrad.dataSync(), closed.dataSync(), { rtol: 1e-5, atol: 1e-5 }, "∂KL/∂ρ̂ tf.grad vs closed form");
    const values = rhoHat.arraySync() as number[];
    assertClose(closed.dataSync(), values.map((r) => bernoulliKlDerivative(0.2, r)), { rtol: 1e-5, atol: 1e-5 }, "tensor vs number closed form");
    tf.dispose([rhoHat, viaGrad, closed]);
  });

  it("penalises Σⱼ KL(ρ‖ρ̂ⱼ) of the batch means, with gradient KL'(ρ̂ⱼ)/m for every activation of unit j", () => {
    const a = sigmoidBatch(16, 6, 3);
    const rhoHat = meanActivation(a);
    const expected = (rhoHat.arraySync() as number[]).reduce((s, r) => s + bernoulliKl(0.1, r), 0);
    const penalty = klSparsityPenalty(a, { targetSparsity: 0.1 });
    expect(penalty.dataSync()[0]).toBeCloseTo(expected, 4);
    const grad = tf.grad((x: tf.Tensor) => klSparsityPenalty(x as tf.Tensor2D, { targetSparsity: 0.1 }))(a);
    const perUnit = (rhoHat.arraySync() as number[]).map((r) => bernoulliKlDerivative(0.1, r) / 16);
    const expectedGrad = Array.from({ length: 16 * 6 }, (_, k) => perUnit[k % 6]);
    assertClose(grad.dataSync(), expectedGrad, { rtol: 1e-4, atol: 1e-6 }, "∂Ω_KL/∂a");
    tf.dispose([a, rhoHat, penalty, grad]);
  });

  it("leaks nothing and rejects bad input with a message naming it", () => {
    const a = sigmoidBatch(8, 4, 1);
    expect(leakedBy(() => klSparsityPenalty(a).dispose())).toBe(0);
    expect(leakedBy(() => bernoulliKlGradient(0.2, a).dispose())).toBe(0);
    expect(leakedBy(() => meanActivation(a).dispose())).toBe(0);
    expect(() => klSparsityPenalty(a, { targetSparsity: 0 })).toThrow(/targetSparsity ρ must lie strictly between 0 and 1, got 0/);
    expect(() => klSparsityPenalty(tf.ones([4]) as unknown as tf.Tensor2D)).toThrow(/activations must be \[samples, units\]/);
    expect(() => bernoulliKl(0.2, 1)).toThrow(/rhoHat must lie strictly between 0 and 1/);
    expect(() => bernoulliKlDerivative(1.5, 0.3)).toThrow(/targetSparsity/);
    expect(() => klPenaltyCurve(0.2, { numPoints: 1 })).toThrow(/numPoints/);
    a.dispose();
  });
});

describe("L1 activation penalty (eq. 2)", () => {
  it("is Σⱼ|aⱼ| per sample averaged over the batch, and leaks nothing", () => {
    const a = tf.tensor2d([[1, -2, 0.5], [0, 3, -1]]);
    expect(l1ActivationPenalty(a).dataSync()[0]).toBeCloseTo((3.5 + 4) / 2, 6);
    expect(leakedBy(() => l1ActivationPenalty(a).dispose())).toBe(0);
    expect(() => l1ActivationPenalty(tf.scalar(1))).toThrow(/activations must be \[samples, …\]/);
    a.dispose();
  });
});

describe("contractive penalty (eqs. 7–8)", () => {
  const inputs = 12, units = 5;
  const makeEncoder = () => ({
    kernel: tf.tensor2d(seededNormal(inputs * units, 11, 0.6), [inputs, units]),
    bias: tf.tensor1d(seededNormal(units, 12, 0.3)),
  });

  it("closed-form Jacobian hⱼ(1−hⱼ)Wᵢⱼ equals the autodiff Jacobian built one unit at a time", () => {
    const { kernel, bias } = makeEncoder();
    const encode = (x: tf.Tensor1D) => tf.squeeze(tf.sigmoid(tf.add(tf.matMul(tf.expandDims(x, 0), kernel), bias)), [0]);
    for (const seed of [1, 2, 3]) {
      const x = tf.tensor1d(seededNormal(inputs, seed));
      const auto = autodiffJacobian(encode, x);
      const closed = sigmoidEncoderJacobian(x, kernel, bias);
      expect(auto.shape).toEqual([units, inputs]);
      assertClose(auto.dataSync(), closed.dataSync(), { rtol: 1e-5, atol: 1e-7 }, `Jacobian at point ${seed}`);
      tf.dispose([x, auto, closed]);
    }
    tf.dispose([kernel, bias]);
  });

  it("Σⱼ (hⱼ(1−hⱼ))² Σᵢ Wᵢⱼ² equals ‖J‖²_F of the autodiff Jacobian at every sample (tolerance 1e-5 relative)", () => {
    const { kernel, bias } = makeEncoder();
    const xs = tf.tensor2d(seededNormal(4 * inputs, 21), [4, inputs]);
    const h = tf.sigmoid(tf.add(tf.matMul(xs, kernel), bias)) as tf.Tensor2D;
    const closed = sigmoidJacobianNormSquared(h, kernel).dataSync();
    const encode = (x: tf.Tensor1D) => tf.squeeze(tf.sigmoid(tf.add(tf.matMul(tf.expandDims(x, 0), kernel), bias)), [0]);
    const auto = [0, 1, 2, 3].map((i) => tf.tidy(() => tf.sum(tf.square(autodiffJacobian(encode, tf.squeeze(tf.slice(xs, [i, 0], [1, inputs]), [0]) as tf.Tensor1D))).dataSync()[0]));
    assertClose(closed, auto, { rtol: 1e-5, atol: 0 }, "‖J‖²_F closed vs autodiff");
    expect(contractivePenalty(h, kernel).dataSync()[0]).toBeCloseTo(auto.reduce((s, v) => s + v, 0) / 4, 5);
    expect(leakedBy(() => contractivePenalty(h, kernel).dispose())).toBe(0);
    expect(leakedBy(() => autodiffJacobian(encode, tf.zeros([inputs]) as tf.Tensor1D).dispose())).toBeLessThanOrEqual(1); // the zeros input itself
    tf.dispose([kernel, bias, xs, h]);
  });

  it("rejects mismatched shapes and non-vector points", () => {
    const h = sigmoidBatch(3, 4, 1);
    const kernel = tf.ones([10, 5]) as tf.Tensor2D;
    expect(() => contractivePenalty(h, kernel)).toThrow(/kernel has 5 units .* but hidden has 4/);
    expect(() => autodiffJacobian((x) => x, tf.ones([2, 2]) as unknown as tf.Tensor1D)).toThrow(/x must be one point, a rank-1 tensor/);
    expect(() => autodiffJacobian((x) => tf.sum(x), tf.ones([3]) as tf.Tensor1D)).toThrow(/f must return a rank-1 tensor/);
    tf.dispose([h, kernel]);
  });
});

describe("convolution output sizes (eqs. 9–10)", () => {
  it("reproduces the paper's four one-layer models: 28 (same), 14 (same, stride 2), 26 (valid), 13 (valid, stride 2)", () => {
    expect(samePadding(3)).toBe(1);
    expect(convOutputSize({ inputSize: 28, kernelSize: 3, stride: 1, padding: "same" })).toBe(28);
    expect(convOutputSize({ inputSize: 28, kernelSize: 3, stride: 2, padding: "same" })).toBe(14);
    expect(convOutputSize({ inputSize: 28, kernelSize: 3, stride: 1, padding: "valid" })).toBe(26);
    expect(convOutputSize({ inputSize: 28, kernelSize: 3, stride: 2, padding: "valid" })).toBe(13);
    expect(convOutputSize({ inputSize: 28, kernelSize: 3, padding: 1 })).toBe(28);
  });

  it("matches the shapes of real Conv2D, Conv2DTranspose and MaxPooling2D layers over a grid of sizes", () => {
    for (const inputSize of [7, 12, 28]) {
      for (const kernelSize of [1, 3, 5]) {
        for (const stride of [1, 2, 3]) {
          for (const padding of ["same", "valid"] as const) {
            if (kernelSize > inputSize) continue;
            const conv = tf.layers.conv2d({ filters: 2, kernelSize, strides: stride, padding });
            const convShape = conv.computeOutputShape([null, inputSize, inputSize, 1]) as number[];
            expect(convShape[1], `conv W=${inputSize} F=${kernelSize} S=${stride} ${padding}`).toBe(convOutputSize({ inputSize, kernelSize, stride, padding }));
            const deconv = tf.layers.conv2dTranspose({ filters: 2, kernelSize, strides: stride, padding });
            const deconvShape = deconv.computeOutputShape([null, inputSize, inputSize, 1]) as number[];
            expect(deconvShape[1], `deconv W=${inputSize} F=${kernelSize} S=${stride} ${padding}`).toBe(convTransposeOutputSize({ inputSize, kernelSize, stride, padding }));
            const pool = tf.layers.maxPooling2d({ poolSize: kernelSize, strides: stride, padding });
            const poolShape = pool.computeOutputShape([null, inputSize, inputSize, 1]) as number[];
            expect(poolShape[1], `pool W=${inputSize} F=${kernelSize} S=${stride} ${padding}`).toBe(poolOutputSize({ inputSize, poolSize: kernelSize, stride, padding }));
          }
        }
      }
    }
  });

  it("checks every layer of the paper's 2,561-parameter denoising autoencoder", () => {
    const model = convDenoisingAutoencoder();
    const rows = checkLayerShapes(model.model);
    expect(rows.map((r) => r.kind)).toEqual(["Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Conv2D", "UpSampling2D", "Conv2DTranspose", "UpSampling2D", "Conv2DTranspose"]);
    expect(rows.every((r) => r.ok && r.formula !== null)).toBe(true);
    expect(rows.map((r) => r.actual.join("x"))).toEqual(["28x28x16", "14x14x16", "14x14x8", "7x7x8", "7x7x8", "14x14x8", "14x14x8", "28x28x8", "28x28x1"]);
    expect(rows.map((r) => r.params)).toEqual([160, 0, 1160, 0, 584, 0, 584, 0, 73]);
    expect(rows.reduce((s, r) => s + r.params, 0)).toBe(2561);
    model.dispose();
  });

  it("rejects impossible sizes with a clear message", () => {
    expect(() => samePadding(4)).toThrow(/kernelSize must be odd/);
    expect(() => convOutputSize({ inputSize: 0, kernelSize: 3 })).toThrow(/inputSize must be a positive integer, got 0/);
    expect(() => convOutputSize({ inputSize: 2, kernelSize: 5 })).toThrow(/larger than the padded input/);
    expect(() => convOutputSize({ inputSize: 8, kernelSize: 3, padding: -1 })).toThrow(/padding must be/);
    expect(() => checkLayerShapes({} as tf.LayersModel)).toThrow(/model must be a tf.LayersModel/);
  });
});

describe("the shared dense autoencoder trained five ways", () => {
  it("builds [784,128] weights and gives each variant its terms and weights", () => {
    const model = denseAutoencoder({ hiddenUnits: 16, seed: 3 });
    expect(model.encoderKernel.shape).toEqual([784, 16]);
    expect(model.paramCount).toBe(2 * 784 * 16 + 784 + 16);
    const x = tf.tidy(() => tf.sigmoid(tf.tensor2d(seededNormal(8 * 784, 4), [8, 784])));
    const context = { training: true, epoch: 1, numEpochs: 1, step: 0, batchIndex: 0, batchSize: 8, seed: 7 };
    const expected: Record<string, string[]> = {
      plain: ["reconstruction"], l1: ["reconstruction", "l1"], kl: ["reconstruction", "kl"], denoising: ["reconstruction"], contractive: ["reconstruction", "contractive"],
    };
    for (const kind of REGULARIZER_KINDS) {
      const objective = regularizedObjective(model, kind, { l1Weight: 0.2, klWeight: 3, contractiveWeight: 0.5 });
      const terms = tf.tidy(() => objective.lossTerms({ xs: x }, context));
      expect(Object.keys(terms)).toEqual(expected[kind]);
      expect(Object.keys(objective.lossWeights)).toEqual(expected[kind]);
      for (const t of Object.values(terms)) expect(Number.isFinite(t.dataSync()[0])).toBe(true);
      tf.dispose(Object.values(terms));
      expect(leakedBy(() => tf.dispose(Object.values(objective.lossTerms({ xs: x }, context))))).toBe(0);
    }
    const c = regularizedObjective(model, "contractive", {}).lossTerms({ xs: x }, context);
    const h = model.encode(x);
    expect(c.contractive.dataSync()[0]).toBeCloseTo(contractivePenalty(h, model.encoderKernel as unknown as tf.Tensor2D).dataSync()[0], 5);
    expect(c.reconstruction.dataSync()[0]).toBeCloseTo(meanSumOfSquares(x, model.decode(h)).dataSync()[0], 4);
    tf.dispose([x, h, ...Object.values(c)]);
    model.dispose();
  });

  it("trains through ae.trainModel (the KL-sparse variant's loss falls and its mean activation moves towards ρ)", async () => {
    const model = denseAutoencoder({ inputDim: 20, hiddenUnits: 8, seed: 1 });
    const xs = tf.tidy(() => tf.sigmoid(tf.tensor2d(seededNormal(64 * 20, 9, 2), [64, 20])));
    const objective = regularizedObjective(model, "kl", { klWeight: 1, targetSparsity: 0.1 });
    const before = tf.tidy(() => tf.mean(model.encode(xs)).dataSync()[0]);
    const history = await trainModel({ data: { xs }, variables: model.variables, lossTerms: objective.lossTerms, lossWeights: objective.lossWeights,
      numEpochs: 15, batchSize: 16, optimizer: { name: "adam", learningRate: 0.02 }, progress: false });
    const total = history.terms.total;
    expect(total[total.length - 1]).toBeLessThan(total[0]);
    const after = tf.tidy(() => tf.mean(model.encode(xs)).dataSync()[0]);
    expect(Math.abs(after - 0.1)).toBeLessThan(Math.abs(before - 0.1));
    xs.dispose();
    model.dispose();
  });

  it("summarises MSE, sparsity, Jacobian norm and noisy MSE as direct computation does, leaking nothing", async () => {
    const model = denseAutoencoder({ inputDim: 10, hiddenUnits: 6, seed: 2 });
    const x = tf.tidy(() => tf.sigmoid(tf.tensor2d(seededNormal(30 * 10, 5), [30, 10])));
    const noisy = tf.tidy(() => tf.clipByValue(tf.add(x, 0.1), 0, 1)) as tf.Tensor2D;
    const summary = await summarizeAutoencoder(model, x, { noisyTestX: noisy, batchSize: 7, nearZeroThreshold: 0.4 });
    const h = model.encode(x);
    const r = model.decode(h);
    expect(summary.testMse).toBeCloseTo(tf.mean(tf.square(tf.sub(r, x))).dataSync()[0], 6);
    expect(summary.meanActivation).toBeCloseTo(tf.mean(h).dataSync()[0], 6);
    const hv = h.dataSync();
    expect(summary.nearZeroFraction).toBeCloseTo(Array.from(hv).filter((v) => v < 0.4).length / hv.length, 6);
    expect(summary.meanJacobianNorm).toBeCloseTo(tf.mean(tf.sqrt(sigmoidJacobianNormSquared(h, model.encoderKernel as unknown as tf.Tensor2D))).dataSync()[0], 5);
    expect(summary.noisyMse).toBeCloseTo(tf.mean(tf.square(tf.sub(model.reconstruct(noisy), x))).dataSync()[0], 6);
    tf.dispose([h, r]);
    const before = tf.memory().numTensors;
    await summarizeAutoencoder(model, x, { noisyTestX: noisy });
    expect(tf.memory().numTensors).toBe(before);
    await expect(summarizeAutoencoder(model, tf.ones([3, 4]) as tf.Tensor2D)).rejects.toThrow(/testX must be \[samples, 10\]/);
    tf.dispose([x, noisy]);
    model.dispose();
  });

  it("leaves no tensor behind once a model is disposed (its four variables only while alive)", () => {
    denseAutoencoder({ inputDim: 6, hiddenUnits: 3 }).dispose();
    const before = tf.memory().numTensors;
    const model = denseAutoencoder({ inputDim: 6, hiddenUnits: 3 });
    expect(tf.memory().numTensors - before).toBe(4);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("rejects bad options by name", () => {
    expect(() => denseAutoencoder({ hiddenUnits: 0 })).toThrow(/hiddenUnits must be a positive integer, got 0/);
    expect(() => denseAutoencoder({ outputActivation: "relu" as "linear" })).toThrow(/outputActivation must be "sigmoid" or "linear"/);
    const linear = denseAutoencoder({ inputDim: 4, hiddenUnits: 2, hiddenActivation: "linear" });
    expect(() => regularizedObjective(linear, "contractive")).toThrow(/needs a sigmoid encoder/);
    expect(() => regularizedObjective(linear, "dropout" as "plain")).toThrow(/kind must be one of plain, l1, kl, denoising, contractive/);
    expect(() => regularizedObjective(linear, "l1", { l1Weight: -1 })).toThrow(/l1Weight must be a finite number ≥ 0, got -1/);
    linear.dispose();
  });

  it("turns weights into [0, 1] feature images and histograms activations into fractions summing to 1", () => {
    const kernel = tf.tensor2d(seededNormal(9 * 4, 3), [9, 4]);
    const images = featureImages(kernel, { maxUnits: 3 });
    expect(images.shape).toEqual([3, 9]);
    const v = images.dataSync();
    expect(Math.min(...v)).toBe(0);
    expect(Math.max(...v)).toBeCloseTo(1, 6);
    expect(leakedBy(() => featureImages(kernel).dispose())).toBe(0);
    const hist = activationHistogram([0, 0.01, 0.5, 0.99, 1], { bins: 10 });
    expect(hist.fractions.reduce((s, f) => s + f, 0)).toBeCloseTo(1, 12);
    expect(hist.fractions[0]).toBeCloseTo(0.4, 12);
    expect(hist.fractions[9]).toBeCloseTo(0.4, 12);
    expect(() => activationHistogram([], {})).toThrow(/values is empty/);
    tf.dispose([kernel, images]);
  });
});

describe("toy manifold and reconstruction field", () => {
  it("samples points near the circle, seeded", () => {
    const a = circleManifoldData({ numPoints: 400, noiseStd: 0.02, seed: 4 });
    const b = circleManifoldData({ numPoints: 400, noiseStd: 0.02, seed: 4 });
    expect(a.shape).toEqual([400, 2]);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    const radii = tf.tidy(() => tf.sqrt(tf.sum(tf.square(a), 1)).dataSync());
    for (const r of radii) expect(Math.abs(r - 1)).toBeLessThan(0.12);
    expect(() => circleManifoldData({ numPoints: 0 })).toThrow(/numPoints must be a positive integer/);
    tf.dispose([a, b]);
  });

  it("gives r(x) − x on a grid: zero for the identity, aligned (cos = 1) for the projection onto the circle", () => {
    const identity = reconstructionField((x) => tf.clone(x), { gridSize: 5 });
    expect(identity.points).toHaveLength(25);
    expect(identity.vectors.every(([u, v]) => u === 0 && v === 0)).toBe(true);
    const project = (x: tf.Tensor2D) => tf.div(x, tf.maximum(tf.norm(x, 2, 1, true), 1e-6));
    const field = reconstructionField(project, { gridSize: 9 });
    expect(fieldAlignmentWithCircle(field)).toBeCloseTo(1, 5);
    const away = reconstructionField((x) => tf.sub(tf.mul(2, x), project(x)), { gridSize: 9 });
    expect(fieldAlignmentWithCircle(away)).toBeCloseTo(-1, 5);
    expect(leakedBy(() => reconstructionField(project, { gridSize: 4 }))).toBe(0);
    expect(() => reconstructionField((x) => tf.sum(x, 1), { gridSize: 3 })).toThrow(/must return \[n, 2\]/);
    expect(() => reconstructionField(project, { range: [1, 0] })).toThrow(/max > min/);
  });

  it("draws the fields side by side as arrow traces over the data", () => {
    const field = reconstructionField((x) => tf.mul(x, 0.5), { gridSize: 3 });
    const fig = vectorFieldFigure([{ title: "a", field, data: [[0, 1], [1, 0]] }, { title: "b", field }], { title: "fields" });
    expect(fig.data.map((t) => t.type)).toEqual(["scatter", "scatter", "scatter"]);
    expect(fig.data[2].xaxis).toBe("x2");
    expect((fig.layout as Record<string, unknown>).xaxis2).toBeDefined();
    // 9 shafts + 8 two-stroke heads (the centre arrow has zero length), each segment ending in a null.
    expect((fig.data[1].x as unknown[]).filter((v) => v === null)).toHaveLength(9 + 8 * 2);
    expect(fig.description).toMatch(/Vector field 'fields': a \(9 arrows\), b \(9 arrows\)/);
    expect(() => vectorFieldFigure([])).toThrow(/non-empty array/);
  });
});
