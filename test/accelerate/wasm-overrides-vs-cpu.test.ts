/**
 * Our faster wasm kernels (lib/accelerate/wasm-overrides/) against tfjs's cpu backend, over the shapes,
 * strides, paddings and transposes the reference models and the audited layers use.
 * Tolerance: BACKEND_TOLERANCE (max |diff| ≤ 1e-6 + 1e-4 · max |cpu value|), as in the audit.
 * Each test also checks the kernel in the wasm registry is ours, so a pass is not the stock kernel's.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend";
import { isOurWasmKernel, replacedWasmKernel } from "../../lib/accelerate/wasm-overrides/registry";
import { setConv2DBackpropFilterMethod } from "../../lib/accelerate/wasm-overrides/conv-filter-gradient";
import { loadNativeKernels, nativeAddon, nativeCounters, setNativeEnabled } from "../../lib/accelerate/native/addon";
import { NativeConvPolicy, setNativeConvPolicy } from "../../lib/accelerate/wasm-overrides/conv-native";
import { addBiasAndActivate } from "../../lib/accelerate/wasm-overrides/matmul";
import type { WasmBackendLike } from "../../lib/accelerate/wasm-overrides/common";
import { assertClose, BACKEND_TOLERANCE, bitwiseDifferences, seededNormal, tensorValues, withBackend, withNativeOff } from "../helpers/gradcheck";

beforeAll(async () => {
  await initBackend({ backend: "cpu" });
  const report = await initBackend({ backend: "wasm" });
  expect(report.name).toBe("wasm");
});

afterAll(() => {
  tf.disposeVariables();
});

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** cpu results by `cpuKey`: the same seeded case checked on several kernel paths needs cpu's (slow) answer once. */
const cpuResults = new Map<string, Float32Array>();

/**
 * Run `fn` on wasm and on cpu from the same seeded inputs; compare. With `cpuKey` (which must name
 * everything that determines fn's inputs: shapes, seeds, padding), cpu's result is computed once
 * and reused by every later call with that key (the same case on another path or policy).
 */
async function compareBackends(label: string, fn: () => tf.Tensor, cpuKey?: string): Promise<void> {
  const run = (backend: string) => withBackend(backend, () => tensorValues(fn));
  const wasm = await run("wasm");
  const cached = cpuKey === undefined ? undefined : cpuResults.get(cpuKey);
  const cpu = cached ?? (await run("cpu"));
  if (cpuKey !== undefined) cpuResults.set(cpuKey, cpu);
  expect(wasm.length).toBe(cpu.length);
  assertClose(wasm, cpu, BACKEND_TOLERANCE, label);
}

/** The values `fn` computes on wasm (with the addon where it is on), as numbers; every tensor freed. */
function wasmValues(fn: () => tf.Tensor): Promise<number[]> {
  return withBackend("wasm", () => tf.tidy(() => Array.from(fn().dataSync() as ArrayLike<number>)));
}

/** Where `fn` on wasm differs bit for bit from the same with wasm's own kernels (the first few places; [] where nowhere). */
async function differencesFromWasmOwn(fn: () => tf.Tensor): Promise<string[]> {
  return bitwiseDifferences(await wasmValues(fn), await withNativeOff(() => wasmValues(fn)));
}

const nativeLoaded = nativeAddon() !== null || loadNativeKernels().loaded;

