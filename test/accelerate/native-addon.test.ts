/**
 * The optional native addon (lib/accelerate/native/addon.ts, lib/accelerate/native/src/) by itself: its matrix product
 * against a float64 reference (transposes, batches, broadcasting, threads), its three
 * convolution modes against each other (each gradient is the adjoint of the forward map), its
 * errors, and the switch that turns it off. Its use inside the wasm kernels is tested, against
 * the cpu backend, in test/accelerate/wasm-overrides-vs-cpu.test.ts.
 */
import * as fs from "fs";
import * as path from "path";
import { describe, expect, test, vi } from "vitest";
import {
  BinaryOp, ComparisonOp, ConvAlgorithm, ConvGeometry, ConvMode, loadNativeKernels, nativeAddon, NativeAddon, resolveNativeThreads, UnaryOp, UpsampleMode,
} from "../../lib/accelerate/native/addon";
import { enumMismatches, NATIVE_ENUMS } from "../../lib/accelerate/native/enums";
import { bitwiseDifferences, seededNormal } from "../helpers/gradcheck";

const built = fs.existsSync(path.join(__dirname, "../../lib/accelerate/native/build/Release/ae_native.node"));
const status = loadNativeKernels();

test("loads where npm install built it, and says so; else says why not (in CI it must be built: no native test skips there)", () => {
  if (process.env.CI === "true") expect(built, "CI=true: npm install must have built the native addon").toBe(true);
  if (built) {
    expect(status.loaded).toBe(true);
    expect(status.summary).toMatch(/^native matrix products, convolutions, Adam and element-wise kernels \((AVX-512|AVX2|AVX|SSE2|portable), \d+×\d+ register tile, \d+ threads?\)$/);
  } else {
    expect(status.loaded).toBe(false);
    expect(status.summary).toMatch(/native kernels (not built|off)/);
  }
});

test("threads: AE_NATIVE_THREADS, else an explicit wasm thread count, else every core up to 8", () => {
  expect(resolveNativeThreads({ env: {}, cores: 2 })).toBe(2);
  expect(resolveNativeThreads({ env: {}, cores: 32 })).toBe(8);
  expect(resolveNativeThreads({ env: {}, wasmRequest: "auto", cores: 4 })).toBe(4);
  expect(resolveNativeThreads({ env: {}, wasmRequest: 1, cores: 4 })).toBe(1);
  expect(resolveNativeThreads({ env: { AE_NATIVE_THREADS: "3" }, wasmRequest: 1, cores: 4 })).toBe(3);
  expect(resolveNativeThreads({ env: { AE_NATIVE_THREADS: "auto" }, wasmRequest: 1, cores: 4 })).toBe(4);
  expect(() => resolveNativeThreads({ env: { AE_NATIVE_THREADS: "many" } })).toThrow('AE_NATIVE_THREADS must be "auto" or an integer from 1 to 64; got "many"');
});

test("AE_NATIVE=0 turns it off", async () => {
  vi.resetModules();
  const fresh = await import("../../lib/accelerate/native/addon");
  const off = fresh.loadNativeKernels({ env: { AE_NATIVE: "0" } });
  expect(off).toEqual({ loaded: false, summary: "native kernels off (AE_NATIVE=0)" });
  expect(fresh.nativeAddon()).toBeNull();
});

/** op(A_t)·op(B_t) in float64, row-major. */
function reference(a: Float32Array, b: Float32Array, batch: number, m: number, n: number, k: number, transA: boolean, transB: boolean, strideA: number, strideB: number): Float64Array {
  const c = new Float64Array(batch * m * n);
  for (let t = 0; t < batch; t++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let p = 0; p < k; p++) {
          const av = transA ? a[t * strideA + p * m + i] : a[t * strideA + i * k + p];
          const bv = transB ? b[t * strideB + j * k + p] : b[t * strideB + p * n + j];
          sum += av * bv;
        }
        c[(t * m + i) * n + j] = sum;
      }
    }
  }
  return c;
}

/** max |x − y| / (1 + |y|). */
function relativeError(x: Float32Array, y: Float64Array): number {
  let worst = 0;
  for (let i = 0; i < y.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]) / (1 + Math.abs(y[i])));
  return worst;
}

