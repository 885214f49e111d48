/**
 * The TypeScript binding of the optional native addon (C++ in ./src: kernels.h lists the files):
 * a float32 matrix product, 2-D convolutions (im2col or direct), an Adam step, a momentum-SGD step, batch norm in
 * training (forward and backward), a weight-decay term's Σ‖v‖² and a few element-wise kernels that read and write the wasm backend's
 * tensors in place (no copy), plus the bench's probe of the cores' arithmetic limit (fmaThroughput).
 * Modes and operations are the named enums of ./enums.ts (mirroring src/enums.h, checked on load). `npm install` builds it with node-gyp where a
 * C++ toolchain is present (`npm run build:native` rebuilds it); where it is missing or
 * AE_NATIVE=0 is set, everything runs on wasm alone. Nothing is loaded on import:
 * `loadNativeKernels()` does it (lib/accelerate/index.ts accelerateWasm calls it for wasm), and the backend line says
 * whether it loaded.
 */
import * as fs from "fs";
import * as path from "path";
import { cpuCount, WasmThreadsRequest } from "../wasm-threads";
import { ConvAlgorithm, ConvMode, enumMismatches, UnaryOp, UpsampleMode, BinaryOp, ComparisonOp } from "./enums";

export { ConvAlgorithm, ConvMode, UnaryOp, UpsampleMode, BinaryOp, ComparisonOp } from "./enums";

/** Environment variable: threads of each native kernel ("auto" or a count). */
export const NATIVE_THREADS_ENV = "AE_NATIVE_THREADS";

/**
 * Threads of each native kernel: AE_NATIVE_THREADS if set; else the wasm thread count when one
 * was asked for (AE_WASM_THREADS=1 on a busy machine keeps both to one); else every core, up to 8.
 */
export function resolveNativeThreads(options: { env?: NodeJS.ProcessEnv; wasmRequest?: WasmThreadsRequest; cores?: number } = {}): number {
  const fromEnv = (options.env ?? process.env)[NATIVE_THREADS_ENV];
  const auto = Math.min(8, options.cores ?? cpuCount());
  if (fromEnv !== undefined && fromEnv.trim() !== "") {
    const text = fromEnv.trim();
    if (text === "auto") return auto;
    const count = Number(text);
    if (!/^\d+$/.test(text) || count < 1 || count > 64) throw new Error(`${NATIVE_THREADS_ENV} must be "auto" or an integer from 1 to 64; got ${JSON.stringify(fromEnv)}`);
    return count;
  }
  return typeof options.wasmRequest === "number" ? options.wasmRequest : auto;
}

