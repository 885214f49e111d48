/**
 * lib/optim's demo pieces: the Gaussian-cluster generator, the dense autoencoder (activation
 * derivatives and backpropagation against tf.grad), the program's gradient convention, the
 * ensemble used for seed sweeps, config validation and the training wrappers (leaks too).
 */
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import {
  gaussianClusters, DEMO_CLUSTER_MEANS, demoAutoencoder, applyDemoActivation, demoActivationDerivative, demoBackprop,
  scaleGradient, rootMeanSquareError, drawDemoParameters, demoAutoencoderEnsemble, checkDemoConfig,
  trainDemoAutoencoder, trainDemoEnsemble, DEMO_ACTIVATIONS, DEMO_CONFIG_DEFAULTS, pcaReconstructionLimit, sigmoidOutputFloor, learningPhases,
} from "../lib/optim";
import { meanSumOfSquares } from "../lib/metrics";

beforeAll(async () => {
  await tf.setBackend("cpu");
  await tf.ready();
});

describe("gaussianClusters", () => {
  it("defaults to the program's data: 4 clusters × 100 points in R⁴, scaled so max |x| = 1", () => {
    const d = gaussianClusters({ seed: 3 });
    expect([d.numPoints, d.dimension, d.numClusters]).toEqual([400, 4, 4]);
    expect(d.points).toHaveLength(400);
    expect([0, 1, 2, 3].map((k) => d.labels.filter((l) => l === k).length)).toEqual([100, 100, 100, 100]);
    const flat = d.points.flat();
    expect(Math.max(...flat.map(Math.abs))).toBeCloseTo(1, 12);
    expect(flat.every((x) => x >= -1 && x <= 1)).toBe(true);
    expect(d.scale).toBeGreaterThan(0.5);
  });

  it("is deterministic per seed and differs between seeds", () => {
    expect(gaussianClusters({ seed: 5 }).points).toEqual(gaussianClusters({ seed: 5 }).points);
    expect(gaussianClusters({ seed: 5 }).points[0]).not.toEqual(gaussianClusters({ seed: 6 }).points[0]);
  });

  it("samples the given means and (full) covariances", () => {
    const n = 4000;
    const cov = [[0.04, 0.03], [0.03, 0.09]];
    const d = gaussianClusters({ means: [[1, -2]], covariances: [cov], counts: [n], seed: 1, normalize: false });
    expect(d.scale).toBe(1);
    const mean = [0, 1].map((j) => d.points.reduce((s, p) => s + p[j], 0) / n);
    expect(Math.abs(mean[0] - 1)).toBeLessThan(4 * Math.sqrt(0.04 / n));
    expect(Math.abs(mean[1] + 2)).toBeLessThan(4 * Math.sqrt(0.09 / n));
    const c01 = d.points.reduce((s, p) => s + (p[0] - mean[0]) * (p[1] - mean[1]), 0) / n;
    expect(Math.abs(c01 - 0.03)).toBeLessThan(0.006);
    // Unnormalised default means are recovered per cluster (the tight cluster 3 to within 4σ/√n).
    const raw = gaussianClusters({ seed: 2, normalize: false });
    const m3 = [0, 1, 2, 3].map((j) => raw.points.slice(300).reduce((s, p) => s + p[j], 0) / 100);
    m3.forEach((m, j) => expect(Math.abs(m - DEMO_CLUSTER_MEANS[3][j])).toBeLessThan(4 * Math.sqrt(0.001 / 100)));
  });

  it("names the bad input", () => {
    expect(() => gaussianClusters({ counts: [100, 100] })).toThrow(/counts must have one entry per cluster \(4 means\)/);
    expect(() => gaussianClusters({ means: [[0, 0], [1]], covariances: [[1, 1], [1, 1]], counts: [1, 1] })).toThrow(/means\[1\] must hold 2 finite numbers/);
    expect(() => gaussianClusters({ means: [[0, 0]], covariances: [[[1, 2], [2, 1]]], counts: [5] })).toThrow(/covariances\[0\] is not positive semi-definite/);
    expect(() => gaussianClusters({ means: [[0, 0]], covariances: [[[1, 0.5], [0.2, 1]]], counts: [5] })).toThrow(/covariances\[0\] must be symmetric/);
    expect(() => gaussianClusters({ means: [[0, 0]], covariances: [[1, -1]], counts: [5] })).toThrow(/covariances\[0\]\[1\] is a variance and must be ≥ 0/);
    expect(() => gaussianClusters({ seed: 1.5 })).toThrow(/seed must be an integer/);
    expect(() => gaussianClusters({ counts: [100, 0, 100, 100] })).toThrow(/counts\[1\] must be a positive integer/);
  });
});

