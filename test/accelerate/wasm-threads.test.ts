/**
 * The threaded wasm backend (lib/accelerate/wasm-threads.ts): parsing the thread request, a child
 * process that starts it and exits by itself, and one training step (SGD, as in the audit) of an MLP and a
 * conv net on 2-thread wasm vs cpu at the audit's tolerance (BACKEND_TOLERANCE), with shapes
 * large enough that XNNPACK splits the work over its threads.
 * This file's process runs the threaded backend (threads: 2), whatever the machine.
 */
import { spawnSync } from "child_process";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend";
import {
  autoWasmThreads, MAX_WASM_THREADS, parseWasmThreads, resolveWasmThreads, wasmThreadsUnsupportedReason, wasmThreadWorkerCount,
} from "../../lib/accelerate/wasm-threads";
import { assertClose, BACKEND_TOLERANCE, seededNormal, withBackend } from "../helpers/gradcheck";

const ROOT = path.resolve(__dirname, "../..");

/** Cores as os.cpus() lists them in this (unpatched) process. */
function cpuCountHere(): number {
  return os.cpus().length;
}

/** The JSON object a child printed on its last stdout line. */
function lastJsonLine(stdout: string): unknown {
  return JSON.parse(stdout.trim().split("\n").pop() as string);
}

describe("thread request", () => {
  test("accepts auto and 1…MAX_WASM_THREADS, rejects the rest naming the source", () => {
    expect(parseWasmThreads("auto")).toBe("auto");
    expect(parseWasmThreads(" 2 ")).toBe(2);
    expect(parseWasmThreads(MAX_WASM_THREADS)).toBe(MAX_WASM_THREADS);
    for (const bad of ["0", "-1", "1.5", "two", "", String(MAX_WASM_THREADS + 1)]) {
      expect(() => parseWasmThreads(bad, "AE_WASM_THREADS")).toThrow(`AE_WASM_THREADS must be "auto" or an integer from 1 to ${MAX_WASM_THREADS}`);
    }
  });

  test("option beats AE_WASM_THREADS beats auto", () => {
    expect(resolveWasmThreads({ threads: 1, env: { AE_WASM_THREADS: "2" } })).toEqual({ request: 1, requestedBy: "option" });
    expect(resolveWasmThreads({ env: { AE_WASM_THREADS: "2" } })).toEqual({ request: 2, requestedBy: "AE_WASM_THREADS" });
    expect(resolveWasmThreads({ env: { AE_WASM_THREADS: " " } })).toEqual({ request: "auto", requestedBy: "default" });
    expect(resolveWasmThreads({ env: {} })).toEqual({ request: "auto", requestedBy: "default" });
  });

  test("auto: 2 threads where there are 2 cores or more, else the single-threaded build", () => {
    expect(autoWasmThreads(1)).toBe(1);
    expect(autoWasmThreads(2)).toBe(2);
    expect(autoWasmThreads(16)).toBe(2);
  });

  test("a bad AE_WASM_THREADS fails initBackend clearly instead of skipping wasm", async () => {
    await expect(initBackend({ backend: "wasm", env: { AE_WASM_THREADS: "lots" } })).rejects.toThrow('AE_WASM_THREADS must be "auto"');
  });
});

