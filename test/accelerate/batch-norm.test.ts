/**
 * Batch norm in training as one op (lib/models/batch-norm.ts, equations BN.1–BN.2) and its two wasm
 * kernels (lib/accelerate/wasm-overrides/batch-norm.ts) on both paths (native addon, typed arrays),
 * each against autodiff through plain tfjs ops on the cpu backend: y, μ, σ², and ∂L/∂x, ∂L/∂γ,
 * ∂L/∂β of a weighted sum, with and without the fused ReLU, over shapes that split across threads
 * and ones that do not. Tolerance: BACKEND_TOLERANCE scaled by each quantity's largest value.
 * The moving statistics' update (BN.3) bit for bit against the tf.mul and tf.add it replaces.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend";
import { BATCH_NORM_KERNELS, batchNormTraining, movingAverage } from "../../lib/models/batch-norm";
import { CsaeBatchNorm } from "../../lib/pedcc/models";
import { isOurWasmKernel } from "../../lib/accelerate/wasm-overrides/registry";
import { loadNativeKernels, nativeAddon, nativeCounters, setNativeEnabled } from "../../lib/accelerate/native/addon";
import { assertClose, BACKEND_TOLERANCE, bitwiseDifferences, seededNormal, withBackend } from "../helpers/gradcheck";

beforeAll(async () => {
  await initBackend({ backend: "cpu" });
  const report = await initBackend({ backend: "wasm" });
  expect(report.name).toBe("wasm");
});

afterAll(() => {
  tf.disposeVariables();
});

const EPSILON = 1e-5;
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * Shapes: CSAE-C feature maps with 32, 16 and 64 channels (2,048 to 4,096 rows, ≥ 2^16 values: enough for the addon to split them
 * over threads where it has them; with AVX-512 the addon keeps one, two or four vectors of channels in registers: the forward pass
 * for all three widths, the backward for 16 and 32), small maps, [n, C], one channel, one row per channel.
 */
const SHAPES: number[][] = [[8, 16, 16, 32], [16, 16, 16, 16], [32, 8, 8, 64], [8, 5, 5, 3], [6, 7], [4, 3, 3, 1], [1, 1, 1, 5]];

interface Case { shape: number[]; relu: boolean; seed: number }

/** x (offset and scaled so the moments are not trivial), γ, β, and the weights w of L = Σ w·y. */
function inputs({ shape, seed }: Case) {
  const C = shape[shape.length - 1];
  const x = tf.add(tf.mul(tf.tensor(seededNormal(size(shape), seed), shape), 2.5), 0.7);
  const gamma = tf.tensor1d(seededNormal(C, seed + 1, 0.5).map((v) => v + 1));
  const beta = tf.tensor1d(seededNormal(C, seed + 2, 0.5));
  const w = tf.tensor(seededNormal(size(shape), seed + 3), shape);
  return { x, gamma, beta, w };
}

/** [y, μ, σ², dx, dγ, dβ] of L = Σ w·BN(x) by `bn`, read back. */
function evaluate(c: Case, bn: (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor }): Float32Array[] {
  return tf.tidy(() => {
    const { x, gamma, beta, w } = inputs(c);
    const { y, mean, variance } = bn(x, gamma, beta);
    const grads = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(bn(a, g, b).y, w)))([x, gamma, beta]);
    return [y, mean, variance, ...grads].map((t) => Float32Array.from(t.dataSync()));
  });
}

/** The reference: autodiff through plain ops (tf.moments, broadcasting arithmetic, tf.relu). */
function plainOps(relu: boolean) {
  return (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => {
    const { mean, variance } = tf.moments(x, Array.from({ length: x.rank - 1 }, (_, i) => i));
    const y = tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, EPSILON))), gamma), beta);
    return { y: relu ? tf.relu(y) : y, mean, variance };
  };
}

