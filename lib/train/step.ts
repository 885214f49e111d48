/**
 * One optimiser step: the batch's named terms and their weighted total under the gradient
 * tape, the running per-term sums updated on the device (no read-back), and the update.
 * Weight decay's term is part of the total, but its value is taken before the tape starts and
 * its gradient λ·rate·v is added by the update (as PyTorch's weight_decay), not by autodiff.
 */
import * as tf from "@tensorflow/tfjs";
import { gatherRows, sliceRecord } from "./batches";
import { checkLossWeights, checkTerms, totalAndVector, WeightDecay, weightDecayGradient, weightDecayValue } from "./loss-terms";
import type { ResolvedOptimizer } from "./optimizers";
import type { LossContext, LossTermsFn, TensorRecord } from "./types";

/** What a step needs that is fixed for the whole run. */
export interface StepSetup<D extends TensorRecord> {
  fn: string;
  lossTerms: LossTermsFn<D>;
  lossWeights: Record<string, number> | undefined;
  decay: WeightDecay | null;
  /** Term names lossTerms may not use: "total", and "weightDecay" when it is on. */
  reservedNames: string[];
  optimizer: ResolvedOptimizer;
  numSamples: number;
}

/** What the loop learns at its first step and keeps. */
export interface StepState {
  /** Names returned by lossTerms (fixed at the first step). */
  lossNames: string[] | null;
  /** Logged names: loss terms, weightDecay when used, total. */
  logNames: string[];
  /** Trained variables; narrowed after the first step to those the loss depends on. */
  variables: tf.Variable[];
  variablesChecked: boolean;
}

/** Where a step reads its batch: rows order[start, start+size) of the data (rows [start, start+size) without an order). */
export interface StepBatch<D extends TensorRecord> {
  data: D;
  /** The epoch's permutation of the sample indices (null or absent: file order). */
  order?: tf.Tensor1D | null;
  start: number;
  size: number;
}

/** One optimiser step in tf.tidy; returns the new running sums [terms…, total]·rows (kept), the old ones untouched. */
export function runStep<D extends TensorRecord>(
  setup: StepSetup<D>, st: StepState, batch: StepBatch<D>, context: LossContext, previous: tf.Tensor1D | null, learningRate: number,
): tf.Tensor1D {
  let next: tf.Tensor1D | null = null;
  try {
    tf.tidy(() => {
      const rows = batch.order ? gatherRows(batch.data, batch.order, batch.start, batch.size) : sliceRecord(batch.data, batch.start, batch.size, setup.numSamples);
      const decayValue = setup.decay ? weightDecayValue(setup.decay) : null;
      const lossGrads = lossGradients(setup, st, () => {
        const { total, vector } = stepTerms(setup, st, rows, context, decayValue);
        const scaled = tf.mul(vector, batch.size);
        // Running sums stay on the device: read back only at logging points.
        next = tf.keep(previous === null ? scaled : tf.add(previous, scaled)) as tf.Tensor1D;
        return total;
      });
      if (!st.variablesChecked) keepUsedVariables(setup.fn, st, lossGrads, setup.decay);
      const grads: tf.NamedTensorMap = {};
      for (const v of st.variables) grads[v.name] = lossGrads[v.name] ?? tf.zerosLike(v);
      // Decay only what is still trainable: a variable frozen after the first step gets zeros above, and so no update.
      const decay = setup.decay ? weightDecayGradient({ ...setup.decay, variables: setup.decay.variables.filter((v) => v.trainable) }, setup.lossWeights?.weightDecay) : null;
      setup.optimizer.apply(st.variables, grads, { step: context.step, epoch: context.epoch, learningRate }, decay);
    });
  } catch (error) {
    (next as tf.Tensor1D | null)?.dispose();
    throw error;
  }
  return next!;
}

/** The batch's terms (weight decay's value added, when on), checked; the first step fixes their names. Returns the total and [terms…, total]. */
function stepTerms<D extends TensorRecord>(setup: StepSetup<D>, st: StepState, rows: D, context: LossContext, decayValue: tf.Scalar | null): { total: tf.Scalar; vector: tf.Tensor1D } {
  const { fn, decay, lossWeights } = setup;
  const terms = { ...setup.lossTerms(rows, context) };
  const lossNamesNow = checkTerms(terms, st.lossNames, setup.reservedNames, fn, "lossTerms");
  if (st.lossNames === null) {
    checkLossWeights(lossWeights, decay ? [...lossNamesNow, "weightDecay"] : lossNamesNow, fn);
    st.lossNames = lossNamesNow;
    st.logNames = [...lossNamesNow, ...(decay ? ["weightDecay"] : []), "total"];
  }
  if (decayValue) terms.weightDecay = decayValue;
  return totalAndVector(terms, st.logNames.slice(0, -1), lossWeights);
}

/** tf.variableGrads of the loss over the trained variables (none when only weight decay reads them), with a clear error when nothing does. */
function lossGradients<D extends TensorRecord>(setup: StepSetup<D>, st: StepState, loss: () => tf.Scalar): tf.NamedTensorMap {
  try {
    return tf.variableGrads(loss, st.variables).grads;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (message.startsWith("Cannot find a connection")) {
      // Weight decay alone may train them: the update adds its gradient to zeros (the terms were taken, and the running
      // sums kept, by the call that threw).
      if (setup.decay?.variables.some((v) => v.trainable && st.variables.includes(v))) return {};
      throw new Error(`${setup.fn}: the loss does not depend on any of the ${st.variables.length} trained variables; compute lossTerms from the models/variables you pass`);
    }
    throw error;
  }
}

/** After the first step: train only what the loss or weight decay depends on (warned once); tf optimisers key their state by position, so the list then stays fixed. */
function keepUsedVariables(fn: string, st: StepState, grads: tf.NamedTensorMap, decay: WeightDecay | null): void {
  const decayed = new Set(decay?.variables ?? []);
  const unused = st.variables.filter((v) => grads[v.name] == null && !decayed.has(v));
  if (unused.length > 0) {
    const names = unused.slice(0, 3).map((v) => v.name).join(", ") + (unused.length > 3 ? ", …" : "");
    console.warn(`${fn}: the loss does not depend on ${unused.length} of ${st.variables.length} trained variables (${names}); they are left unchanged`);
    st.variables = st.variables.filter((v) => !unused.includes(v));
  }
  st.variablesChecked = true;
}
