import { beforeAll, describe, expect, it, vi } from "vitest";
import * as tf from "@tensorflow/tfjs";
import {
  disposeOptimizer, trainModel, evaluateLossTerms, predictBatched, freeze, unfreeze, stepDecay, trainableVariables, createOptimizer,
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
    expect(history.backend).toBe("cpu");
    tf.dispose([data.xs, data.ys, w, b]);
  });
});

describe("trainModel: loss terms", () => {
  it("logs every term and total = weighted sum", async () => {
    const data = lineData(50);
    const { w, b } = linearModel();
    const lossTerms = ({ xs, ys }: { xs: tf.Tensor; ys: tf.Tensor }) => {
      const pred = tf.add(tf.matMul(xs, w), b);
      return { mse: mse(pred, ys), l1: tf.mean(tf.abs(w)) as tf.Scalar };
    };
    const plain = await trainModel({ data, variables: [w, b], numEpochs: 3, batchSize: 16, lossTerms, progress: false, optimizer: { name: "sgd", learningRate: 0.05 } });
    expect(Object.keys(plain.terms).sort()).toEqual(["l1", "mse", "total"]);
    for (let e = 0; e < 3; e++) {
      expect(plain.terms.total[e]).toBeCloseTo(plain.terms.mse[e] + plain.terms.l1[e], 5);
    }
    const weighted = await trainModel({
      data, variables: [w, b], numEpochs: 3, batchSize: 16, lossTerms, progress: false,
      optimizer: { name: "sgd", learningRate: 0.05 }, lossWeights: { l1: 0.25, mse: 2 },
    });
    for (let e = 0; e < 3; e++) {
      expect(weighted.terms.total[e]).toBeCloseTo(2 * weighted.terms.mse[e] + 0.25 * weighted.terms.l1[e], 5);
    }
    await expect(trainModel({ data, variables: [w], numEpochs: 1, lossTerms, progress: false, lossWeights: { kl: 1 } }))
      .rejects.toThrow(/lossWeights names 'kl', which is not a loss term \(terms: mse, l1\)/);
    tf.dispose([data.xs, data.ys, w, b]);
  });

  it("averages each term over samples, the last partial batch included", async () => {
    // Term = mean of the batch's xs: the epoch mean must be the mean over all samples, however batches split.
    const xs = tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 100], [8, 1]);
    const v = tf.variable(tf.scalar(0));
    const history = await trainModel({
      data: { xs }, variables: [v], numEpochs: 2, batchSize: 3, progress: false, optimizer: { name: "sgd", learningRate: 0 },
      lossTerms: (batch) => ({ m: tf.add(tf.mean(batch.xs), tf.mul(v, 0)) as tf.Scalar }),
    });
    expect(history.terms.m[0]).toBeCloseTo(128 / 8, 5);
    expect(history.terms.m[1]).toBeCloseTo(128 / 8, 5);
    tf.dispose([xs, v]);
  });

  it("rejects bad terms and bad data with messages that name them", async () => {
    const xs = tf.ones([4, 2]);
    const ys = tf.ones([5, 1]);
    const v = tf.variable(tf.ones([2, 1]));
    await expect(trainModel({ data: { xs, ys }, variables: [v], numEpochs: 1, progress: false, lossTerms: () => ({ a: tf.sum(v) as tf.Scalar }) }))
      .rejects.toThrow(/xs has 4 rows but ys has 5/);
    await expect(trainModel({ data: { xs }, variables: [v], numEpochs: 1, progress: false, lossTerms: (bt) => ({ a: tf.matMul(bt.xs, v) as unknown as tf.Scalar }) }))
      .rejects.toThrow(/term 'a' must be a scalar \(rank 0\), got shape \[4, 1\]/);
    await expect(trainModel({ data: { xs }, variables: [v], numEpochs: 1, progress: false, lossTerms: () => ({ total: tf.sum(v) as tf.Scalar }) }))
      .rejects.toThrow(/may not name a term 'total'/);
    const other = tf.variable(tf.ones([1]));
    await expect(trainModel({ data: { xs }, variables: [other], numEpochs: 1, progress: false, lossTerms: () => ({ a: tf.sum(v) as tf.Scalar }) }))
      .rejects.toThrow(/does not depend on any of the 1 trained variables/);
    const frozen = tf.variable(tf.ones([1]), false);
    await expect(trainModel({ data: { xs }, variables: [frozen], numEpochs: 1, progress: false, lossTerms: () => ({ a: tf.sum(frozen) as tf.Scalar }) }))
      .rejects.toThrow(/nothing to train/);
    tf.dispose([xs, ys, v, other, frozen]);
  });
});