// Each product kernel runs twice: on the native addon (where it is built) and on the wasm-only path.
for (const path of ["native", "wasm only"] as const) {
  describe.runIf(path === "wasm only" || nativeLoaded)(`BatchMatMul (ours, ${path === "native" ? "native addon" : "transposes materialised, then XNNPACK"}) vs cpu`, () => {
    let previous = true;
    beforeAll(() => { previous = setNativeEnabled(path === "native"); });
    afterAll(() => { setNativeEnabled(previous); });
    test("is ours", () => expect(isOurWasmKernel("BatchMatMul")).toBe(true));
    test(path === "native" ? "runs on the addon" : "does not touch the addon", async () => {
      const before = nativeCounters.products;
      await compareBackends("one product", () => tf.matMul(tf.tensor(seededNormal(12, 1), [3, 4]), tf.tensor(seededNormal(8, 2), [4, 2])));
      expect(nativeCounters.products - before).toBe(path === "native" ? 1 : 0);
    });

    // [m, k, n] and batch shapes: the MLP's layers (784/400/40), the CNN's dense, odd sizes, batched and broadcast.
    const sizes: Array<[number, number, number]> = [[128, 784, 400], [128, 400, 40], [40, 128, 400], [7, 5, 3], [1, 9, 4], [6, 1, 5]];
    const batches: Array<[number[], number[]]> = [[[], []], [[3], [3]], [[2, 3], [2, 3]], [[1], [4]]];
    for (const transposeA of [false, true]) {
      for (const transposeB of [false, true]) {
        test(`transposeA ${transposeA}, transposeB ${transposeB}: every size × batch shape`, async () => {
          let seed = 1;
          for (const [m, k, n] of sizes) {
            for (const [batchA, batchB] of batches) {
              if (m * k * n > 1000 && batchA.length > 0) continue; // big products only unbatched
              const aShape = [...batchA, ...(transposeA ? [k, m] : [m, k])];
              const bShape = [...batchB, ...(transposeB ? [n, k] : [k, n])];
              const s = seed++;
              await compareBackends(`${JSON.stringify(aShape)}·${JSON.stringify(bShape)} tA ${transposeA} tB ${transposeB}`, () =>
                tf.matMul(tf.tensor(seededNormal(size(aShape), s), aShape), tf.tensor(seededNormal(size(bShape), s + 1000), bShape), transposeA, transposeB));
            }
          }
        });
      }
    }

    test("dense layer gradients (the products with transposes a training step runs)", async () => {
      await compareBackends("d/dW and d/dx of Σ relu(x·W + b) ⊙ v", () => {
        const x = tf.tensor(seededNormal(32 * 50, 3), [32, 50]);
        const w = tf.tensor(seededNormal(50 * 20, 4, 0.2), [50, 20]);
        const v = tf.tensor(seededNormal(32 * 20, 5), [32, 20]);
        const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.relu(tf.matMul(a, b)), v)))([x, w]);
        return tf.concat([gx.flatten(), gw.flatten()]);
      });
    });
  });

  describe.runIf(path === "wasm only" || nativeLoaded)(`_FusedMatMul (ours, ${path}) vs cpu`, () => {
    let previous = true;
    beforeAll(() => { previous = setNativeEnabled(path === "native"); });
    afterAll(() => { setNativeEnabled(previous); });
    test("is ours", () => expect(isOurWasmKernel("_FusedMatMul")).toBe(true));

    const activations: Array<tf.fused.Activation> = ["linear", "relu", "sigmoid", "elu", "relu6", "leakyrelu", "prelu"];
    test("every activation × bias shape × transpose, batched too", async () => {
      const [m, k, n] = [9, 13, 7];
      let seed = 50;
      for (const activation of activations) {
        for (const biasShape of [null, [n], [1], [m, 1], [m, n], [2, m, n]]) {
          for (const [transposeA, transposeB] of [[false, false], [true, false], [false, true], [true, true]]) {
            const s = seed++;
            const batch = biasShape && biasShape.length === 3 ? biasShape[0] : 1;
            await compareBackends(`${activation} bias ${JSON.stringify(biasShape)} tA ${transposeA} tB ${transposeB}`, () => tf.fused.matMul({
              a: tf.tensor(seededNormal(batch * m * k, s), [...(batch > 1 ? [batch] : []), ...(transposeA ? [k, m] : [m, k])]), b: tf.tensor(seededNormal(k * n, s + 1), transposeB ? [n, k] : [k, n]),
              transposeA, transposeB, activation, leakyreluAlpha: 0.3,
              bias: biasShape ? tf.tensor(seededNormal(size(biasShape), s + 2), biasShape) : undefined,
              preluActivationWeights: activation === "prelu" ? tf.tensor(seededNormal(n, s + 3), [n]) : undefined,
            }));
          }
        }
      }
    });

    test("a dense relu layer's loss and gradients (fused forward, products with transposes backward)", async () => {
      await compareBackends("loss, d/dx, d/dW, d/db", () => {
        const x = tf.tensor(seededNormal(32 * 50, 3), [32, 50]);
        const w = tf.tensor(seededNormal(50 * 20, 4, 0.2), [50, 20]);
        const b = tf.tensor(seededNormal(20, 6), [20]);
        const v = tf.tensor(seededNormal(32 * 20, 5), [32, 20]);
        const f = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(tf.fused.matMul({ a: xx, b: ww, bias: bb, activation: "relu" }), v));
        const { value, grads } = tf.valueAndGrads(f)([x, w, b]);
        return tf.concat([value.reshape([1]), ...grads.map((g) => g.flatten())]);
      });
    });

    test("wasm's own kernel misplaces the bias when an operand is transposed (why ours never calls it so)", async () => {
      const [a, b, bias] = [[1, 2, 3, 4, 5, 6], [1, 0, 0, 1, 1, 1], [10, 20]];
      const expected = await withBackend("cpu", () => tf.tidy(() => Array.from(tf.fused.matMul({ a: tf.tensor(a, [3, 2]), b: tf.tensor(b, [3, 2]), bias: tf.tensor(bias), transposeA: true }).dataSync())));
      expect(expected).toEqual([16, 28, 18, 30]);
      const stock = await withBackend("wasm", () => tf.tidy(() => {
        const backend = tf.backend();
        // Kernels receive rank-3 operands (tf.fused.matMul reshapes before it calls them).
        const [ta, tb, tbias] = [tf.tensor(a, [1, 3, 2]), tf.tensor(b, [1, 3, 2]), tf.tensor(bias)];
        const info = replacedWasmKernel("_FusedMatMul")!.kernelFunc({ inputs: { a: ta, b: tb, bias: tbias }, backend, attrs: { transposeA: true, transposeB: false, activation: "linear" } }) as tf.TensorInfo;
        const values = Array.from(backend.readSync(info.dataId) as Float32Array);
        backend.disposeData(info.dataId);
        return values;
      }));
      expect(stock).not.toEqual(expected);
      expect(stock).toEqual([16, 28, 28, 30]); // row 2 got bias 20 where column 1's is 10
    });

    test("one output column (n = 1: a one-unit dense layer, a conv layer to one channel): a bias of one value, every activation", async () => {
      const before = nativeCounters.elementwise;
      for (const [i, activation] of activations.entries()) {
        const epilogue = { bias: tf.tensor1d([0.25 + i]), activation, leakyreluAlpha: 0.3, preluActivationWeights: activation === "prelu" ? tf.tensor1d([0.1]) : undefined };
        await compareBackends(`n = 1, ${activation}`, () => tf.fused.matMul({ a: tf.tensor(seededNormal(300 * 5, 70 + i), [300, 5]), b: tf.tensor(seededNormal(5, 80 + i), [5, 1]), ...epilogue }));
        await compareBackends(`conv to one channel, ${activation}`, () => tf.fused.conv2d({
          x: tf.tensor4d(seededNormal(2 * 9 * 9 * 3, 90 + i), [2, 9, 9, 3]), filter: tf.tensor4d(seededNormal(3 * 3 * 3, 100 + i), [3, 3, 3, 1]), strides: 1, pad: "same", ...epilogue,
        }));
      }
      // On the addon, each product's bias is one row add there (the sigmoid too, a second call): 7 × 2 + 2.
      expect(nativeCounters.elementwise - before).toBe(path === "native" ? 16 : 0);
    });

    if (path === "native") test("n = 1: the addon's bias row gives the JavaScript loop's values bit for bit (ReLU with it)", async () => {
      // 4099 rows: whole vector tiles and a tail; values from 1e-3 to 1e4 so that the sums round.
      const values = seededNormal(4099, 91).map((v, i) => v * 10 ** ((i % 8) - 3));
      const epilogue = (activation: string) => (native: boolean) => withBackend("wasm", () => {
        const previous = setNativeEnabled(native);
        try {
          const product = tf.tensor(values, [4099, 1]);
          const bias = tf.tensor1d([0.1]);
          const out = addBiasAndActivate(tf.backend() as unknown as WasmBackendLike, { dataId: product.dataId, shape: product.shape, dtype: "float32" }, 4099, 1, { bias, activation });
          expect(out.dataId).toBe(product.dataId); // in place
          const result = Array.from(product.dataSync());
          tf.dispose([product, bias]);
          return result;
        } finally {
          setNativeEnabled(previous);
        }
      });
      for (const activation of ["linear", "relu"]) {
        const before = nativeCounters.elementwise;
        const [addon, loop] = [await epilogue(activation)(true), await epilogue(activation)(false)];
        expect(nativeCounters.elementwise - before).toBe(1);
        expect(bitwiseDifferences(addon, loop), activation).toEqual([]);
        expect(addon.some((v, i) => v !== values[i])).toBe(true);
      }
    });

    test("leaves no tensors behind", async () => {
      const run = () => tf.tidy(() => tf.fused.matMul({ a: tf.ones([4, 3]), b: tf.ones([3, 2]), bias: tf.ones([2]), activation: "sigmoid" }).dataSync());
      await withBackend("wasm", () => {
        run();
        const before = tf.memory().numTensors;
        run();
        expect(tf.memory().numTensors).toBe(before);
        return null;
      });
    });
  });

  // On the addon, the convolutions run twice: policy "always" (direct kernels where they apply,
  // im2col elsewhere) and "im2col" (every case by im2col).
  for (const convPolicy of (path === "native" ? ["always", "im2col"] : ["always"]) as NativeConvPolicy[]) {
    const label = path === "native" ? `native addon, policy ${convPolicy}` : path;
    describe.runIf(path === "wasm only" || nativeLoaded)(`Conv2D and FusedConv2D (ours, ${label}) vs cpu`, () => {
      let previous = true;
      let previousPolicy: NativeConvPolicy = "auto";
      // Every case to the addon, small ones included (by default some stay on wasm).
      beforeAll(() => { previous = setNativeEnabled(path === "native"); previousPolicy = setNativeConvPolicy(convPolicy); });
      afterAll(() => { setNativeEnabled(previous); setNativeConvPolicy(previousPolicy); });
      test("are ours", () => {
        expect(isOurWasmKernel("Conv2D")).toBe(true);
        expect(isOurWasmKernel("FusedConv2D")).toBe(true);
      });

      test("forward: every padding × stride × filter size × dilation, channels 1 and 5", async () => {
        const before = nativeCounters.convolutions;
        const directBefore = nativeCounters.directConvolutions;
        let checked = 0;
        for (const pad of ["valid", "same", [[0, 0], [1, 2], [0, 1], [0, 0]]] as Array<"valid" | "same" | tf.backend_util.ExplicitPadding>) {
          for (const stride of [1, 2, [2, 1]] as Array<number | [number, number]>) {
            for (const [fh, fw] of [[1, 1], [3, 3], [3, 2]]) {
              for (const dilation of stride === 1 ? [1, 2] : [1]) {
                for (const inC of [1, 5]) {
                  const xShape: [number, number, number, number] = [3, 8, 7, inC];
                  const fShape: [number, number, number, number] = [fh, fw, inC, 4];
                  const s = 13 * checked + 3;
                  await compareBackends(`pad ${JSON.stringify(pad)}, strides ${JSON.stringify(stride)}, filter ${fh}x${fw}, dilation ${dilation}, ${inC} channels`, () =>
                    tf.conv2d(tf.tensor4d(seededNormal(size(xShape), s), xShape), tf.tensor4d(seededNormal(size(fShape), s + 1), fShape), stride, pad, "NHWC", dilation));
                  checked++;
                }
              }
            }
          }
        }
        expect(checked).toBe(72);
        // The native path ran every one of them (the wasm-only path none).
        expect(nativeCounters.convolutions - before).toBe(path === "native" ? 72 : 0);
        // "always" took the direct kernels for the stride-1, undilated cases with padding inside the filter (16 of them) but the
        // four unpadded 1×1 ones (one product on x by im2col's path, whatever the policy), "im2col" never.
        expect(nativeCounters.directConvolutions - directBefore).toBe(path === "native" && convPolicy === "always" ? 12 : 0);
      });

      test("fused: bias and every activation (the conv layers' forward pass)", async () => {
        for (const [i, activation] of (["linear", "relu", "sigmoid", "elu", "relu6", "leakyrelu", "prelu"] as tf.fused.Activation[]).entries()) {
          await compareBackends(`fused conv ${activation}`, () => tf.fused.conv2d({
            x: tf.tensor4d(seededNormal(2 * 9 * 9 * 3, i), [2, 9, 9, 3]), filter: tf.tensor4d(seededNormal(3 * 3 * 3 * 6, i + 1), [3, 3, 3, 6]),
            strides: 2, pad: "same", bias: tf.tensor1d(seededNormal(6, i + 2)), activation, leakyreluAlpha: 0.3,
            preluActivationWeights: activation === "prelu" ? tf.tensor1d(seededNormal(6, i + 3)) : undefined,
          }));
        }
      });

      if (path === "native" && convPolicy === "always") test("the default policy: direct for few channels at stride 1, im2col for wide ones, wasm for strided few-channel ones", async () => {
        const previousPolicy = setNativeConvPolicy("auto");
        try {
          const count = async (inC: number, outC: number, stride: number) => {
            const before = { all: nativeCounters.convolutions, direct: nativeCounters.directConvolutions };
            await compareBackends(`auto policy ${inC}→${outC} stride ${stride}`, () => tf.conv2d(tf.tensor4d(seededNormal(2 * 8 * 8 * inC, inC), [2, 8, 8, inC]), tf.tensor4d(seededNormal(9 * inC * outC, outC, 0.2), [3, 3, inC, outC]), stride, "same"));
            return { native: nativeCounters.convolutions - before.all, direct: nativeCounters.directConvolutions - before.direct };
          };
          expect(await count(1, 8, 1)).toEqual({ native: 1, direct: 1 });   // the conv AE's few channels: direct
          expect(await count(16, 8, 1)).toEqual({ native: 1, direct: 1 });  // inC·outC = 128: direct
          expect(await count(8, 32, 1)).toEqual({ native: 1, direct: 0 });  // 72 taps, 32 channels: im2col
          expect(await count(1, 8, 2)).toEqual({ native: 0, direct: 0 });   // strided, 9 taps: wasm
        } finally {
          setNativeConvPolicy(previousPolicy);
        }
      });

      if (path === "native" && convPolicy === "always") test("the default policy on CSAE-C's 16- and 32-channel convolutions (native/src/conv_narrow.cc): y, dx and dW", async () => {
        const previousPolicy = setNativeConvPolicy("auto");
        try {
          // [inC, outC, filter, stride, side]: 16 → 16, the 1 → 16 stem, 16 → 32 at stride 2, 32 → 32, 32 → 16 with a 2×2 filter,
          // 2×2 at stride 2 (the transposed convolutions' forward pass is its input gradient) with 16 and 32 input channels,
          // and 64 channels at 8×8 and 16×16 → 8×8.
          const cases: Array<[number, number, number, number, number]> = [[16, 16, 3, 1, 12], [1, 16, 3, 1, 12], [16, 32, 3, 2, 12], [32, 32, 3, 1, 8], [32, 16, 2, 1, 9],
            [16, 32, 2, 2, 8], [32, 64, 2, 2, 8], [64, 64, 3, 1, 8], [32, 64, 3, 2, 16]];
          for (const [i, [inC, outC, f, stride, side]] of cases.entries()) {
            const before = nativeCounters.convolutions;
            await compareBackends(`${inC}→${outC} ${f}×${f} stride ${stride} at ${side}×${side}: y, dx, dW`, () => {
              const x = tf.tensor4d(seededNormal(2 * side * side * inC, 300 + i), [2, side, side, inC]);
              const w = tf.tensor4d(seededNormal(f * f * inC * outC, 400 + i, 0.2), [f, f, inC, outC]);
              const conv = (a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, "same");
              const y = conv(x, w);
              const r = tf.tensor(seededNormal(y.size, 500 + i), y.shape);
              const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv(a, b), r)))([x, w]);
              return tf.concat([tf.reshape(y, [-1]), tf.reshape(dx, [-1]), tf.reshape(dw, [-1])]);
            });
            // Forward twice (y, then under tf.grads) and both gradients on the addon, except the stem's dx (one input channel: direct, also native).
            expect(nativeCounters.convolutions - before).toBe(4);
          }
        } finally {
          setNativeConvPolicy(previousPolicy);
        }
      });

      test("the CNN classifier's layers forward (28×28×1 → 32 → 64 → 64, valid)", async () => {
        for (const [i, [hw, inC, outC]] of [[28, 1, 32], [26, 32, 64], [24, 64, 64]].entries()) {
          await compareBackends(`3x3 valid ${inC}→${outC} at ${hw}×${hw}`, () => tf.conv2d(
            tf.tensor4d(seededNormal(2 * hw * hw * inC, i), [2, hw, hw, inC]), tf.tensor4d(seededNormal(9 * inC * outC, i + 1, 0.1), [3, 3, inC, outC]), 1, "valid"),
          `forward, seeds ${i}, ${i + 1}: 3x3 valid ${inC}→${outC} at ${hw}×${hw}`);
        }
      });
    });

    describe.runIf(path === "wasm only" || nativeLoaded)(`Conv2DBackpropInput (ours, ${path === "native" ? `${label}: col2im of dy·Wᵀ or the direct kernel` : "forward XNNPACK conv of the dilated dy with the flipped filter"}) vs cpu`, () => {
      let previous = true;
      let previousPolicy: NativeConvPolicy = "auto";
      beforeAll(() => { previous = setNativeEnabled(path === "native"); previousPolicy = setNativeConvPolicy(convPolicy); });
      afterAll(() => { setNativeEnabled(previous); setNativeConvPolicy(previousPolicy); });
      test("is ours", () => expect(isOurWasmKernel("Conv2DBackpropInput")).toBe(true));

      const pads: Array<"valid" | "same" | tf.backend_util.ExplicitPadding> = ["valid", "same", [[0, 0], [1, 2], [0, 1], [0, 0]]];
      const strides: Array<number | [number, number]> = [1, 2, [2, 1], 3];
      const filterSizes: Array<[number, number]> = [[1, 1], [2, 2], [3, 3], [3, 2], [5, 5]];

      test("input gradient of conv2d: every padding × stride × filter size (x [2,7,6,3], 4 filters)", async () => {
        let checked = 0;
        for (const pad of pads) {
          for (const stride of strides) {
            for (const [fh, fw] of filterSizes) {
              const xShape: [number, number, number, number] = [2, 7, 6, 3];
              const fShape: [number, number, number, number] = [fh, fw, 3, 4];
              const s = 10 * checked;
              await compareBackends(`pad ${JSON.stringify(pad)}, strides ${JSON.stringify(stride)}, filter ${fh}x${fw}`, () => {
                const x = tf.tensor4d(seededNormal(size(xShape), s), xShape);
                const f = tf.tensor4d(seededNormal(size(fShape), s + 1), fShape);
                const outShape = tf.conv2d(x, f, stride, pad).shape;
                const w = tf.tensor(seededNormal(size(outShape), s + 2), outShape);
                return tf.grad((input: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(input as tf.Tensor4D, f, stride, pad), w)))(x);
              });
              checked++;
            }
          }
        }
        expect(checked).toBe(60);
      });

      test("conv2dTranspose forward: the models' shapes (28×28, 14×14, 7×7; 1, 8, 16 channels) and strided ones", async () => {
        const cases: Array<{ x: [number, number, number, number]; f: [number, number, number, number]; out: [number, number, number, number]; stride: number; pad: "same" | "valid" }> = [
          { x: [3, 14, 14, 8], f: [3, 3, 8, 8], out: [3, 14, 14, 8], stride: 1, pad: "same" },
          { x: [3, 28, 28, 8], f: [3, 3, 1, 8], out: [3, 28, 28, 1], stride: 1, pad: "same" },
          { x: [2, 7, 7, 16], f: [3, 3, 8, 16], out: [2, 14, 14, 8], stride: 2, pad: "same" },
          { x: [2, 4, 4, 2], f: [3, 3, 3, 2], out: [2, 9, 9, 3], stride: 2, pad: "valid" },
          { x: [2, 5, 5, 4], f: [3, 3, 2, 4], out: [2, 7, 7, 2], stride: 1, pad: "valid" },
        ];
        for (const [index, c] of cases.entries()) {
          await compareBackends(`conv2dTranspose ${JSON.stringify(c)}`, () =>
            tf.conv2dTranspose(tf.tensor4d(seededNormal(size(c.x), index), c.x), tf.tensor4d(seededNormal(size(c.f), index + 50), c.f), c.out, c.stride, c.pad));
        }
      });

      test("CNN classifier's layer sizes: input gradient of 3×3 valid convs 32→64 and 64→64", async () => {
        for (const [inC, outC, hw] of [[32, 64, 26], [64, 64, 24]]) {
          await compareBackends(`3x3 valid ${inC}→${outC} at ${hw}×${hw}`, () => {
            const x = tf.tensor4d(seededNormal(2 * hw * hw * inC, inC), [2, hw, hw, inC]);
            const f = tf.tensor4d(seededNormal(9 * inC * outC, outC, 0.1), [3, 3, inC, outC]);
            const w = tf.tensor4d(seededNormal(2 * (hw - 2) * (hw - 2) * outC, 7), [2, hw - 2, hw - 2, outC]);
            return tf.grad((input: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(input as tf.Tensor4D, f, 1, "valid"), w)))(x);
          }, `input gradient, seeds ${inC}, ${outC}, 7: 3x3 valid ${inC}→${outC} at ${hw}×${hw}`);
        }
      });
    });

    describe.runIf(path === "wasm only" || nativeLoaded)(`Conv2DBackpropFilter (ours, ${path === "native" ? `${label}: im2col(X)ᵀ·dY or the direct kernel, whatever the method` : "both methods"}) vs cpu`, () => {
      let previous = true;
      let previousPolicy: NativeConvPolicy = "auto";
      beforeAll(() => { previous = setNativeEnabled(path === "native"); previousPolicy = setNativeConvPolicy(convPolicy); });
      afterAll(() => { setNativeEnabled(previous); setNativeConvPolicy(previousPolicy); });
      const pads: Array<"valid" | "same" | tf.backend_util.ExplicitPadding> = ["valid", "same", [[0, 0], [1, 2], [0, 1], [0, 0]]];
      const strides: Array<number | [number, number]> = [1, 2, [2, 1], 3];
      const filterSizes: Array<[number, number]> = [[1, 1], [2, 2], [3, 3], [3, 2]];

      /** Filter gradient of Σ conv2d(x, f) ⊙ w on both backends; x has 5 channels, so the conv method applies (≥ 4). */
      async function grid(method: "conv" | "im2col"): Promise<number> {
        const previous = setConv2DBackpropFilterMethod(method);
        let checked = 0;
        try {
          for (const pad of pads) {
            for (const stride of strides) {
              for (const [fh, fw] of filterSizes) {
                const xShape: [number, number, number, number] = [3, 7, 6, 5];
                const fShape: [number, number, number, number] = [fh, fw, 5, 4];
                const s = 7 * checked + 1;
                await compareBackends(`${method}: pad ${JSON.stringify(pad)}, strides ${JSON.stringify(stride)}, filter ${fh}x${fw}`, () => {
                  const x = tf.tensor4d(seededNormal(size(xShape), s), xShape);
                  const f = tf.tensor4d(seededNormal(size(fShape), s + 1), fShape);
                  const outShape = tf.conv2d(x, f, stride, pad).shape;
                  const w = tf.tensor(seededNormal(size(outShape), s + 2), outShape);
                  return tf.grad((filter: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, filter as tf.Tensor4D, stride, pad), w)))(f);
                });
                checked++;
              }
            }
          }
        } finally {
          setConv2DBackpropFilterMethod(previous);
        }
        return checked;
      }

      test("conv method (one XNNPACK convolution, batch and channels swapped): every padding × stride × filter size", async () => {
        expect(await grid("conv")).toBe(48);
      });

      test("im2col method: every padding × stride × filter size", async () => {
        expect(await grid("im2col")).toBe(48);
      });

      test("the CNN classifier's and conv autoencoder's layer shapes (conv method)", async () => {
        const cases: Array<[[number, number, number, number], [number, number, number, number], "same" | "valid"]> = [
          [[2, 26, 26, 32], [3, 3, 32, 64], "valid"], [[2, 14, 14, 16], [3, 3, 16, 8], "same"], [[2, 28, 28, 8], [3, 3, 8, 1], "same"],
        ];
        for (const [i, [xShape, fShape, pad]] of cases.entries()) {
          // cpu's filter gradient of the first case alone takes ~9 s: computed once for the three paths.
          await compareBackends(`x ${xShape} filter ${fShape} ${pad}`, () => {
            const x = tf.tensor4d(seededNormal(size(xShape), i), xShape);
            const f = tf.tensor4d(seededNormal(size(fShape), i + 1, 0.2), fShape);
            const outShape = tf.conv2d(x, f, 1, pad).shape;
            const w = tf.tensor(seededNormal(size(outShape), i + 2), outShape);
            return tf.grad((filter: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, filter as tf.Tensor4D, 1, pad), w)))(f);
          }, `filter gradient, seeds ${i}…${i + 2}: x ${xShape} filter ${fShape} ${pad}`);
        }
      });
    });
  }

  describe.runIf(path === "wasm only" || nativeLoaded)(`LeakyRelu, Step, Greater, Select, bias Add and Sum over rows (ours, ${path}) vs cpu`, () => {
    let previous = true;
    beforeAll(() => { previous = setNativeEnabled(path === "native"); });
    afterAll(() => { setNativeEnabled(previous); });
    test("are ours", () => ["LeakyRelu", "Step", "Greater", "LessEqual", "Select", "Sum", "Add"].forEach((k) => expect(isOurWasmKernel(k), k).toBe(true)));

    // Sizes below and above the addon's threading threshold (2^16 elements: 70,000 runs on 2 threads); values include 0 and NaN-free ties.
    for (const n of [1000, 70_000]) {
      test(`${n} elements: leaky ReLU and its gradient, ReLU's gradient, Greater and LessEqual (scalar, same shape with ties, broadcast), Select, Minimum's gradient`, async () => {
        const before = nativeCounters.elementwise;
        const x = () => tf.round(tf.tensor(seededNormal(n, 3), [n / 10, 10]).mul(4)).div(4); // exact zeros among the values
        await compareBackends("leakyRelu", () => tf.leakyRelu(x(), 0.3));
        await compareBackends("d leakyRelu", () => tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.leakyRelu(v, 0.3), tf.tensor(seededNormal(n, 4), [n / 10, 10]))))(x()));
        await compareBackends("d relu (Step)", () => tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.relu(v), tf.tensor(seededNormal(n, 5), [n / 10, 10]))))(x()));
        await compareBackends("step α", () => tf.step(x(), 0.5));
        await compareBackends("greater scalar", () => tf.cast(tf.greater(x(), 0.25), "float32"));
        await compareBackends("greater same shape", () => tf.cast(tf.greater(x(), tf.tensor(seededNormal(n, 6), [n / 10, 10])), "float32"));
        await compareBackends("greater broadcast row", () => tf.cast(tf.greater(x(), tf.tensor(seededNormal(10, 7), [10])), "float32"));
        await compareBackends("select", () => tf.where(tf.greater(x(), 0), tf.tensor(seededNormal(n, 8), [n / 10, 10]), tf.tensor(seededNormal(n, 9), [n / 10, 10])));
        // Quarters against quarters: a tenth of the pairs are ties, where a ≤ b and not a > b.
        const y = () => tf.round(tf.tensor(seededNormal(n, 10), [n / 10, 10]).mul(4)).div(4);
        await compareBackends("lessEqual scalar", () => tf.cast(tf.lessEqual(x(), 0.25), "float32"));
        await compareBackends("lessEqual same shape", () => tf.cast(tf.lessEqual(x(), y()), "float32"));
        await compareBackends("lessEqual broadcast row", () => tf.cast(tf.lessEqual(x(), tf.tensor(seededNormal(10, 7), [10])), "float32"));
        await compareBackends("greater same shape, ties", () => tf.cast(tf.greater(x(), y()), "float32"));
        // Minimum's gradient: dy where a ≤ b for a, where a > b for b (ties go to a); a leaky ReLU's inverse, min(y, y/α).
        await compareBackends("d minimum", () => tf.concat(tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.minimum(a, b), tf.tensor(seededNormal(n, 11), [n / 10, 10]))))([x(), y()])));
        expect(nativeCounters.elementwise - before > 0).toBe(path === "native");
      });
    }

    test("Cast of bool and int32 to float32 (a mask as numbers, a one-hot pattern): cpu's, and bit for bit wasm's own", async () => {
      const before = nativeCounters.elementwise;
      const n = 70_000;
      // Odd values past 2^24 (which float32 rounds to even), then integers of a normal spread.
      const ints = Array.from(seededNormal(n, 12), (v, j) => (j < 1000 ? (j % 2 ? -1 : 1) * (16_777_217 + 2 * j * 7919) : Math.round(4e6 * v)));
      const x = () => tf.tensor(ints, [n / 10, 10], "int32");
      for (const [label, f] of [["bool", () => tf.cast(tf.greater(x(), 0), "float32")], ["int32", () => tf.cast(x(), "float32")], ["small int32 (wasm's)", () => tf.cast(tf.tensor([1, -2, 3], [3], "int32"), "float32")]] as const) {
        await compareBackends(`cast ${label}`, f);
        expect(await differencesFromWasmOwn(f), label).toEqual([]);
      }
      // On the addon, in compareBackends' run and in ours: the bool case's Greater, whose int32 x tfjs first casts to the
      // float32 of 0 (a cast there too), and its cast; the int32 case's cast: 2 × 4.
      expect(nativeCounters.elementwise - before).toBe(path === "native" ? 8 : 0);
      // Other dtype pairs stay wasm's own: float32 to int32 (truncation) and to bool.
      const others = nativeCounters.elementwise;
      const floats = () => tf.tensor(seededNormal(n, 13).map((v) => 3 * v), [n / 10, 10]);
      await compareBackends("cast float32 → int32", () => tf.cast(tf.cast(floats(), "int32"), "float32"), undefined);
      expect(await differencesFromWasmOwn(() => tf.cast(floats(), "int32"))).toEqual([]);
      // (The outer cast to float32 of that int32 tensor is the addon's: 1.)
      expect(nativeCounters.elementwise - others).toBe(path === "native" ? 1 : 0);
    });

    test("Transpose (unpooling's rank-5 and rank-4 ones, a matrix, int32): cpu's, and bit for bit wasm's own; bool and small ones stay wasm's", async () => {
      expect(isOurWasmKernel("Transpose")).toBe(true);
      const cases: Array<[number[], number[], "float32" | "int32", boolean]> = [
        [[70, 14, 16, 2, 2], [0, 3, 1, 4, 2], "float32", true], [[70, 2, 14, 32], [0, 2, 1, 3], "float32", true], [[128, 40], [1, 0], "float32", true],
        [[30, 20, 8], [2, 0, 1], "int32", true], [[30, 20, 8], [2, 0, 1], "bool" as "int32", false], [[10, 20], [1, 0], "float32", false],
      ];
      let calls = 0;
      for (const [i, [shape, perm, dtype, native]] of cases.entries()) {
        const x = () => tf.tensor(seededNormal(size(shape), 90 + i).map((v) => (dtype === "float32" ? v : (dtype as string) === "bool" ? Number(v > 0) : Math.round(100 * v))), shape, dtype);
        await compareBackends(`transpose ${shape} ${perm} ${dtype}`, () => tf.cast(tf.transpose(x(), perm), "float32"));
        const counted = nativeCounters.elementwise;
        expect(await differencesFromWasmOwn(() => tf.transpose(x(), perm)), `${shape} ${perm} ${dtype}`).toEqual([]);
        calls += nativeCounters.elementwise - counted;
        expect(nativeCounters.elementwise - counted, `${shape} ${perm} ${dtype}`).toBe(path === "native" && native ? 1 : 0);
      }
      expect(calls).toBe(path === "native" ? 4 : 0);
    });

    test("ArgMax over each axis (max pooling's switches [windows, 4, C] over axis 1; last and first axes; ties): cpu's, and bit for bit wasm's own", async () => {
      expect(isOurWasmKernel("ArgMax")).toBe(true);
      let argMaxCalls = 0;
      const cases: Array<[number[], number]> = [[[600, 4, 16], 1], [[500, 10], 1], [[4, 2000], 0], [[6, 7, 8, 16], -1], [[10, 10], 1]];
      for (const [i, [shape, axis]] of cases.entries()) {
        const x = () => tf.tensor(seededNormal(size(shape), 60 + i).map((v) => Math.round(4 * v) / 4), shape); // quarters: ties
        await compareBackends(`argMax ${shape} axis ${axis}`, () => tf.cast(tf.argMax(x(), axis), "float32"));
        const counted = nativeCounters.pooling;
        expect(await differencesFromWasmOwn(() => tf.argMax(x(), axis)), `${shape} axis ${axis}`).toEqual([]);
        argMaxCalls += nativeCounters.pooling - counted;
      }
      // On the addon: every case from 4096 values (not [10, 10]).
      expect(argMaxCalls).toBe(path === "native" ? 4 : 0);
      // The axis as a one-element array goes native too; int32 and bool inputs of any size stay wasm's own.
      const pooled = nativeCounters.pooling;
      await compareBackends("argMax axis [1]", () => tf.cast(tf.argMax(tf.tensor(seededNormal(600 * 4 * 16, 67), [600, 4, 16]), [1] as unknown as number), "float32"));
      expect(nativeCounters.pooling - pooled).toBe(path === "native" ? 1 : 0);
      const others = nativeCounters.pooling;
      await compareBackends("argMax int32", () => tf.cast(tf.argMax(tf.tensor(Array.from({ length: 6000 }, (_, j) => (j * 37) % 101), [1500, 4], "int32"), 1), "float32"));
      await compareBackends("argMax bool", () => tf.cast(tf.argMax(tf.tensor(Array.from({ length: 6000 }, (_, j) => (j * 37) % 3 === 0), [1500, 4], "bool"), 1), "float32"));
      expect(nativeCounters.pooling - others).toBe(0);
      // NaN first in a window stays the answer, a later NaN never is: wasm's own rule (cpu's differs), bit for bit.
      const withNaN = seededNormal(600 * 4 * 16, 66).map((v, i) => (i % 7 === 2 || i % 11 === 0 ? Number.NaN : v));
      expect(await differencesFromWasmOwn(() => tf.argMax(tf.tensor(withNaN, [600, 4, 16]), 1)), "with NaNs").toEqual([]);
    });

    test("Add of a bias ([..., C] + [C] or [1, 1, 1, C], either order; narrow and wide rows), of one shape, and adds it leaves to wasm", async () => {
      const before = nativeCounters.elementwise;
      // The conv AE's channels 16, 8 and 1 (narrow rows, summed in vector blocks; 7001 × 3 and 50 × 10 end in a partial
      // block), and the dense layer's 784 (wide rows). Batches are small: the dispatch is the same at any size, and the
      // addon's thread split on 2^16 blocks and more is checked against a plain loop in native-addon.test.ts.
      const cases: Array<[number[], number[]]> = [[[8, 28, 28, 16], [16]], [[8, 14, 14, 8], [1, 1, 1, 8]], [[8, 28, 28, 1], [1]], [[40, 784], [784]], [[7001, 3], [3]], [[50, 10], [1, 10]]];
      for (const [i, [xShape, bShape]] of cases.entries()) {
        const x = () => tf.tensor(seededNormal(size(xShape), 40 + i), xShape);
        const bias = () => tf.tensor(seededNormal(size(bShape), 50 + i), bShape);
        await compareBackends(`x ${xShape} + bias ${bShape}`, () => tf.add(x(), bias()), `add, seeds ${40 + i}, ${50 + i}: x ${xShape} + bias ${bShape}`);
        await compareBackends(`bias ${bShape} + x ${xShape}`, () => tf.add(bias(), x()), `add, seeds ${50 + i}, ${40 + i}: bias ${bShape} + x ${xShape}`);
      }
      expect(nativeCounters.elementwise - before).toBe(path === "native" ? 2 * cases.length : 0);
      // Same shapes from 4096 elements (two threads from 2^16): native; below, other broadcasts and int32: wasm's own.
      const same = nativeCounters.elementwise;
      for (const shape of [[4, 32, 32, 16], [2, 5, 5, 200], [70001]]) {
        await compareBackends(`same shape ${shape}`, () => tf.add(tf.tensor(seededNormal(size(shape), 3), shape), tf.tensor(seededNormal(size(shape), 4), shape)));
      }
      expect(nativeCounters.elementwise - same).toBe(path === "native" ? 3 : 0);
      const others = nativeCounters.elementwise;
      await compareBackends("same shape", () => tf.add(tf.tensor(seededNormal(60, 1), [6, 10]), tf.tensor(seededNormal(60, 2), [6, 10])));
      await compareBackends("column broadcast", () => tf.add(tf.tensor(seededNormal(60, 1), [6, 10]), tf.tensor(seededNormal(6, 2), [6, 1])));
      await compareBackends("int32 bias", () => tf.cast(tf.add(tf.tensor([[1, 2], [3, 4]], [2, 2], "int32"), tf.tensor([5, 6], [2], "int32")), "float32"));
      expect(nativeCounters.elementwise - others).toBe(0);
    });

    test("Sub, Multiply, RealDiv and SquaredDifference of one shape or against one value (both orders) from 4096 elements; smaller ones, other broadcasts and int32 to wasm", async () => {
      expect(["Sub", "Multiply", "RealDiv", "SquaredDifference"].every((k) => isOurWasmKernel(k))).toBe(true);
      const ops = [["sub", tf.sub], ["mul", tf.mul], ["div", tf.div], ["squaredDifference", tf.squaredDifference]] as const;
      const before = nativeCounters.elementwise;
      // A batch's MSE terms [128, 784] (two threads), 4096 exactly (one), an odd length; against [], [1, 1] and a rank-3 [1, 1, 1] value.
      const cases: Array<[number[], number[]]> = [[[128, 784], [128, 784]], [[4096], [4096]], [[70001], [70001]], [[128, 784], []], [[], [128, 784]], [[64, 100], [1, 1]], [[1, 1], [64, 100]], [[2, 50, 41], [1, 1, 1]]];
      for (const [i, [aShape, bShape]] of cases.entries()) {
        for (const [name, f] of ops) {
          // Divisors away from zero; values with exact ties and signs of both kinds.
          const a = () => tf.tensor(seededNormal(size(aShape), 60 + i), aShape);
          const b = () => name === "div" ? tf.add(tf.abs(tf.tensor(seededNormal(size(bShape), 70 + i), bShape)), 0.5) : tf.tensor(seededNormal(size(bShape), 70 + i), bShape);
          await compareBackends(`${name} [${aShape}] [${bShape}]`, () => f(a(), b()));
        }
      }
      // Each case's op is one native call (div's b: abs and add are not ours, or fall under the threshold for a single value).
      const nativeOps = nativeCounters.elementwise - before;
      if (path === "native") expect(nativeOps).toBeGreaterThanOrEqual(cases.length * ops.length);
      else expect(nativeOps).toBe(0);
      const others = nativeCounters.elementwise;
      await compareBackends("small", () => tf.mul(tf.tensor(seededNormal(60, 1), [6, 10]), tf.tensor(seededNormal(60, 2), [6, 10])));
      await compareBackends("column broadcast", () => tf.sub(tf.tensor(seededNormal(6000, 1), [600, 10]), tf.tensor(seededNormal(600, 2), [600, 1])));
      await compareBackends("row broadcast under 4096", () => tf.sub(tf.tensor(seededNormal(4000, 1), [400, 10]), tf.tensor(seededNormal(10, 2), [10])));
      await compareBackends("int32", () => tf.cast(tf.mul(tf.tensor(Array.from({ length: 5000 }, (_, j) => j % 7), [5000], "int32"), tf.scalar(3, "int32")), "float32"));
      await compareBackends("value of higher rank", () => tf.mul(tf.tensor(seededNormal(5000, 3), [5000]), tf.ones([1, 1])));
      // None of these products and differences; the one call is the int32 case's cast to float32 (for the comparison).
      expect(nativeCounters.elementwise - others).toBe(path === "native" ? 1 : 0);
    });

    test(`Minimum and Maximum equal tfjs-cpu's Math.min and Math.max bit for bit (${path === "native" ? "NaN either side, −0 against +0, " : ""}ties), a leaky ReLU's inverse and its gradient`, async () => {
      expect(["Minimum", "Maximum"].every((k) => isOurWasmKernel(k))).toBe(true);
      // 6,000 values: normal draws, then (on the addon) every ordered pair of the special values below. wasm's own
      // kernel, the fallback, differs from cpu there (min(NaN, 0) = 0, min(0, −0) = +0): it is checked on finite values.
      const special = [NaN, 0, -0, 1, -1, Infinity, -Infinity, 2.5];
      const n = 6000;
      const a = seededNormal(n, 80);
      const b = seededNormal(n, 81);
      if (path === "native") special.forEach((x, i) => special.forEach((y, j) => { a[i * special.length + j] = x; b[i * special.length + j] = y; }));
      for (let i = 100; i < 200; i++) b[i] = a[i]; // exact ties
      const bits = (backend: string, f: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor, bShape: number[]) =>
        withBackend(backend, () => tf.tidy(() => Array.from(f(tf.tensor(a, [n / 10, 10]), tf.tensor(bShape[0] === 1 ? [b[n - 1]] : b, bShape)).dataSync())));
      const before = nativeCounters.elementwise;
      for (const [name, f] of [["minimum", tf.minimum], ["maximum", tf.maximum]] as const) {
        // Against one value: a finite draw (b's last, never a special value), so the comparisons decide the result.
        for (const bShape of [[n / 10, 10], [1, 1]]) {
          const ours = await bits("wasm", f, bShape);
          const cpu = await bits("cpu", f, bShape);
          expect(bitwiseDifferences(ours, cpu), `${name} [${bShape}], ours vs cpu`).toEqual([]);
        }
      }
      expect(nativeCounters.elementwise - before).toBe(path === "native" ? 4 : 0);
      // The inverse of a leaky ReLU, min(y, y/α), and its gradient (LessEqual and Greater masks of Minimum's gradient).
      const y = () => tf.tensor(seededNormal(8 * 28 * 28, 82), [8, 28, 28, 1]);
      await compareBackends("leakyReluInverse", () => tf.minimum(y(), tf.div(y(), 0.3)));
      await compareBackends("d leakyReluInverse", () => tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.minimum(v, tf.div(v, 0.3)), tf.tensor(seededNormal(8 * 28 * 28, 83), [8, 28, 28, 1]))))(y()));
    });

    test("Sub, Multiply, RealDiv, Minimum and Maximum with one operand a row of the other's last axis ([..., C] with [C] or [1, 1, 1, C], both orders) bit for bit; SquaredDifference too, within rounding", async () => {
      // cpu squares a − b in float64 and rounds once; float32 rounds the difference first (wasm's own kernel too): that one is compared within tolerance.
      const ops = [["sub", tf.sub], ["mul", tf.mul], ["div", tf.div], ["minimum", tf.minimum], ["maximum", tf.maximum]] as const;
      // Narrow rows tiled to whole vectors (16 and 10 channels, and a tail: 4100 = 410 rows of 10), a wide row (784: one row at a time).
      const cases: Array<[number[], number[]]> = [[[32, 14, 14, 16], [16]], [[32, 14, 14, 16], [1, 1, 1, 16]], [[410, 10], [10]], [[8, 784], [784]]];
      const bits = (backend: string, f: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor, full: number[], row: number[], rowFirst: boolean, seed: number) =>
        withBackend(backend, () => tf.tidy(() => {
          const x = tf.tensor(seededNormal(size(full), seed), full);
          const r = tf.add(tf.abs(tf.tensor(seededNormal(size(row), seed + 1), row)), 0.25); // away from zero, for div
          return Array.from((rowFirst ? f(r, x) : f(x, r)).dataSync());
        }));
      const before = nativeCounters.elementwise;
      let calls = 0;
      for (const [i, [full, row]] of cases.entries()) {
        for (const rowFirst of [false, true]) {
          for (const [name, f] of ops) {
            const ours = await bits("wasm", f, full, row, rowFirst, 90 + i);
            const cpu = await bits("cpu", f, full, row, rowFirst, 90 + i);
            calls++;
            expect(bitwiseDifferences(ours, cpu), `${name} [${full}] ${rowFirst ? "after" : "before"} [${row}], ours vs cpu`).toEqual([]);
          }
        }
      }
      // SquaredDifference on the addon rounds as wasm's own kernel does (the one earlier runs used): bit for bit.
      if (path === "native") {
        for (const rowFirst of [false, true]) {
          const ours = await bits("wasm", tf.squaredDifference, [32, 14, 14, 16], [16], rowFirst, 99);
          const stock = await withNativeOff(() => bits("wasm", tf.squaredDifference, [32, 14, 14, 16], [16], rowFirst, 99));
          expect(bitwiseDifferences(ours, stock), `squaredDifference, row ${rowFirst ? "first" : "second"}, ours vs wasm's own`).toEqual([]);
          calls++;
        }
      }
      for (const [full, row] of cases) {
        await compareBackends(`squaredDifference [${full}] [${row}]`, () => tf.squaredDifference(tf.tensor(seededNormal(size(full), 95), full), tf.tensor(seededNormal(size(row), 96), row)));
        await compareBackends(`squaredDifference [${row}] [${full}]`, () => tf.squaredDifference(tf.tensor(seededNormal(size(row), 97), row), tf.tensor(seededNormal(size(full), 98), full)));
        calls += 2;
      }
      // Each op on the addon (abs and add of the small row stay under the threshold).
      expect(nativeCounters.elementwise - before).toBe(path === "native" ? calls : 0);
    });

    test("Tanh, Sigmoid and Softplus and their gradients (270,000 values over ±20: both threads, softplus's cut-offs), a dense layer's sigmoid", async () => {
      expect(["Tanh", "Sigmoid", "Softplus"].every((k) => isOurWasmKernel(k))).toBe(true);
      const before = nativeCounters.elementwise;
      const n = 270_000;
      const values = seededNormal(n, 21).map((v) => Math.min(20, Math.max(-20, 6 * v)));
      const x = () => tf.tensor(values, [n / 10, 10]);
      const w = () => tf.tensor(seededNormal(n, 22), [n / 10, 10]);
      for (const [name, f] of [["tanh", tf.tanh], ["sigmoid", tf.sigmoid], ["softplus", tf.softplus]] as const) {
        await compareBackends(name, () => f(x()));
        await compareBackends(`d ${name}`, () => tf.grad((v: tf.Tensor) => tf.sum(tf.mul(f(v), w())))(x()));
      }
      // Dense 784 → sigmoid: _FusedMatMul's epilogue runs the sigmoid in place on the addon.
      const dense = (xs: tf.Tensor) => tf.fused.matMul({ a: xs, b: tf.tensor(seededNormal(20 * 7, 24), [20, 7]), bias: tf.tensor(seededNormal(7, 25), [7]), activation: "sigmoid" });
      await compareBackends("fused sigmoid", () => dense(tf.tensor(seededNormal(40 * 20, 23), [40, 20]).mul(3)));
      // Each forward pass (6: the gradients recompute theirs), softplus's gradient (a Sigmoid; tanh's and sigmoid's are
      // products of y), the fused product's bias row and its sigmoid: 9; and 12 products and differences on the addon
      // (Multiply, Sub): each loss's w·f(x) and its gradient w·dy (2 × 3), tanh's (1 − y²)·dy (2), sigmoid's dy·(y·(1 − y)) (3)
      // and softplus's dy·σ(x) (1).
      expect(nativeCounters.elementwise - before).toBe(path === "native" ? 9 + 12 : 0);
    });

    test("Sum over leading axes (a conv layer's bias gradient) in float64", async () => {
      const before = nativeCounters.sums;
      // ≥ 2^16 terms and ≥ 512 rows: the addon sums on 2 threads (and wasm-only takes our float64 loop: ≥ 1024 rows of ≥ 32).
      await compareBackends("bias gradient [16, 26, 26, 32]", () => tf.sum(tf.tensor(seededNormal(16 * 26 * 26 * 32, 11), [16, 26, 26, 32]), [0, 1, 2]), "sum, seed 11: [16, 26, 26, 32] over 0, 1, 2");
      // Narrow rows (the conv AE's 16, 8 and 1 channels, the first three on 2 threads; 3 and 10, whose lane pattern spans several vectors; a partial last block).
      const narrow: number[][] = [[32, 28, 28, 16], [64, 14, 14, 8], [128, 28, 28, 1], [7001, 3], [6007, 10]];
      for (const [i, shape] of narrow.entries()) {
        const axes = shape.slice(0, -1).map((_, axis) => axis);
        await compareBackends(`sum of rows ${shape}`, () => tf.sum(tf.tensor(seededNormal(shape.reduce((a, b) => a * b, 1), 12 + i), shape), axes), `sum, seed ${12 + i}: rows of ${shape}`);
      }
      expect(nativeCounters.sums - before).toBe(path === "native" ? 1 + narrow.length : 0);
    });
  });
}

