/**
 * Adam whose update of each weight tensor is one native pass (lib/native.ts) over the weight and
 * its two moments, in place on the wasm heap, instead of tfjs's dozen element-wise kernels per
 * tensor. The arithmetic is tfjs's AdamOptimizer's, step for step in float32:
 *   m ← β1·m + (1 − β1)·g,   v ← β2·v + (1 − β2)·g²,
 *   w ← w − lr · (m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + ε).
 * Anywhere else (another backend, no addon, a weight whose memory another tensor shares: a
 * reshaped view, or the tensor it was made from) it is tfjs's AdamOptimizer itself, so it is
 * always safe to use.
 */
import * as tf from "@tensorflow/tfjs";
import { nativeAddon, nativeThreads } from "./native";
import { WasmBackendLike } from "./kernels/common";

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

type WasmBackendWithRefs = WasmBackendLike & { refCount(dataId: tf.DataId): number };

export class FusedAdamOptimizer extends tf.AdamOptimizer {
  /** Steps this optimiser took on the native path (the rest were tfjs's). */
  nativeSteps = 0;

  applyGradients(variableGradients: VariableGradients): void {
    const native = nativeAddon();
    if (!native || tf.getBackend() !== "wasm") return super.applyGradients(variableGradients);
    const self = this as unknown as AdamInternals;
    const backend = tf.backend() as unknown as WasmBackendWithRefs;
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    const gradientOf = (name: string, i: number): tf.Tensor | undefined =>
      Array.isArray(variableGradients) ? variableGradients[i].tensor : (variableGradients as Record<string, tf.Tensor>)[name];
    const weights = names.map((name) => tf.engine().registeredVariables[name]);
    const sole = (t: tf.Tensor) => t.dtype === "float32" && backend.refCount(t.dataId) === 1;
    // In place only where every weight and moment owns its memory: otherwise tfjs's own step.
    const unsupported = (w: tf.Variable | undefined, i: number) => {
      const gradient = gradientOf(names[i], i);
      return !w || !sole(w) || (gradient != null && gradient.dtype !== "float32");
    };
    if (weights.some(unsupported)) return super.applyGradients(variableGradients);
    weights.forEach((weight, i) => {
      for (const [slots, suffix] of [[self.accumulatedFirstMoment, "m"], [self.accumulatedSecondMoment, "v"]] as const) {
        if (slots[i] == null) slots[i] = { originalName: `${names[i]}/${suffix}`, variable: tf.tidy(() => tf.zerosLike(weight).variable(false)) };
      }
    });
    if (weights.some((_, i) => !sole(self.accumulatedFirstMoment[i]!.variable) || !sole(self.accumulatedSecondMoment[i]!.variable))) {
      return super.applyGradients(variableGradients);
    }
    const view = (t: tf.Tensor) => backend.typedArrayFromHeap(t) as Float32Array;
    const accBeta1 = view(self.accBeta1)[0];
    const accBeta2 = view(self.accBeta2)[0];
    const threads = nativeThreads();
    weights.forEach((weight, i) => {
      const gradient = gradientOf(names[i], i);
      if (gradient == null) return;
      native.adam(view(weight), view(self.accumulatedFirstMoment[i]!.variable), view(self.accumulatedSecondMoment[i]!.variable), view(gradient),
        self.learningRate, self.beta1, self.beta2, self.epsilon, Math.fround(1 - accBeta1), Math.fround(1 - accBeta2), threads);
    });
    tf.tidy(() => {
      self.accBeta1.assign(tf.mul(self.accBeta1, self.beta1));
      self.accBeta2.assign(tf.mul(self.accBeta2, self.beta2));
    });
    self.incrementIterations();
    this.nativeSteps++;
  }
}