describe("trainModel: frozen models", () => {
  it("trains the generator and leaves the frozen classifier unchanged", async () => {
    seedGlobalRandom(1);
    const classifier = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4], activation: "softmax" })] });
    const generator = tf.sequential({ layers: [tf.layers.dense({ units: 4, inputShape: [2], activation: "tanh" })] });
    restoreGlobalRandom();
    freeze(classifier);
    expect(trainableVariables([classifier, generator]).length).toBe(2);
    const zs = tf.randomNormal([32, 2], 0, 1, "float32", 5);
    const targets = tf.oneHot(tf.tensor1d(Array.from({ length: 32 }, (_, i) => i % 3), "int32"), 3);
    const classifierBefore = classifier.getWeights().map((t) => t.arraySync());
    const generatorBefore = generator.getWeights().map((t) => t.arraySync());
    const history = await trainModel({
      data: { zs, targets }, models: [classifier, generator], numEpochs: 3, batchSize: 8, progress: false,
      optimizer: { name: "adam", learningRate: 0.05 },
      lossTerms: (batch) => {
        const probs = classifier.apply(generator.apply(batch.zs) as tf.Tensor) as tf.Tensor;
        return { crossEntropy: tf.mean(tf.losses.softmaxCrossEntropy(batch.targets, tf.log(tf.add(probs, 1e-7)))) as tf.Scalar };
      },
    });
    expect(history.terms.crossEntropy.length).toBe(3);
    expect(classifier.getWeights().map((t) => t.arraySync())).toEqual(classifierBefore);
    expect(generator.getWeights().map((t) => t.arraySync())).not.toEqual(generatorBefore);
    // Unfrozen, its weights are collected again; freezing a single layer excludes just that layer.
    unfreeze(classifier);
    expect(trainableVariables([classifier]).length).toBe(2);
    generator.layers[0].trainable = false;
    expect(trainableVariables([generator])).toEqual([]);
    tf.dispose([zs, targets]);
    classifier.dispose();
    generator.dispose();
  });
});