describe("Identity and same-dtype Cast (ours: share the input's memory, as tfjs-cpu)", () => {
  test("a clone shares memory until the original is gone, values intact; a real Cast still converts", async () => {
    await withBackend("wasm", () => {
      expect(isOurWasmKernel("Identity") && isOurWasmKernel("Cast")).toBe(true);
      const backend = tf.backend() as unknown as { refCount(id: tf.DataId): number };
      const x = tf.tensor([1.5, -2, 3], [3]);
      const y = tf.clone(x);
      const z = tf.cast(x, "float32");
      expect(backend.refCount(x.dataId)).toBe(3); // one memory block, three tensors: no copy
      expect(y.dataId).toBe(x.dataId);
      x.dispose();
      expect(Array.from(y.dataSync())).toEqual([1.5, -2, 3]);
      const asInt = tf.cast(z, "int32");
      expect(asInt.dtype).toBe("int32");
      expect(Array.from(asInt.dataSync())).toEqual([1, -2, 3]);
      tf.dispose([y, z, asInt]);
      return null;
    });
  });
});

for (const path of ["native", "wasm only"] as const) {
  describe.runIf(path === "wasm only" || nativeLoaded)(`ResizeNearestNeighbor and its gradient (ours, ${path === "native" ? "native addon" : "forward wasm's own, gradient block sums via XNNPACK AvgPool"}) vs cpu and the closed form`, () => {
    let previous = true;
    beforeAll(() => { previous = setNativeEnabled(path === "native"); });
    afterAll(() => { setNativeEnabled(previous); });
    test("are ours", () => ["ResizeNearestNeighborGrad", "ResizeNearestNeighbor"].forEach((k) => expect(isOurWasmKernel(k), k).toBe(true)));

    test("forward: integer upscalings (the conv AE's 7→14→28, 3×2, 1×1) vs cpu, and the addon ran them", async () => {
      const before = nativeCounters.elementwise;
      const cases: Array<[number[], number, number]> = [[[3, 7, 7, 8], 2, 2], [[3, 14, 14, 8], 2, 2], [[2, 4, 5, 3], 3, 2], [[2, 4, 5, 2], 1, 1]];
      for (const [index, [shape, sh, sw]] of cases.entries()) {
        await compareBackends(`resize ${shape} × ${sh}x${sw}`, () =>
          tf.image.resizeNearestNeighbor(tf.tensor4d(seededNormal(size(shape), 80 + index), shape as [number, number, number, number]), [shape[1] * sh, shape[2] * sw]));
      }
      expect(nativeCounters.elementwise - before).toBe(path === "native" ? cases.length : 0);
    });

    // The gradient of integer nearest-neighbour upscaling: dX[b,y,x,c] = Σ_{i<sh, j<sw} dY[b, y·sh+i, x·sw+j, c].
    // (Not cpu: tfjs-cpu 4.22's kernel is wrong for batch > 1; see the audit.)
    function blockSums(dy: Float32Array, [b, h, w, c]: number[], sh: number, sw: number): Float64Array {
      const out = new Float64Array(b * h * w * c);
      for (let n = 0; n < b; n++) for (let y = 0; y < h * sh; y++) for (let x = 0; x < w * sw; x++) for (let k = 0; k < c; k++) {
        out[((n * h + Math.floor(y / sh)) * w + Math.floor(x / sw)) * c + k] += dy[((n * h * sh + y) * w * sw + x) * c + k];
      }
      return out;
    }

    test("gradient: scales 2×2 (UpSampling2D), 3×2, 1×1 and the conv AE's shapes, batch 3", async () => {
      const cases: Array<[number[], number, number]> = [[[3, 7, 7, 8], 2, 2], [[3, 14, 14, 8], 2, 2], [[3, 4, 5, 3], 3, 2], [[3, 4, 5, 2], 1, 1]];
      for (const [index, [shape, sh, sw]] of cases.entries()) {
        const [b, h, w, c] = shape;
        const dyValues = seededNormal(b * h * sh * w * sw * c, 40 + index);
        const wasm = await withBackend("wasm", () => tf.tidy(() => {
          const images = tf.zeros(shape);
          const dy = tf.tensor(dyValues, [b, h * sh, w * sw, c]);
          const g = tf.engine().runKernel("ResizeNearestNeighborGrad", { images, dy }, { alignCorners: false, halfPixelCenters: false }) as tf.Tensor;
          return Float32Array.from(g.dataSync());
        }));
        assertClose(wasm, blockSums(dyValues, shape, sh, sw), BACKEND_TOLERANCE, `resize grad ${shape} × ${sh}x${sw}`);
      }
    });

    test("alignCorners and halfPixelCenters go to wasm's own kernel and still agree with cpu at batch 1", async () => {
      for (const [alignCorners, halfPixelCenters] of [[true, false], [false, true]]) {
        await compareBackends(`alignCorners ${alignCorners}, halfPixelCenters ${halfPixelCenters}`, () => {
          const x = tf.tensor4d(seededNormal(4 * 5 * 2, 9), [1, 4, 5, 2]);
          const w = tf.tensor4d(seededNormal(8 * 10 * 2, 10), [1, 8, 10, 2]);
          return tf.grad((input: tf.Tensor) => tf.sum(tf.mul(tf.image.resizeNearestNeighbor(input as tf.Tensor4D, [8, 10], alignCorners, halfPixelCenters), w)))(x);
        });
      }
    });
  });
}

