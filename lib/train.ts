/**
 * The one training loop behind every model of the five papers.
 *
 * The caller gives aligned data tensors, a function that turns a batch into NAMED loss
 * terms (the total is their optionally weighted sum), and what to train (variables, or
 * models/layers whose trainable weights are collected; frozen ones are left alone).
 * Each step runs in tf.tidy; per-term sums stay on the device and are read back only at
 * logging points (epoch end, or every `logEvery` steps), where a NaN/Inf guard stops
 * training with an error naming the term and epoch. Same seed → same history.
 *
 * The files in lib/train/, each one concern (this file re-exports their public names, as
 * lib/png.ts, lib/models.ts and lib/plots.ts do for theirs):
 *   types.ts       options, callbacks, per-epoch logs, history (the public types)
 *   loop.ts        trainModel: options checked once, then epochs of steps, read-backs, stopping
 *   step.ts        one optimiser step: terms under the gradient tape, running sums, the update
 *   loss-terms.ts  named terms: checks, weighted total, weight decay, the NaN guard's words
 *   optimizers.ts  createOptimizer (Adam through lib/optimizer-hooks.ts), schedules, disposal
 *   evaluation.ts  gradient-free passes: evaluateLossTerms (and validation), predictBatched
 *   batches.ts     aligned records: checks, slices, seeded shuffles, per-step seeds
 *   variables.ts   what is trained: trainableVariables, freeze, unfreeze
 *
 * A barrel here rather than lib/train/index.ts: a build from before the split keeps
 * lib/dist/train.js, which Node and TypeScript resolve before lib/dist/train/index.js, so the
 * notebooks would silently run the old loop; this file overwrites it.
 */
export type {
  TensorRecord, LossTerms, LossContext, LossTermsFn, TrainableSource, OptimizerName, OptimizerSpec, OptimizerStepState,
  CustomOptimizer, WeightDecayOptions, EpochLogs, BatchInfo, StopSignal, TrainCallbacks, TrainOptions, TrainHistory,
} from "./train/types";
export { trainModel } from "./train/loop";
export { stepDecay, createOptimizer, disposeOptimizer } from "./train/optimizers";
export { evaluateLossTerms, predictBatched } from "./train/evaluation";
export { mixSeeds } from "./train/batches";
export { freeze, unfreeze, trainableVariables } from "./train/variables";
