/**
 * Dense layers as one kernel (lib/accelerate/dense.ts) on both paths (native addon, wasm only):
 * the loss Σ w·f(x) of two stacked Dense layers (linear, ReLU, sigmoid) and its gradient for every
 * weight and for x must equal tfjs-layers' own unfused ops on wasm (value for value on the addon,
 * whose products and epilogues are the same functions; within BACKEND_TOLERANCE on wasm's
 * XNNPACK, which adds the bias inside its product) and the cpu backend (BACKEND_TOLERANCE).
 * A first layer's input gradient is not computed; training leaves no tensor behind; other
 * shapes and backends keep tfjs-layers' own call.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend";
import { DENSE_ACTIVATION_GRAD_KERNEL, DENSE_KERNEL, denseCounters, setDenseFusion } from "../../lib/accelerate/dense";
import { loadNativeKernels, nativeAddon, setNativeEnabled } from "../../lib/accelerate/native/addon";
import { trainModel } from "../../lib/train";
import { assertClose, BACKEND_TOLERANCE, seededNormal, withBackend } from "../helpers/gradcheck";

beforeAll(async () => {
  await initBackend({ backend: "cpu" });
  const report = await initBackend({ backend: "wasm" });
  expect(report.name).toBe("wasm");
});

afterAll(() => {
  setDenseFusion(true);
  tf.disposeVariables();
});

const nativeLoaded = nativeAddon() !== null || loadNativeKernels().loaded;
const ACTIVATIONS = ["linear", "relu", "sigmoid"] as const;

/** Two seeded Dense layers 20 → 16 (first) → 7 (second) in a model, fresh weights from the seed. */
function mlp(first: string, second: string, seed: number): tf.Sequential {
  const init = (s: number) => ({ kernelInitializer: tf.initializers.randomNormal({ seed: s }), biasInitializer: tf.initializers.randomNormal({ seed: s + 1 }) });
  return tf.sequential({ layers: [
    tf.layers.dense({ units: 16, inputShape: [20], activation: first as "relu", ...init(seed) }),
    tf.layers.dense({ units: 7, activation: second as "relu", ...init(seed + 2) }),
  ] });
}

/** [loss, ∂/∂x, ∂/∂W1, ∂/∂b1, ∂/∂W2, ∂/∂b2] of Σ w·dense2(dense1(x)) on the current backend, read back. */
function lossAndGradients(first: string, second: string, seed: number): Float32Array[] {
  const model = mlp(first, second, seed);
  const x = tf.tensor(seededNormal(9 * 20, seed + 10), [9, 20]);
  const w = tf.tensor(seededNormal(9 * 7, seed + 11), [9, 7]);
  const vars = model.trainableWeights.map((v) => (v as unknown as { val: tf.Variable }).val);
  const f = (input: tf.Tensor) => tf.sum(tf.mul(model.apply(input) as tf.Tensor, w)) as tf.Scalar;
  const { value, grads } = tf.variableGrads(() => f(x), vars);
  const dx = tf.grad(f)(x);
  const out = [value, dx, ...vars.map((v) => grads[v.name])].map((t) => Float32Array.from(t.dataSync()));
  tf.dispose([value, dx, x, w, ...Object.values(grads)]);
  model.dispose();
  return out;
}

for (const path of ["native", "wasm only"] as const) {
  describe.runIf(path === "wasm only" || nativeLoaded)(`Dense as one kernel (${path})`, () => {
    let previous = true;
    beforeAll(() => { previous = setNativeEnabled(path === "native"); });
    afterAll(() => { setNativeEnabled(previous); setDenseFusion(true); });

    for (const first of ACTIVATIONS) {
      for (const second of ACTIVATIONS) {
        test(`${first} then ${second}: loss and gradients as tfjs-layers' own ops, and as cpu`, async () => {
          const seed = 1 + 100 * ACTIVATIONS.indexOf(first) + 10 * ACTIVATIONS.indexOf(second); // not 0: tfjs initialisers treat seed 0 as unseeded
          const before = denseCounters.fused;
          setDenseFusion(true);
          const fused = await withBackend("wasm", () => lossAndGradients(first, second, seed));
          // Two layers, called twice (variableGrads and grad).
          expect(denseCounters.fused - before).toBe(4);
          setDenseFusion(false);
          const plain = await withBackend("wasm", () => lossAndGradients(first, second, seed));
          setDenseFusion(true);
          const cpu = await withBackend("cpu", () => lossAndGradients(first, second, seed));
          expect(denseCounters.fused - before).toBe(4); // the cpu backend has no DENSE_KERNEL: tfjs-layers' own call
          fused.forEach((values, i) => {
            if (path === "native") expect(Array.from(values), `quantity ${i}`).toEqual(Array.from(plain[i]));
            else assertClose(values, plain[i], BACKEND_TOLERANCE, `${first}/${second} quantity ${i} vs unfused`);
            assertClose(values, cpu[i], BACKEND_TOLERANCE, `${first}/${second} quantity ${i} vs cpu`);
          });
        });
      }
    }
  });
}

