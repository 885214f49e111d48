/**
 * The three batch-norm kernels that lib/models/batch-norm.ts runs where the backend has them
 * (BATCH_NORM_KERNELS): in training, forward (BN.1) → [y, mean, variance] and gradient (BN.2) →
 * [dx, dγ, dβ], on the wasm heap in place: the native addon's two-pass kernels (native/src/batch_norm.cc)
 * where it is built, else the same two passes in typed arrays here (float64 sums); and the moving
 * statistics' update (BN.3) in a typed-array loop.
 */
import * as tf from "@tensorflow/tfjs";
import { nativeAddon, nativeCounters, nativeThreads } from "../native/addon";
import { KernelArgs, WasmBackendLike } from "./common";

interface BatchNormAttrs {
  epsilon: number;
  relu: boolean;
}

function attrsOf(args: KernelArgs, kernel: string): BatchNormAttrs {
  const { epsilon, relu } = (args.attrs ?? {}) as unknown as Partial<BatchNormAttrs>;
  if (typeof epsilon !== "number" || !(epsilon >= 0)) throw new Error(`${kernel} (wasm): attr epsilon must be a number ≥ 0, got ${String(epsilon)}`);
  return { epsilon, relu: relu === true };
}

/** rows and channels of x [..., C], after checking every tensor is float32 and the per-channel ones are [C]. */
function geometry(kernel: string, x: tf.TensorInfo | undefined, perChannel: Record<string, tf.TensorInfo | undefined>, others: tf.TensorInfo[] = []): { rows: number; channels: number } {
  if (!x || x.shape.length < 1 || x.dtype !== "float32") throw new Error(`${kernel} (wasm): x must be a float32 tensor [..., C]`);
  const channels = x.shape[x.shape.length - 1];
  for (const [name, t] of Object.entries(perChannel)) {
    if (!t || t.dtype !== "float32" || t.shape.length !== 1 || t.shape[0] !== channels) throw new Error(`${kernel} (wasm): ${name} must be float32 [${channels}]`);
  }
  for (const t of others) {
    if (t.dtype !== "float32" || !tf.util.arraysEqual(t.shape, x.shape)) throw new Error(`${kernel} (wasm): dy must be float32 [${x.shape.join(", ")}] like x`);
  }
  const rows = channels > 0 ? tf.util.sizeFromShape(x.shape) / channels : 0;
  if (rows < 1) throw new Error(`${kernel} (wasm): x must not be empty`);
  return { rows, channels };
}

/** s = γ/√(σ² + ε) (float32) and 1/√(σ² + ε) per channel (as native/src/batch_norm.cc scales). */
function scales(gamma: Float32Array, variance: Float32Array, epsilon: number) {
  const C = gamma.length;
  const s = new Float32Array(C), invStd = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    invStd[c] = 1 / Math.sqrt(variance[c] + epsilon);
    s[c] = gamma[c] * invStd[c];
  }
  return { s, invStd };
}

/** (BN.1) in typed arrays: moments around the first row (float64 sums), then the affine map. */
function forwardTyped(x: Float32Array, gamma: Float32Array, beta: Float32Array, y: Float32Array, mean: Float32Array, variance: Float32Array, rows: number, epsilon: number, relu: boolean): void {
  const C = gamma.length;
  const shift = x.slice(0, C);
  const s1 = new Float64Array(C), s2 = new Float64Array(C);
  for (let r = 0, i = 0; r < rows; r++) {
    for (let c = 0; c < C; c++, i++) {
      const d = x[i] - shift[c];
      s1[c] += d;
      s2[c] += d * d;
    }
  }
  for (let c = 0; c < C; c++) {
    const d = s1[c] / rows;
    mean[c] = shift[c] + d;
    variance[c] = Math.max(0, s2[c] / rows - d * d);
  }
  const { s } = scales(gamma, variance, epsilon);
  for (let r = 0, i = 0; r < rows; r++) {
    for (let c = 0; c < C; c++, i++) {
      const v = Math.fround(Math.fround(x[i] - mean[c]) * s[c]) + beta[c];
      y[i] = relu && v < 0 ? 0 : v;
    }
  }
}

/** (BN.2) in typed arrays: Σg and Σg·(x − μ) (float64), then dx = s·(g + a·(x − μ) + b). */
function gradientTyped(dy: Float32Array, x: Float32Array, gamma: Float32Array, beta: Float32Array, mean: Float32Array, variance: Float32Array,
  dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array, rows: number, epsilon: number, relu: boolean): void {
  const C = gamma.length;
  const { s, invStd } = scales(gamma, variance, epsilon);
  const sumG = new Float64Array(C), sumGx = new Float64Array(C);
  const centred = (i: number, c: number) => Math.fround(x[i] - mean[c]);
  const masked = (i: number, c: number) => (relu && !(Math.fround(Math.fround(centred(i, c) * s[c]) + beta[c]) > 0) ? 0 : dy[i]);
  for (let r = 0, i = 0; r < rows; r++) {
    for (let c = 0; c < C; c++, i++) {
      const g = masked(i, c);
      sumG[c] += g;
      sumGx[c] += g * centred(i, c);
    }
  }
  const a = new Float32Array(C), b = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    dbeta[c] = sumG[c];
    dgamma[c] = sumGx[c] * invStd[c];
    a[c] = (-sumGx[c] * invStd[c] * invStd[c]) / rows;
    b[c] = -sumG[c] / rows;
  }
  for (let r = 0, i = 0; r < rows; r++) {
    for (let c = 0; c < C; c++, i++) dx[i] = s[c] * (masked(i, c) + a[c] * centred(i, c) + b[c]);
  }
}