describe("a child process with the threaded backend", () => {
  test("starts 2 threads, computes a matrix product right, and exits by itself", () => {
    const script = `
      const tf = require("@tensorflow/tfjs");
      const { initBackend } = require("./lib/backend");
      initBackend({ backend: "wasm", threads: 2 }).then((report) => {
        const a = tf.randomNormal([300, 200], 0, 1, "float32", 1), b = tf.randomNormal([200, 100], 0, 1, "float32", 2);
        const wasm = tf.matMul(a, b).dataSync();
        return tf.setBackend("cpu").then(() => {
          const cpu = tf.matMul(tf.tensor(a.dataSync(), a.shape), tf.tensor(b.dataSync(), b.shape)).dataSync();
          let maxDiff = 0;
          for (let i = 0; i < cpu.length; i++) maxDiff = Math.max(maxDiff, Math.abs(cpu[i] - wasm[i]));
          const restored = typeof globalThis.Worker === "undefined" && require("worker_threads").Worker.name === "Worker" && require("os").cpus().length === ${cpuCountHere()};
          console.log(JSON.stringify({ threads: report.threads, reason: report.reason, maxDiff, restored }));
        });
      });`; // no process.exit: the test is that it ends on its own
    const child = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script], {
      cwd: ROOT, encoding: "utf8", timeout: 90_000, env: { ...process.env, AE_WASM_THREADS: "" },
    });
    expect(child.error, "the child did not exit by itself within 90 s").toBeUndefined();
    expect(child.status, child.stderr).toBe(0);
    const result = lastJsonLine(child.stdout) as { threads: number; reason: string; maxDiff: number; restored: boolean };
    expect(result.reason).toContain("2 threads");
    expect(result.threads).toBe(2);
    expect(result.maxDiff).toBeLessThan(1e-3);
    expect(result.restored, "worker_threads.Worker, globalThis.Worker and os.cpus are as before").toBe(true);
  });

  test("a threaded start that fails (here: times out) ends its workers, restores globals and falls back to 1 thread", () => {
    const script = `
      const path = require("path");
      const tf = require("@tensorflow/tfjs");
      const wasm = require("@tensorflow/tfjs-backend-wasm");
      const { activateWasmWithThreads, wasmThreadWorkerCount } = require("./lib/accelerate/wasm-threads");
      wasm.setWasmPaths(path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm")) + path.sep);
      const activate = async () => { if (!(await tf.setBackend("wasm"))) throw new Error("tf.setBackend(wasm) failed"); };
      activateWasmWithThreads(wasm, activate, { threads: 2, timeoutMs: 1 }).then((outcome) => {
        const sum = Array.from(tf.add(tf.tensor([1, 2]), tf.tensor([3, 4])).dataSync());
        const restored = typeof globalThis.Worker === "undefined" && require("worker_threads").Worker.name === "Worker" && require("os").cpus().length === ${cpuCountHere()};
        console.log(JSON.stringify({ outcome, backend: tf.getBackend(), sum, workers: wasmThreadWorkerCount(), restored }));
      });`;
    const child = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script], { cwd: ROOT, encoding: "utf8", timeout: 90_000 });
    expect(child.error, "the child did not exit by itself within 90 s").toBeUndefined();
    expect(child.status, child.stderr).toBe(0);
    const result = lastJsonLine(child.stdout) as { outcome: { threads: number; note: string }; backend: string; sum: number[]; workers: number; restored: boolean };
    expect(result.outcome.threads).toBe(1);
    expect(result.outcome.note).toMatch(/^threaded build failed \(threaded wasm initialisation took longer than 1 ms\); single-threaded$/);
    expect(result.backend).toBe("wasm");
    expect(result.sum).toEqual([4, 6]);
    expect(result.workers).toBe(0);
    expect(result.restored).toBe(true);
  });
});

/** A small model under test: layers, input shape and loss. */
interface StepCase {
  name: string;
  build: () => tf.LayersModel;
  inputShape: number[];
  outputUnits: number;
}