describe("Sum (ours over leading axes) vs cpu", () => {
  test("is ours", () => expect(isOurWasmKernel("Sum")).toBe(true));

  test("leading and other axes, keepDims, the bias-gradient shapes", async () => {
    const shape = [6, 5, 4, 3];
    const axesList: Array<number | number[]> = [0, [0, 1], [0, 1, 2], [1, 0], 1, [1, 2], 3, [0, 3], [0, 1, 2, 3]];
    for (const [index, axes] of axesList.entries()) {
      for (const keepDims of [false, true]) {
        await compareBackends(`sum over ${JSON.stringify(axes)} keepDims ${keepDims}`, () => tf.sum(tf.tensor(seededNormal(size(shape), index), shape), axes, keepDims));
      }
    }
    for (const [index, axes] of ([[0, 1], [0], [1, 0]] as number[][]).entries()) {
      await compareBackends(`wide rows (ours): [40, 30, 32] over ${JSON.stringify(axes)}`, () => tf.sum(tf.tensor(seededNormal(40 * 30 * 32, 90 + index), [40, 30, 32]), axes, index === 1));
    }
    await compareBackends("bias gradient of a [128, 26, 26, 32] conv output", () => tf.sum(tf.tensor(seededNormal(128 * 26 * 26 * 32, 5), [128, 26, 26, 32]), [0, 1, 2]));
  });
});

