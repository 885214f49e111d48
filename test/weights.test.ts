import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import {
  saveWeights, loadWeights, weightsExist, weightsDirectory, projectDataDir, readSavedWeights, readWeightsManifest,
} from "../lib/weights";
import { seedGlobalRandom, restoreGlobalRandom } from "../lib/random";

let dataDir: string;

beforeAll(async () => {
  await tf.setBackend("cpu");
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ae-weights-"));
});

afterAll(() => {
  fs.rmSync(dataDir, { recursive: true, force: true });
});

function smallModel(seed: number, units = 3): tf.Sequential {
  seedGlobalRandom(seed);
  const model = tf.sequential({
    layers: [tf.layers.dense({ units, inputShape: [4], activation: "relu" }), tf.layers.dense({ units: 2 })],
  });
  restoreGlobalRandom();
  return model;
}

const arrays = (model: tf.LayersModel) => model.getWeights().map((t) => t.arraySync());

describe("projectDataDir", () => {
  it("finds the repository's data/ from lib/, honours AE_DATA_DIR and the option", () => {
    expect(projectDataDir({}, {})).toBe(path.resolve(__dirname, "..", "data"));
    expect(projectDataDir({}, { AE_DATA_DIR: "/tmp/x" })).toBe("/tmp/x");
    expect(projectDataDir({ dataDir: "/tmp/y" }, { AE_DATA_DIR: "/tmp/x" })).toBe("/tmp/y");
    expect(weightsDirectory("csae/full", { dataDir: "/d" })).toBe("/d/weights/csae/full");
    expect(() => weightsDirectory("../escape")).toThrow(/weights name must be/);
  });
});