/** AeBatchNormTraining on wasm: [y, mean, variance] of (BN.1). */
export function batchNormTrainingWasm(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as WasmBackendLike;
  const { x, gamma, beta } = args.inputs as Record<string, tf.TensorInfo | undefined>;
  const { epsilon, relu } = attrsOf(args, "AeBatchNormTraining");
  const { rows, channels } = geometry("AeBatchNormTraining", x, { gamma, beta });
  // Every output first: making one may grow the heap, which detaches views taken before.
  const outputs = [backend.makeOutput([...x!.shape], "float32"), backend.makeOutput([channels], "float32"), backend.makeOutput([channels], "float32")];
  const view = (t: tf.TensorInfo) => backend.typedArrayFromHeap(t) as Float32Array;
  const [y, mean, variance] = outputs.map(view);
  const native = nativeAddon();
  if (native) {
    native.batchNormForward(view(x!), view(gamma!), view(beta!), y, mean, variance, channels, epsilon, relu, nativeThreads());
    nativeCounters.batchNorms++;
  } else {
    forwardTyped(view(x!), view(gamma!), view(beta!), y, mean, variance, rows, epsilon, relu);
  }
  return outputs;
}

/** AeBatchNormTrainingGrad on wasm: [dx, dgamma, dbeta] of (BN.2). */
export function batchNormTrainingGradWasm(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as WasmBackendLike;
  const { dy, x, gamma, beta, mean, variance } = args.inputs as Record<string, tf.TensorInfo | undefined>;
  const { epsilon, relu } = attrsOf(args, "AeBatchNormTrainingGrad");
  if (!dy) throw new Error("AeBatchNormTrainingGrad (wasm): input dy is required");
  const { rows, channels } = geometry("AeBatchNormTrainingGrad", x, { gamma, beta, mean, variance }, [dy]);
  const outputs = [backend.makeOutput([...x!.shape], "float32"), backend.makeOutput([channels], "float32"), backend.makeOutput([channels], "float32")];
  const view = (t: tf.TensorInfo) => backend.typedArrayFromHeap(t) as Float32Array;
  const [dx, dgamma, dbeta] = outputs.map(view);
  const native = nativeAddon();
  if (native) {
    native.batchNormBackward(view(dy), view(x!), view(gamma!), view(beta!), view(mean!), view(variance!), dx, dgamma, dbeta, channels, epsilon, relu, nativeThreads());
    nativeCounters.batchNorms++;
  } else {
    gradientTyped(view(dy), view(x!), view(gamma!), view(beta!), view(mean!), view(variance!), dx, dgamma, dbeta, rows, epsilon, relu);
  }
  return outputs;
}

/**
 * (BN.3) average·m + value·(1 − m) in one pass over the wasm heap: each product and the sum rounded to
 * float32 as tf.mul and tf.add round them (a float64 product of two float32 values is exact, and a
 * float64 sum rounded once more to float32 is the float32 sum: 53 ≥ 2·24 + 2 bits).
 */
export function movingAverageWasm(args: KernelArgs): tf.TensorInfo {
  const kernel = "AeMovingAverage";
  const { average, value } = args.inputs as { average?: tf.TensorInfo; value?: tf.TensorInfo };
  const { momentum } = (args.attrs ?? {}) as { momentum?: unknown };
  if (typeof momentum !== "number" || !Number.isFinite(momentum)) throw new Error(`${kernel} (wasm): attr momentum must be a finite number, got ${String(momentum)}`);
  if (!average || !value || average.dtype !== "float32" || value.dtype !== "float32" || !tf.util.arraysEqual(average.shape, value.shape)) {
    throw new Error(`${kernel} (wasm): average and value must be float32 tensors of one shape`);
  }
  const backend = args.backend as WasmBackendLike;
  const out = backend.makeOutput([...average.shape], "float32");
  const a = backend.typedArrayFromHeap(average) as Float32Array;
  const v = backend.typedArrayFromHeap(value) as Float32Array;
  const o = backend.typedArrayFromHeap(out) as Float32Array;
  const keep = Math.fround(momentum), take = Math.fround(1 - momentum);
  for (let i = 0; i < o.length; i++) o[i] = Math.fround(a[i] * keep) + Math.fround(v[i] * take);
  return out;
}