describe("trainModel: guard and stopping", () => {
  it("stops on NaN with an error naming the term, epoch and steps", async () => {
    const data = lineData(40);
    const { w, b } = linearModel();
    const run = (logEvery?: number) => trainModel({
      data, variables: [w, b], numEpochs: 5, batchSize: 10, progress: false, logEvery,
      lossTerms: ({ xs, ys }, ctx) => ({
        mse: mse(tf.add(tf.matMul(xs, w), b), ys),
        // log of a negative number from epoch 3, batch 2 on.
        kl: tf.log(tf.add(tf.mean(tf.abs(w)), ctx.epoch >= 3 && ctx.batchIndex >= 2 ? -1e9 : 1)) as tf.Scalar,
      }),
    });
    await expect(run()).rejects.toThrow("trainModel: loss term 'kl' became NaN in epoch 3 (steps 8–11)");
    // With a logging point every 2 steps, the range narrows to the window where it happened.
    await expect(run(2)).rejects.toThrow("trainModel: loss term 'kl' became NaN in epoch 3 (steps 10–11)");
    const inf = trainModel({
      data, variables: [w, b], numEpochs: 2, batchSize: 40, progress: false,
      lossTerms: ({ xs, ys }) => ({ mse: tf.div(mse(tf.add(tf.matMul(xs, w), b), ys), 0) as tf.Scalar }),
    });
    await expect(inf).rejects.toThrow("loss term 'mse' became Inf in epoch 1 (step 0)");
    tf.dispose([data.xs, data.ys, w, b]);
  });

  it("stops early when onEpochEnd says so, or when stopWhen is met", async () => {
    const data = lineData(32);
    const { w, b } = linearModel();
    const lossTerms = ({ xs, ys }: { xs: tf.Tensor; ys: tf.Tensor }) => ({ mse: mse(tf.add(tf.matMul(xs, w), b), ys) });
    const seen: number[] = [];
    const byCallback = await trainModel({
      data, variables: [w, b], numEpochs: 10, batchSize: 8, lossTerms, progress: false,
      callbacks: { onEpochEnd: (epoch) => { seen.push(epoch); return epoch === 2 ? "stop" : undefined; } },
    });
    expect(byCallback.epochs).toEqual([1, 2]);
    expect(seen).toEqual([1, 2]);
    expect(byCallback.stoppedEarly).toBe(true);
    expect(byCallback.stopReason).toMatch(/onEpochEnd asked to stop after epoch 2/);
    const byFalse = await trainModel({
      data, variables: [w, b], numEpochs: 10, batchSize: 8, lossTerms, progress: false,
      callbacks: { onEpochEnd: async () => false },
    });
    expect(byFalse.epochs).toEqual([1]);

    w.assign(tf.zeros([1, 1]));
    b.assign(tf.zeros([1]));
    let ended: TrainHistory | null = null;
    const byThreshold = await trainModel({
      data, variables: [w, b], numEpochs: 500, batchSize: 32, lossTerms, progress: false,
      optimizer: { name: "sgd", learningRate: 0.3 }, stopWhen: (logs) => logs.terms.total < 1e-3,
      callbacks: { onTrainEnd: (h) => { ended = h; } },
    });
    const n = byThreshold.epochs.length;
    expect(n).toBeLessThan(500);
    expect(byThreshold.terms.total[n - 1]).toBeLessThan(1e-3);
    expect(byThreshold.terms.total[n - 2]).toBeGreaterThanOrEqual(1e-3);
    expect(byThreshold.stopReason).toMatch(/stopWhen was met after epoch/);
    expect(ended).toBe(byThreshold);
    tf.dispose([data.xs, data.ys, w, b]);
  });
});