describe("activations (4)–(6) and their derivatives", () => {
  it("closed-form σ′ matches tf.grad for identity, sigmoid and tanh", () => {
    const z = tf.linspace(-4, 4, 41);
    for (const name of DEMO_ACTIVATIONS) {
      const auto = tf.grad((x: tf.Tensor) => tf.sum(applyDemoActivation(name, x)))(z);
      const closed = demoActivationDerivative(name, z);
      expect(tf.max(tf.abs(tf.sub(auto, closed))).dataSync()[0]).toBeLessThan(1e-6);
      tf.dispose([auto, closed]);
    }
    // Ranges: sigmoid (0, 1) — it can never output a negative coordinate; tanh (−1, 1).
    const s = applyDemoActivation("sigmoid", z).dataSync();
    expect(Math.min(...s)).toBeGreaterThan(0);
    z.dispose();
    expect(() => applyDemoActivation("relu" as never, tf.scalar(1))).toThrow(/activation must be one of identity, sigmoid, tanh/);
  });
});

describe("demoAutoencoder", () => {
  it("builds 4-6-2-5-4 with W_l as outputs × inputs, parameters 0.1·N(0,1) from the seed", () => {
    const model = demoAutoencoder({ seed: 7 });
    expect(model.weights.map((w) => w.shape)).toEqual([[6, 4], [2, 6], [5, 2], [4, 5]]);
    expect(model.biases.map((b) => b.shape)).toEqual([[6], [2], [5], [4]]);
    expect(model.codeLayer).toBe(2);
    expect(model.countParams()).toBe(6 * 4 + 6 + 2 * 6 + 2 + 5 * 2 + 5 + 4 * 5 + 4);
    expect(model.parameters()).toEqual(drawDemoParameters([4, 6, 2, 5, 4], 0.1, 7));
    const x = tf.tensor2d(gaussianClusters({ seed: 1 }).points);
    const codes = model.encode(x);
    expect(codes.shape).toEqual([400, 2]);
    tf.dispose([codes, x]);
    model.dispose();
    // The scale: 2000 draws of 0.1·N(0, 1) have a standard deviation near 0.1.
    const big = drawDemoParameters([1000, 2, 1000], 0.1, 1).weights[0].flat();
    const sd = Math.sqrt(big.reduce((s, w) => s + w * w, 0) / big.length);
    expect(Math.abs(sd - 0.1)).toBeLessThan(0.005);
  });

  it("round-trips parameters and copies them between models", () => {
    const a = demoAutoencoder({ seed: 1, activation: "sigmoid" });
    const b = demoAutoencoder({ seed: 2, activation: "sigmoid" });
    b.setParameters(a.parameters());
    expect(b.parameters()).toEqual(a.parameters());
    expect(() => b.setParameters({ weights: [], biases: [] })).toThrow(/expected 4 weight matrices/);
    a.dispose();
    b.dispose();
  });

  it("rejects architectures without a 2-unit interior code layer", () => {
    expect(() => demoAutoencoder({ layerSizes: [4, 6, 3, 5, 4] })).toThrow(/no interior layer has 2 units/);
    expect(() => demoAutoencoder({ layerSizes: [4, 6, 3, 5, 4], codeLayer: 2 })).toThrow(/the code layer \(layer 2\) must have exactly 2 units, got 3/);
    expect(() => demoAutoencoder({ layerSizes: [4, 2, 5] })).toThrow(/input layer \(4 units\) and the output layer \(5 units\)/);
    expect(() => demoAutoencoder({ layerSizes: [2, 2] })).toThrow(/at least 3 layers/);
    expect(() => demoAutoencoder({ layerSizes: [4, 2, 2, 4] })).toThrow(/interior layers 1, 2 all have 2 units/);
    expect(() => demoAutoencoder({ layerSizes: [4, 2, 4], codeLayer: 0 })).toThrow(/codeLayer must index an interior layer/);
    expect(() => demoAutoencoder({ activation: "relu" as never })).toThrow(/activation must be one of "identity", "sigmoid", "tanh"/);
  });

  it("backpropagation written out equals autodiff of J = ½·meanSumOfSquares, for each activation and both conventions", () => {
    const x = tf.tensor2d(gaussianClusters({ seed: 4 }).points.slice(0, 32));
    for (const activation of DEMO_ACTIVATIONS) {
      const model = demoAutoencoder({ seed: 3, activation, weightScale: 0.5 });
      for (const convention of ["mean", "program"] as const) {
        const scale = convention === "program" ? 32 : 1;
        const { grads } = tf.variableGrads(() => tf.mul(0.5, meanSumOfSquares(x, model.reconstruct(x, { weightGradientScale: scale }))) as tf.Scalar, model.variables);
        const manual = demoBackprop(model, x, x, convention);
        model.weights.forEach((w, i) => {
          const err = tf.max(tf.abs(tf.sub(grads[w.name], manual.weights[i]))).dataSync()[0];
          const size = tf.max(tf.abs(manual.weights[i])).dataSync()[0];
          expect(err).toBeLessThan(1e-5 * Math.max(1, size));
          expect(tf.max(tf.abs(tf.sub(grads[model.biases[i].name], manual.biases[i]))).dataSync()[0]).toBeLessThan(1e-6);
        });
        tf.dispose([...Object.values(grads), ...manual.weights, ...manual.biases]);
      }
      model.dispose();
    }
    x.dispose();
  });

  it("scaleGradient leaves values alone and scales the gradient", () => {
    const w = tf.tensor1d([1, 2, 3]);
    const y = scaleGradient(w, 5);
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.square(scaleGradient(v, 5))))(w);
    expect(Array.from(g.dataSync())).toEqual([10, 20, 30]);
    tf.dispose([w, y, g]);
  });

  it("RMSE (3) is √(meanSumOfSquares / d)", () => {
    const a = tf.tensor2d([[0.1, -0.2, 0.3, 0], [0.5, 0.5, -0.5, 0.2]]);
    const b = tf.tensor2d([[0, 0, 0, 0], [0.4, 0.7, -0.1, 0.1]]);
    const mss = meanSumOfSquares(a, b).dataSync()[0];
    expect(mss).toBeCloseTo((0.01 + 0.04 + 0.09 + 0.01 + 0.04 + 0.16 + 0.01) / 2, 6);
    expect(rootMeanSquareError(a, b).dataSync()[0]).toBeCloseTo(Math.sqrt(mss / 4), 6);
    tf.dispose([a, b]);
  });
});