describe.runIf(nativeLoaded)("the activation gradients in one native pass", () => {
  test("dy·step(y) and dy·(y·(1 − y)) bit for bit as tfjs's ops: signed zeros, NaN, ties at 0, both threads' sizes", async () => {
    for (const n of [11, 70_001]) {
      const special = [0, -0, NaN, 1e-30, -1e-30, 1, 0.5, -2];
      const y = Float32Array.from({ length: n }, (_, i) => (i < special.length ? special[i] : seededNormal(1, i)[0]));
      const dy = Float32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? -1.25 : seededNormal(1, n + i)[0]));
      for (const activation of ["relu", "sigmoid"] as const) {
        const [ours, theirs] = tf.tidy(() => {
          const [d, v] = [tf.tensor1d(dy), tf.tensor1d(y)];
          const fused = tf.engine().runKernel(DENSE_ACTIVATION_GRAD_KERNEL, { dy: d, y: v }, { activation } as unknown as tf.NamedAttrMap) as tf.Tensor;
          const plain = activation === "relu" ? tf.mul(d, tf.step(v)) : tf.mul(d, tf.mul(v, tf.sub(tf.scalar(1), v)));
          return [Array.from(fused.dataSync()), Array.from(plain.dataSync())];
        });
        ours.forEach((value, i) => expect(Object.is(value, theirs[i]), `${activation} ${n}: element ${i}: ${value} vs ${theirs[i]}`).toBe(true));
      }
    }
  });
});

describe("Dense as one kernel in training", () => {
  test("a first layer's input gradient is not computed: 2 products backward for layer 2, 1 for layer 1", async () => {
    const model = mlp("relu", "sigmoid", 7);
    const x = tf.tensor(seededNormal(9 * 20, 8), [9, 20]);
    const vars = model.trainableWeights.map((v) => (v as unknown as { val: tf.Variable }).val);
    const info = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(model.apply(x) as tf.Tensor) as tf.Scalar, vars);
      tf.dispose([value, ...Object.values(grads)]);
    });
    const names = info.kernels.map((k) => k.name);
    expect(names.filter((n) => n === DENSE_KERNEL)).toHaveLength(2);
    expect(names.filter((n) => n === "BatchMatMul")).toHaveLength(3);
    expect(names.filter((n) => n === "Add" || n === "Relu" || n === "Sigmoid" || n === "_FusedMatMul")).toHaveLength(0);
    tf.dispose(x);
    model.dispose();
  });

  test("trainModel steps of an MLP leave no tensor behind; rank-3 inputs keep tfjs-layers' call", async () => {
    const model = mlp("relu", "sigmoid", 3);
    const x = tf.tensor(seededNormal(64 * 20, 4), [64, 20]);
    await trainModel({ data: { x }, models: [model], lossTerms: ({ x: b }) => ({ l: tf.mean(tf.square(model.apply(b) as tf.Tensor)) as tf.Scalar }), numEpochs: 1, batchSize: 16, progress: false });
    const before = tf.memory().numTensors;
    const fusedBefore = denseCounters.fused;
    await trainModel({ data: { x }, models: [model], lossTerms: ({ x: b }) => ({ l: tf.mean(tf.square(model.apply(b) as tf.Tensor)) as tf.Scalar }), numEpochs: 2, batchSize: 16, progress: false });
    expect(tf.memory().numTensors).toBe(before);
    expect(denseCounters.fused - fusedBefore).toBe(2 * 4 * 2);
    const rank3 = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [5, 4], activation: "relu" })] });
    const counted = denseCounters.fused;
    const y = rank3.apply(tf.ones([2, 5, 4])) as tf.Tensor;
    expect(y.shape).toEqual([2, 5, 3]);
    expect(denseCounters.fused).toBe(counted);
    tf.dispose([x, y]);
    rank3.dispose();
    model.dispose();
  });
});
