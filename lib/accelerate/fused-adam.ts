/**
 * Adam whose update of each weight tensor is one native pass (lib/accelerate/native/addon.ts) over the weight and
 * its two moments, in place on the wasm heap, instead of tfjs's dozen element-wise kernels per
 * tensor. The arithmetic is tfjs's AdamOptimizer's, step for step in float32:
 *   m ← β1·m + (1 − β1)·g,   v ← β2·v + (1 − β2)·g²,
 *   w ← w − lr · (m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + ε).
 * Off wasm or without the addon it is tfjs's AdamOptimizer itself. A weight (or moment) whose
 * memory another tensor shares (a reshaped view, or the tensor it was made from) first gets a
 * private copy of its values, so the in-place update never changes that other tensor.
 */
import * as tf from "@tensorflow/tfjs";
import { nativeAddon, nativeThreads } from "./native/addon";
import { WasmBackendLike } from "./wasm-overrides/common";

/** The parts of tfjs's AdamOptimizer this class reads (private there). */
interface AdamInternals {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: Array<{ originalName: string; variable: tf.Variable } | undefined>;
  accumulatedSecondMoment: Array<{ originalName: string; variable: tf.Variable } | undefined>;
  incrementIterations(): void;
}

/** What applyGradients receives: gradients by variable name, or a list of { name, tensor }. */
type VariableGradients = Parameters<tf.AdamOptimizer["applyGradients"]>[0];

export type WasmBackendWithRefs = WasmBackendLike & { refCount(dataId: tf.DataId): number };

/**
 * Copy-on-write before an in-place update: a variable whose memory another tensor shares (a
 * reshaped view, or the tensor it was made from) gets its own copy of the values first. Returns
 * whether it copied.
 */
export function ensurePrivateMemory(backend: WasmBackendWithRefs, variable: tf.Variable): boolean {
  if (backend.refCount(variable.dataId) === 1) return false;
  const copy = tf.tensor((backend.typedArrayFromHeap(variable) as Float32Array).slice(), variable.shape, "float32");
  variable.assign(copy);
  copy.dispose();
  return true;
}

/** What a fused optimiser's applyGradients works on: the addon, the wasm backend, and each weight with its gradient. */
export interface NativeStep {
  native: NonNullable<ReturnType<typeof nativeAddon>>;
  backend: WasmBackendWithRefs;
  names: string[];
  weights: tf.Variable[];
  /** The gradient of weight i (undefined where none was given). */
  gradients: Array<tf.Tensor | undefined>;
  /** A weight's (or slot's) float32 values on the wasm heap, updated in place by the addon. */
  view(t: tf.Tensor): Float32Array;
}

/**
 * The weights and gradients of one applyGradients call when the addon can update them in place (on wasm,
 * every weight and gradient float32), else null: then the optimiser falls back to tfjs's own update.
 */
export function nativeStep(variableGradients: VariableGradients): NativeStep | null {
  const native = nativeAddon();
  if (!native || tf.getBackend() !== "wasm") return null;
  const backend = tf.backend() as unknown as WasmBackendWithRefs;
  const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
  const gradients = names.map((name, i) =>
    Array.isArray(variableGradients) ? variableGradients[i].tensor : (variableGradients as Record<string, tf.Tensor>)[name]);
  const weights = names.map((name) => tf.engine().registeredVariables[name]);
  if (weights.some((w, i) => !w || w.dtype !== "float32" || (gradients[i] ?? w).dtype !== "float32")) return null;
  return { native, backend, names, weights, gradients, view: (t) => backend.typedArrayFromHeap(t) as Float32Array };
}

export class FusedAdamOptimizer extends tf.AdamOptimizer {
  /** Steps this optimiser took natively (every weight updated by the addon). */
  nativeSteps = 0;
  /** Weights and moments given a private copy of their memory before an update, because another tensor shared it. */
  privateCopies = 0;

  applyGradients(variableGradients: VariableGradients): void {
    const step = nativeStep(variableGradients);
    if (!step) return super.applyGradients(variableGradients);
    const { native, backend, names, weights, gradients, view } = step;
    const self = this as unknown as AdamInternals;
    weights.forEach((weight, i) => {
      for (const [slots, suffix] of [[self.accumulatedFirstMoment, "m"], [self.accumulatedSecondMoment, "v"]] as const) {
        if (slots[i] == null) slots[i] = { originalName: `${names[i]}/${suffix}`, variable: tf.tidy(() => tf.zerosLike(weight).variable(false)) };
      }
    });
    const accBeta1 = view(self.accBeta1)[0];
    const accBeta2 = view(self.accBeta2)[0];
    const threads = nativeThreads();
    const ownMemory = (variable: tf.Variable) => {
      if (ensurePrivateMemory(backend, variable)) this.privateCopies++;
    };
    weights.forEach((weight, i) => {
      const gradient = gradients[i];
      if (gradient == null) return;
      const m = self.accumulatedFirstMoment[i]!.variable;
      const v = self.accumulatedSecondMoment[i]!.variable;
      [weight, m, v].forEach(ownMemory);
      native.adam(view(weight), view(m), view(v), view(gradient), self.learningRate, self.beta1, self.beta2, self.epsilon,
        Math.fround(1 - accBeta1), Math.fround(1 - accBeta2), threads);
    });
    tf.tidy(() => {
      self.accBeta1.assign(tf.mul(self.accBeta1, self.beta1));
      self.accBeta2.assign(tf.mul(self.accBeta2, self.beta2));
    });
    self.incrementIterations();
    this.nativeSteps++;
  }
}
