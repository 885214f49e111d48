/**
 * initBackend: the choice (auto → tfjs-node, else wasm, else cpu), forcing one with
 * AE_BACKEND or an option, clear errors, idempotence, and nothing done on import.
 * Tests run in order in one process (tfjs backend state is per process).
 */
import { loadNativeKernels, resolveNativeThreads } from "../lib/accelerate/native/addon";
import { afterEach, describe, expect, test } from "vitest";
import * as tf from "@tensorflow/tfjs";
import {
  backendReport, describeBackend, initBackend, parseBackendRequest, resolveBackendRequest,
} from "../lib/backend";
import { autoWasmThreads } from "../lib/accelerate/wasm-threads";
import { WASM_FASTER_KERNELS } from "../lib/accelerate/wasm-overrides/registry";
import { FusedAdamOptimizer } from "../lib/accelerate/fused-adam";
import { FusedMomentumOptimizer } from "../lib/accelerate/fused-momentum";
import { createOptimizer, disposeOptimizer } from "../lib/train";

/** Whether tfjs-node could even be found on this machine (it is not installed here). */
function tfjsNodeInstalled(): boolean {
  try {
    require.resolve("@tensorflow/tfjs-node");
    return true;
  } catch {
    return false;
  }
}
const HAS_TFJS_NODE = tfjsNodeInstalled();

const savedAeBackend = process.env.AE_BACKEND;
afterEach(() => {
  if (savedAeBackend === undefined) delete process.env.AE_BACKEND;
  else process.env.AE_BACKEND = savedAeBackend;
});

describe("parsing the request", () => {
  test("accepts the three backends and auto", () => {
    for (const name of ["tensorflow", "wasm", "cpu", "auto"]) expect(parseBackendRequest(name)).toBe(name);
  });

  test("an unknown name is an error naming the source and the allowed values", () => {
    expect(() => parseBackendRequest("gpu", "AE_BACKEND")).toThrow('AE_BACKEND must be one of "tensorflow", "wasm", "cpu", "auto"; got "gpu"');
  });

  test("option beats AE_BACKEND beats the default auto; blank AE_BACKEND means auto", () => {
    expect(resolveBackendRequest({ backend: "cpu", env: { AE_BACKEND: "wasm" } })).toEqual({ request: "cpu", requestedBy: "option" });
    expect(resolveBackendRequest({ env: { AE_BACKEND: "wasm" } })).toEqual({ request: "wasm", requestedBy: "AE_BACKEND" });
    expect(resolveBackendRequest({ env: { AE_BACKEND: " cpu " } })).toEqual({ request: "cpu", requestedBy: "AE_BACKEND" });
    expect(resolveBackendRequest({ env: {} })).toEqual({ request: "auto", requestedBy: "default" });
    expect(resolveBackendRequest({ env: { AE_BACKEND: "" } })).toEqual({ request: "auto", requestedBy: "default" });
  });
});

