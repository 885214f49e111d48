/**
 * FusedMomentumOptimizer (lib/accelerate/fused-momentum.ts): on wasm with the native addon it must
 * take the same steps as tfjs's MomentumOptimizer (on the cpu backend, from the same weights and
 * gradients), plain and Nesterov, through a learning-rate change; leave a tensor that shares a
 * weight's memory as it was; be tfjs's own on other backends; leak nothing; be what
 * createOptimizer builds for "momentum" once the accelerator has started wasm; and add weight
 * decay's gradient in its pass with the bits of addDecay followed by the update.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend";
import { FusedMomentumOptimizer } from "../../lib/accelerate/fused-momentum";
import { loadNativeKernels } from "../../lib/accelerate/native/addon";
import { createOptimizer, disposeOptimizer } from "../../lib/train";
import { addDecay, GradientDecay } from "../../lib/optimizer-hooks";
import { assertClose, bitwiseDifferences, seededNormal, withBackend } from "../helpers/gradcheck";
import { trainTwoLayerNet } from "../helpers/optimizer-steps";

beforeAll(async () => {
  await initBackend({ backend: "cpu" });
  await initBackend({ backend: "wasm" });
});
afterAll(() => tf.disposeVariables());

/** Six momentum steps (learning rate halved after the third) on a two-layer net; the weights after, and the optimiser. */
const train = (backend: string, makeOptimizer: () => tf.MomentumOptimizer, snapshotAtStep = -1) =>
  trainTwoLayerNet(backend, makeOptimizer, { steps: 6, weightSeed: 200, dataSeeds: [9, 10], snapshotAtStep, learningRateChange: { step: 3, rate: 0.025 } });

const TOLERANCE = { rtol: 1e-5, atol: 1e-6 };

describe.runIf(loadNativeKernels().loaded)("on wasm with the native addon", () => {
  for (const nesterov of [false, true]) {
    test(`takes tfjs momentum's steps (cpu backend)${nesterov ? ", Nesterov" : ""}, every update native`, async () => {
      const reference = await train("cpu", () => tf.train.momentum(0.05, 0.9, nesterov));
      const fused = await train("wasm", () => new FusedMomentumOptimizer(0.05, 0.9, nesterov));
      fused.weights.forEach((w, i) => assertClose(w, reference.weights[i], TOLERANCE, `weight ${i}`));
      // The weights moved: a pass is not two untouched copies.
      expect(Math.max(...fused.weights[0].map((v, i) => Math.abs(v - seededNormal(96, 200, 0.5)[i])))).toBeGreaterThan(1e-3);
      expect((fused.optimizer as FusedMomentumOptimizer).nativeSteps).toBe(6);
      [reference.optimizer, fused.optimizer].forEach((o) => disposeOptimizer(o));
    });
  }

  test("a tensor sharing a weight's memory stays as it was (one private copy), and the steps still match", async () => {
    const reference = await train("cpu", () => tf.train.momentum(0.05, 0.9));
    const fused = await train("wasm", () => new FusedMomentumOptimizer(0.05, 0.9), 2);
    expect(fused.snapshotChanged).toBe(false);
    expect((fused.optimizer as FusedMomentumOptimizer).privateCopies).toBe(1);
    fused.weights.forEach((w, i) => assertClose(w, reference.weights[i], TOLERANCE, `weight ${i}`));
    [reference.optimizer, fused.optimizer].forEach((o) => disposeOptimizer(o));
  });

  test("leaks no tensors per step, and createOptimizer builds it for \"momentum\"", async () => {
    await withBackend("wasm", () => {
      const v = tf.tidy(() => tf.variable(tf.ones([300, 300])));
      const optimizer = createOptimizer({ name: "momentum", learningRate: 0.01, momentum: 0.9 });
      expect(optimizer).toBeInstanceOf(FusedMomentumOptimizer);
      const step = () => optimizer.minimize(() => tf.sum(tf.square(v)) as tf.Scalar, false, [v]);
      step();
      const before = tf.memory().numTensors;
      step();
      step();
      expect(tf.memory().numTensors).toBe(before);
      expect((optimizer as FusedMomentumOptimizer).nativeSteps).toBe(3);
      disposeOptimizer(optimizer);
      v.dispose();
      return null;
    });
  });
});