describe.runIf(built)("the addon", () => {
  const addon = () => nativeAddon() as NativeAddon;

  // float32 sums of k products drift by about k·2⁻²⁴ of their terms' size: the bound is 1e-6 + 1e-7·k.
  test("gemm: sizes around the register tile and the packed blocks, every transpose, 1–3 threads", () => {
    // Sizes straddle the tile (8 or 6 rows × 32 or 16 columns), the 256-deep blocks and the 128-row blocks.
    // Threads split products of ≥ 2e7 flops: 128×400×784 by columns, 2000×17×600 (one tile of columns) by rows,
    // 3000×8×600 computed transposed (8 columns) and split by its columns.
    const sizes: Array<[number, number, number]> = [[1, 1, 1], [7, 33, 5], [9, 31, 257], [130, 65, 300], [128, 400, 784], [300, 17, 513], [2000, 17, 600], [3000, 8, 600], [3, 1100, 2]];
    let seed = 1;
    for (const [m, n, k] of sizes) {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          // One float64 reference per case (the slow part), checked against each thread count's split.
          const a = seededNormal(m * k, seed++);
          const b = seededNormal(k * n, seed++);
          const expected = reference(a, b, 1, m, n, k, transA, transB, 0, 0);
          for (const threads of [1, 2, 3]) {
            const c = new Float32Array(m * n).fill(Number.NaN);
            addon().gemm(a, b, c, 1, m, n, k, transA, transB, 0, 0, threads);
            expect(relativeError(c, expected), `${m}×${n}×${k} tA ${transA} tB ${transB} threads ${threads}`).toBeLessThan(1e-6 + 1e-7 * k);
          }
        }
      }
    }
  });

  test("gemm: a transposed operand gives the bits of the same operand transposed beforehand (packing moves data only)", () => {
    // The packs of Aᵀ, of A read along its rows and of Bᵀ take their own paths (16-wide blocks transposed in registers on
    // AVX-512, a scalar remainder, zero-padded edge panels): each must lay out the very values of the plain path.
    const transpose = (x: Float32Array, rows: number, cols: number) => {
      const t = new Float32Array(rows * cols);
      for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = x[i * cols + j];
      return t;
    };
    let seed = 900;
    for (const [m, n, k] of [[8, 32, 16], [9, 31, 257], [130, 65, 300], [128, 400, 784], [17, 100, 47]] as Array<[number, number, number]>) {
      const a = seededNormal(m * k, seed++);
      const b = seededNormal(k * n, seed++);
      const plain = new Float32Array(m * n);
      addon().gemm(a, b, plain, 1, m, n, k, false, false, 0, 0, 1);
      for (const [transA, transB] of [[true, false], [false, true], [true, true]]) {
        const c = new Float32Array(m * n).fill(Number.NaN);
        addon().gemm(transA ? transpose(a, m, k) : a, transB ? transpose(b, k, n) : b, c, 1, m, n, k, transA, transB, 0, 0, 1);
        expect(bitwiseDifferences(c, plain), `${m}×${n}×${k} tA ${transA} tB ${transB}`).toEqual([]);
      }
    }
  });

  test("gemm: a split between threads, by columns or by rows, gives one thread's bits", () => {
    // Products of ≥ 2e7 flops run on the threads: split by columns (128×400×784, wide) or, for a tall C with k ≥ 64, by
    // rows (an im2col product 448×64×576, a filter gradient 576×64×448 with Aᵀ, an input gradient 896×288×64 with Bᵀ,
    // 30976×128×64 with Aᵀ); 2000×17×600 by rows (one tile of columns); 333×100×320 (2.1e7 flops) by columns, odd sizes. Each element of C is then the same sum in the
    // same order as on one thread, so the notebooks' numbers do not depend on the split.
    const sizes: Array<[number, number, number, boolean, boolean]> = [
      [128, 400, 784, false, false], [128, 400, 784, false, true], [448, 64, 576, false, false], [576, 64, 448, true, false],
      [896, 288, 64, false, true], [30976, 128, 64, true, false], [2000, 17, 600, false, false], [333, 100, 320, false, false],
    ];
    let seed = 500;
    for (const [m, n, k, transA, transB] of sizes) {
      const a = seededNormal(m * k, seed++);
      const b = seededNormal(k * n, seed++);
      const [one, ...more] = [1, 2, 3].map((threads) => {
        const c = new Float32Array(m * n).fill(Number.NaN);
        addon().gemm(a, b, c, 1, m, n, k, transA, transB, 0, 0, threads);
        return c;
      });
      more.forEach((c, i) => expect(bitwiseDifferences(c, one), `${m}×${n}×${k} tA ${transA} tB ${transB}, ${i + 2} threads`).toEqual([]));
    }
  });

  test("fmaThroughput: the cores' arithmetic limit, a positive rate on one and two threads; bad arguments refused", () => {
    // (Not compared with each other: the test files beside this one may keep the second core busy.)
    for (const threads of [1, 2]) expect(addon().fmaThroughput(threads, 0.2)).toBeGreaterThan(1);
    expect(() => addon().fmaThroughput(0, 0.2)).toThrow(/fmaThroughput: expected \(threads ≥ 1, seconds in \(0, 60\]\)/);
    expect(() => addon().fmaThroughput(1, 0)).toThrow(/fmaThroughput: expected/);
  });

  test("batch norm: with one, two or four vectors of channels, the register paths give the generic loops' bits (each map beside two copies of itself)", () => {
    // 3·C channels (3, 6 or 12 vectors) take the generic loops; each channel's statistics and values depend on that channel alone,
    // so every copy must match the C-channel map bit for bit, forward (y, μ, σ², ± ReLU) and backward (dx, dγ, dβ). One thread: one worker both ways.
    const V = addon().vectorFloats();
    const rows = 700;
    for (const vectors of [1, 2, 4]) {
      const C = vectors * V;
      const x = seededNormal(rows * C, 600 + vectors).map((v) => 3 * v + 0.5);
      const dy = seededNormal(rows * C, 610 + vectors);
      const gamma = seededNormal(C, 620 + vectors);
      const beta = seededNormal(C, 630 + vectors);
      const wideRows = (a: Float32Array) => {
        const out = new Float32Array(a.length * 3);
        for (let r = 0; r < rows; r++) for (let k = 0; k < 3; k++) out.set(a.subarray(r * C, (r + 1) * C), (3 * r + k) * C);
        return out;
      };
      const copy = (wide: Float32Array, k: number, width: number) => {
        const out = new Float32Array(wide.length / 3);
        for (let r = 0; r < wide.length / (3 * width); r++) out.set(wide.subarray((3 * r + k) * width, (3 * r + k + 1) * width), r * width);
        return out;
      };
      const triple = (a: Float32Array) => new Float32Array([...a, ...a, ...a]);
      for (const relu of [false, true]) {
        const run = (xs: Float32Array, dys: Float32Array, g: Float32Array, b: Float32Array, channels: number) => {
          const [y, mean, variance] = [new Float32Array(xs.length), new Float32Array(channels), new Float32Array(channels)];
          addon().batchNormForward(xs, g, b, y, mean, variance, channels, 1e-5, relu, 1);
          const [dx, dgamma, dbeta] = [new Float32Array(xs.length), new Float32Array(channels), new Float32Array(channels)];
          addon().batchNormBackward(dys, xs, g, b, mean, variance, dx, dgamma, dbeta, channels, 1e-5, relu, 1);
          return { y, dx, stats: [mean, variance, dgamma, dbeta] };
        };
        const narrow = run(x, dy, gamma, beta, C);
        const wide = run(wideRows(x), wideRows(dy), triple(gamma), triple(beta), 3 * C);
        for (let k = 0; k < 3; k++) {
          const what = `${C} channels, relu ${relu}, copy ${k}`;
          expect(bitwiseDifferences(copy(wide.y, k, C), narrow.y), `y, ${what}`).toEqual([]);
          expect(bitwiseDifferences(copy(wide.dx, k, C), narrow.dx), `dx, ${what}`).toEqual([]);
          narrow.stats.forEach((stat, i) => expect(bitwiseDifferences(wide.stats[i].subarray(k * C, (k + 1) * C), stat), `${["μ", "σ²", "dγ", "dβ"][i]}, ${what}`).toEqual([]));
        }
      }
    }
  });

  test("adam and momentum: two threads give one thread's bits, on sizes around where the threads start (32k / 64k weights) and odd tails", () => {
    for (const n of [1_000, 32_767, 32_771, 65_535, 70_001, 318_003]) {
      const g = seededNormal(n, 40);
      const start = [seededNormal(n, 41), seededNormal(n, 42).map(Math.abs), seededNormal(n, 43).map(Math.abs)];
      const [one, two] = [1, 2].map((threads) => {
        const [w, m, v] = start.map((a) => a.slice());
        for (let step = 0; step < 3; step++) addon().adam(w, m, v, g, 1e-3, 0.9, 0.999, 1e-7, 0.271, 0.003, threads);
        const [mw, acc] = [start[0].slice(), start[1].slice()];
        for (let step = 0; step < 3; step++) addon().momentum(mw, acc, g, 0.1, 0.9, step === 1, null, threads);
        return [w, m, v, mw, acc];
      });
      one.forEach((values, i) => expect(bitwiseDifferences(two[i], values), `n ${n}, ${["adam w", "adam m", "adam v", "momentum w", "momentum accumulation"][i]}`).toEqual([]));
      // and the update itself: the first Adam step moves each weight by lr·m̂/(√v̂ + ε) from the formula in float64
      const [w, m, v] = start.map((a) => a.slice());
      addon().adam(w, m, v, g, 1e-3, 0.9, 0.999, 1e-7, 0.271, 0.003, 2);
      for (const i of [0, n >> 1, n - 1]) {
        const mi = 0.9 * start[1][i] + 0.1 * g[i];
        const vi = 0.999 * start[2][i] + 0.001 * g[i] * g[i];
        expect(w[i]).toBeCloseTo(start[0][i] - (1e-3 * (mi / 0.271)) / (Math.sqrt(vi / 0.003) + 1e-7), 5);
      }
    }
  });

  test("momentum with weight decay: g + factor·w rounded twice (as Multiply, then Add), then the plain update; one thread's bits on two", () => {
    const factor = Math.fround(3.7e-3);
    for (const n of [7, 2_048, 2_049, 70_001]) {
      const g = seededNormal(n, 44);
      const start = [seededNormal(n, 45), seededNormal(n, 46)];
      const decayedG = g.map((gi, i) => Math.fround(gi + Math.fround(start[0][i] * factor)));
      const run = (decay: number | null, grads: Float32Array, threads: number) => {
        const [w, acc] = start.map((a) => a.slice());
        addon().momentum(w, acc, grads, 0.1, 0.9, false, decay, threads);
        return [w, acc];
      };
      const expected = run(null, decayedG, 1);
      for (const threads of [1, 2]) {
        run(factor, g, threads).forEach((values, i) => expect(bitwiseDifferences(values, expected[i]), `n ${n}, ${threads} threads, ${["w", "accumulation"][i]}`).toEqual([]));
      }
    }
    const f = new Float32Array(4);
    expect(() => (addon().momentum as unknown as (...args: unknown[]) => void)(f, f, f, 0.1, 0.9, false, "0.1", 1)).toThrow("momentum: expected (w, accumulation, g: Float32Array, lr, momentum: number, nesterov: boolean, decayFactor: number | null, threads)");
  });

  test("gemm: a batch, with either operand broadcast (stride 0)", () => {
    const [batch, m, n, k] = [3, 10, 40, 12];
    for (const [strideA, strideB] of [[m * k, k * n], [0, k * n], [m * k, 0]]) {
      for (const threads of [1, 2]) {
        const a = seededNormal(strideA === 0 ? m * k : batch * m * k, 5);
        const b = seededNormal(strideB === 0 ? k * n : batch * k * n, 6);
        const c = new Float32Array(batch * m * n);
        addon().gemm(a, b, c, batch, m, n, k, true, false, strideA, strideB, threads);
        expect(relativeError(c, reference(a, b, batch, m, n, k, true, false, strideA, strideB))).toBeLessThan(1e-5);
      }
    }
  });

  /** A convolution's sizes for the addon (symmetric padding) and seeded x, w, y. */
  function convCase(s: ConvCase, seed: number) {
    const outH = Math.floor((s.inH + 2 * s.padTop - s.dH * (s.fH - 1) - 1) / s.sH) + 1;
    const outW = Math.floor((s.inW + 2 * s.padLeft - s.dW * (s.fW - 1) - 1) / s.sW) + 1;
    const shape: ConvGeometry = { batch: s.batch, inH: s.inH, inW: s.inW, inC: s.inC, outH, outW, outC: s.outC, fH: s.fH, fW: s.fW, strideH: s.sH, strideW: s.sW, dilH: s.dH, dilW: s.dW, padTop: s.padTop, padLeft: s.padLeft };
    const x = seededNormal(s.batch * s.inH * s.inW * s.inC, seed + 1);
    const w = seededNormal(s.fH * s.fW * s.inC * s.outC, seed + 2);
    const y = seededNormal(s.batch * outH * outW * s.outC, seed + 3);
    /** The three modes by `algorithm`: forward, dX(y), dW(x, y). */
    const modes = (algorithm: ConvAlgorithm) => {
      // Outputs start as NaN, as the wasm heap's uninitialised memory may hold anything: every mode must write every value.
      const forward = new Float32Array(y.length).fill(NaN);
      const dx = new Float32Array(x.length).fill(NaN);
      const dw = new Float32Array(w.length).fill(NaN);
      addon().conv2d(ConvMode.Forward, algorithm, x, w, forward, shape, 2);
      addon().conv2d(ConvMode.InputGradient, algorithm, dx, w, y, shape, 2);
      addon().conv2d(ConvMode.FilterGradient, algorithm, x, dw, y, shape, 2);
      return { forward, dx, dw };
    };
    return { x, w, y, modes, geometry: shape };
  }
  interface ConvCase { batch: number; inH: number; inW: number; inC: number; outC: number; fH: number; fW: number; sH: number; sW: number; dH: number; dW: number; padTop: number; padLeft: number }
  const one = { batch: 2, sH: 1, sW: 1, dH: 1, dW: 1 };
  /** Stride 1, undilated, padding inside the filter: shapes the direct kernels take (the conv AE's among them). */
  const directShapes: ConvCase[] = [
    { ...one, inH: 28, inW: 28, inC: 1, outC: 16, fH: 3, fW: 3, padTop: 1, padLeft: 1 },
    { ...one, inH: 14, inW: 14, inC: 16, outC: 8, fH: 3, fW: 3, padTop: 1, padLeft: 1 },
    { ...one, inH: 28, inW: 28, inC: 8, outC: 1, fH: 3, fW: 3, padTop: 1, padLeft: 1 },
    { ...one, batch: 3, inH: 7, inW: 7, inC: 8, outC: 3, fH: 3, fW: 3, padTop: 0, padLeft: 0 },
    { ...one, inH: 9, inW: 11, inC: 3, outC: 5, fH: 5, fW: 5, padTop: 2, padLeft: 1 },
    { ...one, inH: 6, inW: 40, inC: 2, outC: 6, fH: 2, fW: 7, padTop: 1, padLeft: 6 },
    // 16 output channels (one vector): im2col's product takes the narrow (unpacked) path; 49 rows leave a tail after the 8-row tiles.
    { ...one, batch: 1, inH: 7, inW: 7, inC: 4, outC: 16, fH: 3, fW: 3, padTop: 1, padLeft: 1 },
    // 1×1 at stride 1: one product on x itself (16 → 16 narrow both ways, 16 → 1 the transposed and outer-product paths).
    { ...one, inH: 12, inW: 12, inC: 16, outC: 16, fH: 1, fW: 1, padTop: 0, padLeft: 0 },
    { ...one, inH: 12, inW: 12, inC: 16, outC: 1, fH: 1, fW: 1, padTop: 0, padLeft: 0 },
    // 16 → 16 and 32 → 16, 3×3: every mode by conv_narrow.cc's kernels against the direct ones.
    { ...one, inH: 10, inW: 13, inC: 16, outC: 16, fH: 3, fW: 3, padTop: 1, padLeft: 1 },
    { ...one, inH: 9, inW: 9, inC: 32, outC: 16, fH: 3, fW: 3, padTop: 2, padLeft: 0 },
  ];

  /** Rows of at most 4 vector registers (src/kernels.h kMaxRowVectors): every shape above with AVX-512, fewer with narrower vectors. */
  const fitsDirect = (s: ConvCase) => Math.ceil(Math.max(s.inW, s.inW + 2 * s.padLeft - s.fW + 1) / addon().vectorFloats()) <= 4;

  test("conv2d: the input and filter gradients are the adjoints of the forward map (both algorithms)", () => {
    // <conv(x, w), y> = <x, dX(y, w)> = <w, dW(x, y)> for every x, w, y: each mode checks the others.
    const im2colShapes: ConvCase[] = [
      { batch: 2, inH: 7, inW: 6, inC: 3, outC: 4, fH: 3, fW: 2, sH: 2, sW: 1, dH: 1, dW: 1, padTop: 1, padLeft: 0 },
      { batch: 3, inH: 9, inW: 9, inC: 1, outC: 5, fH: 3, fW: 3, sH: 1, sW: 1, dH: 2, dW: 2, padTop: 2, padLeft: 2 },
      { batch: 1, inH: 5, inW: 5, inC: 8, outC: 2, fH: 1, fW: 1, sH: 1, sW: 1, dH: 1, dW: 1, padTop: 0, padLeft: 0 },
      // Wide enough for register tiles in the product (the ones above are mostly padding in them).
      { batch: 3, inH: 9, inW: 8, inC: 16, outC: 20, fH: 3, fW: 3, sH: 2, sW: 1, dH: 1, dW: 1, padTop: 1, padLeft: 1 },
      // CSAE-C's 3×3 stride-2 convolution from 16 channels, 9 images: im2col's images go in chunks of 7 (cols ≈ 1 MB), one per thread,
      // each thread zeroing its chunk's images of dX before adding into them.
      { batch: 9, inH: 32, inW: 32, inC: 16, outC: 32, fH: 3, fW: 3, sH: 2, sW: 2, dH: 1, dW: 1, padTop: 1, padLeft: 1 },
    ];
    const { Im2col, Direct } = ConvAlgorithm;
    // One and two vectors of output channels (16, 32 with AVX-512): the filter gradient without im2col, at strides, dilations, paddings.
    const narrowShapes: ConvCase[] = [
      { batch: 3, inH: 9, inW: 8, inC: 5, outC: 16, fH: 3, fW: 3, sH: 2, sW: 1, dH: 1, dW: 2, padTop: 1, padLeft: 2 },
      { batch: 2, inH: 8, inW: 7, inC: 13, outC: 32, fH: 2, fW: 3, sH: 2, sW: 2, dH: 1, dW: 1, padTop: 0, padLeft: 1 },
      { batch: 2, inH: 6, inW: 6, inC: 20, outC: 32, fH: 3, fW: 3, sH: 1, sW: 1, dH: 1, dW: 1, padTop: 1, padLeft: 1 },
      // ... and the input gradient at stride 1 with 16 or 32 input channels (9 columns: a full tile and a tail).
      { batch: 2, inH: 7, inW: 9, inC: 16, outC: 32, fH: 3, fW: 3, sH: 1, sW: 1, dH: 1, dW: 1, padTop: 1, padLeft: 1 },
      { batch: 2, inH: 6, inW: 5, inC: 32, outC: 16, fH: 2, fW: 2, sH: 1, sW: 1, dH: 1, dW: 1, padTop: 0, padLeft: 0 },
      // ... and with the stride equal to the filter size (a transposed convolution's forward pass): covered exactly, and with a margin left at zero.
      { batch: 2, inH: 8, inW: 6, inC: 16, outC: 24, fH: 2, fW: 2, sH: 2, sW: 2, dH: 1, dW: 1, padTop: 0, padLeft: 0 },
      { batch: 3, inH: 9, inW: 11, inC: 32, outC: 16, fH: 2, fW: 3, sH: 2, sW: 3, dH: 1, dW: 1, padTop: 0, padLeft: 0 },
      // Four vectors (64 with AVX-512) with ≥ 64 positions: forward, filter and input gradients by conv_narrow.cc.
      { batch: 2, inH: 8, inW: 9, inC: 64, outC: 64, fH: 3, fW: 3, sH: 1, sW: 1, dH: 1, dW: 1, padTop: 1, padLeft: 1 },
      { batch: 2, inH: 17, inW: 16, inC: 7, outC: 64, fH: 3, fW: 3, sH: 2, sW: 2, dH: 1, dW: 1, padTop: 1, padLeft: 1 },
      // (Last, so that the cases above keep their seeds.) The strided input gradient with four vectors of input channels: rows of 7 outputs, a 6-row tile and a 1-row tail.
      { batch: 1, inH: 6, inW: 14, inC: 64, outC: 32, fH: 2, fW: 2, sH: 2, sW: 2, dH: 1, dW: 1, padTop: 0, padLeft: 0 },
    ];
    const cases = [...im2colShapes.map((s) => ({ s, algorithm: Im2col })), ...directShapes.flatMap((s) => [{ s, algorithm: Im2col }, ...(fitsDirect(s) ? [{ s, algorithm: Direct }] : [])]),
      ...narrowShapes.map((s) => ({ s, algorithm: Im2col }))];
    for (const [i, { s, algorithm }] of cases.entries()) {
      const { x, w, y, modes } = convCase(s, 10 * i);
      const { forward, dx, dw } = modes(algorithm);
      const dot = (p: Float32Array, q: Float32Array) => p.reduce((sum, v, j) => sum + v * q[j], 0);
      const lhs = dot(forward, y);
      expect(Math.abs(dot(x, dx) - lhs) / (1 + Math.abs(lhs)), `case ${i} (algorithm ${algorithm}): input gradient`).toBeLessThan(1e-5);
      expect(Math.abs(dot(w, dw) - lhs) / (1 + Math.abs(lhs)), `case ${i} (algorithm ${algorithm}): filter gradient`).toBeLessThan(1e-5);
    }
  });

  test("conv2d, 32 or 64 output channels with a filter larger than L1: the forward pass in bands and tap passes, bit for bit", () => {
    // With AVX-512, conv_narrow.cc splits such filters (9 × 64 × 64 and 9 × 32 × 64 floats: 144 and 72 KB) into passes over
    // the taps, the sums of a band of rows kept between passes: 1-tap passes in bands of 4, 4, 3 rows; 2-tap passes in bands
    // of 3, 3, 1; 32 output channels at a stride; a dilated filter. Each output must be the float32 multiply-add chain over
    // its taps (ky, kx) and then channels, in order, from 0, as in one pass: computed here with an exact fused multiply-add.
    // (Narrower vectors take im2col for these: there, within float32 rounding of the float64 sum.)
    /** fround(a·b + c) rounded once, as the vector FMA: a·b is exact in float64; TwoSum gives the rounding error of the sum. */
    const fma32 = (a: number, b: number, c: number) => {
      const p = a * b, s = p + c, bv = s - p, e = (p - (s - bv)) + (c - bv);
      const r = Math.fround(s), other = 2 * s - r;
      // A float64 sum exactly between two float32s rounds by the sign of its error (ties to even only when exact).
      if (e !== 0 && other !== r && Math.fround(other) === other) return e > 0 ? Math.max(r, other) : Math.min(r, other);
      return r;
    };
    const exact = addon().vectorFloats() === 16;
    const shapes: ConvCase[] = [
      { batch: 2, inH: 11, inW: 8, inC: 64, outC: 64, fH: 3, fW: 3, sH: 1, sW: 1, dH: 1, dW: 1, padTop: 1, padLeft: 1 },
      { batch: 3, inH: 7, inW: 13, inC: 32, outC: 64, fH: 3, fW: 3, sH: 1, sW: 1, dH: 1, dW: 1, padTop: 1, padLeft: 1 },
      { batch: 2, inH: 13, inW: 11, inC: 48, outC: 32, fH: 3, fW: 3, sH: 2, sW: 1, dH: 1, dW: 1, padTop: 1, padLeft: 0 },
      { batch: 2, inH: 12, inW: 12, inC: 64, outC: 64, fH: 3, fW: 3, sH: 1, sW: 1, dH: 2, dW: 2, padTop: 2, padLeft: 2 },
    ];
    for (const [i, s] of shapes.entries()) {
      const { x, w, geometry: g } = convCase(s, 700 + 10 * i);
      const expected = new Float64Array(g.batch * g.outH * g.outW * g.outC);
      const sums = new Float64Array(g.outC);
      for (let b = 0; b < g.batch; b++)
        for (let oy = 0; oy < g.outH; oy++)
          for (let ox = 0; ox < g.outW; ox++) {
            sums.fill(0);
            for (let ky = 0; ky < g.fH; ky++)
              for (let kx = 0; kx < g.fW; kx++) {
                const iy = oy * g.strideH + ky * g.dilH - g.padTop, ix = ox * g.strideW + kx * g.dilW - g.padLeft;
                if (iy < 0 || iy >= g.inH || ix < 0 || ix >= g.inW) continue;  // a zero tap leaves a float32 sum as it is
                for (let c = 0; c < g.inC; c++) {
                  const xv = x[((b * g.inH + iy) * g.inW + ix) * g.inC + c];
                  for (let o = 0; o < g.outC; o++) {
                    const wv = w[((ky * g.fW + kx) * g.inC + c) * g.outC + o];
                    sums[o] = exact ? fma32(xv, wv, sums[o]) : sums[o] + xv * wv;
                  }
                }
              }
            expected.set(sums, ((b * g.outH + oy) * g.outW + ox) * g.outC);
          }
      for (const threads of [1, 2]) {
        const y = new Float32Array(expected.length).fill(NaN);
        addon().conv2d(ConvMode.Forward, ConvAlgorithm.Im2col, x, w, y, g, threads);
        if (exact) expect(bitwiseDifferences(y, Float32Array.from(expected)), `case ${i}, ${threads} thread(s)`).toEqual([]);
        else expect(relativeError(y, expected), `case ${i}, ${threads} thread(s)`).toBeLessThan(1e-6 + 1e-7 * g.fH * g.fW * g.inC);
      }
    }
  });

  test("conv2d by im2col: forward and input gradient do not depend on how the images are grouped into chunks or threads", () => {
    // Chunks are balanced over the threads (sizes within one image); each image's outputs must be the bits of that image alone.
    const shapes: ConvCase[] = [
      { batch: 9, inH: 32, inW: 32, inC: 16, outC: 32, fH: 3, fW: 3, sH: 2, sW: 2, dH: 1, dW: 1, padTop: 1, padLeft: 1 },
      { batch: 33, inH: 4, inW: 4, inC: 64, outC: 64, fH: 3, fW: 3, sH: 1, sW: 1, dH: 1, dW: 1, padTop: 1, padLeft: 1 },
      { batch: 5, inH: 32, inW: 32, inC: 16, outC: 32, fH: 1, fW: 1, sH: 2, sW: 2, dH: 1, dW: 1, padTop: 0, padLeft: 0 },
    ];
    for (const [i, s] of shapes.entries()) {
      const { x, w, y, geometry: whole } = convCase(s, 300 + 10 * i);
      const run = (mode: ConvMode, batch: number, xs: Float32Array, ys: Float32Array, threads: number) => {
        const out = new Float32Array(mode === ConvMode.Forward ? ys.length : xs.length).fill(NaN);
        const geometry = { ...whole, batch };
        if (mode === ConvMode.Forward) addon().conv2d(mode, ConvAlgorithm.Im2col, xs, w, out, geometry, threads);
        else addon().conv2d(mode, ConvAlgorithm.Im2col, out, w, ys, geometry, threads);
        return out;
      };
      const xImage = x.length / s.batch, yImage = y.length / s.batch;
      for (const mode of [ConvMode.Forward, ConvMode.InputGradient]) {
        const size = mode === ConvMode.Forward ? yImage : xImage;
        const perImage = new Float32Array(s.batch * size);
        for (let b = 0; b < s.batch; b++) {
          perImage.set(run(mode, 1, x.subarray(b * xImage, (b + 1) * xImage), y.subarray(b * yImage, (b + 1) * yImage), 1), b * size);
        }
        for (const threads of [1, 2, 3]) {
          expect(bitwiseDifferences(run(mode, s.batch, x, y, threads), perImage), `shape ${i}, mode ${mode}, ${threads} threads`).toEqual([]);
        }
      }
    }
  });

  test("conv2d: the direct kernels agree with im2col in every mode", () => {
    expect(directShapes.filter(fitsDirect).length).toBeGreaterThanOrEqual(4);
    for (const [i, s] of directShapes.entries()) {
      if (!fitsDirect(s)) continue;
      const { modes } = convCase(s, 100 + 10 * i);
      const im2col = modes(0);
      const direct = modes(1);
      // dW sums over every position of the batch (≈ 1,600 products of values ~1) in another order: float32 rounding of a sum ~40.
      for (const mode of ["forward", "dx", "dw"] as const) {
        expect(relativeError(direct[mode], Float64Array.from(im2col[mode])), `shape ${i}: ${mode}`).toBeLessThan(mode === "dw" ? 1e-4 : 1e-5);
      }
    }
  });

  test("maxPoolGrad: each window's first maximum gets its dy (ties, padding-clipped windows, overlapping windows, NaN)", () => {
    // [batch, h, w, c, fH, fW, strideH, strideW, padTop, padLeft]: 2×2/2 (the conv AE), 3×3/2 overlapping with padding, 3×2/1.
    const cases = [[3, 28, 28, 16, 2, 2, 2, 2, 0, 0], [2, 7, 7, 8, 2, 2, 2, 2, 0, 0], [2, 9, 8, 3, 3, 3, 2, 2, 1, 1], [1, 6, 5, 2, 3, 2, 1, 1, 0, 1]];
    for (const [i, [batch, h, w, c, fH, fW, sH, sW, padTop, padLeft]] of cases.entries()) {
      const outH = Math.ceil(h / sH);
      const outW = Math.ceil(w / sW);
      // Rounded values make ties; a NaN window value never wins.
      const x = seededNormal(batch * h * w * c, 200 + i).map((v) => Math.max(0, Math.round(2 * v) / 2));
      x[5] = Number.NaN;
      const dy = seededNormal(batch * outH * outW * c, 300 + i);
      const expected = new Float64Array(x.length);
      for (let b = 0; b < batch; b++) {
        for (let oy = 0; oy < outH; oy++) {
          for (let ox = 0; ox < outW; ox++) {
            for (let ch = 0; ch < c; ch++) {
              let best = Number.NEGATIVE_INFINITY;
              let where = -1;
              for (let yy = oy * sH - padTop; yy < oy * sH - padTop + fH; yy++) {
                for (let xx = ox * sW - padLeft; xx < ox * sW - padLeft + fW; xx++) {
                  if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
                  const at = ((b * h + yy) * w + xx) * c + ch;
                  if (x[at] > best) { best = x[at]; where = at; }
                }
              }
              if (where >= 0) expected[where] += dy[((b * outH + oy) * outW + ox) * c + ch];
            }
          }
        }
      }
      const dx = new Float32Array(x.length).fill(7);  // overwritten, not accumulated into
      addon().maxPoolGrad(dy, x, dx, { batch, inH: h, inW: w, channels: c, outH, outW, fH, fW, strideH: sH, strideW: sW, padTop, padLeft }, 2);
      expect(relativeError(dx, expected), `case ${i}`).toBeLessThan(1e-6);
    }
  });

  test("unary: LeakyRelu, Step and Relu with NaN, ±0 and both signs, in place too, every length around a vector", () => {
    const alpha = 0.3;
    const reference = [
      (v: number) => (v < 0 ? Math.fround(Math.fround(alpha) * v) : v),
      (v: number) => (v > 0 ? 1 : Number.isNaN(v) ? v : alpha),
      (v: number) => (v < 0 ? 0 : v),
    ];
    for (const n of [1, 15, 16, 17, 70_001]) {
      const x = seededNormal(n, n).map((v, i) => (i % 7 === 3 ? Number.NaN : i % 5 === 1 ? 0 : v));
      for (const [op, f] of reference.entries()) {
        const y = new Float32Array(n);
        addon().unary(op, x, y, alpha, 2);
        expect(Array.from(y), `op ${op}, n ${n}`).toEqual(Array.from(x, (v) => Math.fround(f(v))));
        const inPlace = Float32Array.from(x);
        addon().unary(op, inPlace, inPlace, alpha, 2);
        expect(Array.from(inPlace), `op ${op} in place, n ${n}`).toEqual(Array.from(y));
      }
    }
  });

  test("compare: Greater and LessEqual as JavaScript's > and <= (NaN either side false, −0 = +0, ±∞, ties), against a scalar too, split between 2 threads", () => {
    const specials = [Number.NaN, -0, 0, 1, -1, Infinity, -Infinity, 2.5];
    const a = new Float32Array([...specials.flatMap((x) => specials.map(() => x)), ...seededNormal(70_000, 31).map((v) => Math.round(4 * v) / 4)]);
    const b = new Float32Array([...specials.flatMap(() => specials), ...seededNormal(70_000, 32).map((v) => Math.round(4 * v) / 4)]);
    for (const [op, f] of [[ComparisonOp.Greater, (x: number, y: number) => x > y], [ComparisonOp.LessEqual, (x: number, y: number) => x <= y]] as const) {
      const out = new Uint8Array(a.length);
      addon().compare(op, a, b, out, 2);
      expect(bitwiseDifferences(out, Array.from(a, (x, i) => Number(f(x, b[i])))), `op ${op}`).toEqual([]);
      for (const scalar of [0.25, Number.NaN]) {
        addon().compare(op, a, new Float32Array([scalar]), out, 2);
        expect(bitwiseDifferences(out, Array.from(a, (x) => Number(f(x, scalar)))), `op ${op} against ${scalar}`).toEqual([]);
      }
    }
    const compare = addon().compare as unknown as (...args: unknown[]) => void;
    const f = new Float32Array(4);
    expect(() => compare(ComparisonOp.Greater, f, f, new Uint8Array(4))).toThrow("compare: expected (op, a: Float32Array, b: Float32Array, out: Uint8Array, threads)");
    expect(() => compare(2, f, f, new Uint8Array(4), 1)).toThrow("compare: op: expected a ComparisonOp (ComparisonOp.Greater = 0, ComparisonOp.LessEqual = 1)");
    expect(() => compare(ComparisonOp.LessEqual, f, new Float32Array(2), new Uint8Array(4), 1)).toThrow("compare: out must match a, and b must match a or have one element");
  });

  test("toFloat32: bool bytes and int32 values (past 2^24 too: rounded to nearest even, as a Float32Array stores them), split between 2 threads", () => {
    for (const n of [5, 70_001]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 7) % 3 === 0 ? 1 : 0);
      const ints = Int32Array.from({ length: n }, (_, i) => (i % 2 ? -1 : 1) * ((i * 2654435761) % 2147483647));
      for (const x of [bytes, ints]) {
        const out = new Float32Array(n);
        addon().toFloat32(x, out, 2);
        expect(bitwiseDifferences(out, Float32Array.from(x)), `${x.constructor.name} × ${n}`).toEqual([]);
      }
    }
    const toFloat32 = addon().toFloat32 as unknown as (...args: unknown[]) => void;
    expect(() => toFloat32(new Float32Array(2), new Float32Array(2), 1)).toThrow("toFloat32: expected (x: Uint8Array or Int32Array, out: Float32Array, threads)");
    expect(() => toFloat32(new Uint8Array(2), new Float32Array(3), 1)).toThrow("toFloat32: x and out must have the same length");
  });

  test("transpose: ranks 2–5 and every kind of permutation, float32 bits (NaN payloads, −0) and int32 copied, split between 2 threads", () => {
    const reference = (x: ArrayLike<number>, shape: number[], perm: number[]) => {
      const outShape = perm.map((p) => shape[p]);
      const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
      const out: number[] = [];
      const index = outShape.map(() => 0);
      for (let n = 0; n < x.length; n++) {
        out.push(x[index.reduce((offset, v, i) => offset + v * strides[perm[i]], 0)]);
        for (let i = outShape.length - 1; i >= 0 && ++index[i] === outShape[i]; i--) index[i] = 0;
      }
      return out;
    };
    const cases: Array<[number[], number[]]> = [[[300, 7], [1, 0]], [[5, 6, 7], [2, 0, 1]], [[4, 3, 5, 6], [0, 2, 1, 3]], [[70, 14, 16, 2, 2], [0, 3, 1, 4, 2]], [[3, 4, 5, 2, 3], [4, 3, 2, 1, 0]], [[2, 3, 4], [0, 1, 2]]];
    for (const [shape, perm] of cases) {
      const n = shape.reduce((a, b) => a * b, 1);
      const bits = Uint32Array.from({ length: n }, (_, i) => (i * 2654435761) >>> 0); // every bit pattern: NaNs with payloads, −0, subnormals
      const y = new Float32Array(n);
      addon().transpose(new Float32Array(bits.buffer), y, Int32Array.from(shape), Int32Array.from(perm), 2);
      expect(bitwiseDifferences(new Uint32Array(y.buffer), reference(bits, shape, perm)), `float32 ${shape} ${perm}`).toEqual([]);
      const ints = Int32Array.from({ length: n }, (_, i) => i - 7);
      const yi = new Int32Array(n);
      addon().transpose(ints, yi, Int32Array.from(shape), Int32Array.from(perm), 2);
      expect(bitwiseDifferences(yi, reference(ints, shape, perm)), `int32 ${shape} ${perm}`).toEqual([]);
    }
    const transpose = addon().transpose as unknown as (...args: unknown[]) => void;
    const f = new Float32Array(6);
    const shape = Int32Array.from([2, 3]);
    expect(() => transpose(f, new Int32Array(6), shape, Int32Array.from([1, 0]), 1)).toThrow("transpose: expected (x, y: both Float32Arrays or both Int32Arrays, shape: Int32Array, perm: Int32Array, threads)");
    expect(() => transpose(f, f, Int32Array.from([6]), Int32Array.from([0]), 1)).toThrow("transpose: shape and perm must have the same rank, 2 to 8");
    expect(() => transpose(f, f, shape, Int32Array.from([1, 1]), 1)).toThrow("transpose: perm must be a permutation of 0 … rank − 1");
    expect(() => transpose(f, f, Int32Array.from([2, 0]), Int32Array.from([1, 0]), 1)).toThrow("transpose: every size must be ≥ 1");
    expect(() => transpose(f, f, Int32Array.from([2, 4]), Int32Array.from([1, 0]), 1)).toThrow("transpose: x and y must hold the shape's values");
  });

  test("argMax over the middle of [outer, k, inner]: the first maximum, a NaN first kept, later NaNs skipped; inner 1 to past 64 lanes, 2 threads", () => {
    const reference = (x: Float32Array, outer: number, k: number, inner: number) => {
      const out: number[] = [];
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          let best = x[o * k * inner + i], where = 0;
          for (let j = 1; j < k; j++) if (x[(o * k + j) * inner + i] > best) [best, where] = [x[(o * k + j) * inner + i], j];
          out.push(where);
        }
      }
      return out;
    };
    for (const [outer, k, inner] of [[3000, 4, 16], [7, 9, 1], [50, 3, 70], [2, 1, 5], [40_000, 2, 2]]) {
      // Quarters (ties in about a tenth of the comparisons), a NaN at every 13th value.
      const x = Float32Array.from(seededNormal(outer * k * inner, outer + k), (v, i) => (i % 13 === 5 ? Number.NaN : Math.round(4 * v) / 4));
      const out = new Int32Array(outer * inner);
      addon().argMax(x, out, outer, k, inner, 2);
      expect(bitwiseDifferences(out, reference(x, outer, k, inner)), `[${outer}, ${k}, ${inner}]`).toEqual([]);
    }
    const argMax = addon().argMax as unknown as (...args: unknown[]) => void;
    const f = new Float32Array(8);
    expect(() => argMax(f, new Int32Array(4), 2, 2, 2)).toThrow("argMax: expected (x: Float32Array, out: Int32Array, outer, k, inner, threads)");
    expect(() => argMax(f, new Float32Array(4), 2, 2, 2, 1)).toThrow("argMax: expected (x: Float32Array, out: Int32Array, outer, k, inner, threads)");
    expect(() => argMax(f, new Int32Array(4), 2, 0, 2, 1)).toThrow("argMax: outer, k and inner must be ≥ 1");
    expect(() => argMax(f, new Int32Array(4), 2, 4, 2, 1)).toThrow("argMax: x must hold outer × k × inner values and out outer × inner");
  });

  test("unary: Tanh, Sigmoid and Softplus against float64 Math (sweep over ±100, both sides of every branch, ±0, ±∞, NaN), in place too", () => {
    const cutOff = Math.log(1.1920928955078125e-7) + 2; // tfjs's softplus: x beyond ±13.94 is x, or e^x
    const reference: Array<[UnaryOp, (v: number) => number]> = [
      [UnaryOp.Tanh, Math.tanh],
      [UnaryOp.Sigmoid, (v) => 1 / (1 + Math.exp(-v))],
      [UnaryOp.Softplus, (v) => (v > -cutOff ? v : v < cutOff ? Math.exp(v) : Math.log1p(Math.exp(v)))],
    ];
    const sweep = Array.from({ length: 300_001 }, (_, i) => -100 + i / 1500); // ≥ 2^18 values: split between 2 threads
    const near = (c: number) => [c, Math.fround(c * (1 - 2 ** -23)), Math.fround(c * (1 + 2 ** -23))];
    const special = [0, -0, 1e-30, -1e-30, 1e-8, ...near(0.25), ...near(-0.25), ...near(1.4142135), ...near(13.94), ...near(-13.94), 87.3, -87.3, 88, -88, 95, -95, Infinity, -Infinity, NaN];
    for (const n of [1, 15, 16, 17]) special.push(...seededNormal(n, 100 + n)); // lengths around a vector (tails)
    const x = Float32Array.from([...special, ...sweep]);
    for (const [op, f] of reference) {
      const y = new Float32Array(x.length);
      addon().unary(op, x, y, 0, 2);
      let worst = 0;
      for (let i = 0; i < x.length; i++) {
        const want = f(x[i]);
        if (Number.isNaN(want)) { expect(y[i], `op ${op}: NaN stays NaN`).toBeNaN(); continue; }
        // Relative error, measured against max(|want|, 1e-30): e^x below the smallest normal float is clamped there.
        const error = y[i] === want ? 0 : Math.abs(y[i] - want) / Math.max(Math.abs(want), 1e-30);
        if (Math.abs(want) > 1.2e-38) worst = Math.max(worst, error);
        else expect(Math.abs(y[i]), `op ${op} at ${x[i]}`).toBeLessThan(1.25e-38); // at most e^−87.3
      }
      expect(worst, `op ${op}: largest relative error`).toBeLessThan(4e-7);
      for (const v of [0, -0, Infinity, -Infinity]) expect(Object.is(y[x.indexOf(v)], Math.fround(f(v))) || Math.abs(y[x.indexOf(v)] - f(v)) < 1.25e-38, `op ${op} at ${v}`).toBe(true);
      const inPlace = Float32Array.from(x);
      addon().unary(op, inPlace, inPlace, 0, 2);
      expect(Array.from(inPlace), `op ${op} in place`).toEqual(Array.from(y));
    }
  });

  test("binaryRows against plain loops: narrow (tiled) and wide rows, the row second or first, split between 2 threads from 64k elements", () => {
    for (const [rows, cols] of [[8192, 16], [410, 10], [200, 784], [3, 784]]) {
      const full = seededNormal(rows * cols, rows);
      const row = seededNormal(cols, cols).map((v) => Math.abs(v) + 0.25);
      for (const [op, f] of [[BinaryOp.Sub, (p: number, q: number) => p - q], [BinaryOp.Div, (p: number, q: number) => p / q]] as const) {
        for (const rowFirst of [false, true]) {
          const out = new Float32Array(rows * cols);
          addon().binaryRows(op, rowFirst ? row : full, rowFirst ? full : row, out, cols, 2);
          const expected = Float32Array.from(full, (v, i) => (rowFirst ? f(row[i % cols], v) : f(v, row[i % cols])));
          expect(bitwiseDifferences(out, expected), `${BinaryOp[op]} ${rows} × ${cols}, row ${rowFirst ? "first" : "second"}`).toEqual([]);
        }
      }
    }
  });

  test("meanRows: each column summed over the rows in order in float32, then divided (wasm's own Mean), on 1 and 2 threads", () => {
    for (const [rows, cols] of [[25_088, 16], [2000, 784], [7, 3], [300, 130]]) {
      const x = seededNormal(rows * cols, cols + 3);
      const expected = new Float32Array(cols);
      for (let c = 0; c < cols; c++) {
        let acc = 0;
        for (let r = 0; r < rows; r++) acc = Math.fround(acc + x[r * cols + c]);
        expected[c] = Math.fround(acc / rows);
      }
      for (const threads of [1, 2]) {
        const out = new Float32Array(cols);
        addon().meanRows(x, rows, cols, out, threads);
        expect(bitwiseDifferences(out, expected), `${rows} × ${cols}, ${threads} thread(s)`).toEqual([]);
      }
    }
    const meanRows = addon().meanRows as unknown as (...args: unknown[]) => void;
    expect(() => meanRows(new Float32Array(4), 2, 2, new Float32Array(2))).toThrow("meanRows: expected (x: Float32Array, rows, cols, out: Float32Array, threads)");
    expect(() => meanRows(new Float32Array(4), 3, 2, new Float32Array(2), 1)).toThrow("meanRows: x must hold rows × cols values and out cols");
  });

  test("addRows and upsample against plain loops (narrow and wide rows, one and two threads; factors 2×2 and 3×1)", () => {
    for (const [rows, cols] of [[1000, 16], [333, 3], [70, 10], [50, 784], [4, 1]]) {
      const x = seededNormal(rows * cols, cols);
      const bias = seededNormal(cols, cols + 1);
      const out = new Float32Array(rows * cols);
      addon().addRows(x, bias, out, rows, cols, 2);
      expect(Array.from(out), `${rows} × ${cols}`).toEqual(Array.from(x, (v, i) => Math.fround(v + bias[i % cols])));
    }
    {
      // 16 channels in 65,573 rows (the bias add of a conv layer with 16 channels in a batch of 128 at 28 × 28): the
      // vector blocks are split between 2 threads (from 2^16 values on); compared element by element.
      const rows = 65_573, cols = 16;
      const x = seededNormal(rows * cols, 17);
      const bias = seededNormal(cols, 18);
      const out = new Float32Array(rows * cols);
      addon().addRows(x, bias, out, rows, cols, 2);
      let wrong = -1;
      for (let i = 0; i < out.length && wrong < 0; i++) if (out[i] !== Math.fround(x[i] + bias[i % cols])) wrong = i;
      expect(wrong, `${rows} × ${cols}: first wrong element`).toBe(-1);
    }
    // The last is split between 2 threads (its rows touch over 64k values).
    for (const [batch, h, w, c, sh, sw] of [[3, 7, 7, 8, 2, 2], [2, 4, 5, 3, 3, 1], [8, 14, 14, 16, 2, 2]]) {
      const small = seededNormal(batch * h * w * c, 5);
      const large = new Float32Array(batch * h * sh * w * sw * c);
      addon().upsample(UpsampleMode.Upscale, small, large, batch, h, w, c, sh, sw, 2);
      const at = (b: number, y: number, x: number, k: number) => small[((b * h + Math.floor(y / sh)) * w + Math.floor(x / sw)) * c + k];
      const expected: number[] = [];
      for (let b = 0; b < batch; b++) for (let y = 0; y < h * sh; y++) for (let x = 0; x < w * sw; x++) for (let k = 0; k < c; k++) expected.push(at(b, y, x, k));
      expect(Array.from(large)).toEqual(expected);
      // The gradient is the adjoint: <up(s), L> = <s, up*(L)>.
      const dLarge = seededNormal(large.length, 6);
      const dSmall = new Float32Array(small.length).fill(9);
      addon().upsample(UpsampleMode.Gradient, dSmall, dLarge, batch, h, w, c, sh, sw, 2);
      const dot = (p: Float32Array, q: Float32Array) => p.reduce((sum, v, j) => sum + v * q[j], 0);
      expect(Math.abs(dot(large, dLarge) - dot(small, dSmall))).toBeLessThan(1e-3);
      // And element by element: each small value is its block's float32 sum, rows of the block first, then columns.
      const largeAt = (b: number, y: number, x: number, k: number) => dLarge[((b * h * sh + y) * w * sw + x) * c + k];
      const blockSums = new Float32Array(dSmall.length);
      for (let b = 0, o = 0; b < batch; b++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++, o++) {
        for (let i = 0; i < sh; i++) for (let j = 0; j < sw; j++) blockSums[o] = Math.fround(blockSums[o] + largeAt(b, y * sh + i, x * sw + j, k));
      }
      expect(bitwiseDifferences(dSmall, blockSums), `gradient [${batch}, ${h}, ${w}, ${c}] × ${sh}×${sw}`).toEqual([]);
    }
  });

  test("bad arguments get errors that say what was expected", () => {
    const f = new Float32Array(4);
    const gemm = addon().gemm as unknown as (...args: unknown[]) => void;
    expect(() => gemm(f, f, f, 1, 2, 2, 2, false, false, 0, 0)).toThrow("gemm: expected 12 arguments (a, b, c, batch, m, n, k, transA, transB, strideA, strideB, threads)");
    expect(() => gemm([1, 2], f, f, 1, 1, 1, 1, false, false, 0, 0, 1)).toThrow("gemm: a, b and c must be Float32Arrays");
    expect(() => gemm(f, f, f, 1, 3, 3, 3, false, false, 0, 0, 1)).toThrow("gemm: an array is shorter than its matrix (or batch of matrices)");
    expect(() => gemm(f, f, f, 1, 2, 2, 2, 0, false, 0, 0, 1)).toThrow("gemm: transA and transB must be booleans");
    const sumOfSquares = addon().sumOfSquares as unknown as (...args: unknown[]) => number;
    expect(() => sumOfSquares([f, [1, 2]], 65536, 1)).toThrow("sumOfSquares: arrays[1] must be a Float32Array");
    expect(() => sumOfSquares([f], 0, 1)).toThrow("sumOfSquares: expected (arrays: Float32Array[], longTerms ≥ 1, threads)");
    expect(sumOfSquares([new Float32Array([3, 4]), new Float32Array([1])], 65536, 1)).toBe(26);
    const conv = addon().conv2d as unknown as (...args: unknown[]) => void;
    const geometry = (over: Partial<ConvGeometry> = {}): ConvGeometry => ({
      batch: 1, inH: 2, inW: 2, inC: 1, outH: 2, outW: 2, outC: 1, fH: 1, fW: 1, strideH: 1, strideW: 1, dilH: 1, dilW: 1, padTop: 0, padLeft: 0, ...over,
    });
    expect(() => conv(ConvMode.Forward, ConvAlgorithm.Im2col, f, f, f, geometry())).toThrow("conv2d: expected 7 arguments (mode, algorithm, x, w, y, shape, threads)");
    expect(() => conv(3, ConvAlgorithm.Im2col, f, f, f, geometry(), 1)).toThrow("conv2d: mode: expected a ConvMode (ConvMode.Forward = 0, ConvMode.InputGradient = 1, ConvMode.FilterGradient = 2)");
    expect(() => conv(ConvMode.Forward, 2, f, f, f, geometry(), 1)).toThrow("conv2d: algorithm: expected a ConvAlgorithm (ConvAlgorithm.Im2col = 0, ConvAlgorithm.Direct = 1)");
    expect(() => conv(ConvMode.Forward, ConvAlgorithm.Im2col, f, f, f, [1, 2, 2], 1)).toThrow("conv2d: shape.batch must be an integer");
    const { padLeft: _dropped, ...withoutPadLeft } = geometry();
    expect(() => conv(ConvMode.Forward, ConvAlgorithm.Im2col, f, f, f, withoutPadLeft, 1)).toThrow("conv2d: shape.padLeft must be an integer");
    expect(() => conv(ConvMode.Forward, ConvAlgorithm.Im2col, f, f, f, geometry({ inH: 3, inW: 3, outH: 3, outW: 3 }), 1)).toThrow("conv2d: an array is shorter than its tensor");
    expect(() => conv(ConvMode.Forward, ConvAlgorithm.Im2col, f, f, f, geometry({ strideH: 0 }), 1)).toThrow("conv2d: batch, sizes, channels, filter sizes, strides and dilations must be ≥ 1");
    // Stride 2: the direct kernels do not apply.
    expect(() => conv(ConvMode.Forward, ConvAlgorithm.Direct, f, f, f, geometry({ outH: 1, outW: 1, strideH: 2, strideW: 2 }), 1)).toThrow("conv2d: the direct algorithm needs stride 1");
    const pool = addon().maxPoolGrad as unknown as (...args: unknown[]) => void;
    const window = { batch: 1, inH: 2, inW: 2, channels: 1, outH: 1, outW: 1, fH: 2, fW: 2, strideH: 2, strideW: 2, padTop: 0, padLeft: 0 };
    expect(() => pool(f, f, f, window)).toThrow("maxPoolGrad: expected 5 arguments (dy, x, dx, shape, threads)");
    expect(() => pool(f, f, f, { ...window, channels: undefined }, 1)).toThrow("maxPoolGrad: shape.channels must be an integer");
    expect(() => pool(f, f, f, { ...window, inH: 3, inW: 3 }, 1)).toThrow("maxPoolGrad: an array is shorter than its tensor");
    const unary = addon().unary as unknown as (...args: unknown[]) => void;
    expect(() => unary(9, f, f, 0, 1)).toThrow("unary: op: expected a UnaryOp (UnaryOp.LeakyRelu = 0, UnaryOp.Step = 1, UnaryOp.Relu = 2, UnaryOp.Tanh = 3, UnaryOp.Sigmoid = 4, UnaryOp.Softplus = 5)");
    expect(() => unary(UnaryOp.Relu, f, new Float32Array(3), 0, 1)).toThrow("unary: x and y must have the same length");
    const addRows = addon().addRows as unknown as (...args: unknown[]) => void;
    expect(() => addRows(f, f, f, 3, 2, 1)).toThrow("addRows: x and out must hold rows × cols values and bias cols");
    const binaryRows = addon().binaryRows as unknown as (...args: unknown[]) => void;
    expect(() => binaryRows(BinaryOp.Sub, f, f, f, 3)).toThrow("binaryRows: expected (op, a: Float32Array, b: Float32Array, out: Float32Array, cols, threads)");
    expect(() => binaryRows(99, f, f, f, 2, 1)).toThrow("binaryRows: op: expected a BinaryOp");
    expect(() => binaryRows(BinaryOp.Sub, f, new Float32Array(2), new Float32Array(6), 4, 1)).toThrow("binaryRows: out's length must be a positive multiple of cols");
    expect(() => binaryRows(BinaryOp.Sub, new Float32Array(6), new Float32Array(3), new Float32Array(6), 2, 1)).toThrow("binaryRows: one of a and b must have out's length and the other cols values");
    const upsample = addon().upsample as unknown as (...args: unknown[]) => void;
    expect(() => upsample(2, f, f, 1, 1, 1, 1, 2, 2, 1)).toThrow("upsample: mode: expected a UpsampleMode (UpsampleMode.Upscale = 0, UpsampleMode.Gradient = 1)");
    expect(() => upsample(UpsampleMode.Upscale, f, f, 1, 2, 2, 1, 2, 2, 1)).toThrow("upsample: an array is shorter than its tensor");
  });

  test("its enums (src/enums.h) are the TypeScript mirror's (enums.ts), member for member", () => {
    expect(addon().enums).toEqual(NATIVE_ENUMS);
    expect(enumMismatches(addon().enums)).toEqual([]);
    expect(NATIVE_ENUMS.ConvMode).toEqual({ Forward: 0, InputGradient: 1, FilterGradient: 2 });
    // The check that loadNativeKernels runs finds a changed, a missing and an extra member.
    const changed = JSON.parse(JSON.stringify(addon().enums)) as Record<string, Record<string, number>>;
    changed.UnaryOp.Relu = 7;
    delete changed.ConvMode.FilterGradient;
    changed.UpsampleMode.Sideways = 2;
    expect(enumMismatches(changed)).toEqual([
      "ConvMode.FilterGradient: TypeScript 2, addon missing",
      "UnaryOp.Relu: TypeScript 2, addon 7",
      "UpsampleMode.Sideways: TypeScript missing, addon 2",
    ]);
  });
});
