/**
 * A fused convolution's input gradient left uncomputed where the tape does not read it
 * (lib/accelerate/unused-input-gradients.ts), on wasm: the gradients that are read keep their bits
 * (against the same step with the hook removed); it is skipped exactly when the convolution's input
 * is data (not when the gradient is taken with respect to it, nor in an inner backward pass under an
 * outer tape); its output is zeros where tfjs reads every output (tf.profile, DEBUG); and nothing is left behind.
 */
import { afterAll, beforeAll, expect, test, vi } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend";
import { installUnusedInputGradients, uninstallUnusedInputGradients, unusedInputGradientCounters } from "../../lib/accelerate/unused-input-gradients";
import { bitwiseDifferences, seededNormal } from "../helpers/gradcheck";

beforeAll(async () => {
  const report = await initBackend({ backend: "wasm" });
  expect(report.name).toBe("wasm");
  // The accelerator installs it with the wasm kernels.
  expect(installUnusedInputGradients()).toBe(false);
});

afterAll(() => {
  installUnusedInputGradients();
});

/** Two fused convolutions (3×3 then stride 2) on data x, a loss, its variables. */
function net(seed: number) {
  const x = tf.tensor4d(seededNormal(4 * 8 * 8 * 2, seed), [4, 8, 8, 2]);
  const w1 = tf.tidy(() => tf.variable(tf.tensor4d(seededNormal(3 * 3 * 2 * 16, seed + 1, 0.3), [3, 3, 2, 16])));
  const w2 = tf.tidy(() => tf.variable(tf.tensor4d(seededNormal(3 * 3 * 16 * 16, seed + 2, 0.1), [3, 3, 16, 16])));
  const b2 = tf.tidy(() => tf.variable(tf.tensor1d(seededNormal(16, seed + 3))));
  const loss = (input: tf.Tensor4D) => {
    const h = tf.fused.conv2d({ x: input, filter: w1, strides: 1, pad: "same" });
    const y = tf.fused.conv2d({ x: tf.relu(h), filter: w2, bias: b2, strides: 2, pad: "same" });
    return tf.sum(tf.square(y)) as tf.Scalar;
  };
  return { x, vars: [w1, w2, b2], loss, dispose: () => tf.dispose([x, w1, w2, b2]) };
}

