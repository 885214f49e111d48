/**
 * Weight decay (lib/train/loss-terms.ts, lib/optimizer-hooks.ts): the value (rate/2)·Σ‖v‖² taken off the tape, and its
 * gradient λ·rate·v added to the data gradients by addDecay. Against autodiff of the plain weighted total, and bit for bit
 * against the tape's own formulation (the term in the total with the closed-form gradient rate·v·dy, accumulated by the
 * tape), with the term unweighted, weighted 1 and weighted λ.
 */
import { expect, test } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { weightDecayGradient, weightDecayValue } from "../lib/train/loss-terms";
import { addDecay } from "../lib/optimizer-hooks";
import { assertClose, bitwiseDifferences, seededNormal } from "./helpers/gradcheck";

const SHAPES = [[3, 4], [5], [2, 2, 3]];

function setup() {
  const variables = SHAPES.map((shape, i) => tf.variable(tf.tensor(seededNormal(shape.reduce((a, b) => a * b, 1), 30 + i), shape)));
  const x = tf.tensor(seededNormal(12, 40), [3, 4]);
  // A data loss that reads every variable once.
  const data = () => tf.addN(variables.map((v) => tf.sum(tf.mul(tf.sin(v), tf.mean(x))))) as tf.Scalar;
  return { variables, x, data };
}

test("the value is (rate/2)·Σ‖v‖², bit for bit as tf.mul(rate/2, Σ tf.sum(tf.square(v))), and leaves nothing behind", async () => {
  await tf.setBackend("cpu");
  const { variables, x } = setup();
  const rate = 0.3;
  const before = tf.memory().numTensors;
  const ours = weightDecayValue({ rate, variables });
  const plain = tf.tidy(() => tf.mul(rate / 2, tf.addN(variables.map((v) => tf.sum(tf.square(v))))));
  expect(bitwiseDifferences(ours.dataSync(), plain.dataSync())).toEqual([]);
  const exact = variables.reduce((s, v) => s + Array.from(v.dataSync()).reduce((a, b) => a + b * b, 0), 0) * rate / 2;
  expect(ours.dataSync()[0]).toBeCloseTo(exact, 5);
  tf.dispose([ours, plain]);
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose([...variables, x]);
});

for (const lossWeight of [undefined, 1, 0.37]) {
  test(`data gradient + addDecay (term weighted ${lossWeight ?? "not at all"}): the tape's own bits, and autodiff of the plain total`, async () => {
    await tf.setBackend("cpu");
    const { variables, x, data } = setup();
    const rate = 5e-4 * 7;
    const weigh = (t: tf.Scalar) => (lossWeight === undefined || lossWeight === 1 ? t : tf.mul(t, lossWeight) as tf.Scalar);
    // The tape's formulation (before the term left the tape): closed-form gradient v·(dy·rate), accumulated with the data's.
    const onTape = tf.customGrad(((...args: Array<tf.Tensor | tf.GradSaveFunc>) => ({
      value: tf.mul(rate / 2, tf.addN((args.slice(0, -1) as tf.Tensor[]).map((v) => tf.sum(tf.square(v))))) as tf.Scalar,
      gradFunc: (dy: tf.Tensor) => { const factor = tf.mul(dy, rate); return variables.map((v) => tf.mul(v, factor)); },
    })) as unknown as Parameters<typeof tf.customGrad>[0]);
    const before = tf.memory().numTensors;
    const tape = tf.variableGrads(() => tf.add(data(), weigh(onTape(...variables) as tf.Scalar)) as tf.Scalar, variables);
    const plain = tf.variableGrads(() => tf.add(data(), weigh(tf.mul(rate / 2, tf.addN(variables.map((v) => tf.sum(tf.square(v))))) as tf.Scalar)) as tf.Scalar, variables);
    const dataOnly = tf.variableGrads(data, variables);
    const decay = weightDecayGradient({ rate, variables }, lossWeight);
    const ours = tf.tidy(() => addDecay(dataOnly.grads, decay));
    for (const v of variables) {
      expect(bitwiseDifferences(ours[v.name].dataSync(), tape.grads[v.name].dataSync()), v.name).toEqual([]);
      assertClose(ours[v.name].dataSync(), plain.grads[v.name].dataSync(), { rtol: 1e-5, atol: 1e-7 }, `${v.name} against autodiff`);
    }
    // The decay moved the gradient (a test that a zero factor would fail).
    expect(bitwiseDifferences(ours[variables[0].name].dataSync(), dataOnly.grads[variables[0].name].dataSync())).not.toEqual([]);
    tf.dispose([tape.value, plain.value, dataOnly.value, ...Object.values(tape.grads), ...Object.values(plain.grads), ...Object.values(dataOnly.grads), ...Object.values(ours)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([...variables, x]);
  });
}

test("addDecay: only the decayed variables that have a gradient change; the factor is λ·rate in float32", async () => {
  await tf.setBackend("cpu");
  const [a, b, c] = [[2], [3], [1]].map((shape, i) => tf.variable(tf.tensor(seededNormal(shape[0], 50 + i), shape)));
  const grads = { [a.name]: tf.ones([2]), [b.name]: tf.ones([3]) };
  const decay = weightDecayGradient({ rate: 0.1, variables: [a, c] }, 3);
  expect(decay.factor).toBe(Math.fround(Math.fround(3) * Math.fround(0.1)));
  const out = addDecay(grads, decay);
  expect(Object.keys(out).sort()).toEqual([a.name, b.name].sort());
  expect(out[b.name]).toBe(grads[b.name]);
  expect(Array.from(out[a.name].dataSync())).toEqual(Array.from(a.dataSync()).map((v) => Math.fround(1 + Math.fround(v * decay.factor))));
  tf.dispose([out[a.name], ...Object.values(grads), a, b, c]);
});
