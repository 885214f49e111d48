/**
 * Kernels that must give the bits of what they replace, so that no notebook's numbers move:
 * - Sum over trailing axes on the addon (sumLastAxis: each row in float32 term by term, several rows at once) against
 *   wasm's own Sum and a float32 loop;
 * - the weight-decay sum of squares with many arrays (sequentialSums' lanes taking the next array as one ends) against
 *   a float32 loop;
 */
import { beforeAll, describe, expect, test } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend";
import { loadNativeKernels, nativeAddon, nativeCounters } from "../../lib/accelerate/native/addon";
import { bitwiseDifferences, seededNormal, withBackend, withNativeOff } from "../helpers/gradcheck";

beforeAll(async () => {
  const report = await initBackend({ backend: "wasm" });
  expect(report.name).toBe("wasm");
});

const nativeLoaded = nativeAddon() !== null || loadNativeKernels().loaded;
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Values over many magnitudes, so that adding them in any other order changes the low bits. */
function spread(n: number, seed: number): Float32Array {
  return seededNormal(n, seed).map((v, i) => v * (i % 5 === 0 ? 1000 : i % 3 === 0 ? 1e-3 : 1));
}

/** fn's values and shape on wasm, with our kernels (native on) or wasm's own for Sum, Concat and Slice (native off / stock). */
function onWasm(fn: () => tf.Tensor): Promise<{ shape: number[]; values: number[] }> {
  return withBackend("wasm", () => tf.tidy(() => {
    const y = fn();
    return { shape: y.shape, values: Array.from(y.dataSync() as ArrayLike<number>) };
  }));
}

describe.runIf(nativeLoaded)("Sum over short trailing axes (the addon's sumLastAxis) is wasm's own, bit for bit", () => {
  test("per-sample sums over pixels and over [h, w, c], keepDims, rows not a multiple of the lanes; a float32 loop agrees", async () => {
    const cases: Array<[number[], number[]]> = [[[128, 784], [1]], [[13, 700], [1]], [[9, 5, 300], [1, 2]], [[5000, 3], [1]], [[6, 4, 4, 64], [1, 2, 3]], [[4097, 1], [1]]];
    for (const [index, [shape, axes]] of cases.entries()) {
      const keepDims = index % 2 === 1;
      const values = spread(size(shape), 600 + index);
      const run = () => onWasm(() => tf.sum(tf.tensor(values, shape), axes, keepDims));
      const before = nativeCounters.sums;
      const ours = await run();
      expect(nativeCounters.sums - before, `[${shape}] on the addon`).toBe(1);
      const stock = await withNativeOff(run);
      expect(ours.shape).toEqual(stock.shape);
      expect(bitwiseDifferences(ours.values, stock.values), `[${shape}] over [${axes}], ours vs wasm's own`).toEqual([]);
      const cols = size(shape.slice(shape.length - axes.length));
      const loop = ours.values.map((_, r) => {
        let sum = Math.fround(0);
        for (let j = 0; j < cols; j++) sum = Math.fround(sum + values[r * cols + j]);
        return sum;
      });
      expect(bitwiseDifferences(ours.values, loop), `[${shape}] against a float32 loop`).toEqual([]);
    }
  });

  test("below 4096 values, a full reduction and leading axes are not its cases", async () => {
    for (const [shape, axes] of [[[10, 40], [1]], [[64, 64], [0, 1]], [[64, 64], [0]]] as Array<[number[], number[]]>) {
      const before = nativeCounters.sums;
      await onWasm(() => tf.sum(tf.tensor(spread(size(shape), 7), shape), axes));
      const expected = axes[0] === 0 && axes.length === 1 ? 1 : 0; // leading: sumRows (float64), a case of its own
      expect(nativeCounters.sums - before, `[${shape}] over [${axes}]`).toBe(expected);
    }
  });

  test("the addon's checks name what is wrong", () => {
    const native = nativeAddon()!;
    expect(() => native.sumLastAxis(new Float32Array(10), 3, 4, new Float32Array(3), 1)).toThrow(/sumLastAxis: x must hold rows × cols values and out rows/);
    expect(() => native.sumLastAxis(new Float32Array(12), 3, 4, new Float32Array(2), 1)).toThrow(/out rows/);
  });
});

describe.runIf(nativeLoaded)("sumOfSquares with more arrays than lanes", () => {
  test("each array's float32 sum term by term (a long one's as sumRows), added in order: the loop's bits, mixed lengths and empty arrays", () => {
    const native = nativeAddon()!;
    const lengths = [144, 16, 0, 4608, 32, 1, 9216, 32, 70000, 512, 7, 18432, 64, 64, 36864, 3, 2, 65535, 65536, 40, 1024, 5];
    const arrays = lengths.map((n, i) => spread(n, 700 + i));
    const longTerms = 1 << 16;
    const expected = (list: Float32Array[]) => {
      let total = Math.fround(0);
      for (const x of list) {
        const squares = x.map((v) => Math.fround(v * v));
        let sum = Math.fround(0);
        if (x.length >= longTerms) {
          const out = new Float32Array(1);
          native.sumRows(squares, x.length, 1, out, 2);
          sum = out[0];
        } else {
          for (let i = 0; i < squares.length; i++) sum = Math.fround(sum + squares[i]);
        }
        total = Math.fround(total + sum);
      }
      return total;
    };
    expect(native.sumOfSquares(arrays, longTerms, 2)).toBe(expected(arrays));
    const shortOnes = arrays.filter((x) => x.length < longTerms);
    expect(native.sumOfSquares(shortOnes, longTerms, 2)).toBe(expected(shortOnes));
    expect(native.sumOfSquares([...shortOnes].reverse(), longTerms, 1)).toBe(expected([...shortOnes].reverse()));
    expect(native.sumOfSquares([], longTerms, 2)).toBe(0);
  });
});