describe("demoAutoencoderEnsemble", () => {
  it("replica k is demoAutoencoder({ seed: seeds[k] }): same outputs and gradients", () => {
    const seeds = [3, 8];
    const ens = demoAutoencoderEnsemble({ seeds, activation: "tanh" });
    const data = seeds.map((s) => gaussianClusters({ seed: s }).points.slice(0, 16));
    const x3 = tf.tensor3d(data);
    const { grads: eg } = tf.variableGrads(() => tf.sum(tf.mean(tf.sum(tf.square(tf.sub(ens.reconstruct(x3, { weightGradientScale: 16 }), x3)), 2), 1)) as tf.Scalar, ens.variables);
    seeds.forEach((seed, k) => {
      const single = demoAutoencoder({ seed, activation: "tanh" });
      expect(ens.replicaParameters(k)).toEqual(single.parameters());
      const x = tf.tensor2d(data[k]);
      const out = single.reconstruct(x);
      const ensOut = tf.tidy(() => tf.squeeze(tf.slice(ens.reconstruct(x3), [k, 0, 0], [1, 16, 4]), [0]));
      expect(tf.max(tf.abs(tf.sub(out, ensOut))).dataSync()[0]).toBeLessThan(1e-6);
      const { grads } = tf.variableGrads(() => meanSumOfSquares(x, single.reconstruct(x, { weightGradientScale: 16 })), single.variables);
      single.weights.forEach((w, l) => {
        const mine = tf.tidy(() => tf.squeeze(tf.slice(eg[ens.weights[l].name], [k, 0, 0], [1, ...w.shape]), [0]));
        expect(tf.max(tf.abs(tf.sub(grads[w.name], mine))).dataSync()[0]).toBeLessThan(1e-5);
        mine.dispose();
      });
      tf.dispose([x, out, ensOut, ...Object.values(grads)]);
      single.dispose();
    });
    tf.dispose([x3, ...Object.values(eg)]);
    ens.dispose();
    expect(() => demoAutoencoderEnsemble({ seeds: [1, 1] })).toThrow(/seeds must be distinct/);
  });

  it("replicas train independently: a 2-replica run gives each replica the losses of its own 1-replica run", async () => {
    const seeds = [11, 12];
    const inputs = seeds.map((s) => gaussianClusters({ seed: s, counts: [20, 20, 20, 20] }).points);
    const opts = { optimizer: "adam" as const, numEpochs: 4, batchSize: 16, stopBelow: 0, seed: 2 };
    const both = demoAutoencoderEnsemble({ seeds });
    const joint = await trainDemoEnsemble({ ensemble: both, inputs, ...opts });
    both.dispose();
    for (let k = 0; k < 2; k++) {
      const one = demoAutoencoderEnsemble({ seeds: [seeds[k]] });
      const alone = await trainDemoEnsemble({ ensemble: one, inputs: [inputs[k]], ...opts });
      one.dispose();
      alone.losses[0].forEach((l, e) => expect(Math.abs(l - joint.losses[k][e])).toBeLessThan(1e-5 * l));
    }
  });
});