describe("trainModel: optimisers, schedules and weight decay", () => {
  it("records a step-decay learning rate and applies it", async () => {
    const data = lineData(16);
    const { w, b } = linearModel();
    const history = await trainModel({
      data, variables: [w, b], numEpochs: 5, batchSize: 16, progress: false,
      optimizer: { name: "sgd", learningRate: 0.1 }, learningRateSchedule: stepDecay({ every: 2, factor: 0.1 }),
      lossTerms: ({ xs, ys }) => ({ mse: mse(tf.add(tf.matMul(xs, w), b), ys) }),
    });
    const expected = [0.1, 0.1, 0.01, 0.01, 0.001];
    history.learningRate.forEach((lr, i) => expect(lr).toBeCloseTo(expected[i], 12));
    // A caller-owned optimiser keeps the last rate; a schedule also drives momentum and adam.
    const momentum = createOptimizer({ name: "momentum", learningRate: 0.05 });
    const h2 = await trainModel({
      data, variables: [w, b], numEpochs: 3, batchSize: 16, progress: false, optimizer: momentum,
      learningRateSchedule: (epoch, initial) => initial / epoch,
      lossTerms: ({ xs, ys }) => ({ mse: mse(tf.add(tf.matMul(xs, w), b), ys) }),
    });
    expect(h2.learningRate.map((x) => Number(x.toFixed(6)))).toEqual([0.05, 0.025, Number((0.05 / 3).toFixed(6))]);
    momentum.dispose();
    tf.dispose([data.xs, data.ys, w, b]);
  });

  it("a hand-written SGD gives the same history as the built-in one", async () => {
    const data = lineData(30);
    const run = async (optimizer: CustomOptimizer | { name: "sgd"; learningRate: number }) => {
      const { w, b } = linearModel();
      const h = await trainModel({
        data, variables: [w, b], numEpochs: 4, batchSize: 8, seed: 3, progress: false, optimizer,
        lossTerms: ({ xs, ys }) => ({ mse: mse(tf.add(tf.matMul(xs, w), b), ys) }),
      });
      const out = { h: withoutTimings(h), w: w.dataSync()[0] };
      tf.dispose([w, b]);
      return out;
    };
    const steps: number[] = [];
    const handWritten: CustomOptimizer = {
      learningRate: 0.1,
      update(variables, gradients, state) {
        steps.push(state.step);
        variables.forEach((v, i) => v.assign(tf.sub(v, tf.mul(gradients[i], state.learningRate))));
      },
    };
    const custom = await run(handWritten);
    const builtin = await run({ name: "sgd", learningRate: 0.1 });
    expect(steps).toEqual(Array.from({ length: 16 }, (_, i) => i));
    expect(custom.w).toBeCloseTo(builtin.w, 6);
    custom.h.terms.total.forEach((t, i) => expect(t).toBeCloseTo(builtin.h.terms.total[i], 6));
    tf.dispose([data.xs, data.ys]);
  });

  it("logs weight decay (rate/2·‖w‖²) as its own term and its gradient is rate·w", async () => {
    const xs = tf.zeros([4, 2]);
    const ys = tf.zeros([4, 1]);
    const w = tf.variable(tf.tensor2d([[1], [2]]));
    const b = tf.variable(tf.tensor1d([5]));
    const lossTerms = (batch: { xs: tf.Tensor; ys: tf.Tensor }) => ({ fit: mse(tf.matMul(batch.xs, w), batch.ys) });
    const h = await trainModel({
      data: { xs, ys }, variables: [w, b], numEpochs: 1, batchSize: 4, progress: false,
      optimizer: { name: "sgd", learningRate: 0.5 }, weightDecay: { rate: 0.1, variables: (v) => v.rank === 2 },
      lossTerms,
    });
    expect(h.terms.weightDecay[0]).toBeCloseTo(0.05 * 5, 6);
    expect(h.terms.total[0]).toBeCloseTo(0.25, 6);
    // The fit term has zero gradient here, so one SGD step scales w by (1 − lr·rate) and leaves the bias alone.
    expect(Array.from(w.dataSync())).toEqual([expect.closeTo(0.95, 6), expect.closeTo(1.9, 6)]);
    expect(b.dataSync()[0]).toBe(5);
    await expect(trainModel({ data: { xs, ys }, variables: [w], numEpochs: 1, progress: false, weightDecay: 0.1, lossTerms: () => ({ weightDecay: tf.sum(w) as tf.Scalar }) }))
      .rejects.toThrow(/may not name a term 'weightDecay'/);
    tf.dispose([xs, ys, w, b]);
  });

  it("weight decay alone trains the variables when the loss reads none of them", async () => {
    const xs = tf.ones([4, 2]);
    const ys = tf.zeros([4, 1]);
    const w = tf.variable(tf.tensor1d([2, -4]));
    const h = await trainModel({
      data: { xs, ys }, variables: [w], numEpochs: 1, batchSize: 4, progress: false,
      optimizer: { name: "sgd", learningRate: 0.5 }, weightDecay: 0.1,
      lossTerms: (batch: { xs: tf.Tensor }) => ({ fit: tf.mean(batch.xs) as tf.Scalar }),
    });
    // One SGD step on the decay's gradient alone: v − lr·rate·v.
    expect(Array.from(w.dataSync())).toEqual([expect.closeTo(1.9, 6), expect.closeTo(-3.8, 6)]);
    expect(h.terms.weightDecay[0]).toBeCloseTo(0.05 * 20, 5);
    expect(h.terms.fit[0]).toBe(1);
    await expect(trainModel({ data: { xs, ys }, variables: [w], numEpochs: 1, progress: false, lossTerms: (batch: { xs: tf.Tensor }) => ({ fit: tf.mean(batch.xs) as tf.Scalar }) }))
      .rejects.toThrow(/the loss does not depend on any of the 1 trained variables/);
    tf.dispose([xs, ys, w]);
  });

  it("weighted weight decay (lossWeights.weightDecay) reaches every kind of optimiser as autodiff's float32 gradient, bit for bit", async () => {
    const xs = tf.zeros([4, 2]);
    const ys = tf.zeros([4, 1]);
    const start = [0.7, -1.3];
    const rate = 0.1;
    const factor = Math.fround(Math.fround(0.37) * Math.fround(rate));
    const decayed = start.map((v) => Math.fround(0 + Math.fround(Math.fround(v) * factor)));
    // The fit term's gradient is zero here, so the gradient is the decay's: v·(λ·rate) in float32.
    const run = async (optimizer: tf.Optimizer | CustomOptimizer | { name: "sgd"; learningRate: number }) => {
      const w = tf.variable(tf.tensor2d(start, [2, 1]));
      await trainModel({
        data: { xs, ys }, variables: [w], numEpochs: 1, batchSize: 4, progress: false, optimizer,
        weightDecay: rate, lossWeights: { weightDecay: 0.37 },
        lossTerms: (batch: { xs: tf.Tensor; ys: tf.Tensor }) => ({ fit: mse(tf.matMul(batch.xs, w), batch.ys) }),
      });
      const values = Array.from(w.dataSync());
      w.dispose();
      return values;
    };
    const sgdStep = decayed.map((g, i) => Math.fround(Math.fround(-0.5 * g) + Math.fround(start[i])));
    expect(await run({ name: "sgd", learningRate: 0.5 })).toEqual(sgdStep);
    const owned = tf.train.sgd(0.5);
    expect(await run(owned)).toEqual(sgdStep);
    owned.dispose();
    const seen: number[][] = [];
    const custom: CustomOptimizer = { learningRate: 0.5, update: (_vars, gradients) => { seen.push(Array.from(gradients[0].dataSync())); } };
    expect(await run(custom)).toEqual(start.map(Math.fround));
    expect(seen).toEqual([decayed]);
    tf.dispose([xs, ys]);
  });

  it("a variable frozen after the first epoch is neither trained nor decayed from then on", async () => {
    const xs = tf.zeros([4, 2]);
    const ys = tf.zeros([4, 1]);
    const w = tf.variable(tf.tensor2d([[1], [2]]));
    const b = tf.variable(tf.tensor1d([3]));
    await trainModel({
      data: { xs, ys }, variables: [w, b], numEpochs: 2, batchSize: 4, progress: false,
      optimizer: { name: "sgd", learningRate: 0.5 }, weightDecay: 0.1,
      lossTerms: (batch: { xs: tf.Tensor; ys: tf.Tensor }) => ({ fit: mse(tf.add(tf.matMul(batch.xs, w), b), batch.ys) }),
      callbacks: { onEpochEnd: (epoch) => { if (epoch === 1) w.trainable = false; return undefined; } },
    });
    // w: one decayed step (epoch 1), then frozen; b: decayed in both epochs (its fit gradient is 2·(b − 0)/1 per step too).
    expect(Array.from(w.dataSync())).toEqual([expect.closeTo(0.95, 6), expect.closeTo(1.9, 6)]);
    expect(b.dataSync()[0]).not.toBeCloseTo(3, 2);
    tf.dispose([xs, ys, w, b]);
  });

  it("a decayed variable the loss does not read still decays (weight decay's gradient alone), with no warning", async () => {
    const xs = tf.zeros([4, 2]);
    const ys = tf.zeros([4, 1]);
    const w = tf.variable(tf.tensor2d([[1], [2]]));
    const unread = tf.variable(tf.tensor1d([5, -3]));
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    await trainModel({
      data: { xs, ys }, variables: [w, unread], numEpochs: 1, batchSize: 4, progress: false,
      optimizer: { name: "momentum", learningRate: 0.5, momentum: 0.9 }, weightDecay: 0.1,
      lossTerms: (batch: { xs: tf.Tensor; ys: tf.Tensor }) => ({ fit: mse(tf.matMul(batch.xs, w), batch.ys) }),
    });
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
    // One step from a zero accumulation: v − lr·rate·v.
    expect(Array.from(unread.dataSync())).toEqual([expect.closeTo(4.75, 6), expect.closeTo(-2.85, 6)]);
    expect(Array.from(w.dataSync())).toEqual([expect.closeTo(0.95, 6), expect.closeTo(1.9, 6)]);
    tf.dispose([xs, ys, w, unread]);
  });
});

