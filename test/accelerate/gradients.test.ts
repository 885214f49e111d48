/**
 * The accelerator's gradients (lib/accelerate/gradients.ts) against tfjs's own, on the cpu and
 * wasm backends: ∂/∂x of Σ w·mean(x, axis) and Σ w·sum(x, axis) for reductions over every
 * axis, one, several, negative ones and with keepDims must be the same float32 values
 * (ours broadcast dy/n where tfjs multiplies by ones and divides: element for element dy/n),
 * from one Tile instead of ones(x.shape) and a full-size product, with no tensor left behind.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend";
import { GRADIENT_OVERRIDES, isOurGradient, registerGradientOverrides, unregisterGradientOverrides } from "../../lib/accelerate/gradients";
import { seededNormal, withBackend } from "../helpers/gradcheck";

beforeAll(async () => {
  await initBackend({ backend: "cpu" });
  const report = await initBackend({ backend: "wasm" });
  expect(report.name).toBe("wasm");
});

afterAll(() => {
  registerGradientOverrides();
});

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

interface Case { shape: number[]; axis?: number | number[]; keepDims?: boolean }
const CASES: Case[] = [
  { shape: [128, 784] },
  { shape: [128, 784], axis: 1 },
  { shape: [128, 40], axis: 0 },
  { shape: [4, 5, 6], axis: [0, 2] },
  { shape: [4, 5, 6], axis: -1, keepDims: true },
  { shape: [3, 7], axis: [0, 1], keepDims: true },
  { shape: [9] },
];

/** ∂/∂x of Σ w·reduce(x) (w weighs each output differently), read back. */
function gradient(kind: "mean" | "sum", c: Case, seed: number): Float32Array {
  return tf.tidy(() => {
    const x = tf.tensor(seededNormal(size(c.shape), seed), c.shape);
    const reduce = (t: tf.Tensor) => (kind === "mean" ? tf.mean(t, c.axis, c.keepDims) : tf.sum(t, c.axis, c.keepDims));
    const outShape = reduce(x).shape;
    const w = tf.tensor(seededNormal(size(outShape), seed + 1), outShape);
    const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(reduce(t), w)))(x);
    return Float32Array.from(dx.dataSync());
  });
}

describe("Mean and Sum gradients without ones(x.shape)", () => {
  test("registered by the accelerator in place of tfjs's own", () => {
    expect(GRADIENT_OVERRIDES.map((g) => g.kernelName)).toEqual(["Mean", "Sum"]);
    expect(isOurGradient("Mean")).toBe(true);
    expect(isOurGradient("Sum")).toBe(true);
  });

  for (const backend of ["cpu", "wasm"] as const) {
    for (const kind of ["mean", "sum"] as const) {
      test(`${kind} on ${backend}: the same values as tfjs's gradient, no tensor left`, async () => {
        await withBackend(backend, async () => {
          CASES.forEach((c, i) => {
            unregisterGradientOverrides();
            expect(isOurGradient(kind === "mean" ? "Mean" : "Sum")).toBe(false);
            const theirs = gradient(kind, c, 10 * i);
            registerGradientOverrides();
            const before = tf.memory().numTensors;
            const ours = gradient(kind, c, 10 * i);
            expect(tf.memory().numTensors).toBe(before);
            expect(ours.length).toBe(size(c.shape));
            expect(Array.from(ours), `${kind} ${JSON.stringify(c)}`).toEqual(Array.from(theirs));
          });
        });
      });
    }
  }

  test("the gradient of a batch's MSE mean runs one Tile, no full-size product or division", async () => {
    registerGradientOverrides();
    const x = tf.randomNormal([128, 784], 0, 1, "float32", 3);
    const info = await tf.profile(() => {
      const dx = tf.grad((t: tf.Tensor) => tf.mean(t))(x);
      dx.dispose();
    });
    const backward = info.kernels.map((k) => k.name).filter((name) => name !== "Mean" && !name.endsWith("__op"));
    expect(backward.filter((name) => name === "Tile")).toHaveLength(1);
    for (const k of info.kernels) {
      if (k.name === "Multiply" || k.name === "RealDiv") expect(size(k.outputShapes[0] as number[])).toBe(1);
    }
    x.dispose();
  });
});