describe("checkDemoConfig", () => {
  it("fills defaults from the program's config.json", () => {
    const c = checkDemoConfig();
    expect(c).toEqual(JSON.parse(JSON.stringify(DEMO_CONFIG_DEFAULTS)));
    expect([c.layers, c.learningRate, c.batchSize, c.numEpochs, c.epsilon, c.optimizer]).toEqual([[4, 6, 2, 5, 4], 0.005, 32, 1000, 0.005, "adam"]);
  });

  it("lists every problem in one error", () => {
    let message = "";
    try {
      checkDemoConfig({ layers: [4, 6, 3, 5, 4], optimizer: "adagrad" as never, batchSize: 0, beta1: 1, epsilon: -1 });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^invalid demo config:/);
    expect(message).toMatch(/the code layer \(layer 2\) must have exactly 2 units, got 3/);
    expect(message).toMatch(/optimizer must be one of sgd, momentum, rmsprop, adam, got "adagrad"/);
    expect(message).toMatch(/batchSize must be a positive integer, got 0/);
    expect(message).toMatch(/beta1 must be in \[0, 1\), got 1/);
    expect(message).toMatch(/epsilon must be a non-negative number, got -1/);
    expect(() => checkDemoConfig({ layers: [3, 2, 3] })).toThrow(/layers\[0\] \(3 input units\) must equal the data dimension 4/);
    expect(() => checkDemoConfig({ learningrate: 0.1 } as never)).toThrow(/unknown field 'learningrate'/);
  });
});