describe("Sum and Mean over long trailing reductions (ours, float64) vs the exact value", () => {
  test("are ours", () => {
    expect(isOurWasmKernel("Sum")).toBe(true);
    expect(isOurWasmKernel("Mean")).toBe(true);
  });

  test.each(nativeLoaded ? ["native", "wasm only"] : ["wasm only"])("a mean of 4·10⁶ positive terms (a test-set MSE) is exact to float32, where float32 accumulation drifts (%s)", async (path) => {
    const previous = setNativeEnabled(path === "native");
    const sumsBefore = nativeCounters.sums;
    const n = 4_000_000;
    const values = new Float32Array(n);
    let exact = 0;
    for (let i = 0; i < n; i++) {
      values[i] = ((i * 2654435761) % 1000) / 10_000; // in [0, 0.1), deterministic
      exact += values[i];
    }
    const [mean, sum, rowMeans] = await withBackend("wasm", (): [number, number, number[]] => tf.tidy(() => {
      const x = tf.tensor1d(values);
      const rows = x.reshape([2, n / 2]);
      return [tf.mean(x).dataSync()[0], tf.sum(x).dataSync()[0], Array.from(tf.mean(rows, 1, true).dataSync())] as [number, number, number[]];
    }));
    setNativeEnabled(previous);
    expect(nativeCounters.sums - sumsBefore).toBe(path === "native" ? 3 : 0);
    expect(Math.abs(mean / (exact / n) - 1)).toBeLessThan(1e-6);
    expect(Math.abs(sum / exact - 1)).toBeLessThan(1e-6);
    expect(rowMeans).toHaveLength(2);
    expect(Math.abs((rowMeans[0] + rowMeans[1]) / 2 / (exact / n) - 1)).toBeLessThan(1e-6);
    // float32 accumulation in order: what wasm's own kernel does, to show the test can fail.
    let naive = Math.fround(0);
    for (let i = 0; i < n; i++) naive = Math.fround(naive + values[i]);
    expect(Math.abs(naive / exact - 1)).toBeGreaterThan(1e-5);
  });

  test.runIf(nativeLoaded)("a mean over leading axes on the addon (meanRows) equals wasm's own kernel bit for bit, keepDims or not", async () => {
    const cases: Array<[number[], number[]]> = [[[32, 28, 28, 16], [0, 1, 2]], [[500, 14, 14, 8], [0, 1, 2]], [[2000, 784], [0]], [[6, 70, 100], [0]], [[3, 4, 5, 300], [0, 1]]];
    for (const [index, [shape, axes]] of cases.entries()) {
      const keepDims = index % 2 === 1;
      const run = () => withBackend("wasm", () => tf.tidy(() => {
        const y = tf.mean(tf.add(tf.tensor(seededNormal(size(shape), 400 + index), shape), 0.3), axes, keepDims);
        return { shape: y.shape, values: Array.from(y.dataSync()) };
      }));
      const sumsBefore = nativeCounters.sums;
      const ours = await run();
      expect(nativeCounters.sums - sumsBefore, `[${shape}] over [${axes}] on the addon`).toBe(1);
      const stock = await withNativeOff(run);
      expect(ours.shape).toEqual(stock.shape);
      expect(bitwiseDifferences(ours.values, stock.values), `[${shape}] over [${axes}], ours vs wasm's own`).toEqual([]);
    }
  });

  test("short, leading and mixed reductions keep agreeing with cpu", async () => {
    const shape = [3, 300, 300];
    for (const [index, axes] of ([[1, 2], [2], [0, 1, 2], [0], [0, 2]] as number[][]).entries()) {
      await compareBackends(`mean over ${JSON.stringify(axes)}`, () => tf.mean(tf.tensor(seededNormal(size(shape), 200 + index), shape), axes, index % 2 === 0));
      await compareBackends(`sum over ${JSON.stringify(axes)}`, () => tf.sum(tf.tensor(seededNormal(size(shape), 300 + index), shape), axes));
    }
  });
});

