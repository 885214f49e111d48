/**
 * weightDecayTerm (lib/train/loss-terms.ts): the value (rate/2)·Σ‖v‖² and its closed-form gradient
 * rate·v, against autodiff through the plain formula, on several variables of different shapes.
 */
import { expect, test } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { weightDecayTerm } from "../lib/train/loss-terms";
import { assertClose, seededNormal } from "./helpers/gradcheck";

test("value and gradient equal autodiff of (rate/2)·Σ‖v‖², with fewer kernels", async () => {
  await tf.setBackend("cpu");
  const shapes = [[3, 4], [5], [2, 2, 3]];
  const variables = shapes.map((shape, i) => tf.variable(tf.tensor(seededNormal(shape.reduce((a, b) => a * b, 1), 30 + i), shape)));
  const rate = 0.3;
  const plain = () => tf.mul(rate / 2, tf.addN(variables.map((v) => tf.sum(tf.square(v))))) as tf.Scalar;
  const ours = () => weightDecayTerm({ rate, variables });
  const before = tf.memory().numTensors;
  const a = tf.variableGrads(ours, variables);
  const b = tf.variableGrads(plain, variables);
  expect(a.value.dataSync()[0]).toBeCloseTo(b.value.dataSync()[0], 5);
  for (const v of variables) {
    assertClose(a.grads[v.name].dataSync(), b.grads[v.name].dataSync(), { rtol: 1e-6, atol: 1e-7 }, v.name);
    assertClose(a.grads[v.name].dataSync(), tf.tidy(() => tf.mul(v, rate).dataSync()), { rtol: 1e-6, atol: 1e-7 }, `${v.name} = rate·v`);
  }
  tf.dispose([a.value, b.value, ...Object.values(a.grads), ...Object.values(b.grads)]);
  expect(tf.memory().numTensors).toBe(before);
  const kernels = async (fn: () => tf.Scalar) => (await tf.profile(() => { const g = tf.variableGrads(fn, variables); return [g.value, ...Object.values(g.grads)]; })).kernels.length;
  expect(await kernels(ours)).toBeLessThan(await kernels(plain));
  tf.dispose(variables);
});