const L = tf.layers;
const STEP_CASES: StepCase[] = [
  {
    name: "MLP autoencoder 784-400-40-400-784, relu/sigmoid, MSE",
    inputShape: [784], outputUnits: 784,
    build: () => tf.sequential({
      layers: [
        L.dense({ inputShape: [784], units: 400, activation: "relu" }), L.dense({ units: 40, activation: "relu" }),
        L.dense({ units: 400, activation: "relu" }), L.dense({ units: 784, activation: "sigmoid" }),
      ],
    }),
  },
  {
    name: "conv net: 2 valid 3×3 convs 16/32, max pool, dense 10",
    inputShape: [16, 16, 1], outputUnits: 10,
    build: () => tf.sequential({
      layers: [
        L.conv2d({ inputShape: [16, 16, 1], filters: 16, kernelSize: 3, activation: "relu" }), L.conv2d({ filters: 32, kernelSize: 3, activation: "relu" }),
        L.maxPooling2d({ poolSize: 2 }), L.flatten(), L.dense({ units: 10 }),
      ],
    }),
  },
];
// 8 rows still give XNNPACK several tiles per layer to split between the 2 threads.
const BATCH = 8;

/** Loss, gradients and weights after one SGD step of `stepCase` on `backend`, from seeded weights and data. */
async function oneSgdStep(backend: string, stepCase: StepCase): Promise<{ loss: number; grads: Float32Array[]; weights: Float32Array[] }> {
  return withBackend(backend, async () => {
    const model = stepCase.build();
    const variables = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
    variables.forEach((v, i) => v.assign(tf.tensor(seededNormal(v.size, 10 + i, 0.1), v.shape)));
    const x = tf.tensor(seededNormal(BATCH * stepCase.inputShape.reduce((a, b) => a * b, 1), 1), [BATCH, ...stepCase.inputShape]);
    const y = tf.sigmoid(tf.tensor(seededNormal(BATCH * stepCase.outputUnits, 2), [BATCH, stepCase.outputUnits]));
    const optimizer = tf.train.sgd(0.1);
    const { value, grads } = tf.variableGrads(() => tf.losses.meanSquaredError(y, model.apply(x) as tf.Tensor) as tf.Scalar, variables);
    const result = {
      loss: (await value.data())[0],
      grads: await Promise.all(variables.map((v) => grads[v.name].data() as Promise<Float32Array>)),
      weights: [] as Float32Array[],
    };
    optimizer.applyGradients(grads);
    result.weights = await Promise.all(variables.map((v) => v.data() as Promise<Float32Array>));
    tf.dispose([x, y, value, ...Object.values(grads)]);
    optimizer.dispose();
    model.dispose();
    return result;
  });
}

describe("2-thread wasm vs cpu: one SGD step (native addon off: wasm threads are for machines without it)", () => {
  const savedNative = process.env.AE_NATIVE;
  beforeAll(async () => {
    // Off before the first initBackend of this file, so the products and convolutions run on wasm's threaded XNNPACK.
    process.env.AE_NATIVE = "0";
    expect(wasmThreadsUnsupportedReason()).toBeNull();
    await initBackend({ backend: "cpu" });
    const report = await initBackend({ backend: "wasm", threads: 2 });
    expect(report.threads, report.reason).toBe(2);
    expect(wasmThreadWorkerCount()).toBeGreaterThanOrEqual(1);
  });
  afterAll(() => {
    tf.disposeVariables();
    if (savedNative === undefined) delete process.env.AE_NATIVE;
    else process.env.AE_NATIVE = savedNative;
  });

  test("the addon is off here (the case wasm threads exist for)", async () => {
    expect((await initBackend({ backend: "wasm" })).native).toBe("native kernels off (AE_NATIVE=0)");
  });

  STEP_CASES.forEach((stepCase) => {
    test(stepCase.name, async () => {
      const wasm = await oneSgdStep("wasm", stepCase);
      const cpu = await oneSgdStep("cpu", stepCase);
      assertClose([wasm.loss], [cpu.loss], BACKEND_TOLERANCE, `${stepCase.name}: loss`);
      cpu.grads.forEach((g, i) => assertClose(wasm.grads[i], g, BACKEND_TOLERANCE, `${stepCase.name}: gradient ${i}`));
      cpu.weights.forEach((w, i) => assertClose(wasm.weights[i], w, BACKEND_TOLERANCE, `${stepCase.name}: weight ${i} after the step`));
    });
  });
});