describe("trainModel: validation, evaluation and inference", () => {
  it("evaluates validation terms at each epoch end without training flags", async () => {
    const data = lineData(40);
    const valX = tf.tensor2d([0.5, -0.25, 0.1], [3, 1]);
    const validationData = { xs: valX, ys: tf.sub(tf.mul(valX, 3), 2) as tf.Tensor2D };
    const { w, b } = linearModel();
    const flags: boolean[] = [];
    const lossTerms = ({ xs, ys }: { xs: tf.Tensor; ys: tf.Tensor }, ctx: LossContext) => {
      flags.push(ctx.training);
      return { mse: mse(tf.add(tf.matMul(xs, w), b), ys) };
    };
    const h = await trainModel({
      data, validationData, variables: [w, b], numEpochs: 3, batchSize: 20, validationBatchSize: 2, lossTerms, progress: false,
      optimizer: { name: "sgd", learningRate: 0.1 },
    });
    expect(Object.keys(h.validation!).sort()).toEqual(["mse", "total"]);
    expect(h.validation!.mse.length).toBe(3);
    // Per epoch: 2 training batches, then 2 validation batches (sizes 2 and 1).
    expect(flags).toEqual([true, true, false, false, true, true, false, false, true, true, false, false]);
    const final = await evaluateLossTerms(validationData, lossTerms, { batchSize: 3 });
    expect(h.validation!.mse[2]).toBeCloseTo(final.mse, 6);
    expect(final.total).toBeCloseTo(final.mse, 6);
    tf.dispose([data.xs, data.ys, valX, validationData.ys, w, b]);
  });

  it("evaluateLossTerms gives the mean over samples whatever the batch size", async () => {
    const xs = tf.tensor2d([1, 2, 3, 4, 5, 6, 7], [7, 1]);
    const terms = ({ xs: x }: { xs: tf.Tensor }) => ({ sq: tf.mean(tf.square(x)) as tf.Scalar, m: tf.mean(x) as tf.Scalar });
    const before = tf.memory().numTensors;
    const full = await evaluateLossTerms({ xs }, terms, { batchSize: 7, lossWeights: { m: 2 } });
    const batched = await evaluateLossTerms({ xs }, terms, { batchSize: 3, lossWeights: { m: 2 } });
    expect(tf.memory().numTensors).toBe(before);
    expect(full.sq).toBeCloseTo(140 / 7, 5);
    expect(batched.sq).toBeCloseTo(140 / 7, 5);
    expect(batched.m).toBeCloseTo(4, 5);
    expect(batched.total).toBeCloseTo(140 / 7 + 8, 5);
    tf.dispose(xs);
  });

  it("predictBatched matches one big predict and frees its batches", () => {
    seedGlobalRandom(2);
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [5], activation: "relu" })] });
    restoreGlobalRandom();
    const xs = tf.randomNormal([23, 5], 0, 1, "float32", 1);
    const whole = model.predict(xs) as tf.Tensor;
    predictBatched(model, xs, { batchSize: 4 }).dispose(); // prime
    const before = tf.memory().numTensors;
    const batched = predictBatched(model, xs, { batchSize: 4 });
    const byFunction = predictBatched((x) => tf.mul(x, 2), xs, { batchSize: 100 });
    expect(tf.memory().numTensors).toBe(before + 2);
    expect(batched.shape).toEqual([23, 3]);
    expect(Array.from(batched.dataSync())).toEqual(Array.from(whole.dataSync()).map((v) => expect.closeTo(v, 6)));
    expect(Array.from(byFunction.dataSync())).toEqual(Array.from(xs.dataSync()).map((v) => v * 2));
    const identity = predictBatched((x) => x, xs);
    expect(identity).not.toBe(xs);
    tf.dispose([xs, whole, batched, byFunction, identity]);
    model.dispose();
  });
});

