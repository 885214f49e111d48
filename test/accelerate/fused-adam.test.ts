/**
 * FusedAdamOptimizer (lib/accelerate/fused-adam.ts): on wasm with the native addon it must take the same
 * steps as tfjs's AdamOptimizer (here: on the cpu backend, from the same weights and
 * gradients), fall back to tfjs's own step where a weight's memory is shared (a reshaped
 * view of it must not change), be tfjs's Adam on other backends, and leak nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend";
import { FusedAdamOptimizer } from "../../lib/accelerate/fused-adam";
import { loadNativeKernels } from "../../lib/accelerate/native/addon";
import { assertClose, withBackend } from "../helpers/gradcheck";
import { trainTwoLayerNet } from "../helpers/optimizer-steps";

beforeAll(async () => {
  await initBackend({ backend: "cpu" });
  await initBackend({ backend: "wasm" });
});
afterAll(() => tf.disposeVariables());

/** Five Adam steps on a two-layer net from fixed weights and data; the weights after, and the optimiser. */
const train = (backend: string, makeOptimizer: () => tf.Optimizer, snapshotAtStep = -1) =>
  trainTwoLayerNet(backend, makeOptimizer, { steps: 5, weightSeed: 100, dataSeeds: [7, 8], snapshotAtStep });

const TOLERANCE = { rtol: 1e-5, atol: 1e-6 };

describe.runIf(loadNativeKernels().loaded)("on wasm with the native addon", () => {
  test("takes tfjs Adam's steps (cpu backend) with every update native", async () => {
    const reference = await train("cpu", () => tf.train.adam(0.01));
    const fused = await train("wasm", () => new FusedAdamOptimizer(0.01, 0.9, 0.999));
    fused.weights.forEach((w, i) => assertClose(w, reference.weights[i], TOLERANCE, `weight ${i}`));
    expect((fused.optimizer as FusedAdamOptimizer).nativeSteps).toBe(5);
    [reference.optimizer, fused.optimizer].forEach((o) => o.dispose());
  });

  test("a tensor sharing a weight's memory stays as it was (the weight gets a private copy first), and the steps still match", async () => {
    const reference = await train("cpu", () => tf.train.adam(0.01));
    const fused = await train("wasm", () => new FusedAdamOptimizer(0.01, 0.9, 0.999), 2);
    expect(fused.snapshotChanged).toBe(false);
    // Step 2 finds weight 0's memory shared and copies it once; every step is native.
    expect((fused.optimizer as FusedAdamOptimizer).nativeSteps).toBe(5);
    expect((fused.optimizer as FusedAdamOptimizer).privateCopies).toBe(1);
    fused.weights.forEach((w, i) => assertClose(w, reference.weights[i], TOLERANCE, `weight ${i}`));
    [reference.optimizer, fused.optimizer].forEach((o) => o.dispose());
  });

  test("leaks no tensors per step", async () => {
    await withBackend("wasm", () => {
      const v = tf.tidy(() => tf.variable(tf.ones([300, 300])));
      const optimizer = new FusedAdamOptimizer(0.01, 0.9, 0.999);
      const step = () => optimizer.minimize(() => tf.sum(tf.square(v)) as tf.Scalar, false, [v]);
      step();
      const before = tf.memory().numTensors;
      step();
      step();
      expect(tf.memory().numTensors).toBe(before);
      expect(optimizer.nativeSteps).toBe(3);
      optimizer.dispose();
      v.dispose();
      return null;
    });
  });
});

test("on the cpu backend it is tfjs's Adam, exactly", async () => {
  const reference = await train("cpu", () => tf.train.adam(0.01));
  const fused = await train("cpu", () => new FusedAdamOptimizer(0.01, 0.9, 0.999));
  fused.weights.forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(reference.weights[i])));
  expect((fused.optimizer as FusedAdamOptimizer).nativeSteps).toBe(0);
  [reference.optimizer, fused.optimizer].forEach((o) => o.dispose());
});
