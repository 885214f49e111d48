/**
 * The lean saves (lib/accelerate/saved-tensors.ts) against tfjs's own clone, on the cpu and wasm
 * backends: a training step's gradients are the same bits, with no tape node for a saved tensor at
 * gradient depth 1 and no tensor left behind; a nested gradient gets the deferred nodes of the saves
 * made before it (by an op and by a customGrad), and higher-order gradients equal tfjs's and the
 * closed form.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend";
import { installLeanSaves, leanSavesInstalled, uninstallLeanSaves } from "../../lib/accelerate/saved-tensors";
import { seededNormal, withBackend } from "../helpers/gradcheck";

beforeAll(async () => {
  await initBackend({ backend: "cpu" });
  const report = await initBackend({ backend: "wasm" });
  expect(report.name).toBe("wasm");
  expect(leanSavesInstalled()).toBe(true); // the accelerator installs them with the wasm kernels
});

afterAll(() => {
  installLeanSaves();
});

interface TapeNode { kernelName: string; inputs: Record<string, tf.Tensor>; outputs: tf.Tensor[]; saved: tf.Tensor[] }
interface TapeEngine { state: { activeTape: TapeNode[] | null } }

/** A clone's tape node (tfjs's Engine.clone: input x, one kept output, nothing saved), named "clone"; others by their kernel. */
const nodeLabel = (node: TapeNode) =>
  Object.keys(node.inputs).join() === "x" && node.outputs.length === 1 && node.outputs[0].kept && node.saved.length === 0 ? "clone" : node.kernelName;

/** One step of a small conv net's loss: gradients of every weight (read back) and the kernels its tape recorded. */
function step(seed: number): { grads: Float32Array[]; tapeKernels: string[] } {
  const engine = tf.engine() as unknown as TapeEngine;
  let tapeKernels: string[] = [];
  const grads = tf.tidy(() => {
    const x = tf.tensor4d(seededNormal(2 * 6 * 6 * 3, seed), [2, 6, 6, 3]);
    const w = tf.variable(tf.tensor4d(seededNormal(3 * 3 * 3 * 4, seed + 1), [3, 3, 3, 4]));
    const dense = tf.variable(tf.tensor2d(seededNormal(4 * 5, seed + 2), [4, 5]));
    try {
      const { grads } = tf.variableGrads(() => {
        const h = tf.relu(tf.conv2d(x, w as tf.Tensor4D, 1, "same"));
        const pooled = tf.mean(h, [1, 2]) as tf.Tensor2D;
        const out = tf.matMul(pooled, dense as tf.Tensor2D);
        const loss = tf.sum(tf.mul(tf.square(out), tf.sigmoid(out))) as tf.Scalar;
        tapeKernels = (engine.state.activeTape ?? []).map(nodeLabel);
        return loss;
      }, [w, dense]);
      return [grads[w.name], grads[dense.name]].map((g) => g.dataSync().slice() as Float32Array);
    } finally {
      w.dispose();
      dense.dispose();
    }
  });
  return { grads, tapeKernels };
}

describe.each(["cpu", "wasm"] as const)("lean saves on %s", (backend) => {
  test("a step's gradients are tfjs's bits, without the clones' tape nodes or a tensor left behind", async () => {
    await withBackend(backend, () => {
      uninstallLeanSaves();
      const before = tf.memory().numTensors;
      const theirs = step(7);
      expect(tf.memory().numTensors).toBe(before);
      installLeanSaves();
      const ours = step(7);
      expect(tf.memory().numTensors).toBe(before);
      expect(ours.grads.map((g) => Array.from(g))).toEqual(theirs.grads.map((g) => Array.from(g)));
      const clones = (kernels: string[]) => kernels.filter((k) => k === "clone").length;
      // tfjs's clones: one tape node per saved tensor (Conv2D saves 2, Relu 1, MatMul 2, Mul 2, …).
      expect(clones(theirs.tapeKernels)).toBeGreaterThanOrEqual(8);
      expect(clones(ours.tapeKernels)).toBe(0);
      expect(ours.tapeKernels).toEqual(theirs.tapeKernels.filter((k) => k !== "clone"));
    });
  });

  test("a nested gradient through tensors saved at depth 1 is tfjs's (an op's saves and a customGrad's)", async () => {
    await withBackend(backend, () => {
      const before = tf.memory().numTensors;
      const xs = [1.5, -2, 3];
      const cube = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
        save([x]);
        return { value: tf.pow(x, 3), gradFunc: (dy: tf.Tensor, [s]: tf.Tensor[]) => tf.mul(dy, tf.mul(3, tf.square(s))) };
      }) as unknown as Parameters<typeof tf.customGrad>[0]);
      // b is computed at depth 1, outside the inner function, and saves x there; the inner gradient differentiates it too.
      const nested = (outside: (x: tf.Tensor) => tf.Tensor, inside: (y: tf.Tensor, b: tf.Tensor) => tf.Tensor) => tf.tidy(() =>
        Array.from(tf.grad((x: tf.Tensor) => {
          const b = outside(x);
          return tf.sum(tf.grad((y: tf.Tensor) => tf.sum(inside(y, b)) as tf.Scalar)(x)) as tf.Scalar;
        })(tf.tensor1d(xs)).dataSync()));
      const both = (fn: () => number[]) => {
        uninstallLeanSaves();
        const theirs = fn();
        installLeanSaves();
        return { theirs, ours: fn() };
      };
      // d/dx Σ ∂/∂x Σ(x² + x²) = 4; d/dx Σ ∂/∂x Σ(x + x³) = 6x.
      const square = both(() => nested((x) => tf.square(x), (y, b) => tf.add(tf.mul(y, y), b)));
      expect(square.ours).toEqual(square.theirs);
      expect(square.ours).toEqual([4, 4, 4]);
      const custom = both(() => nested((x) => cube(x) as tf.Tensor, (y, b) => tf.add(y, b)));
      expect(custom.ours).toEqual(custom.theirs);
      custom.ours.forEach((v, i) => expect(v).toBeCloseTo(6 * xs[i], 4));
      expect(tf.memory().numTensors).toBe(before);
    });
  });

  test("second-order gradients still flow through the saved tensors (d²/dx² of x³·sin x)", async () => {
    await withBackend(backend, () => {
      const before = tf.memory().numTensors;
      const xs = [-1.5, -0.2, 0.3, 2];
      const second = tf.tidy(() => {
        const f = (x: tf.Tensor) => tf.mul(tf.pow(x, 3), tf.sin(x));
        const d2 = tf.grad((x: tf.Tensor) => tf.sum(tf.grad(f)(x)) as tf.Scalar);
        return Array.from(d2(tf.tensor1d(xs)).dataSync());
      });
      expect(tf.memory().numTensors).toBe(before);
      // (x³ sin x)'' = 6x sin x + 6x² cos x − x³ sin x
      const expected = xs.map((x) => 6 * x * Math.sin(x) + 6 * x * x * Math.cos(x) - x ** 3 * Math.sin(x));
      second.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 4));
    });
  });
});

test("install is idempotent and uninstall puts tfjs's clone back", () => {
  expect(installLeanSaves()).toBe(false);
  uninstallLeanSaves();
  expect(leanSavesInstalled()).toBe(false);
  expect(installLeanSaves()).toBe(true);
  expect(leanSavesInstalled()).toBe(true);
});