describe("OneHot (ours) vs cpu", () => {
  test("is ours", () => expect(isOurWasmKernel("OneHot")).toBe(true));

  test("float32 and int32 outputs, custom on/off values, out-of-range ids, 2-D ids", async () => {
    const ids = [0, 3, 1, -1, 4, 2];
    for (const dtype of ["float32", "int32"] as const) {
      await compareBackends(`oneHot ${dtype}`, () => tf.oneHot(tf.tensor1d(ids, "int32"), 4, 1, 0, dtype));
      await compareBackends(`oneHot ${dtype} on 5 off -2`, () => tf.oneHot(tf.tensor2d(ids, [2, 3], "int32"), 4, 5, -2, dtype));
    }
    const floatOnes = await wasmValues(() => tf.oneHot(tf.tensor1d([1], "int32"), 2, 1, 0, "float32"));
    expect(floatOnes).toEqual([0, 1]);
  });
});

for (const path of ["native", "wasm only"] as const) {
  describe.runIf(path === "wasm only" || nativeLoaded)(`MaxPoolGrad (ours, ${path === "native" ? "native addon" : "typed-array loop"}) on the conv AE's shapes vs cpu`, () => {
    let previous = true;
    beforeAll(() => { previous = setNativeEnabled(path === "native"); });
    afterAll(() => { setNativeEnabled(previous); });
    test("28×28×16 and 14×14×8, pool 2 same, relu-like inputs with ties; 3×3 stride 2 overlapping windows", async () => {
      const before = nativeCounters.pooling;
      const cases: Array<[number[], number, number]> = [[[4, 28, 28, 16], 2, 2], [[4, 14, 14, 8], 2, 2], [[2, 7, 7, 8], 2, 2], [[2, 9, 8, 3], 3, 2]];
      for (const [index, [shape, window, stride]] of cases.entries()) {
        await compareBackends(`maxPool grad ${shape} window ${window} stride ${stride}`, () => {
          const x = tf.relu(tf.tensor4d(seededNormal(size(shape), 60 + index), shape as [number, number, number, number]));
          const outShape = tf.maxPool(x, window, stride, "same").shape;
          const w = tf.tensor(seededNormal(size(outShape), 70 + index), outShape);
          return tf.grad((input: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(input as tf.Tensor4D, window, stride, "same"), w)))(x);
        });
      }
      expect(nativeCounters.pooling - before).toBe(path === "native" ? cases.length : 0);
    });
  });
}

