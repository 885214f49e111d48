/**
 * The Adam hook (lib/optimizer-hooks.ts): createOptimizer builds tfjs's Adam unless another
 * provider is registered, and an accelerator's provider is used, then restorable.
 */
import { afterEach, expect, test } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { adamProvider, AdamProvider, createAdam, registerAdamProvider, TFJS_ADAM } from "../lib/optimizer-hooks";
import { createOptimizer, disposeOptimizer } from "../lib/train";

afterEach(() => {
  registerAdamProvider(TFJS_ADAM);
});

test("by default createOptimizer's Adam is tfjs's, with the spec's arguments", async () => {
  await tf.setBackend("cpu");
  expect(adamProvider()).toBe(TFJS_ADAM);
  const adam = createOptimizer({ name: "adam", learningRate: 0.02, beta1: 0.8, beta2: 0.99, epsilon: 1e-6 }) as tf.AdamOptimizer;
  expect(Object.getPrototypeOf(adam)).toBe(tf.AdamOptimizer.prototype);
  expect(adam.getConfig()).toEqual({ learningRate: 0.02, beta1: 0.8, beta2: 0.99, epsilon: 1e-6 });
  disposeOptimizer(adam);
});

test("a registered provider builds createOptimizer's Adam from the same four arguments; the previous one comes back", async () => {
  await tf.setBackend("cpu");
  class MarkedAdam extends tf.AdamOptimizer {}
  const calls: unknown[][] = [];
  const marked: AdamProvider = {
    description: "marked",
    create: (...args) => {
      calls.push(args);
      return new MarkedAdam(args[0], args[1], args[2], args[3]);
    },
  };
  expect(registerAdamProvider(marked)).toBe(TFJS_ADAM);
  const adam = createOptimizer({ name: "adam", learningRate: 0.005 });
  expect(adam).toBeInstanceOf(MarkedAdam);
  expect(calls).toEqual([[0.005, 0.9, 0.999, undefined]]);
  disposeOptimizer(adam);
  const direct = createAdam(0.1, 0.5, 0.6);
  expect(direct).toBeInstanceOf(MarkedAdam);
  disposeOptimizer(direct);
  expect(registerAdamProvider(TFJS_ADAM)).toBe(marked);
  expect(adamProvider()).toBe(TFJS_ADAM);
});

test("a malformed provider is refused, naming what is expected", () => {
  expect(() => registerAdamProvider({ description: "x" } as unknown as AdamProvider)).toThrow("registerAdamProvider: expected { description: string, create:");
  expect(adamProvider()).toBe(TFJS_ADAM);
});