/** The gradients of the weights (and of x, when asked) as arrays, with the hook installed or not; and how many input gradients it skipped. */
function gradients(installed: boolean, withRespectToX: boolean) {
  if (installed) installUnusedInputGradients();
  else uninstallUnusedInputGradients();
  const before = unusedInputGradientCounters.skipped;
  const { x, vars, loss, dispose } = net(500);
  const grads = tf.tidy(() => {
    if (withRespectToX) {
      const [dx, ...dw] = tf.grads((input: tf.Tensor, a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => {
        void a; void b; void c;
        return loss(input as tf.Tensor4D);
      })([x, ...vars]);
      return [dx, ...dw].map((g) => g.dataSync().slice());
    }
    const result = tf.variableGrads(() => loss(x), vars);
    return vars.map((v) => result.grads[v.name].dataSync().slice());
  });
  dispose();
  installUnusedInputGradients();
  return { grads, skipped: unusedInputGradientCounters.skipped - before };
}

test("the first convolution's input gradient is skipped (one per step), every weight's gradient keeps its bits, nothing is left behind", () => {
  const before = tf.memory().numTensors;
  const ours = gradients(true, false);
  const plain = gradients(false, false);
  expect(ours.skipped).toBe(1);
  expect(plain.skipped).toBe(0);
  ours.grads.forEach((g, i) => expect(bitwiseDifferences(g, plain.grads[i]), `gradient ${i}`).toEqual([]));
  expect(ours.grads[0].some((v) => v !== 0)).toBe(true);
  expect(tf.memory().numTensors).toBe(before);
});

test("with respect to the data too, the input gradient is computed (the same bits as without the hook)", () => {
  const ours = gradients(true, true);
  const plain = gradients(false, true);
  expect(ours.skipped).toBe(0);
  ours.grads.forEach((g, i) => expect(bitwiseDifferences(g, plain.grads[i]), `gradient ${i}`).toEqual([]));
  expect(ours.grads[0].some((v) => v !== 0)).toBe(true);
});

/** A gradient of a gradient: w1's gradient of the squared norm of b2's gradient, with the hook installed or not. */
function secondOrder(installed: boolean): { grad: Float32Array; skipped: number } {
  if (installed) installUnusedInputGradients();
  else uninstallUnusedInputGradients();
  const before = unusedInputGradientCounters.skipped;
  const { x, vars, loss, dispose } = net(600);
  const grad = tf.tidy(() => {
    const result = tf.variableGrads(() => {
      const inner = tf.variableGrads(() => loss(x), [vars[2]]);
      return tf.sum(tf.square(inner.grads[vars[2].name])) as tf.Scalar;
    }, [vars[0]]);
    return result.grads[vars[0].name].dataSync().slice() as Float32Array;
  });
  dispose();
  installUnusedInputGradients();
  return { grad, skipped: unusedInputGradientCounters.skipped - before };
}

test("a gradient of a gradient: the inner backward pass (under the outer tape) skips nothing, the outer one the data's; the same bits", () => {
  const ours = secondOrder(true);
  const plain = secondOrder(false);
  expect(ours.skipped).toBe(1);
  expect(bitwiseDifferences(ours.grad, plain.grad)).toEqual([]);
  expect(ours.grad.some((v) => v !== 0)).toBe(true);
});

/**
 * One step's weight gradients under `observe` (tf.profile, or DEBUG mode), with the values of every Conv2DBackpropInput
 * output of x's shape (read through a wrapper around the wasm kernel) and tfjs's warnings of NaN or Infinity.
 */
async function observedStep(observe: (step: () => void) => Promise<unknown>) {
  const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
  const log = vi.spyOn(console, "log").mockImplementation(() => {});
  const before = unusedInputGradientCounters.skipped;
  const { x, vars, loss, dispose } = net(500);
  const kernel = tf.getKernel("Conv2DBackpropInput", "wasm")!;
  const inputGradients: number[][] = [];
  tf.unregisterKernel("Conv2DBackpropInput", "wasm");
  tf.registerKernel({ ...kernel, kernelFunc: (args) => {
    const out = kernel.kernelFunc(args) as tf.TensorInfo;
    if (out.shape.join() === x.shape.join()) inputGradients.push(Array.from((args.backend as tf.KernelBackend).readSync(out.dataId) as Float32Array));
    return out;
  } });
  let grads: Float32Array[] = [];
  try {
    await observe(() => {
      const result = tf.variableGrads(() => loss(x), vars);
      grads = vars.map((v) => result.grads[v.name].dataSync().slice() as Float32Array);
      tf.dispose([result.value, ...Object.values(result.grads)]);
    });
    return { grads, inputGradients, skipped: unusedInputGradientCounters.skipped - before, nanWarnings: warn.mock.calls.filter((call) => String(call[0]).startsWith("Found ")) };
  } finally {
    tf.unregisterKernel("Conv2DBackpropInput", "wasm");
    tf.registerKernel(kernel);
    warn.mockRestore();
    log.mockRestore();
    dispose();
  }
}

test("under tf.profile and in DEBUG mode (which read every kernel's output) the skipped output is zeros: no warning of NaN, the same gradients", async () => {
  const plain = gradients(false, false);
  const profiled = await observedStep(async (step) => {
    const profile = await tf.profile(step);
    expect(profile.kernels.some((k) => k.name === "Conv2DBackpropInput")).toBe(true);
  });
  const debug = await observedStep(async (step) => {
    tf.env().set("DEBUG", true);
    try {
      step();
    } finally {
      tf.env().set("DEBUG", false);
    }
  });
  for (const run of [profiled, debug]) {
    expect(run.skipped).toBe(1);
    expect(run.inputGradients.length).toBe(1);
    expect(run.inputGradients[0].every((v) => v === 0)).toBe(true);
    expect(run.nanWarnings).toEqual([]);
    run.grads.forEach((g, i) => expect(bitwiseDifferences(g, plain.grads[i]), `gradient ${i}`).toEqual([]));
  }
});
