import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { CachedModelOptions, CachedModelSpec, cachedModel, canonicalJson } from "../lib/model-cache";
import { readWeightsManifest } from "../lib/weights";
import { seedGlobalRandom, restoreGlobalRandom } from "../lib/random";
import { AutoencoderModel, mlpAutoencoder } from "../lib/models/autoencoders";
import { meanSquaredError } from "../lib/metrics";
import { trainModel } from "../lib/train";
import { CsaeConvModel, csaeConv } from "../lib/pedcc/models";

let dataDir: string;

beforeAll(async () => {
  await tf.setBackend("cpu");
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ae-model-cache-"));
});

afterAll(() => {
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** A 4-3-2 network with seeded initial weights. */
function tinyModel(units = 3): tf.Sequential {
  seedGlobalRandom(11);
  const model = tf.sequential({ layers: [tf.layers.dense({ units, inputShape: [4], activation: "tanh" }), tf.layers.dense({ units: 2 })] });
  restoreGlobalRandom();
  return model;
}

/** Deterministic training: 20 Adam steps towards fixed targets; returns the final loss as the summary. */
async function trainTiny(model: tf.LayersModel, learningRate = 0.05): Promise<{ finalLoss: number }> {
  const x = tf.tensor2d([[0, 1, 0, 1], [1, 0, 1, 0], [1, 1, 0, 0], [0, 0, 1, 1]]);
  const y = tf.tensor2d([[1, 0], [0, 1], [1, 1], [0, 0]]);
  const optimizer = tf.train.adam(learningRate);
  let loss = NaN;
  for (let step = 0; step < 20; step++) {
    const cost = optimizer.minimize(() => tf.losses.meanSquaredError(y, model.predict(x) as tf.Tensor) as tf.Scalar, true)!;
    if (step === 19) loss = cost.dataSync()[0];
    cost.dispose();
  }
  optimizer.dispose();
  tf.dispose([x, y]);
  return { finalLoss: loss };
}

function spec(name: string, key: CachedModelSpec<tf.Sequential>["key"], calls: { count: number }, units = 3): CachedModelSpec<tf.Sequential> {
  return {
    name, key, build: () => tinyModel(units),
    train: async (model) => {
      calls.count++;
      return trainTiny(model, Number(key.lr ?? 0.05));
    },
  };
}

const weightsOf = (model: tf.LayersModel) => model.getWeights().map((t) => Array.from(t.dataSync()));

/** The trained and the loaded model give bit-identical outputs; then both are freed and no tensor is left since `before`. */
function expectSameOutputsThenFree<M extends { dispose(): void }>(trained: M, loaded: M, output: (m: M) => tf.Tensor, before: number): void {
  const [a, b] = [output(trained), output(loaded)];
  expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
  tf.dispose([a, b]);
  trained.dispose();
  loaded.dispose();
  expect(tf.memory().numTensors).toBe(before);
}

function quiet(extra: Partial<CachedModelOptions> = {}): CachedModelOptions & { lines: string[]; warnings: string[] } {
  const lines: string[] = [];
  const warnings: string[] = [];
  return { dataDir, env: {}, log: (l) => lines.push(l), warn: (l) => warnings.push(l), lines, warnings, ...extra };
}

describe("cachedModel", () => {
  it("trains once, then loads bit-identical weights and the summary, leaking no tensors", async () => {
    const calls = { count: 0 };
    const before = tf.memory().numTensors;
    const untrainedModel = tinyModel();
    const untrained = weightsOf(untrainedModel);
    untrainedModel.dispose();
    const first = await cachedModel(spec("tiny", { lr: 0.05, seed: 11 }, calls), quiet());
    expect(first.source).toBe("trained");
    expect(calls.count).toBe(1);
    expect(first.message).toMatch(/^tiny: trained now in \d+\.\d min$/);
    expect(first.summary.finalLoss).toBeLessThan(0.5);
    const trained = weightsOf(first.model);
    expect(trained).not.toEqual(untrained);
    expect(tf.memory().numTensors).toBe(before + 4); // the model's 4 weights, nothing else
    first.model.dispose();

    const options = quiet();
    const second = await cachedModel(spec("tiny", { seed: 11, lr: 0.05 }, calls), options); // key order does not matter
    expect(second.source).toBe("loaded");
    expect(calls.count).toBe(1);
    expect(second.keyHash).toBe(first.keyHash);
    expect(options.lines).toEqual([second.message]);
    expect(second.message).toMatch(/^tiny: loaded: trained on \d{4}-\d\d-\d\d \d\d:\d\d UTC in \d+\.\d min$/);
    expect(second.trainedAt.toISOString()).toBe(first.trainedAt.toISOString());
    expect(second.summary).toEqual(first.summary);
    expect(weightsOf(second.model)).toEqual(trained); // Float32 values, compared exactly
    expect(tf.memory().numTensors).toBe(before + 4);
    second.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("retrains when the key, the architecture or the code it names changes", async () => {
    const calls = { count: 0 };
    const a = await cachedModel(spec("keyed", { lr: 0.05 }, calls), quiet());
    const b = await cachedModel(spec("keyed", { lr: 0.01 }, calls), quiet());
    expect([a.source, b.source, calls.count]).toEqual(["trained", "trained", 2]);
    expect(b.keyHash).not.toBe(a.keyHash);
    expect(weightsOf(b.model)).not.toEqual(weightsOf(a.model));
    const wider = await cachedModel(spec("keyed", { lr: 0.05 }, calls, 5), quiet());
    expect([wider.source, calls.count]).toEqual(["trained", 3]);
    const again = await cachedModel(spec("keyed", { lr: 0.01 }, calls), quiet());
    expect([again.source, calls.count]).toEqual(["loaded", 3]);
    expect(weightsOf(again.model)).toEqual(weightsOf(b.model));
    [a, b, wider, again].forEach((m) => m.model.dispose());
  });

  it("fresh: true and AE_FRESH=1 retrain and overwrite", async () => {
    const calls = { count: 0 };
    (await cachedModel(spec("fresh", { lr: 0.05 }, calls), quiet())).model.dispose();
    const byOption = await cachedModel(spec("fresh", { lr: 0.05 }, calls), quiet({ fresh: true }));
    const byEnv = await cachedModel(spec("fresh", { lr: 0.05 }, calls), quiet({ env: { AE_FRESH: "1" } }));
    const notFresh = await cachedModel(spec("fresh", { lr: 0.05 }, calls), quiet({ env: { AE_FRESH: "0" } }));
    expect([byOption.source, byEnv.source, notFresh.source, calls.count]).toEqual(["trained", "trained", "loaded", 3]);
    expect(notFresh.trainedAt.toISOString()).toBe(byEnv.trainedAt.toISOString());
    [byOption, byEnv, notFresh].forEach((m) => m.model.dispose());
  });

  it("a damaged cache is retrained with a warning (from the untrained model), or throws naming it with onDamaged: throw", async () => {
    const calls = { count: 0 };
    const first = await cachedModel(spec("damaged", { lr: 0.05 }, calls), quiet());
    const trained = weightsOf(first.model);
    first.model.dispose();
    const manifest = readWeightsManifest(`models/damaged/${first.keyHash}/model`, { dataDir });
    const bin = path.join(first.directory, "model", manifest.weightsFile);
    const bytes = fs.readFileSync(bin);
    bytes[5] ^= 0xff;
    fs.writeFileSync(bin, bytes);

    await expect(cachedModel(spec("damaged", { lr: 0.05 }, calls), quiet({ onDamaged: "throw" }))).rejects.toThrow(
      /cachedModel "damaged": the cached model in .*damaged.* is damaged: .*does not match the SHA-256.*AE_FRESH=1/,
    );
    const before = tf.memory().numTensors;
    const options = quiet();
    const retrained = await cachedModel(spec("damaged", { lr: 0.05 }, calls), options);
    expect([retrained.source, calls.count]).toEqual(["trained", 2]);
    expect(options.warnings).toHaveLength(1);
    expect(options.warnings[0]).toMatch(/is damaged \(.*SHA-256.*\); training it again/);
    expect(weightsOf(retrained.model)).toEqual(trained); // trained from the untrained start again
    expect(tf.memory().numTensors).toBe(before + 4);
    retrained.model.dispose();

    fs.writeFileSync(path.join(first.directory, "cache.json"), "{ not json");
    const options2 = quiet();
    const again = await cachedModel(spec("damaged", { lr: 0.05 }, calls), options2);
    expect([again.source, calls.count]).toEqual(["trained", 3]);
    expect(options2.warnings[0]).toMatch(/cache\.json is not valid JSON/);
    again.model.dispose();
    expect((await cachedModel(spec("damaged", { lr: 0.05 }, calls), quiet())).source).toBe("loaded");
  });

  it("a failed training saves nothing and frees the model", async () => {
    const before = tf.memory().numTensors;
    const failing: CachedModelSpec<tf.Sequential> = { name: "fails", key: {}, build: () => tinyModel(), train: async () => { throw new Error("out of data"); } };
    await expect(cachedModel(failing, quiet())).rejects.toThrow("out of data");
    expect(tf.memory().numTensors).toBe(before);
    expect(fs.existsSync(path.join(dataDir, "weights", "models", "fails"))).toBe(false);
  });

  it("saves an object's `model` by default, or the parts spec.weights names", async () => {
    const calls = { count: 0 };
    const wrapped = (): { model: tf.Sequential; dispose(): void } => {
      const model = tinyModel();
      return { model, dispose: () => model.dispose() };
    };
    const s: CachedModelSpec<{ model: tf.Sequential; dispose(): void }> = { name: "wrapped", key: {}, build: wrapped, train: async (m) => { calls.count++; await trainTiny(m.model); } };
    const a = await cachedModel(s, quiet());
    const b = await cachedModel(s, quiet());
    expect([a.source, b.source, calls.count]).toEqual(["trained", "loaded", 1]);
    expect(weightsOf(b.model.model)).toEqual(weightsOf(a.model.model));
    expect(b.summary).toEqual({});
    a.model.dispose();
    b.model.dispose();
    const parts: CachedModelSpec<tf.Sequential> = {
      name: "parts", key: {}, build: () => tinyModel(), train: (m) => trainTiny(m),
      weights: (m) => ({ first: m.layers[0], second: m.layers[1] }),
    };
    const p1 = await cachedModel(parts, quiet());
    const p2 = await cachedModel(parts, quiet());
    expect(p2.source).toBe("loaded");
    expect(fs.readdirSync(p1.directory).sort()).toEqual(["cache.json", "first", "second"]);
    expect(weightsOf(p2.model)).toEqual(weightsOf(p1.model));
    // Damage the second part: the first has been loaded by then, so the retraining must start from a rebuilt model.
    const second = path.join(p1.directory, "second", readWeightsManifest(`models/parts/${p1.keyHash}/second`, { dataDir }).weightsFile);
    fs.writeFileSync(second, Buffer.alloc(fs.statSync(second).size));
    const options = quiet();
    const p3 = await cachedModel(parts, options);
    expect([p3.source, options.warnings.length]).toEqual(["trained", 1]);
    expect(weightsOf(p3.model)).toEqual(weightsOf(p1.model));
    [p1, p2, p3].forEach((m) => m.model.dispose());
  });

  it("caches a library autoencoder trained by trainModel (its `model` saved, the summary kept)", async () => {
    const calls = { count: 0 };
    const images = tf.randomUniform([32, 12], 0, 1, "float32", 3);
    const autoencoder: CachedModelSpec<AutoencoderModel> = {
      name: "mlp-12-4-12", key: { samples: 32, epochs: 2, batchSize: 16, seed: 2, optimizer: { name: "adam", learningRate: 0.01 } },
      build: () => mlpAutoencoder({ layerSizes: [12, 4, 12], seed: 2 }),
      train: async (net) => {
        calls.count++;
        const history = await trainModel({
          data: { xs: images }, models: [net.model], lossTerms: (b) => ({ mse: meanSquaredError(b.xs, net.reconstruct(b.xs)) }),
          numEpochs: 2, batchSize: 16, optimizer: { name: "adam", learningRate: 0.01 }, seed: 2, progress: false,
        });
        return { finalLoss: history.terms.total[history.terms.total.length - 1] };
      },
    };
    const before = tf.memory().numTensors;
    const trained = await cachedModel(autoencoder, quiet());
    const loaded = await cachedModel(autoencoder, quiet());
    expect([trained.source, loaded.source, calls.count]).toEqual(["trained", "loaded", 1]);
    expect(loaded.summary.finalLoss).toBe(trained.summary.finalLoss);
    expect(weightsOf(loaded.model.model)).toEqual(weightsOf(trained.model.model));
    expectSameOutputsThenFree(trained.model, loaded.model, (m) => m.reconstruct(images, false), before);
    images.dispose();
  });

  it("caches CSAE-C in two parts with its batch-norm moving statistics, so the loaded model encodes identically in inference mode", async () => {
    const images = tf.randomUniform([8, 32, 32, 1], 0, 1, "float32", 4);
    const spec: CachedModelSpec<CsaeConvModel> = {
      name: "csae-c-tiny", key: { widths: [4, 4, 8, 8], steps: 1 },
      build: () => csaeConv({ widths: [4, 4, 8, 8], seed: 3 }),
      weights: (m) => ({ encoder: m.encoder, decoder: m.decoder }),
      // One forward pass in training mode moves the batch-norm statistics away from their initial 0 and 1.
      train: async (m) => { tf.dispose(m.encode(images, true)); },
    };
    const before = tf.memory().numTensors;
    const trained = await cachedModel(spec, quiet());
    const loaded = await cachedModel(spec, quiet());
    expect([trained.source, loaded.source]).toEqual(["trained", "loaded"]);
    const moving = (m: CsaeConvModel) => m.encoder.weights.filter((w) => /moving_mean/.test(w.name)).map((w) => Array.from(w.read().dataSync()));
    expect(moving(trained.model).flat().some((v) => v !== 0)).toBe(true);
    expect(moving(loaded.model)).toEqual(moving(trained.model));
    expectSameOutputsThenFree(trained.model, loaded.model, (m) => m.encode(images, false), before);
    images.dispose();
  });

  /** Three "epochs" of trainTiny, calling checkpoint after each; records the weights it had at each epoch. */
  function checkpointedSpec(name: string, checkpoints: number[] | undefined, calls: { count: number; seen: number[][][] }, lastEpoch = 3): CachedModelSpec<tf.Sequential> {
    return {
      name, key: { epochs: lastEpoch }, build: () => tinyModel(), checkpoints,
      train: async (model, checkpoint) => {
        calls.count++;
        calls.seen = [];
        let summary = { finalLoss: NaN };
        for (let epoch = 1; epoch <= lastEpoch; epoch++) {
          summary = await trainTiny(model);
          calls.seen.push(weightsOf(model));
          checkpoint(epoch);
        }
        return summary;
      },
    };
  }

  it("keeps the weights at the checkpoint steps beside the final ones, saves them and loads them back bit-identical", async () => {
    const calls = { count: 0, seen: [] as number[][][] };
    const before = tf.memory().numTensors;
    const first = await cachedModel(checkpointedSpec("checkpointed", [2, 1], calls), quiet());
    expect(first.source).toBe("trained");
    expect(first.checkpoints.map((c) => c.step)).toEqual([1, 2]); // in step order
    expect(first.checkpoints.map((c) => weightsOf(c.model))).toEqual([calls.seen[0], calls.seen[1]]);
    expect(weightsOf(first.model)).toEqual(calls.seen[2]);
    expect(calls.seen[0]).not.toEqual(calls.seen[1]);
    expect(tf.memory().numTensors).toBe(before + 3 * 4); // three models' weights, no snapshot left behind
    const second = await cachedModel(checkpointedSpec("checkpointed", [1, 2], calls), quiet());
    expect([second.source, calls.count]).toEqual(["loaded", 1]);
    expect(second.keyHash).toBe(first.keyHash);
    expect(second.checkpoints.map((c) => [c.step, weightsOf(c.model)])).toEqual(first.checkpoints.map((c) => [c.step, weightsOf(c.model)]));
    expect(weightsOf(second.model)).toEqual(weightsOf(first.model));
    for (const r of [first, second]) [r.model, ...r.checkpoints.map((c) => c.model)].forEach((m) => m.dispose());
    expect(tf.memory().numTensors).toBe(before);
    const plain = await cachedModel(checkpointedSpec("checkpointed", undefined, calls), quiet());
    expect([plain.source, plain.checkpoints, calls.count]).toEqual(["trained", [], 2]); // other checkpoints: another entry
    expect(plain.keyHash).not.toBe(first.keyHash);
    plain.model.dispose();
  });

  it("a checkpoint that training never reached fails, naming it, and saves nothing; bad checkpoints are refused", async () => {
    const calls = { count: 0, seen: [] as number[][][] };
    const before = tf.memory().numTensors;
    await expect(cachedModel(checkpointedSpec("unreached", [2, 5], calls), quiet())).rejects.toThrow(/never called checkpoint\(step\) for step\(s\) 5 of checkpoints \[2,5\] \(did training stop early\?\)/);
    expect(tf.memory().numTensors).toBe(before);
    expect(fs.existsSync(path.join(dataDir, "weights", "models", "unreached"))).toBe(false);
    await expect(cachedModel(checkpointedSpec("bad", [1, 1], calls), quiet())).rejects.toThrow(/checkpoints repeat a step: \[1,1\]/);
    await expect(cachedModel(checkpointedSpec("bad", [1.5], calls), quiet())).rejects.toThrow(/checkpoints must be an array of integers ≥ 0 .*got \[1\.5\]/);
    expect(calls.count).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("rejects bad input with errors naming it", async () => {
    const calls = { count: 0 };
    await expect(cachedModel(spec("bad", { schedule: { lr: NaN } }, calls), quiet())).rejects.toThrow("key.schedule.lr must be a finite number");
    await expect(cachedModel(spec("bad", { f: (() => 1) as unknown as number }, calls), quiet())).rejects.toThrow(/key\.f must be JSON .*got function/);
    await expect(cachedModel(spec("../escape", {}, calls), quiet())).rejects.toThrow(/weights name must be/);
    await expect(cachedModel({ name: "nomodel", key: {}, build: () => ({ x: 1 }), train: async () => undefined }, quiet())).rejects.toThrow(/neither a tf.LayersModel nor an object with a `model`.*give spec.weights/);
    const bigSummary: CachedModelSpec<tf.Sequential> = { name: "summary", key: {}, build: () => tinyModel(), train: async () => ({ when: new Date() as unknown as string }) };
    await expect(cachedModel(bigSummary, quiet())).rejects.toThrow(/train\(\)'s summary\.when must be JSON .*got a Date object/);
    expect(calls.count).toBe(0);
    expect(canonicalJson({ b: [1, { d: null, c: "x" }], a: true })).toBe('{"a":true,"b":[1,{"c":"x","d":null}]}');
  });
});
