import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import {
  trainModel, evaluateLossTerms, predictBatched, freeze, unfreeze, stepDecay, trainableVariables, createOptimizer,
  mixSeeds, TrainHistory, LossContext, CustomOptimizer,
} from "../lib/train";
import { seedGlobalRandom, restoreGlobalRandom } from "../lib/random";
import { collectedOutputs } from "../lib/display";

beforeAll(async () => {
  await tf.setBackend("cpu");
  await tf.ready();
});

/** y = 3x − 2 on 64 points in [−1, 1]. */
function lineData(n = 64): { xs: tf.Tensor2D; ys: tf.Tensor2D } {
  const x = Array.from({ length: n }, (_, i) => -1 + (2 * i) / (n - 1));
  return { xs: tf.tensor2d(x, [n, 1]), ys: tf.tensor2d(x.map((v) => 3 * v - 2), [n, 1]) };
}

function linearModel(): { w: tf.Variable; b: tf.Variable } {
  return { w: tf.variable(tf.zeros([1, 1]), true), b: tf.variable(tf.zeros([1]), true) };
}

const mse = (a: tf.Tensor, b: tf.Tensor) => tf.mean(tf.square(tf.sub(a, b))) as tf.Scalar;

/** Drop timing fields, which differ run to run. */
function withoutTimings(h: TrainHistory) {
  const { seconds: _s, samplesPerSecond: _r, epochSeconds: _e, ...rest } = h;
  return rest;
}

describe("trainModel", () => {
  it("fits a linear regression", async () => {
    const data = lineData();
    const { w, b } = linearModel();
    const history = await trainModel({
      data, variables: [w, b], numEpochs: 40, batchSize: 16, progress: false,
      optimizer: { name: "sgd", learningRate: 0.2 },
      lossTerms: ({ xs, ys }) => ({ mse: mse(tf.add(tf.matMul(xs, w), b), ys) }),
    });
    expect(history.epochs).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(history.steps).toBe(40 * 4);
    expect(history.terms.total[39]).toBeLessThan(1e-4);
    expect(history.terms.total[39]).toBeLessThan(history.terms.total[0] / 100);
    expect(w.dataSync()[0]).toBeCloseTo(3, 2);
    expect(b.dataSync()[0]).toBeCloseTo(-2, 2);
    expect(history.samplesPerSecond.every((r) => r > 0)).toBe(true);
    expect(history.stoppedEarly).toBe(false);
    tf.dispose([data.xs, data.ys, w, b]);
  });
});
