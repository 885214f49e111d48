/**
 * Gradient-free passes over data: mean loss terms (validation and evaluateLossTerms), and
 * batched prediction.
 */
import * as tf from "@tensorflow/tfjs";
import { checkPositiveInteger } from "../checks";
import { checkAlignedData, mixSeeds, sliceRecord } from "./batches";
import { checkLossWeights, checkTerms, totalAndVector } from "./loss-terms";
import type { LossContext, LossTermsFn, TensorRecord } from "./types";

/** How evaluateCore batches and seeds (epoch/numEpochs are what each batch's context reports). */
export interface EvaluateCoreOptions {
  batchSize: number;
  lossWeights?: Record<string, number>;
  epoch: number;
  numEpochs: number;
  seed: number;
}

/** Batched, gradient-free means over samples of each term and the total; sums stay on device until one read-back. */
export async function evaluateCore<D extends TensorRecord>(
  data: D, lossTerms: LossTermsFn<D>, options: EvaluateCoreOptions, fn: string, dataName: string, what: string,
): Promise<Record<string, number>> {
  const n = checkAlignedData(data, dataName, fn);
  let names: string[] | null = null;
  let sums: tf.Tensor1D | null = null;
  try {
    const numBatches = Math.ceil(n / options.batchSize);
    for (let b = 0; b < numBatches; b++) {
      const start = b * options.batchSize;
      const size = Math.min(options.batchSize, n - start);
      const context: LossContext = {
        training: false, epoch: options.epoch, numEpochs: options.numEpochs, step: b, batchIndex: b, batchSize: size,
        seed: mixSeeds(options.seed ^ 0x2545f491, b),
      };
      const previous: tf.Tensor1D | null = sums;
      sums = tf.tidy(() => {
        const batch = sliceRecord(data, start, size, n);
        const terms = lossTerms(batch, context);
        names = checkTerms(terms, names, ["total"], fn, what);
        if (b === 0) checkLossWeights(options.lossWeights, names, fn);
        const { vector } = totalAndVector(terms, names, options.lossWeights);
        const scaled = tf.mul(vector, size);
        return previous === null ? scaled : tf.add(previous, scaled);
      }) as tf.Tensor1D;
      previous?.dispose();
    }
    const values = await sums!.data();
    const out: Record<string, number> = {};
    [...names!, "total"].forEach((name, i) => { out[name] = values[i] / n; });
    return out;
  } finally {
    sums?.dispose();
  }
}

/** Mean over samples of each loss term (and the weighted "total"), batched and without gradients (context.training = false). */
export async function evaluateLossTerms<D extends TensorRecord>(
  data: D,
  lossTerms: LossTermsFn<D>,
  options: { batchSize?: number; lossWeights?: Record<string, number>; seed?: number } = {},
): Promise<Record<string, number>> {
  const batchSize = options.batchSize ?? 256;
  checkPositiveInteger(batchSize, "batchSize", "evaluateLossTerms");
  return evaluateCore(data, lossTerms, { batchSize, lossWeights: options.lossWeights, epoch: 0, numEpochs: 0, seed: options.seed ?? 0 }, "evaluateLossTerms", "data", "lossTerms");
}

/** Apply `predict` (a function or a model) to `xs` in batches inside tf.tidy and concatenate; bounds peak memory of inference. */
export function predictBatched(
  predict: ((batch: tf.Tensor) => tf.Tensor) | { predict(x: tf.Tensor): tf.Tensor | tf.Tensor[] },
  xs: tf.Tensor,
  options: { batchSize?: number } = {},
): tf.Tensor {
  const batchSize = options.batchSize ?? 256;
  checkPositiveInteger(batchSize, "batchSize", "predictBatched");
  if (!(xs instanceof tf.Tensor) || xs.rank < 1) throw new Error("predictBatched: xs must be a tf.Tensor with a sample dimension (rank ≥ 1)");
  const apply = (batch: tf.Tensor): tf.Tensor => {
    const out = typeof predict === "function" ? predict(batch) : predict.predict(batch);
    if (!(out instanceof tf.Tensor)) throw new Error("predictBatched: predict must return one tf.Tensor (a model with several outputs: pass a function that picks one)");
    return out;
  };
  const n = xs.shape[0];
  const parts: tf.Tensor[] = [];
  try {
    for (let start = 0; start < n || (n === 0 && start === 0); start += batchSize) {
      const size = Math.min(batchSize, n - start);
      parts.push(tf.tidy(() => {
        const out = apply(size === n ? xs : tf.slice(xs, start, size));
        return out === xs ? tf.clone(xs) : out;
      }));
      if (n === 0) break;
    }
    if (parts.length === 1) return parts.pop()!;
    return tf.concat(parts, 0);
  } finally {
    tf.dispose(parts);
  }
}