/** Three steps with weight decay on all weights but the second, through applyGradientsWithDecay or addDecay + applyGradients; the weights after. */
async function decayedSteps(backend: string, inUpdate: boolean, nesterov: boolean, factor = Math.fround(Math.fround(0.37) * Math.fround(5e-3))) {
  // Sizes on both sides of the addon's 2048-value chunks and of its two-thread threshold (64k).
  const shapes = [[5000], [3, 3, 16, 16], [70_001], [7]];
  return withBackend(backend, () => {
    const vars = shapes.map((shape, i) => {
      const initial = tf.tensor(seededNormal(shape.reduce((a, b) => a * b, 1), 300 + i), shape);
      const variable = tf.variable(initial);
      initial.dispose();
      return variable;
    });
    const optimizer = new FusedMomentumOptimizer(0.05, 0.9, nesterov);
    const decay: GradientDecay = { factor, variables: [vars[0], vars[2], vars[3]] };
    for (let step = 0; step < 3; step++) {
      const grads = Object.fromEntries(vars.map((v, i) => [v.name, tf.tensor(seededNormal(v.size, 400 + 10 * step + i, 1e-2), v.shape)]));
      if (inUpdate) optimizer.applyGradientsWithDecay(grads, decay);
      else tf.tidy(() => optimizer.applyGradients(addDecay(grads, decay) as unknown as Parameters<tf.MomentumOptimizer["applyGradients"]>[0]));
      tf.dispose(Object.values(grads));
    }
    const weights = vars.map((v) => Float32Array.from(v.dataSync()));
    tf.dispose(vars);
    return { weights, optimizer };
  });
}

describe.runIf(loadNativeKernels().loaded)("weight decay in the native pass", () => {
  for (const nesterov of [false, true]) {
    test(`the bits of addDecay then the update${nesterov ? ", Nesterov" : ""}; every step native; nothing left behind`, async () => {
      const before = tf.memory().numTensors;
      const fused = await decayedSteps("wasm", true, nesterov);
      const twoKernels = await decayedSteps("wasm", false, nesterov);
      fused.weights.forEach((w, i) => expect(bitwiseDifferences(w, twoKernels.weights[i]), `weight ${i}`).toEqual([]));
      expect((fused.optimizer as FusedMomentumOptimizer).nativeSteps).toBe(3);
      // The decay moved the decayed weights, and only those: with factor 0 the second weight ends where it did, the others elsewhere.
      const undecayed = await decayedSteps("wasm", true, nesterov, 0);
      expect(bitwiseDifferences(undecayed.weights[1], fused.weights[1])).toEqual([]);
      for (const i of [0, 2, 3]) expect(bitwiseDifferences(undecayed.weights[i], fused.weights[i]), `weight ${i}`).not.toEqual([]);
      [fused.optimizer, twoKernels.optimizer, undecayed.optimizer].forEach((o) => disposeOptimizer(o));
      expect(tf.memory().numTensors).toBe(before);
    });
  }
  test("and tfjs's momentum on the cpu backend, from addDecay's gradients, within float32 rounding", async () => {
    const fused = await decayedSteps("wasm", true, false);
    const reference = await decayedSteps("cpu", false, false);
    expect((reference.optimizer as FusedMomentumOptimizer).nativeSteps).toBe(0);
    fused.weights.forEach((w, i) => assertClose(w, reference.weights[i], TOLERANCE, `weight ${i}`));
    [fused.optimizer, reference.optimizer].forEach((o) => disposeOptimizer(o));
  });
});

test("on the cpu backend, with weight decay, it is tfjs's momentum SGD on addDecay's gradients, exactly", async () => {
  const ours = await decayedSteps("cpu", true, true);
  const reference = await decayedSteps("cpu", false, true);
  ours.weights.forEach((w, i) => expect(bitwiseDifferences(w, reference.weights[i]), `weight ${i}`).toEqual([]));
  expect((ours.optimizer as FusedMomentumOptimizer).nativeSteps).toBe(0);
  [ours.optimizer, reference.optimizer].forEach((o) => disposeOptimizer(o));
});

test("on the cpu backend it is tfjs's momentum SGD, exactly", async () => {
  const reference = await train("cpu", () => tf.train.momentum(0.05, 0.9, true));
  const fused = await train("cpu", () => new FusedMomentumOptimizer(0.05, 0.9, true));
  fused.weights.forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(reference.weights[i])));
  expect((fused.optimizer as FusedMomentumOptimizer).nativeSteps).toBe(0);
  [reference.optimizer, fused.optimizer].forEach((o) => disposeOptimizer(o));
});
