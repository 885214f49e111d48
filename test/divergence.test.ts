/**
 * Issue 17, item 7: divergence without NaN. The detector (lib/divergence.ts) on hand-made
 * epochs, then trainModel end to end: a blow-up warns once naming model, term and epoch;
 * normal training does not warn; nothing leaks.
 */
import * as tf from "@tensorflow/tfjs";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createDivergenceDetector, trainedName } from "../lib/divergence";
import { mlpAutoencoder } from "../lib/models/autoencoders";
import { trainModel } from "../lib/train";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe("createDivergenceDetector", () => {
  it("warns once when the largest weight grows past 1000× its start, naming the variable, term and epoch", async () => {
    const w = tf.variable(tf.tensor1d([0.1, -0.2]), true, "enc/kernel");
    const warnings: string[] = [];
    const detector = createDivergenceDetector({ modelName: "tiny", variables: [w], warn: (m) => void warnings.push(m) });
    expect(await detector.check(1, { mse: 0.5, total: 0.5 })).toBeNull();
    w.assign(tf.tensor1d([0.1, -199])); // 995×: still under the limit
    expect(await detector.check(2, { mse: 0.4, total: 0.4 })).toBeNull();
    w.assign(tf.tensor1d([0.1, -201])); // 1005×
    const message = await detector.check(3, { mse: 0.3, total: 0.3 });
    expect(message).toBe("trainModel: tiny: training has blown up in epoch 3: the largest weight, |enc/kernel| = 2.01e+2, is 1,005× the largest " +
      "at the start (0.20); loss term 'mse' = 0.30000. Try a lower learning rate.");
    w.assign(tf.tensor1d([0.1, -1e6]));
    expect(await detector.check(4, { mse: 0.3, total: 0.3 })).toBeNull(); // once
    expect(warnings).toEqual([message]);
    detector.dispose();
    w.dispose();
  });

  it("warns when every term stays put for two epochs; not for a term at 0 or a slowly moving loss", async () => {
    const w = tf.variable(tf.scalar(1));
    const before = tf.memory().numTensors;
    const warn = vi.fn();
    const dead = createDivergenceDetector({ modelName: "m", variables: [w], warn });
    expect(await dead.check(1, { a: 0.2, b: 0.1, total: 0.3 })).toBeNull();
    expect(await dead.check(2, { a: 0.1083159, b: 0.1, total: 0.2083159 })).toBeNull();
    expect(await dead.check(3, { a: 0.10831591, b: 0.1, total: 0.20831591 })).toBeNull(); // one flat epoch
    expect(await dead.check(4, { a: 0.10831592, b: 0.1, total: 0.20831592 })).toMatch(
      /^trainModel: m: training has stalled by epoch 4: loss terms 'a' = 0\.10832, 'b' = 0\.10000 have not moved \(relative change ≤ 1e-6\) for 2 epochs/);
    dead.dispose();
    const live = createDivergenceDetector({ modelName: "m", variables: [w], warn });
    for (let e = 1; e <= 6; e++) expect(await live.check(e, { mse: 0.1 * (1 - 1e-4 * e), zero: 0, total: 0.1 * (1 - 1e-4 * e) })).toBeNull();
    live.dispose();
    const solved = createDivergenceDetector({ modelName: "m", variables: [w], warn });
    for (let e = 1; e <= 4; e++) expect(await solved.check(e, { mse: 0, total: 0 })).toBeNull();
    solved.dispose();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(tf.memory().numTensors).toBe(before);
    w.dispose();
  });

  it("names what is trained: label, else model names, else a variable count", () => {
    expect(trainedName("CSAE-L", [{ name: "x" }], 3)).toBe("CSAE-L");
    expect(trainedName(undefined, [{ name: "enc" }, { name: "dec" }], 3)).toBe("enc + dec");
    expect(trainedName(undefined, undefined, 1)).toBe("1 variable");
  });
});

describe("trainModel's divergence warning", () => {
  const data = (): { x: tf.Tensor2D } => ({ x: tf.randomUniform([128, 16], 0, 1, "float32", 7) as tf.Tensor2D });

  async function train(learningRate: number): Promise<string[]> {
    const ae = mlpAutoencoder({ layerSizes: [16, 12, 4, 12, 16], seed: 1, name: "small_ae" });
    const { x } = data();
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const before = tf.memory().numTensors;
    await trainModel({
      data: { x }, models: [ae.model], optimizer: { name: "adam", learningRate }, numEpochs: 4, batchSize: 32, progress: false,
      lossTerms: (batch) => ({ mse: tf.losses.meanSquaredError(batch.x, ae.reconstruct(batch.x)) as tf.Scalar }),
    });
    expect(tf.memory().numTensors).toBe(before);
    const messages = warn.mock.calls.map((c) => String(c[0]));
    warn.mockRestore();
    x.dispose();
    ae.dispose();
    return messages;
  }

  it("Adam at learning rate 1e6 (finite all along) warns once, naming the model, the term and the epoch", async () => {
    const messages = await train(1e6);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/^trainModel: small_ae: training has blown up in epoch 1: the largest weight, \|[\w/]+\| = [\d.]+e\+\d, is [\d,]+× the largest at the start \([\d.]+\); loss term 'mse' = [\d.]+\. Try a lower learning rate\.$/);
  });

  it("normal training (Adam 1e-2) does not warn", async () => {
    expect(await train(1e-2)).toEqual([]);
  });
});