describe("trainModel: batching and determinism", () => {
  it("each epoch visits every sample exactly once, in a new seeded order, each batch gathering only its rows", async () => {
    const n = 10;
    const idx = tf.tensor1d(Array.from({ length: n }, (_, i) => i), "float32");
    const xs = tf.ones([n, 2]);
    const v = tf.variable(tf.zeros([2, 1]));
    const batches: number[][] = [];
    const run = (options: { dropRemainder?: boolean; shuffle?: boolean }) => trainModel({
      data: { idx, xs }, variables: [v], numEpochs: 3, batchSize: 4, seed: 11, progress: false, ...options,
      lossTerms: (batch) => {
        batches.push(Array.from(batch.idx.dataSync())); // a read-back, for the test only
        return { a: mse(tf.matMul(batch.xs, v), tf.zeros([batch.xs.shape[0], 1])) };
      },
    });
    const profile = await tf.profile(async () => { await run({}); });
    // One gather per data tensor per batch (2 tensors × 3 batches × 3 epochs), each of the batch's rows only: no reordered copy of the data.
    const gathers = profile.kernels.filter((k) => k.name === "GatherV2");
    expect(gathers.length).toBe(18);
    expect(Math.max(...gathers.map((k) => (k.outputShapes[0] as number[])[0]))).toBe(4);
    expect(batches.map((bt) => bt.length)).toEqual([4, 4, 2, 4, 4, 2, 4, 4, 2]);
    const epochs = [0, 1, 2].map((e) => batches.slice(3 * e, 3 * e + 3).flat());
    for (const order of epochs) expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(epochs[0]).not.toEqual(epochs[1]);
    batches.length = 0;
    await run({ dropRemainder: true });
    expect(batches.map((bt) => bt.length)).toEqual([4, 4, 4, 4, 4, 4]);
    batches.length = 0;
    const unshuffled = await tf.profile(async () => { await run({ shuffle: false }); });
    expect(unshuffled.kernelNames.includes("GatherV2")).toBe(false);
    expect(batches.slice(0, 3).flat()).toEqual(Array.from({ length: n }, (_, i) => i));
    tf.dispose([idx, xs, v]);
  });

  it("the same seed gives the same history (seeded init, shuffles and per-step noise)", async () => {
    const data = lineData(48);
    const run = async (seed: number) => {
      seedGlobalRandom(seed);
      const model = tf.sequential({ layers: [tf.layers.dense({ units: 4, inputShape: [1], activation: "tanh" }), tf.layers.dense({ units: 1 })] });
      const h = await trainModel({
        data, models: [model], numEpochs: 3, batchSize: 10, seed, progress: false,
        lossTerms: ({ xs, ys }, ctx) => {
          const noisy = ctx.training ? tf.add(xs, tf.randomNormal(xs.shape, 0, 0.1, "float32", ctx.seed)) : xs;
          return { mse: mse(model.apply(noisy) as tf.Tensor, ys) };
        },
      });
      restoreGlobalRandom();
      model.dispose();
      return withoutTimings(h);
    };
    const first = await run(5);
    const second = await run(5);
    const other = await run(6);
    expect(second).toEqual(first);
    expect(other.terms.total).not.toEqual(first.terms.total);
    expect(mixSeeds(5, 1)).not.toBe(mixSeeds(5, 2));
    tf.dispose([data.xs, data.ys]);
  });
});

