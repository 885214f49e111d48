/**
 * Batch norm in training as one op (lib/models/batch-norm.ts, equations BN.1–BN.2) and its two wasm
 * kernels (lib/accelerate/wasm-overrides/batch-norm.ts) on both paths (native addon, typed arrays),
 * each against autodiff through plain tfjs ops on the cpu backend: y, μ, σ², and ∂L/∂x, ∂L/∂γ,
 * ∂L/∂β of a weighted sum, with and without the fused ReLU, over shapes that split across threads
 * and ones that do not. Tolerance: BACKEND_TOLERANCE scaled by each quantity's largest value.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend";
import { BATCH_NORM_KERNELS, batchNormTraining } from "../../lib/models/batch-norm";
import { isOurWasmKernel } from "../../lib/accelerate/wasm-overrides/registry";
import { loadNativeKernels, nativeAddon, nativeCounters, setNativeEnabled } from "../../lib/accelerate/native/addon";
import { assertClose, BACKEND_TOLERANCE, seededNormal, withBackend } from "../helpers/gradcheck";

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