describe("GatherV2 (ours for whole rows) vs cpu", () => {
  test("is ours", () => expect(isOurWasmKernel("GatherV2")).toBe(true));

  test("rows of float32/int32/bool tensors, repeated indices, 2-D indices, other axes (wasm's own)", async () => {
    for (const dtype of ["float32", "int32", "bool"] as const) {
      for (const [label, indices, axis] of [["rows", [4, 0, 4, 2, 1], 0], ["2-D indices", [[3, 1], [0, 4]], 0], ["axis 1", [2, 0, 2], 1], ["axis -1", [1, 0], -1]] as const) {
        await compareBackends(`${dtype} ${label}`, () => {
          const x = tf.tensor(seededNormal(5 * 3 * 2, 21).map((v) => (dtype === "float32" ? v : dtype === "int32" ? Math.round(4 * v) : v > 0 ? 1 : 0)), [5, 3, 2], dtype);
          return tf.cast(tf.gather(x, tf.tensor(indices as unknown as number[], undefined, "int32"), axis), "float32");
        });
      }
    }
  });

  test("an out-of-range index fails, naming it", async () => {
    await withBackend("wasm", () => {
      expect(() => tf.tidy(() => tf.gather(tf.ones([3, 2]), tf.tensor1d([0, 3], "int32")).dataSync())).toThrow(/index value 3/);
    });
  });

  test("the epoch shuffle's shape: 300 MNIST-sized rows", async () => {
    const order = Int32Array.from({ length: 300 }, (_, i) => (i * 7919) % 300);
    await compareBackends("gather 300×784", () => tf.gather(tf.tensor(seededNormal(300 * 784, 22), [300, 784]), tf.tensor1d(order, "int32")));
  });
});

