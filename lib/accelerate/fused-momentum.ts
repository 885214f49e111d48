/**
 * Momentum SGD whose update of each weight tensor is one native pass (lib/accelerate/native/addon.ts)
 * over the weight and its accumulation, in place on the wasm heap, instead of tfjs's four
 * element-wise kernels (and a tidy) per tensor. The arithmetic is tfjs's MomentumOptimizer's, in float32:
 *   a ← m·a + g,   w ← w − lr·a   (Nesterov: w ← w − lr·(g + m·a)).
 * Off wasm or without the addon it is tfjs's MomentumOptimizer itself. Shared memory is copied
 * first, as in fused-adam.ts. Weight decay's gradient (applyGradientsWithDecay) is added in the
 * same pass, rounded as addDecay's two kernels round it: g ← g + factor·w, then the update.
 */
import * as tf from "@tensorflow/tfjs";
import { addDecay, DecayInUpdate, GradientDecay } from "../optimizer-hooks";
import { nativeThreads } from "./native/addon";
import { ensurePrivateMemory, nativeStep } from "./fused-adam";

/** The parts of tfjs's MomentumOptimizer this class reads (private there). */
interface MomentumInternals {
  learningRate: number;
  useNesterov: boolean;
  /** The momentum as tfjs uses it: a scalar made in the constructor. */
  m: tf.Scalar;
  accumulations: Array<{ originalName: string; variable: tf.Variable } | undefined>;
  incrementIterations(): void;
}

/** What applyGradients receives: gradients by variable name, or a list of { name, tensor }. */
type VariableGradients = Parameters<tf.MomentumOptimizer["applyGradients"]>[0];

export class FusedMomentumOptimizer extends tf.MomentumOptimizer implements DecayInUpdate {
  /** Steps this optimiser took natively (every weight updated by the addon). */
  nativeSteps = 0;
  /** Weights and accumulations given a private copy of their memory before an update, because another tensor shared it. */
  privateCopies = 0;

  applyGradients(variableGradients: VariableGradients): void {
    this.step(variableGradients, null);
  }

  /** One update with factor·w added to each decayed weight's gradient (addDecay then applyGradients, bit for bit). */
  applyGradientsWithDecay(grads: tf.NamedTensorMap, decay: GradientDecay): void {
    this.step(grads as unknown as VariableGradients, decay);
  }

  private step(variableGradients: VariableGradients, decay: GradientDecay | null): void {
    const step = nativeStep(variableGradients);
    if (!step) {
      if (!decay) return super.applyGradients(variableGradients);
      // Off the native path: tfjs's update of addDecay's gradients (gradients by name, as trainModel passes them).
      return tf.tidy(() => super.applyGradients(addDecay(variableGradients as unknown as tf.NamedTensorMap, decay) as unknown as VariableGradients));
    }
    const { native, backend, names, weights, gradients, view } = step;
    const self = this as unknown as MomentumInternals;
    weights.forEach((weight, i) => {
      if (self.accumulations[i] == null) self.accumulations[i] = { originalName: `${names[i]}/momentum`, variable: tf.tidy(() => tf.zerosLike(weight).variable(false)) };
    });
    const momentum = view(self.m)[0];
    const threads = nativeThreads();
    const decayed = new Set(decay?.variables.map((v) => v.name));
    weights.forEach((weight, i) => {
      const gradient = gradients[i];
      if (gradient == null) return;
      const accumulation = self.accumulations[i]!.variable;
      for (const v of [weight, accumulation]) if (ensurePrivateMemory(backend, v)) this.privateCopies++;
      const factor = decayed.has(names[i]) ? decay!.factor : null;
      native.momentum(view(weight), view(accumulation), view(gradient), self.learningRate, momentum, self.useNesterov, factor, threads);
    });
    self.incrementIterations();
    this.nativeSteps++;
  }
}
