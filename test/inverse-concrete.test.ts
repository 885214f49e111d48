/**
 * lib/inverse/stages.ts, concrete.ts and train-concrete.ts: reading an abstract network into invertible stages, the mirrored
 * concrete network (shapes, jumps, round, pseudo-inverse start), calibration, training with the
 * abstract half frozen, negative feedback; leak counts and bad-input errors. Small networks on
 * 10×10 images so the file runs in seconds.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../lib/backend";
import { cnnClassifier, fsaeClassifier } from "../lib/models/classifiers";
import { freeze } from "../lib/train";
import {
  abstractActivations, abstractStages, applyAbstractStages, calibrateConcreteNetwork, concreteInputs, concreteNetwork, denseInverseWeights,
  generationMetrics, negativeFeedback, reconstruct, trainConcreteNetwork,
} from "../lib/inverse";
import { assertClose, seededNormal } from "./helpers/gradcheck";

beforeAll(async () => {
  await initBackend();
});

const small = () => fsaeClassifier({ inputShape: [10, 10, 1], filters: [2, 3], denseUnits: 8, numClasses: 4, seed: 3 });
const images = (n: number, seed: number) => tf.tidy(() => tf.sigmoid(tf.tensor4d(seededNormal(n * 100, seed), [n, 10, 10, 1])));

describe("abstractStages", () => {
  it("reads fsaeClassifier as conv, conv, dense (after Flatten), dense softmax with leaky-ReLU activations", () => {
    const clf = small();
    const stages = abstractStages(clf.model);
    expect(stages.map((s) => `${s.kind}:${s.activation.name}:${s.inputShape.join("x")}→${s.outputShape.join("x")}`)).toEqual([
      "conv2d:leakyRelu:10x10x1→8x8x2", "conv2d:leakyRelu:8x8x2→6x6x3", "dense:leakyRelu:6x6x3→8", "dense:softmax:8→4",
    ]);
    expect(stages[2].flattened).toBe(true);
    expect(stages[0].activation).toEqual({ name: "leakyRelu", alpha: 0.3 });
    expect(stages[1].conv).toMatchObject({ kernelSize: [3, 3], strides: [1, 1], padding: "valid", filters: 3, inChannels: 2 });
    clf.dispose();
  });

  it("refuses ReLU and pooling, saying why", () => {
    const relu = cnnClassifier({ inputShape: [10, 10, 1], filters: [2], denseUnits: 4 });
    expect(() => abstractStages(relu.model)).toThrow(/activation 'relu'.*ReLU maps every negative input to 0/);
    relu.dispose();
    const pooled = tf.sequential({ layers: [
      tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 2, kernelSize: 3 }), tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(), tf.layers.dense({ units: 3, activation: "softmax" }),
    ] });
    expect(() => abstractStages(pooled)).toThrow(/MaxPooling2D.*keeps one value of each window/);
    pooled.dispose();
    expect(() => abstractStages({} as tf.LayersModel)).toThrow(/model must be a tf.LayersModel/);
  });
});

describe("abstractActivations", () => {
  it("returns a_k per stage; the last equals the model's prediction; batching changes nothing; no leaks", () => {
    const clf = small();
    const x = images(7, 1);
    const [a3, a4] = abstractActivations(clf.model, x, { stages: [3, 4], batchSize: 3 });
    expect(a3.shape).toEqual([7, 8]);
    const predicted = clf.model.predict(x) as tf.Tensor;
    assertClose(a4.dataSync(), predicted.dataSync(), { rtol: 1e-5, atol: 1e-6 }, "a_K = predict");
    const [whole] = abstractActivations(clf.model, x, { stages: [3] });
    assertClose(whole.dataSync(), a3.dataSync(), { rtol: 1e-5, atol: 1e-6 }, "batched = whole");
    tf.dispose([a3, a4, predicted, whole]);
    const count = () => tf.dispose(abstractActivations(clf.model, x, { batchSize: 4 }));
    count();
    const before = tf.memory().numTensors;
    count();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => abstractActivations(clf.model, x, { stages: [5] })).toThrow(/stage numbers in 1\.\.4/);
    expect(() => abstractActivations(clf.model, tf.zeros([2, 9, 9, 1]))).toThrow(/x must have shape \[n, 10, 10, 1\]/);
    x.dispose();
    clf.dispose();
  });
});

describe("concreteNetwork", () => {
  it("mirrors the abstract network: top → … → an image of the input's shape, inverse activations as layers", () => {
    const clf = small();
    const net = concreteNetwork(clf.model);
    const names = net.model.layers.map((l) => l.getClassName());
    expect(names).toEqual([
      "InputLayer", "LogitLayer", "Dense", "InverseLeakyReLU", "Dense", "Reshape", "InverseLeakyReLU", "Conv2DTranspose", "InverseLeakyReLU", "Conv2DTranspose",
    ]);
    const y = tf.tensor2d([[1, 0, 0, 0]]);
    const out = net.generate(y);
    expect(out.shape).toEqual([1, 10, 10, 1]);
    tf.dispose([y, out]);
    net.dispose();
    clf.dispose();
  });

  it("jump k averages a_k into the layer that rebuilds a_{k−1}: with â_k replaced by a_k, the stage below sees a_k", () => {
    const clf = small();
    const net = concreteNetwork(clf.model, { jumps: [3] });
    expect(net.model.inputs.map((i) => i.shape)).toEqual([[null, 4], [null, 8]]);
    const average = net.model.layers.find((l) => l.getClassName() === "Average")!;
    const probe = tf.model({ inputs: net.model.inputs, outputs: (average.input as tf.SymbolicTensor[])[0], name: "probe" });
    const x = images(2, 2);
    const inputs = concreteInputs(clf.model, net, x);
    const above = probe.predict([inputs.top, ...inputs.jumps]) as tf.Tensor;
    const mean = tf.model({ inputs: net.model.inputs, outputs: average.output as tf.SymbolicTensor }).predict([inputs.top, ...inputs.jumps]) as tf.Tensor;
    assertClose(mean.dataSync(), tf.div(tf.add(above, inputs.jumps[0]), 2).dataSync(), { rtol: 1e-5, atol: 1e-6 }, "mean of â_3 and a_3");
    expect(() => net.generate(inputs.top)).toThrow(/expected 1 jump tensor/);
    expect(() => concreteNetwork(clf.model, { jumps: [4] })).toThrow(/jumps must hold stage numbers in 1\.\.3/);
    tf.dispose([x, inputs.top, ...inputs.jumps, above, mean]);
    net.dispose();
    clf.dispose();
  });

  it("round: probabilities become 0/1 before the inverse, so a confident prediction and its one-hot label generate the same image", () => {
    const clf = small();
    const net = concreteNetwork(clf.model, { round: true });
    const soft = tf.tensor2d([[0.1, 0.8, 0.05, 0.05]]);
    const hard = tf.tensor2d([[0, 1, 0, 0]]);
    const [a, b] = [net.generate(soft), net.generate(hard)];
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    tf.dispose([soft, hard, a, b]);
    net.dispose();
    clf.dispose();
  });

  it("pseudoInverse start: each inverse dense layer holds W⁺ and −b·W⁺ of its abstract layer", () => {
    const clf = small();
    const stages = abstractStages(clf.model);
    const net = concreteNetwork(clf.model, { initialization: "pseudoInverse" });
    const layer = net.model.layers.find((l) => l.name === "concrete_inv_dense4")!;
    const [kernel, bias] = stages[3].linear.getWeights();
    const expected = denseInverseWeights(kernel as tf.Tensor2D, bias as tf.Tensor1D);
    const [k, b] = layer.getWeights();
    assertClose(k.dataSync(), expected.kernel.dataSync(), { rtol: 1e-5, atol: 1e-6 }, "W⁺");
    assertClose(b.dataSync(), expected.bias.dataSync(), { rtol: 1e-5, atol: 1e-6 }, "−b·W⁺");
    tf.dispose([expected.kernel, expected.bias]);
    expect(() => concreteNetwork(clf.model, { initialization: "zeros" as "glorot" })).toThrow(/initialization must be/);
    net.dispose();
    clf.dispose();
  });
});

describe("calibration, training, feedback", () => {
  it("calibration gives the output the target's RMS and every hidden layer RMS 1", () => {
    const clf = small();
    const net = concreteNetwork(clf.model, { jumps: [2] });
    const x = images(16, 4);
    const inputs = concreteInputs(clf.model, net, x);
    const report = calibrateConcreteNetwork(net, inputs, { target: x });
    expect(report.map((r) => r.layer)).toEqual(["concrete_inv_dense4", "concrete_inv_dense3", "concrete_inv_conv2", "concrete_inv_conv1"]);
    const out = net.generate(inputs.top, inputs.jumps);
    const rms = (t: tf.Tensor) => tf.tidy(() => tf.sqrt(tf.mean(tf.square(t))).dataSync()[0]);
    expect(rms(out)).toBeCloseTo(rms(x), 3);
    tf.dispose([x, out, inputs.top, ...inputs.jumps]);
    net.dispose();
    clf.dispose();
  });

  it("trains the concrete half only (abstract weights unchanged, MSE falls) and refuses an unfrozen abstract network", async () => {
    const clf = small();
    const net = concreteNetwork(clf.model, { jumps: [3] });
    const x = images(64, 5);
    await expect(trainConcreteNetwork({ abstract: clf.model, network: net, images: x, numEpochs: 1, progress: false })).rejects.toThrow(/freeze the abstract network first/);
    freeze(clf.model);
    const abstractBefore = clf.model.getWeights().map((w) => Array.from(w.dataSync()));
    const before = tf.memory().numTensors;
    const history = await trainConcreteNetwork({ abstract: clf.model, network: net, images: x, numEpochs: 8, batchSize: 16, progress: false, validationImages: x });
    expect(tf.memory().numTensors).toBe(before);
    const mse = history.terms.mse;
    expect(mse[mse.length - 1]).toBeLessThan(mse[0]);
    expect(history.validation!.mse).toHaveLength(8);
    clf.model.getWeights().forEach((w, i) => expect(Array.from(w.dataSync())).toEqual(abstractBefore[i]));
    const out = reconstruct(clf.model, net, x, { batchSize: 10 });
    const metrics = generationMetrics(x, out);
    expect(metrics.mse).toBeCloseTo(history.validation!.mse[7], 4);
    expect(metrics.cosineSimilarity).toBeGreaterThan(0);
    expect(metrics.cosineSimilarity).toBeLessThanOrEqual(1);
    tf.dispose([x, out]);
    net.dispose();
    clf.dispose();
  });

  it("negative feedback: pass 1 is the plain autoencoder, pass 2 sees x + κ(x − x̂_1); κ = 0 repeats pass 1; no leaks", () => {
    const clf = small();
    const net = concreteNetwork(clf.model, { jumps: [3] });
    const x = images(5, 6);
    const outs = negativeFeedback(clf.model, net, x, { iterations: 3, gain: 0.5 });
    expect(outs).toHaveLength(3);
    const plain = reconstruct(clf.model, net, x);
    assertClose(outs[0].dataSync(), plain.dataSync(), { rtol: 1e-5, atol: 1e-6 }, "pass 1");
    const u2 = tf.add(x, tf.mul(0.5, tf.sub(x, plain)));
    const second = reconstruct(clf.model, net, u2);
    assertClose(outs[1].dataSync(), second.dataSync(), { rtol: 1e-5, atol: 1e-6 }, "pass 2");
    const still = negativeFeedback(clf.model, net, x, { iterations: 2, gain: 0 });
    assertClose(still[1].dataSync(), plain.dataSync(), { rtol: 1e-5, atol: 1e-6 }, "κ = 0");
    tf.dispose([...outs, plain, u2, second, ...still]);
    const run = () => tf.dispose(negativeFeedback(clf.model, net, x, { iterations: 2 }));
    run();
    const before = tf.memory().numTensors;
    run();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => negativeFeedback(clf.model, net, x, { iterations: 0 })).toThrow(/iterations must be a positive integer/);
    x.dispose();
    net.dispose();
    clf.dispose();
  });

  it("applyAbstractStages is abstractActivations as a differentiable function: its input gradient matches a finite difference", () => {
    const clf = small();
    const stages = abstractStages(clf.model);
    const x = images(3, 7);
    const [a2, a4] = tf.tidy(() => applyAbstractStages(stages, x, [2, 4]).map((t) => tf.keep(t)));
    const [b2, b4] = abstractActivations(clf.model, x, { stages: [2, 4] });
    assertClose(a2.dataSync(), b2.dataSync(), { rtol: 1e-5, atol: 1e-6 }, "a_2");
    assertClose(a4.dataSync(), b4.dataSync(), { rtol: 1e-5, atol: 1e-6 }, "a_4");
    const weights = tf.tensor2d([[1, -2, 0.5, 3]]);
    const f = (input: tf.Tensor) => tf.sum(tf.mul(applyAbstractStages(stages, input, [4])[0], weights));
    const direction = images(3, 8);
    const analytic = tf.tidy(() => tf.sum(tf.mul(tf.grad(f)(x), direction)).dataSync()[0]);
    const h = 1e-2;
    const numeric = tf.tidy(() => (f(tf.add(x, tf.mul(h, direction))).dataSync()[0] - f(tf.sub(x, tf.mul(h, direction))).dataSync()[0]) / (2 * h));
    expect(Math.abs(analytic - numeric)).toBeLessThan(1e-2 * Math.max(1, Math.abs(numeric)));
    expect(() => applyAbstractStages(stages, x, [9])).toThrow(/wanted must hold stage numbers in 1\.\.4/);
    tf.dispose([a2, a4, b2, b4, weights, direction, x]);
    clf.dispose();
  });

  it("feedbackPasses 2 trains through the unrolled loop: its validation MSE is that of negativeFeedback's pass 2", async () => {
    const clf = small();
    freeze(clf.model);
    const net = concreteNetwork(clf.model, { jumps: [3] });
    const x = images(48, 9);
    await expect(trainConcreteNetwork({ abstract: clf.model, network: net, images: x, numEpochs: 1, feedbackPasses: 0 })).rejects.toThrow(/feedbackPasses must be a positive integer/);
    const before = tf.memory().numTensors;
    const history = await trainConcreteNetwork({ abstract: clf.model, network: net, images: x, numEpochs: 6, batchSize: 16, progress: false,
      validationImages: x, feedbackPasses: 2, feedbackGain: 0.5 });
    expect(tf.memory().numTensors).toBe(before);
    const mse = history.terms.mse;
    expect(mse[mse.length - 1]).toBeLessThan(mse[0]);
    const outs = negativeFeedback(clf.model, net, x, { iterations: 2, gain: 0.5 });
    expect(generationMetrics(x, outs[1]).mse).toBeCloseTo(history.validation!.mse[5], 4);
    tf.dispose([...outs, x]);
    net.dispose();
    clf.dispose();
  });
});