const ours = (relu: boolean) => (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => batchNormTraining(x, gamma, beta, { epsilon: EPSILON, relu });

const NAMES = ["y", "mean", "variance", "dx", "dgamma", "dbeta"];
function assertAllClose(actual: Float32Array[], expected: Float32Array[], label: string): void {
  actual.forEach((values, i) => {
    const scale = expected[i].reduce((m, v) => Math.max(m, Math.abs(v)), 1);
    assertClose(values, expected[i], { rtol: BACKEND_TOLERANCE.rtol, atol: BACKEND_TOLERANCE.atol * scale * 10 }, `${label} ${NAMES[i]}`);
  });
}

const cases: Case[] = SHAPES.flatMap((shape, i) => [false, true].map((relu) => ({ shape, relu, seed: 10 * i + (relu ? 5 : 1) })));
const reference = new Map<Case, Float32Array[]>();
const referenceOf = async (c: Case) => {
  if (!reference.has(c)) reference.set(c, await withBackend("cpu", () => evaluate(c, plainOps(c.relu))));
  return reference.get(c)!;
};

describe("batchNormTraining by tfjs ops (no kernel registered: the cpu backend)", () => {
  test("cpu has no batch-norm kernel, so the op-by-op path (BN.1–BN.2) is what runs", () => {
    expect(tf.getKernel(BATCH_NORM_KERNELS.forward, "cpu")).toBeUndefined();
    expect(tf.getKernel(BATCH_NORM_KERNELS.gradient, "cpu")).toBeUndefined();
  });
  for (const c of cases) {
    test(`[${c.shape.join(", ")}]${c.relu ? " + ReLU" : ""}: y, μ, σ² and the three gradients equal autodiff through plain ops`, async () => {
      const expected = await referenceOf(c);
      assertAllClose(await withBackend("cpu", () => evaluate(c, ours(c.relu))), expected, "cpu ops");
    });
  }
  test("rejects bad input with errors naming it", () => {
    const x = tf.zeros([2, 3]);
    expect(() => batchNormTraining(x, tf.ones([2]), tf.zeros([3]))).toThrow(/gamma must be \[3\]/);
    expect(() => batchNormTraining(tf.zeros([3]), tf.ones([3]), tf.zeros([3]))).toThrow(/rank ≥ 2/);
    expect(() => batchNormTraining(x, tf.ones([3]), tf.zeros([3]), { epsilon: -1 })).toThrow(/epsilon/);
  });
});

const nativeLoaded = nativeAddon() !== null || loadNativeKernels().loaded;

for (const path of ["native", "wasm only"] as const) {
  describe.runIf(path === "wasm only" || nativeLoaded)(`batch-norm kernels on wasm (${path === "native" ? "native addon" : "typed arrays"}) vs autodiff on cpu`, () => {
    let previous = true;
    beforeAll(() => { previous = setNativeEnabled(path === "native"); });
    afterAll(() => { setNativeEnabled(previous); });
    test("both kernels are ours on wasm", () => {
      expect(isOurWasmKernel(BATCH_NORM_KERNELS.forward)).toBe(true);
      expect(isOurWasmKernel(BATCH_NORM_KERNELS.gradient)).toBe(true);
    });
    for (const c of cases) {
      test(`[${c.shape.join(", ")}]${c.relu ? " + ReLU" : ""}`, async () => {
        const expected = await referenceOf(c);
        const before = nativeCounters.batchNorms;
        const tensorsBefore = await withBackend("wasm", () => tf.memory().numTensors);
        const actual = await withBackend("wasm", () => evaluate(c, ours(c.relu)));
        // Forward twice (the value, then under tf.grads) and the gradient once: three kernel calls on the addon.
        expect(nativeCounters.batchNorms - before).toBe(path === "native" ? 3 : 0);
        expect(await withBackend("wasm", () => tf.memory().numTensors)).toBe(tensorsBefore);
        assertAllClose(actual, expected, `wasm ${path}`);
      });
    }
  });
}

describe.runIf(nativeLoaded)("native batch-norm arguments", () => {
  test("wrong lengths and types get errors saying what was expected", () => {
    const native = nativeAddon()!;
    const f = (n: number) => new Float32Array(n);
    expect(() => native.batchNormForward(f(12), f(3), f(3), f(12), f(3), f(2), 3, 1e-5, false, 1)).toThrow(/batchNormForward: x and y must hold rows × channels/);
    expect(() => native.batchNormForward(f(10), f(3), f(3), f(10), f(3), f(3), 3, 1e-5, false, 1)).toThrow(/rows × channels/);
    expect(() => native.batchNormBackward(f(12), f(12), f(3), f(3), f(3), f(3), f(11), f(3), f(3), 3, 1e-5, true, 1)).toThrow(/batchNormBackward: dy, x and dx/);
    expect(() => (native.batchNormForward as unknown as (...a: unknown[]) => void)(f(12), f(3), f(3), f(12), f(3), f(3), 3, 1e-5, "no", 1)).toThrow(/relu: boolean/);
  });
});

describe("movingAverage (BN.3): the moving statistics' update", () => {
  /** average·m + value·(1 − m) by tf.mul and tf.add (what CsaeBatchNorm ran before the kernel), read back. */
  const byOps = (a: Float32Array, v: Float32Array, m: number) =>
    tf.tidy(() => tf.add(tf.mul(tf.tensor1d(a), m), tf.mul(tf.tensor1d(v), 1 - m)).dataSync().slice());
  /** Statistics of every size (one channel to a long vector), with subnormal, huge, signed-zero and exactly-halfway values. */
  const CASES = [1, 16, 64, 1000].map((n, k) => {
    const a = seededNormal(n, 50 + k, 3), v = seededNormal(n, 60 + k, 0.5);
    if (n >= 16) a.set([1e-40, -1e-42, 3e38, -0, 1 + 2 ** -23, 0.1, 1e-8, 7], 0);
    if (n >= 16) v.set([2e-39, 5e-45, 3e38, 0, 1, -0.1, 1e8, -7], 0);
    return { a, v };
  });

  test("the wasm kernel gives tf.mul and tf.add's bits, on wasm and cpu, for several momenta, with no tensor left behind", async () => {
    expect(isOurWasmKernel(BATCH_NORM_KERNELS.movingAverage)).toBe(true);
    expect(tf.getKernel(BATCH_NORM_KERNELS.movingAverage, "cpu")).toBeUndefined();
    for (const m of [0.9, 0.99, 0.5, 0.1, 0]) {
      for (const { a, v } of CASES) {
        const expected = await withBackend("cpu", () => byOps(a, v, m));
        for (const backend of ["wasm", "cpu"]) {
          const got = await withBackend(backend, () => {
            const before = tf.memory().numTensors;
            const out = tf.tidy(() => movingAverage(tf.tensor1d(a), tf.tensor1d(v), m).dataSync().slice());
            expect(tf.memory().numTensors).toBe(before);
            return out;
          });
          expect(bitwiseDifferences(got, expected), `${backend}, momentum ${m}, ${a.length} values`).toEqual([]);
        }
      }
    }
  });

  test("CsaeBatchNorm's moving statistics move by (BN.3) in training, bit for bit, and stay in inference", async () => {
    await withBackend("wasm", () => {
      const before = tf.memory().numTensors;
      const layer = new CsaeBatchNorm({ momentum: 0.8 });
      const x = tf.tensor2d(seededNormal(6 * 4, 70, 2), [6, 4]);
      tf.dispose(layer.apply(x, { training: true }) as tf.Tensor);
      const [, , movingMean, movingVariance] = layer.getWeights().map((w) => Array.from(w.dataSync()));
      // The batch's statistics as the layer computes them (ε as the layer's default), moved from the initial 0 and 1 by the ops.
      const gamma = tf.ones([4]), beta = tf.zeros([4]);
      const { y, mean, variance } = batchNormTraining(x, gamma, beta, { epsilon: 1e-5 });
      expect(movingMean).toEqual(Array.from(byOps(new Float32Array(4), mean.dataSync() as Float32Array, 0.8)));
      expect(movingVariance).toEqual(Array.from(byOps(new Float32Array(4).fill(1), variance.dataSync() as Float32Array, 0.8)));
      tf.dispose(layer.apply(x, { training: false }) as tf.Tensor);
      const [, , meanAfter, varianceAfter] = layer.getWeights().map((w) => Array.from(w.dataSync()));
      expect([meanAfter, varianceAfter]).toEqual([movingMean, movingVariance]);
      tf.dispose([x, gamma, beta, y, mean, variance]);
      layer.dispose();
      expect(tf.memory().numTensors).toBe(before);
      expect(() => new CsaeBatchNorm({ momentum: NaN })).toThrow(/CsaeBatchNorm: momentum must be in \[0, 1\), got NaN/);
    });
  });

  test("rejects bad input with errors naming it", async () => {
    await withBackend("wasm", () => {
      const a = tf.tensor1d([1, 2]), b = tf.tensor1d([1, 2, 3]), i = tf.tensor1d([1, 2], "int32");
      expect(() => movingAverage(a, b, 0.9)).toThrow(/movingAverage: average and value must be float32 tensors of one shape, got float32 \[2\] and float32 \[3\]/);
      expect(() => movingAverage(a, i, 0.9)).toThrow(/got float32 \[2\] and int32 \[2\]/);
      expect(() => movingAverage(a, a, NaN)).toThrow(/movingAverage: momentum must be a finite number, got NaN/);
      expect(() => tf.engine().runKernel(BATCH_NORM_KERNELS.movingAverage, { average: a, value: a }, {})).toThrow(/AeMovingAverage \(wasm\): attr momentum must be a finite number/);
      tf.dispose([a, b, i]);
    });
  });
});