describe("training wrappers", () => {
  it("trainDemoAutoencoder lowers the loss, stops below ε, records frames and leaks nothing", async () => {
    const x = tf.tensor2d(gaussianClusters({ seed: 1, counts: [25, 25, 25, 25] }).points);
    const prime = demoAutoencoder({ seed: 1 });
    await trainDemoAutoencoder({ model: prime, inputs: x, numEpochs: 1, recordEvery: 1 });
    prime.dispose();
    const before = tf.memory().numTensors;
    const model = demoAutoencoder({ seed: 1 });
    const initial = model.parameters();
    const r = await trainDemoAutoencoder({ model, inputs: x, optimizer: "adam", numEpochs: 40, stopBelow: 0, recordEvery: 10 });
    expect(r.losses).toHaveLength(40);
    expect(r.finalLoss).toBeLessThan(0.7 * r.losses[0]);
    expect(r.frames.map((f) => f.epoch)).toEqual([0, 10, 20, 30, 40]);
    expect(r.frames[1].codes).toHaveLength(100);
    const stopAt = r.losses[5];
    model.setParameters(initial);
    const stopped = await trainDemoAutoencoder({ model, inputs: x, optimizer: "adam", numEpochs: 40, stopBelow: stopAt * 1.0001 });
    expect(stopped.convergedAt).not.toBeNull();
    expect(stopped.history.epochs.length).toBe(stopped.convergedAt);
    expect(stopped.history.stoppedEarly).toBe(true);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it("trainDemoEnsemble leaks nothing and reports per-replica convergence", async () => {
    const inputs = [1, 2].map((s) => gaussianClusters({ seed: s, counts: [10, 10, 10, 10] }).points);
    const run = async () => {
      const ens = demoAutoencoderEnsemble({ seeds: [1, 2] });
      const r = await trainDemoEnsemble({ ensemble: ens, inputs, numEpochs: 3, batchSize: 16, stopBelow: 10, recordEvery: 1 });
      ens.dispose();
      return r;
    };
    await run();
    const before = tf.memory().numTensors;
    const r = await run();
    expect(tf.memory().numTensors).toBe(before);
    expect(r.convergedAt).toEqual([1, 1]);
    expect(r.history.epochs).toEqual([1]);
    expect(r.frames.map((f) => f.epoch)).toEqual([0, 1]);
    expect(r.stopLoss).toEqual([r.losses[0][0], r.losses[1][0]]);
  });
});

describe("limits and phases", () => {
  it("pcaReconstructionLimit: variance outside the top components, equal to the measured projection error and to a closed form", () => {
    // Points on three axes with variances 4, 1 and 0.25 (divisor n): the rank-2 limit is 0.25.
    const pts = [[2, 0, 0], [-2, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 0.5], [0, 0, -0.5]].flatMap((p) => [p, p]);
    const r = pcaReconstructionLimit(pts, 2);
    const total = (8 + 2 + 0.5) / 6;
    expect(r.totalVariance).toBeCloseTo(total, 5);
    expect(r.limit).toBeCloseTo(0.5 / 6, 5);
    expect(r.measured).toBeCloseTo(0.5 / 6, 5);
    const before = tf.memory().numTensors;
    const x = tf.tensor2d(gaussianClusters({ seed: 2 }).points);
    const fromTensor = pcaReconstructionLimit(x, 2);
    expect(Math.abs(fromTensor.limit - fromTensor.measured)).toBeLessThan(1e-5);
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("sigmoidOutputFloor sums the squares of the negative coordinates", () => {
    expect(sigmoidOutputFloor([[0.5, -0.5], [-1, 0.2]])).toBeCloseTo((0.25 + 1) / 2, 12);
    expect(() => sigmoidOutputFloor([])).toThrow(/non-empty/);
  });

  it("learningPhases marks unfolding, plateau, descent and convergence, never going back", () => {
    const losses = [0.2, 0.1, 0.05, 0.041, 0.04, 0.045, 0.039, 0.03, 0.02, 0.012, 0.009, 0.006, 0.0049];
    const { phaseOfEpoch, phases } = learningPhases(losses, { linearLimit: 0.04, epsilon: 0.005 });
    expect(phaseOfEpoch).toEqual([1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 4, 4, 4]);
    expect(phases.map((p) => [p.phase, p.startEpoch, p.endEpoch])).toEqual([[1, 1, 3], [2, 4, 7], [3, 8, 10], [4, 11, 13]]);
    // A jump straight past the plateau skips phase 2.
    expect(learningPhases([0.2, 0.01], { linearLimit: 0.04, epsilon: 0.001 }).phases.map((p) => p.phase)).toEqual([1, 3]);
    expect(() => learningPhases(losses, { linearLimit: 0, epsilon: 0.005 })).toThrow(/linearLimit must be a positive number/);
  });
});