/** The addon's functions (lib/accelerate/native/src/). */
export interface NativeAddon {
  /** C_t = op(A_t)·op(B_t) for t < batch; a, b, c row-major; strides in floats (0 broadcasts). */
  gemm(a: Float32Array, b: Float32Array, c: Float32Array, batch: number, m: number, n: number, k: number,
    transA: boolean, transB: boolean, strideA: number, strideB: number, threads: number): void;
  /**
   * 2-D convolution of NHWC x with [fh, fw, inC, outC] w: ConvMode.Forward writes y, InputGradient writes x from dy = y,
   * FilterGradient writes w; ConvAlgorithm.Im2col (a matrix product) or Direct (stride 1, few channels:
   * wasm-overrides/conv-native.ts directApplies).
   */
  conv2d(mode: ConvMode, algorithm: ConvAlgorithm, x: Float32Array, w: Float32Array, y: Float32Array, shape: ConvGeometry, threads: number): void;
  /** out[i] = a[i] + b[i] (equal lengths). */
  addArrays(a: Float32Array, b: Float32Array, out: Float32Array, threads: number): void;
  /** out[i·cols + j] = x[i·cols + j] + bias[j] (a bias on every row). */
  addRows(x: Float32Array, bias: Float32Array, out: Float32Array, rows: number, cols: number, threads: number): void;
  /** out = op(a, b) where one of a and b has out's length and the other is one row of `cols` values, repeated over out's rows. */
  binaryRows(op: BinaryOp, a: Float32Array, b: Float32Array, out: Float32Array, cols: number, threads: number): void;
  /** out[c] = (Σ over r, in order, of x[r·cols + c] in float32) / rows: wasm's own Mean over leading axes, bit for bit. */
  meanRows(x: Float32Array, rows: number, cols: number, out: Float32Array, threads: number): void;
  /** Nearest-neighbour upscaling by integer factors sh, sw (NHWC): Upscale small → large, or its Gradient large → small (block sums). */
  upsample(mode: UpsampleMode, small: Float32Array, large: Float32Array, batch: number, inH: number, inW: number, channels: number, sh: number, sw: number, threads: number): void;
  /** out[o·inner + i] = the first j maximising x[(o·k + j)·inner + i] (x[o, 0, i] where that is NaN, as wasm's ArgMax), x viewed as [outer, k, inner]. */
  argMax(x: Float32Array, out: Int32Array, outer: number, k: number, inner: number, threads: number): void;
  /** y = x with its axes permuted (y's axis i is x's axis perm[i]), x of `shape` (rank 2–8); x and y both Float32Arrays or both Int32Arrays. */
  transpose(x: Float32Array | Int32Array, y: Float32Array | Int32Array, shape: Int32Array, perm: Int32Array, threads: number): void;
  /** dx of max pooling (NHWC): each window's first maximum gets its dy (tfjs-cpu's rule); windows clipped by padding. */
  maxPoolGrad(dy: Float32Array, x: Float32Array, dx: Float32Array, shape: PoolGeometry, threads: number): void;
  /**
   * Batch norm in training over the last axis of x as [rows, channels] (rows = x.length / channels): mean and
   * biased variance per channel, y = γ(x − μ)/√(σ² + ε) + β, then max(0, y) when relu.
   */
  batchNormForward(x: Float32Array, gamma: Float32Array, beta: Float32Array, y: Float32Array, mean: Float32Array, variance: Float32Array,
    channels: number, epsilon: number, relu: boolean, threads: number): void;
  /** dx, dγ, dβ of batchNormForward from dy, its inputs and the statistics it returned. */
  batchNormBackward(dy: Float32Array, x: Float32Array, gamma: Float32Array, beta: Float32Array, mean: Float32Array, variance: Float32Array,
    dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array, channels: number, epsilon: number, relu: boolean, threads: number): void;
  /** Floats per vector register of the build (16 for AVX-512, 8 AVX2, 4 SSE). */
  vectorFloats(): number;
  /** Σ over the arrays of Σ x², bit for bit as tf.addN of tf.sum(tf.square(x)) on wasm with our kernels, sums of longTerms or more terms in float64 (src/kernels.h). */
  sumOfSquares(arrays: Float32Array[], longTerms: number, threads: number): number;
  /** GFLOP/s of `threads` threads running register-only vector fused multiply-adds for about `seconds` (the cores' arithmetic limit). */
  fmaThroughput(threads: number, seconds: number): number;
  /** One Adam step in place on w, m, v (equal lengths) from gradient g; biasCorrection1/2 = 1 − β1ᵗ, 1 − β2ᵗ. */
  adam(w: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array, lr: number, beta1: number, beta2: number, epsilon: number,
    biasCorrection1: number, biasCorrection2: number, threads: number): void;
  /**
   * One momentum-SGD step in place on w and accumulation (equal lengths) from g: a ← m·a + g; w ← w − lr·a (Nesterov: w − lr·(g + m·a));
   * with a decayFactor, g is g + factor·w first (the product rounded before the sum, as two kernels).
   */
  momentum(w: Float32Array, accumulation: Float32Array, g: Float32Array, lr: number, momentum: number, nesterov: boolean, decayFactor: number | null, threads: number): void;
  /** Element-wise LeakyRelu, Step (α as in tfjs), Relu, Tanh, Sigmoid or Softplus (tfjs's cut-offs), from x into y (which may be x). */
  unary(op: UnaryOp, x: Float32Array, y: Float32Array, alpha: number, threads: number): void;
  /** out[i] = a[i] > b[i] or a[i] ≤ b[i] by `op` (b of length 1: a scalar), as 0/1 bytes; 0 where either is NaN. */
  compare(op: ComparisonOp, a: Float32Array, b: Float32Array, out: Uint8Array, threads: number): void;
  /** out[i] = x[i] as float32: a bool (bytes 0/1) or int32 tensor's values. */
  toFloat32(x: Uint8Array | Int32Array, out: Float32Array, threads: number): void;
  /** out[i] = condition[i] ? t[i] : e[i]. */
  select(condition: Uint8Array, t: Float32Array, e: Float32Array, out: Float32Array, threads: number): void;
  /** out[j] = Σ_i x[i·cols + j] (float64 accumulation). */
  sumRows(x: Float32Array, rows: number, cols: number, out: Float32Array, threads: number): void;
  /** out[r] = Σ_j x[r·cols + j], each row in float32 one term after another from 0 (wasm's own Sum over trailing axes, bit for bit), rows side by side. */
  sumLastAxis(x: Float32Array, rows: number, cols: number, out: Float32Array, threads: number): void;
  /** out[i] = op(a[i], b[i]); a or b of length 1 is one value for every i. */
  binary(op: BinaryOp, a: Float32Array, b: Float32Array, out: Float32Array, threads: number): void;
  /** The instruction set and register tile it was compiled for, e.g. "AVX-512, 8×32 register tile". */
  describe(): string;
  /** Its enums (src/enums.h), which must equal ./enums.ts's. */
  enums: Record<string, Record<string, number>>;
}