describe("trainModel: memory", () => {
  it("leaves no tensors behind (spec optimiser, validation, decay, logEvery, progress)", async () => {
    const data = lineData(30);
    const { w, b } = linearModel();
    const run = () => trainModel({
      data, validationData: data, variables: [w, b], numEpochs: 2, batchSize: 7, logEvery: 2, weightDecay: 1e-3,
      optimizer: { name: "adam", learningRate: 0.01 }, progress: { mode: "display", minIntervalMs: 0 },
      lossTerms: ({ xs, ys }, ctx) => ({
        mse: mse(tf.add(tf.matMul(xs, w), b), ys),
        noise: tf.mean(tf.randomNormal([3], 0, 1, "float32", ctx.seed)) as tf.Scalar,
      }),
    });
    await run(); // prime
    const before = tf.memory().numTensors;
    await run();
    expect(tf.memory().numTensors).toBe(before);
    // A caller-owned optimiser keeps its slots (2 Adam moments per variable), nothing else.
    const adam = tf.train.adam(0.01);
    await trainModel({ data, variables: [w, b], numEpochs: 1, batchSize: 7, optimizer: adam, progress: false, lossTerms: ({ xs, ys }) => ({ mse: mse(tf.add(tf.matMul(xs, w), b), ys) }) });
    const withSlots = tf.memory().numTensors;
    adam.dispose();
    expect(tf.memory().numTensors).toBeLessThan(withSlots);
    expect(tf.memory().numTensors).toBe(before);
    // Momentum from a spec is freed whole (tfjs's own dispose() leaves its learning-rate scalar).
    const momentumRun = () => trainModel({ data, variables: [w, b], numEpochs: 1, batchSize: 7, optimizer: { name: "momentum", learningRate: 0.01, momentum: 0.9 }, progress: false, lossTerms: ({ xs, ys }) => ({ mse: mse(tf.add(tf.matMul(xs, w), b), ys) }) });
    await momentumRun();
    expect(tf.memory().numTensors).toBe(before);
    const momentum = tf.train.momentum(0.01, 0.9);
    momentum.dispose();
    expect(tf.memory().numTensors).toBe(before + 1); // the tfjs leak disposeOptimizer closes
    const sgdLike = tf.train.momentum(0.01, 0.9);
    disposeOptimizer(sgdLike);
    expect(tf.memory().numTensors).toBe(before + 1);
    tf.dispose((momentum as unknown as { c: tf.Tensor }).c);
    // A failing run frees everything too.
    await expect(trainModel({ data, variables: [w, b], numEpochs: 2, batchSize: 7, progress: false, lossTerms: () => ({ bad: tf.log(tf.sub(tf.sum(w), 1e9)) as tf.Scalar }) }))
      .rejects.toThrow(/became NaN/);
    expect(tf.memory().numTensors).toBe(before);
    collectedOutputs(true);
    tf.dispose([data.xs, data.ys, w, b]);
  });
});