describe("saveWeights / loadWeights", () => {
  it("round-trips a sequential model, with metadata, and leaks nothing", async () => {
    const source = smallModel(1);
    const target = smallModel(2);
    expect(arrays(target)).not.toEqual(arrays(source));
    expect(weightsExist("mlp", { dataDir })).toBe(false);
    const before = tf.memory().numTensors;
    const manifest = await saveWeights("mlp", source, { dataDir, metadata: { epochs: 50, mode: "full", metrics: { mse: 0.01 } } });
    expect(manifest.kind).toBe("model");
    expect(manifest.weights.map((w) => w.shape)).toEqual([[4, 3], [3], [3, 2], [2]]);
    expect(manifest.byteLength).toBe((12 + 3 + 6 + 2) * 4);
    expect(weightsExist("mlp", { dataDir })).toBe(true);
    const loaded = await loadWeights("mlp", target, { dataDir });
    expect(tf.memory().numTensors).toBe(before);
    expect(loaded.metadata).toEqual({ epochs: 50, mode: "full", metrics: { mse: 0.01 } });
    expect(arrays(target)).toEqual(arrays(source));
    const x = tf.ones([1, 4]);
    expect(Array.from((target.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((source.predict(x) as tf.Tensor).dataSync()));
    source.dispose();
    target.dispose();
    x.dispose();
  });

  it("round-trips a record of variables and tensors (int32 included)", async () => {
    const record = {
      w: tf.variable(tf.tensor2d([[1.5, -2], [3, 4.25]])),
      b: tf.tensor1d([0.125]),
      counts: tf.tensor1d([7, -3, 16777216], "int32"),
    };
    await saveWeights("record", record, { dataDir });
    const into = { w: tf.variable(tf.zeros([2, 2])), b: tf.variable(tf.zeros([1])), counts: tf.variable(tf.zeros([3], "int32")) };
    await loadWeights("record", into, { dataDir });
    expect(into.w.arraySync()).toEqual([[1.5, -2], [3, 4.25]]);
    expect(into.b.arraySync()).toEqual([0.125]);
    expect(into.counts.dtype).toBe("int32");
    expect(into.counts.arraySync()).toEqual([7, -3, 16777216]);
    const { tensors, manifest } = await readSavedWeights("record", { dataDir });
    expect(manifest.kind).toBe("record");
    expect(Object.keys(tensors)).toEqual(["w", "b", "counts"]);
    expect(tensors.counts.dtype).toBe("int32");
    tf.dispose([...Object.values(record), ...Object.values(into), ...Object.values(tensors)]);
  });

  it("names the weight and both shapes on a mismatch, and assigns nothing", async () => {
    const source = smallModel(3);
    await saveWeights("shapes", source, { dataDir });
    const wider = smallModel(4, 5);
    const widerBefore = arrays(wider);
    await expect(loadWeights("shapes", wider, { dataDir })).rejects.toThrow(
      /loadWeights: weight 0 'dense_Dense\d+\/kernel': saved shape \[4, 3\] \('dense_Dense\d+\/kernel'\) but the model's is \[4, 5\]/,
    );
    expect(arrays(wider)).toEqual(widerBefore);
    const deeper = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [4] })] });
    await expect(loadWeights("shapes", deeper, { dataDir })).rejects.toThrow(/holds 4 weights but the model has 2/);
    // Names are compared without tfjs's auto-numbering; explicit names that differ are caught.
    const named = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4], name: "encoder" }), tf.layers.dense({ units: 2 })] });
    await expect(loadWeights("shapes", named, { dataDir })).rejects.toThrow(/weight 0 is 'dense_Dense\d+\/kernel' in weights "shapes" but 'encoder\/kernel' in the model/);
    await loadWeights("shapes", named, { dataDir, checkNames: false });
    expect(arrays(named)).toEqual(arrays(source));
    // Records: a shape mismatch, a missing key and an extra key.
    await saveWeights("rec2", { a: tf.zeros([2]) }, { dataDir });
    const a3 = tf.variable(tf.zeros([3]));
    await expect(loadWeights("rec2", { a: a3 }, { dataDir })).rejects.toThrow("loadWeights: weight 'a': saved shape [2] but the variable's is [3]");
    const c = tf.variable(tf.zeros([2]));
    await expect(loadWeights("rec2", { c }, { dataDir })).rejects.toThrow(/has no weight 'c' \(it has: a\)/);
    await expect(loadWeights("rec2", {}, { dataDir })).rejects.toThrow(/also holds a, which the target record lacks/);
    tf.dispose([a3, c]);
    [source, wider, deeper, named].forEach((m) => m.dispose());
  });

  it("a missing save or bin file errors naming the path; a damaged bin is detected", async () => {
    const model = smallModel(5);
    const missing = path.join(dataDir, "weights", "nothing-here", "manifest.json");
    await expect(loadWeights("nothing-here", model, { dataDir })).rejects.toThrow(`${missing} does not exist`);
    const manifest = await saveWeights("damaged", model, { dataDir });
    const bin = path.join(dataDir, "weights", "damaged", manifest.weightsFile);
    const bytes = fs.readFileSync(bin);
    bytes[0] ^= 0xff;
    fs.writeFileSync(bin, bytes);
    await expect(loadWeights("damaged", model, { dataDir })).rejects.toThrow(/does not match the SHA-256/);
    fs.rmSync(bin);
    await expect(loadWeights("damaged", model, { dataDir })).rejects.toThrow(`${bin} does not exist`);
    expect(() => readWeightsManifest("nothing-here", { dataDir })).toThrow(/does not exist/);
    model.dispose();
  });

  it("writes atomically: no temp files, one bin per save, a failed save leaves the old one intact", async () => {
    const first = smallModel(6);
    const second = smallModel(7);
    const dir = path.join(dataDir, "weights", "atomic");
    const m1 = await saveWeights("atomic", first, { dataDir });
    expect(fs.readdirSync(dir).sort()).toEqual([m1.weightsFile, "manifest.json"].sort());
    const m2 = await saveWeights("atomic", second, { dataDir });
    expect(m2.weightsFile).not.toBe(m1.weightsFile);
    expect(fs.readdirSync(dir).sort()).toEqual([m2.weightsFile, "manifest.json"].sort());
    // A save that fails (a disposed tensor) writes nothing and the previous save still loads.
    const gone = tf.zeros([2]);
    gone.dispose();
    await expect(saveWeights("atomic", { gone }, { dataDir })).rejects.toThrow(/weight 'gone' has been disposed/);
    await expect(saveWeights("atomic", first, { dataDir, metadata: { bad: BigInt(1) } as Record<string, unknown> })).rejects.toThrow();
    expect(fs.readdirSync(dir).sort()).toEqual([m2.weightsFile, "manifest.json"].sort());
    const target = smallModel(8);
    await loadWeights("atomic", target, { dataDir });
    expect(arrays(target)).toEqual(arrays(second));
    [first, second, target].forEach((m) => m.dispose());
  });
});