/** A convolution's geometry, by name (NHWC images, [fH, fW, inC, outC] filters). */
export interface ConvGeometry {
  batch: number; inH: number; inW: number; inC: number; outH: number; outW: number; outC: number;
  fH: number; fW: number; strideH: number; strideW: number; dilH: number; dilW: number; padTop: number; padLeft: number;
}

/** A pooling window's geometry, by name (NHWC). */
export interface PoolGeometry {
  batch: number; inH: number; inW: number; channels: number; outH: number; outW: number;
  fH: number; fW: number; strideH: number; strideW: number; padTop: number; padLeft: number;
}

/** Whether the native kernels are in use, and why (not). */
export interface NativeStatus {
  loaded: boolean;
  /** "native matrix products, convolutions, Adam and element-wise kernels (AVX-512, 8×32 register tile, 2 threads)" or why not. */
  summary: string;
  /** The .node file loaded. */
  file?: string;
  /** Threads of each native product. */
  threads?: number;
}

/** Calls into the native addon in this process, by kind (tests check that the native path really ran). */
export const nativeCounters = { products: 0, convolutions: 0, directConvolutions: 0, elementwise: 0, sums: 0, pooling: 0, batchNorms: 0 };

let addon: NativeAddon | null = null;
let status: NativeStatus | null = null;
let enabled = true;
let threads = 1;

/** Where node-gyp puts the addon, relative to lib/accelerate/native/ (ts-node) or lib/dist/accelerate/native/ (compiled). */
function candidateFiles(): string[] {
  const names = ["build/Release/ae_native.node", "../../../accelerate/native/build/Release/ae_native.node"];
  return names.map((name) => path.resolve(__dirname, name));
}

/**
 * Load the addon once (later calls return the first status). `threads` sets how many threads
 * each product may use (default 1; initBackend passes wasm's thread count).
 */
export function loadNativeKernels(options: { threads?: number; env?: NodeJS.ProcessEnv } = {}): NativeStatus {
  if (options.threads !== undefined) setNativeThreads(options.threads);
  if (status) return { ...status, ...(status.loaded ? { threads, summary: summaryFor(addon as NativeAddon) } : {}) };
  const env = options.env ?? process.env;
  if (env.AE_NATIVE === "0") {
    status = { loaded: false, summary: "native kernels off (AE_NATIVE=0)" };
    return status;
  }
  const file = candidateFiles().find((f) => fs.existsSync(f));
  if (!file) {
    status = { loaded: false, summary: "native kernels not built (npm run build:native needs python3, make and a C++ compiler)" };
    return status;
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const loadedAddon = require(file) as NativeAddon;
    if (["gemm", "conv2d", "adam", "momentum", "unary", "compare", "toFloat32", "select", "sumRows", "sumLastAxis", "binary", "addArrays", "addRows", "binaryRows", "meanRows", "upsample", "argMax", "transpose", "maxPoolGrad", "batchNormForward", "batchNormBackward", "fmaThroughput", "sumOfSquares", "vectorFloats", "describe"].some((name) => typeof (loadedAddon as unknown as Record<string, unknown>)[name] !== "function")) throw new Error("it lacks one of its functions (an older build?): rebuild it with npm run build:native");
    // A build from before momentum took its decay factor has the same names but 7 arguments: it would fail at the first step.
    const empty = new Float32Array(0);
    try {
      loadedAddon.momentum(empty, empty, empty, 0, 0, false, null, 1);
    } catch {
      throw new Error("its momentum takes other arguments (an older build?): rebuild it with npm run build:native");
    }
    const mismatches = enumMismatches(loadedAddon.enums);
    if (mismatches.length > 0) throw new Error(`its enums differ from lib/accelerate/native/enums.ts (${mismatches.join("; ")}): rebuild it with npm run build:native`);
    addon = loadedAddon;
    status = { loaded: true, summary: summaryFor(loadedAddon), file, threads };
  } catch (error) {
    status = { loaded: false, summary: `native kernels failed to load (${error instanceof Error ? error.message.split("\n")[0] : String(error)})` };
  }
  return status;
}

function summaryFor(a: NativeAddon): string {
  return `native matrix products, convolutions, Adam and element-wise kernels (${a.describe()}, ${threads} thread${threads === 1 ? "" : "s"})`;
}

/** The addon when loaded and enabled, else null (kernels then take their wasm path). */
export function nativeAddon(): NativeAddon | null {
  return enabled ? addon : null;
}

/** Threads of each native product (≥ 1). */
export function nativeThreads(): number {
  return threads;
}

/** Set the threads of each native product; returns the previous count. */
export function setNativeThreads(count: number): number {
  if (!Number.isInteger(count) || count < 1) throw new Error(`setNativeThreads: count must be a positive integer, got ${count}`);
  const previous = threads;
  threads = count;
  return previous;
}

/** Turn the native path on or off without unloading it (for tests and the bench); returns the previous setting. */
export function setNativeEnabled(on: boolean): boolean {
  const previous = enabled;
  enabled = on;
  return previous;
}