describe("initBackend", () => {
  test("nothing happens on import: the wasm package is not loaded, no report yet", () => {
    expect(backendReport()).toBeNull();
    expect(tf.findBackendFactory("wasm")).toBeFalsy();
    expect(Object.keys(require.cache).some((path) => path.includes("tfjs-backend-wasm"))).toBe(false);
    expect(describeBackend()).toContain("initBackend not called");
  });

  test("an unknown backend name fails clearly, from the option or from AE_BACKEND", async () => {
    await expect(initBackend({ backend: "gpu" as never })).rejects.toThrow('initBackend: options.backend must be one of "tensorflow", "wasm", "cpu", "auto"; got "gpu"');
    await expect(initBackend({ env: { AE_BACKEND: "tpu" } })).rejects.toThrow('AE_BACKEND must be one of "tensorflow", "wasm", "cpu", "auto"; got "tpu"');
    expect(backendReport()).toBeNull();
  });

  test("auto picks wasm here (tfjs-node is not installed), saying why", async () => {
    const report = await initBackend({ env: {} });
    expect(Object.keys(require.cache).some((path) => path.includes("tfjs-backend-wasm"))).toBe(true);
    if (HAS_TFJS_NODE) {
      // A machine with tfjs-node: it is tried first and either runs or says why not.
      expect(report.attempts[0].name).toBe("tensorflow");
      expect(report.name === "tensorflow" || /tfjs-node failed to load/.test(report.attempts[0].error ?? "")).toBe(true);
      return;
    }
    expect(report.name).toBe("wasm");
    expect(tf.getBackend()).toBe("wasm");
    expect(report.requested).toBe("auto");
    expect(report.attempts).toEqual([
      { name: "tensorflow", ok: false, error: expect.stringContaining("tfjs-node not installed (Cannot find module '@tensorflow/tfjs-node'") },
      { name: "wasm", ok: true },
    ]);
    expect(report.reason).toMatch(/^tfjs-node not installed \(Cannot find module '@tensorflow\/tfjs-node'.*\); wasm loaded \(SIMD (on|off), \d threads?/);
    expect(typeof report.simd).toBe("boolean");
    // "auto" threads: 2 on a machine with 2+ cores (the threaded build), else 1; 1 where the native kernels take the cores.
    const nativeLoaded = loadNativeKernels().loaded;
    expect(report.threads).toBe(nativeLoaded ? 1 : autoWasmThreads());
    if (nativeLoaded && autoWasmThreads() > 1) expect(report.reason).toContain("1 thread: the native kernels take the cores");
    expect(report.reason).toContain(`${report.threads} thread`);
    expect(report.extraKernels).toEqual(["Conv2DBackpropFilter", "MaxPoolGrad", "UnsortedSegmentSum", "OneHot", "Mean", "AeBatchNormTraining", "AeBatchNormTrainingGrad", "AeMovingAverage", "AeSumOfSquares"]);
    expect(report.fasterKernels).toEqual(WASM_FASTER_KERNELS.map((k) => k.kernelName));
    expect(report.fasterKernels!.length).toBeGreaterThan(0);
    expect(report.reason).toMatch(new RegExp(`9 kernels added or fixed, ${report.fasterKernels!.length} made faster; native (matrix products, convolutions, Adam and element-wise kernels \\(.+ register tile, \\d threads?\\)|kernels not built .+|kernels off .+); Adam: (fused native Adam \\(one pass per weight\\)|tfjs's Adam); momentum SGD: (fused native momentum SGD \\(one pass per weight\\)|tfjs's momentum SGD)\\)$`));
    // The accelerator's report says what is active, and trainModel's Adam is the fused one exactly where the addon runs.
    expect(report.accelerator).toMatchObject({ extraKernels: report.extraKernels, fasterKernels: report.fasterKernels, wasmThreads: report.threads, native: { loaded: nativeLoaded } });
    expect(report.accelerator!.adam).toBe(nativeLoaded ? "fused native Adam (one pass per weight)" : "tfjs's Adam");
    expect(report.accelerator!.momentum).toBe(nativeLoaded ? "fused native momentum SGD (one pass per weight)" : "tfjs's momentum SGD");
    const adam = createOptimizer({ name: "adam" });
    expect(adam).toBeInstanceOf(tf.AdamOptimizer);
    expect(adam instanceof FusedAdamOptimizer).toBe(nativeLoaded);
    disposeOptimizer(adam);
    const momentum = createOptimizer({ name: "momentum" });
    expect(momentum).toBeInstanceOf(tf.MomentumOptimizer);
    expect(momentum instanceof FusedMomentumOptimizer).toBe(nativeLoaded);
    disposeOptimizer(momentum);
    // The report says whether the native kernels run, and on how many threads (every core by default).
    expect(report.native).toBe(loadNativeKernels().summary);
    if (nativeLoaded) expect(report.native).toMatch(new RegExp(`, ${resolveNativeThreads({ env: {} })} threads?\\)$`));
    expect(report.nativeThreads).toBe(nativeLoaded ? resolveNativeThreads({ env: {} }) : undefined);
    expect(report.tfjsVersion).toBe(tf.version_core);
    expect(describeBackend(report)).toMatch(/^backend: wasm \(SIMD (on|off), \d threads?\) · tfjs \d+\.\d+\.\d+ · tfjs-node not installed/);
    // The wasm backend works, including a kernel we added.
    const g = tf.tidy(() => tf.grad((f: tf.Tensor) => tf.sum(tf.conv2d(tf.ones([1, 3, 3, 1]) as tf.Tensor4D, f as tf.Tensor4D, 1, "valid")))(tf.zeros([2, 2, 1, 1])).arraySync());
    expect(g).toEqual([[[[4]], [[4]]], [[[4]], [[4]]]]);
  });

  test("calling again reuses the ready backend (same report), also when called concurrently", async () => {
    const first = await initBackend({ env: {} });
    const [second, third] = await Promise.all([initBackend({ env: {} }), initBackend({ backend: "auto", env: {} })]);
    expect(second).toBe(first);
    expect(third).toBe(first);
    expect(backendReport()).toBe(first);
  });

  test("requesting tensorflow here (no tfjs-node) fails clearly and leaves the backend as it was", async () => {
    const before = tf.getBackend();
    if (HAS_TFJS_NODE) {
      // A machine with tfjs-node: the request is met or fails naming tfjs-node.
      await initBackend({ backend: "tensorflow" }).then(
        (report) => expect(report.name).toBe("tensorflow"),
        (error: Error) => expect(error.message).toMatch(/cannot use backend "tensorflow".*tfjs-node/),
      );
      await initBackend({ backend: "wasm" });
      return;
    }
    await expect(initBackend({ env: { AE_BACKEND: "tensorflow" } })).rejects.toThrow(
      /initBackend: cannot use backend "tensorflow" \(forced by AE_BACKEND=tensorflow\): tfjs-node not installed \(Cannot find module '@tensorflow\/tfjs-node'.*\)\. Install it with `npm install @tensorflow\/tfjs-node`, or choose another with AE_BACKEND=wasm\|cpu\|auto\./,
    );
    await expect(initBackend({ backend: "tensorflow" })).rejects.toThrow(/cannot use backend "tensorflow" \(requested as backend "tensorflow"\)/);
    expect(tf.getBackend()).toBe(before);
  });

  test("AE_BACKEND=cpu (read from process.env) forces cpu", async () => {
    process.env.AE_BACKEND = "cpu";
    const report = await initBackend();
    expect(report.name).toBe("cpu");
    expect(tf.getBackend()).toBe("cpu");
    expect(report.requestedBy).toBe("AE_BACKEND");
    expect(report.attempts).toEqual([{ name: "cpu", ok: true }]);
    expect(report.reason).toBe("forced by AE_BACKEND=cpu: cpu ready (pure JavaScript, the slowest)");
    expect(tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(2)).arraySync())).toBe(3);
  });

  test("an explicit option wins over AE_BACKEND, and switching back to wasm is immediate", async () => {
    process.env.AE_BACKEND = "cpu";
    const report = await initBackend({ backend: "wasm" });
    expect(report.name).toBe("wasm");
    expect(tf.getBackend()).toBe("wasm");
    expect(report.reason).toMatch(/^requested as backend "wasm": wasm loaded/);
    expect(report.attempts).toEqual([{ name: "wasm", ok: true }]);
  });

  test("a backend switched behind its back is restored on the next call", async () => {
    const report = await initBackend({ backend: "wasm" });
    await tf.setBackend("cpu");
    expect(await initBackend({ env: {} })).toBe(report);
    expect(tf.getBackend()).toBe("wasm");
  });
});
