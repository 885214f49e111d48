/**
 * The weight-decay term's value as one kernel on wasm (lib/train/loss-terms.ts SUM_OF_SQUARES_KERNEL, ours in
 * lib/accelerate/wasm-overrides/reduce.ts): the same bits as tf.addN of each tf.sum(tf.square(v)) on wasm, which the
 * notebooks' committed runs logged, on the native addon and without it; sizes on both sides of the 2^16 terms where a
 * sum goes to float64; and weightDecayValue's bits unchanged by it.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend";
import { loadNativeKernels, nativeAddon, nativeCounters, setNativeEnabled } from "../../lib/accelerate/native/addon";
import { isOurWasmKernel } from "../../lib/accelerate/wasm-overrides/registry";
import { SUM_OF_SQUARES_KERNEL, sumOfSquares, weightDecayValue } from "../../lib/train/loss-terms";
import { bitwiseDifferences, seededNormal } from "../helpers/gradcheck";

beforeAll(async () => {
  const report = await initBackend({ backend: "wasm" });
  expect(report.name).toBe("wasm");
});

/** Variables of a model with every kind of size: single values, a conv filter, either side of 2^16, a zero tensor. */
const SHAPES: number[][] = [[1], [7], [3, 3, 16, 16], [65535], [65536], [256, 300], [16]];

function variables(): tf.Variable[] {
  return SHAPES.map((shape, i) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const values = i === SHAPES.length - 1 ? new Float32Array(n) : seededNormal(n, 70 + i).map((x) => x * (i + 1) * 0.37);
    return tf.variable(tf.tensor(values, shape));
  });
}

const nativeLoaded = nativeAddon() !== null || loadNativeKernels().loaded;

for (const path of ["native", "wasm only"] as const) {
  describe.runIf(path === "wasm only" || nativeLoaded)(`sum of squares on wasm (${path === "native" ? "native addon" : "typed arrays"})`, () => {
    let previous = true;
    beforeAll(() => { previous = setNativeEnabled(path === "native"); });
    afterAll(() => { setNativeEnabled(previous); });

    test("one kernel, ours, with the bits of tf.addN of each tf.sum(tf.square(v)); no tensor left behind", async () => {
      expect(isOurWasmKernel(SUM_OF_SQUARES_KERNEL)).toBe(true);
      const vars = variables();
      const before = tf.memory().numTensors;
      const sums = nativeCounters.sums;
      const ours = sumOfSquares(vars);
      if (path === "native") expect(nativeCounters.sums).toBe(sums + 1);
      const plain = tf.tidy(() => tf.addN(vars.map((v) => tf.sum(tf.square(v)))));
      expect(bitwiseDifferences(ours.dataSync(), plain.dataSync())).toEqual([]);
      // each size on its own too (a sum on either side of 2^16 terms, one variable: no addN)
      for (const v of vars) {
        const [a, b] = [sumOfSquares([v]), tf.tidy(() => tf.sum(tf.square(v)))];
        expect(bitwiseDifferences(a.dataSync(), b.dataSync()), `[${v.shape.join(", ")}]`).toEqual([]);
        tf.dispose([a, b]);
      }
      tf.dispose([ours, plain]);
      expect(tf.memory().numTensors).toBe(before);
      const profile = await tf.profile(() => sumOfSquares(vars));
      expect(profile.kernels.map((k) => k.name)).toEqual([SUM_OF_SQUARES_KERNEL]);
      tf.dispose([profile.result as tf.Tensor, ...vars]);
      expect(tf.memory().numTensors).toBe(before - vars.length);
    });

    test("weightDecayValue: the bits of tf.mul(rate/2, tf.addN of each tf.sum(tf.square(v)))", () => {
      const all = variables();
      const rate = 5e-4;
      const [ours, plain] = [weightDecayValue({ rate, variables: all }), tf.tidy(() => tf.mul(rate / 2, tf.addN(all.map((v) => tf.sum(tf.square(v))))))];
      expect(bitwiseDifferences(ours.dataSync(), plain.dataSync())).toEqual([]);
      tf.dispose([ours, plain, ...all]);
    });

    test("an input that is not float32 is refused, naming the kernel", () => {
      const ints = tf.tensor1d([1, 2, 3], "int32");
      expect(() => tf.engine().runKernel(SUM_OF_SQUARES_KERNEL, { 0: ints })).toThrow(/AeSumOfSquares \(wasm\): inputs must be float32, got int32/);
      ints.dispose();
    });
  });
}