describe("Slice (ours: heap to heap) vs cpu", () => {
  test("is ours", () => expect(isOurWasmKernel("Slice")).toBe(true));

  test("contiguous and strided slices of ranks 1–5, float32/int32/bool, -1 sizes, empty", async () => {
    const cases: Array<[number[], number[], number[]]> = [
      [[10], [3], [4]], [[6, 5], [2, 0], [3, 5]], [[6, 5], [1, 2], [4, 2]], [[6, 5], [0, 4], [-1, 1]],
      [[4, 3, 5], [1, 1, 1], [2, 2, 3]], [[4, 3, 5], [2, 0, 0], [2, 3, 5]], [[3, 4, 5, 2], [1, 1, 2, 0], [2, 2, 3, 2]],
      [[3, 4, 5, 2], [0, 2, 0, 1], [3, 2, 5, 1]], [[2, 3, 4, 5, 2], [1, 0, 1, 2, 0], [1, 3, 2, 2, 2]], [[6, 5], [2, 1], [0, 3]],
    ];
    for (const dtype of ["float32", "int32", "bool"] as const) {
      for (const [index, [shape, begin, sz]] of cases.entries()) {
        await compareBackends(`${dtype} slice of [${shape}] at [${begin}] size [${sz}]`, () => {
          const values = seededNormal(size(shape), 80 + index).map((v) => (dtype === "float32" ? v : dtype === "int32" ? Math.round(5 * v) : v > 0 ? 1 : 0));
          return tf.cast(tf.slice(tf.tensor(values, shape, dtype), begin, sz), "float32");
        });
      }
    }
  });

  test("a batch of an MNIST-sized dataset (what trainModel does every step)", async () => {
    await compareBackends("rows 256..383 of [2048, 784]", () => tf.slice(tf.tensor(seededNormal(2048 * 784, 81), [2048, 784]), [256, 0], [128, 784]));
  });
});

describe("Tile (ours: block copies on the heap) vs cpu", () => {
  test("is ours", () => expect(isOurWasmKernel("Tile")).toBe(true));

  test("ranks 1–4, float32/int32/bool, rows of one value and longer, reps of 0 and 1, broadcastTo (the Mean and Sum gradients' shapes)", async () => {
    const cases: Array<[number[], number[]]> = [
      [[3], [4]], [[1], [7]], [[2, 3], [3, 2]], [[1, 1], [128, 784]], [[1, 784], [128, 1]], [[128, 1], [1, 784]], [[2, 1, 3], [2, 4, 1]],
      [[2, 3, 1, 2], [1, 2, 3, 2]], [[3, 2], [1, 1]], [[3, 2], [0, 2]], [[4, 1, 5], [1, 6, 1]],
    ];
    for (const dtype of ["float32", "int32", "bool"] as const) {
      for (const [index, [shape, reps]] of cases.entries()) {
        await compareBackends(`${dtype} tile of [${shape}] by [${reps}]`, () => {
          const values = seededNormal(size(shape), 90 + index).map((v) => (dtype === "float32" ? v : dtype === "int32" ? Math.round(5 * v) : v > 0 ? 1 : 0));
          return tf.cast(tf.tile(tf.tensor(values, shape, dtype), reps), "float32");
        });
      }
    }
    await compareBackends("broadcastTo [3, 1] → [2, 3, 5]", () => tf.broadcastTo(tf.tensor(seededNormal(3, 99), [3, 1]), [2, 3, 5]));
  });
});

describe("no leaks from our kernels", () => {
  test("Adam training steps of a model running every one of them leave tensor and buffer counts and the wasm heap unchanged", async () => {
    await withBackend("wasm", () => {
      const L = tf.layers;
      const input = tf.input({ shape: [8, 8, 1] });
      let h = L.conv2d({ filters: 6, kernelSize: 3, padding: "same", activation: "relu" }).apply(input) as tf.SymbolicTensor;
      h = L.conv2d({ filters: 6, kernelSize: 3, padding: "same", activation: "relu" }).apply(h) as tf.SymbolicTensor; // filter gradient by conv (6 ≥ 4 channels)
      h = L.maxPooling2d({ poolSize: 2 }).apply(h) as tf.SymbolicTensor;
      h = L.upSampling2d({ size: [2, 2] }).apply(h) as tf.SymbolicTensor;
      h = L.conv2dTranspose({ filters: 4, kernelSize: 3, padding: "same", activation: "relu" }).apply(h) as tf.SymbolicTensor;
      h = L.flatten().apply(h) as tf.SymbolicTensor;
      const output = L.dense({ units: 3, activation: "softmax" }).apply(h) as tf.SymbolicTensor;
      const model = tf.model({ inputs: input, outputs: output });
      const data = tf.tensor4d(seededNormal(10 * 64, 31), [10, 8, 8, 1]);
      const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2, 0], "int32"), 3);
      const optimizer = tf.train.adam(1e-3);
      const heap = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length;
      const step = () => tf.tidy(() => {
        const order = tf.tensor1d([3, 1, 4, 0, 5, 9, 2, 6], "int32");
        const x = tf.gather(data, order);
        const y = tf.gather(labels, order);
        optimizer.minimize(() => tf.mean(tf.metrics.categoricalCrossentropy(y, model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, true)?.dataSync();
      });
      try {
        step(); // prime: Adam creates its slot variables on the first step
        step();
        const before = tf.memory();
        const heapBefore = heap();
        for (let i = 0; i < 5; i++) step();
        const after = tf.memory();
        expect(after.numTensors).toBe(before.numTensors);
        expect(after.numDataBuffers).toBe(before.numDataBuffers);
        expect(heap()).toBe(heapBefore);
      } finally {
        optimizer.dispose();
        model.dispose();
        tf.dispose([data, labels]);
      }
    });
  });

  test("matmuls with transposes, conv input and filter gradients (conv method), upsampling and max-pool gradients, sums leave no tensors or data buffers behind", async () => {
    await withBackend("wasm", () => {
      const step = () => tf.tidy(() => {
        const x = tf.tensor4d(seededNormal(2 * 6 * 6 * 4, 1), [2, 6, 6, 4]);
        const f = tf.tensor4d(seededNormal(3 * 3 * 4 * 3, 2), [3, 3, 4, 3]);
        const w = tf.tensor2d(seededNormal(27 * 5, 3), [27, 5]);
        const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.matMul(tf.reshape(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, "same"), [2, 27]), w)))([x, f]);
        const u = tf.grad((v: tf.Tensor) => tf.sum(tf.maxPool(tf.image.resizeNearestNeighbor(v as tf.Tensor4D, [12, 12]), 2, 2, "same")))(x);
        tf.gather(x, tf.tensor1d([1, 0, 1], "int32")).dataSync();
        const t = tf.conv2dTranspose(x, tf.tensor4d(seededNormal(9 * 3 * 4, 4), [3, 3, 3, 4]), [2, 12, 12, 3], 2, "same");
        return tf.add(tf.sum(g[0]), tf.add(tf.sum(g[1]), tf.add(tf.sum(t), tf.sum(u, [0, 1, 2])).sum())).dataSync();
      });
      step();
      const before = tf.memory();
      step();
      const after = tf.memory();
      expect(after.numTensors).toBe(before.numTensors);
      expect(after.numDataBuffers).toBe(before.numDataBuffers);
    });
  });
});