describe("trainModel: progress", () => {
  it("shows one output updated in place, ending with a summary", async () => {
    collectedOutputs(true);
    const data = lineData(20);
    const { w, b } = linearModel();
    await trainModel({
      data, variables: [w, b], numEpochs: 3, batchSize: 5, label: "line", progress: { mode: "display", minIntervalMs: 1e9 },
      lossTerms: ({ xs, ys }) => ({ mse: mse(tf.add(tf.matMul(xs, w), b), ys) }),
    });
    const outputs = collectedOutputs(true);
    // First in-epoch update, one per epoch end, the final summary.
    expect(outputs.length).toBe(1 + 3 + 1);
    const id = outputs[0].displayId;
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(outputs[0].update).toBe(false);
    for (const o of outputs.slice(1)) {
      expect(o.displayId).toBe(id);
      expect(o.update).toBe(true);
    }
    const texts = outputs.map((o) => String(o.data["text/plain"]));
    expect(texts[0]).toMatch(/^line · epoch 1\/3 · batch 1\/4/);
    expect(texts[2]).toMatch(/^line · epoch 2\/3 · total [\d.e-]+ · mse [\d.e-]+ · [\d,.]+ samples\/s · elapsed .* · ETA /);
    expect(texts[4]).toMatch(/^line · done: 3 epochs in .* · total [\d.e-]+ · mse/);
    // On the command line: lines on the given stream, one per epoch plus the summary.
    const lines: string[] = [];
    await trainModel({
      data, variables: [w, b], numEpochs: 2, batchSize: 5, progress: { mode: "stream", stream: { write: (s: string) => lines.push(s) } },
      lossTerms: ({ xs, ys }) => ({ mse: mse(tf.add(tf.matMul(xs, w), b), ys) }),
    });
    expect(lines.length).toBe(3);
    expect(lines[0]).toMatch(/^epoch 1\/2 · total .*\n$/);
    expect(lines[2]).toMatch(/^done: 2 epochs/);
    expect(collectedOutputs().length).toBe(0);
    tf.dispose([data.xs, data.ys, w, b]);
  });
});
