/**
 * The public types of training: what trainModel is given (data, named loss terms, what to
 * train, the optimiser, callbacks) and what it returns (per-epoch logs and the history).
 */
import * as tf from "@tensorflow/tfjs";
import type { ProgressOptions } from "../progress";

/** Aligned tensors sharing their first (sample) dimension, e.g. { xs, ys } or { xs, noisy, labels }. */
export type TensorRecord = Record<string, tf.Tensor>;

/** Named scalar loss terms of one batch, e.g. { reconstruction, kl }. */
export type LossTerms = Record<string, tf.Scalar>;

/** What a loss function knows about the step it is computing. */
export interface LossContext {
  /** True while training (add latent noise, dropout); false in validation/evaluation. */
  training: boolean;
  /** 1-based epoch. */
  epoch: number;
  numEpochs: number;
  /** 0-based global optimiser step (in evaluation: the batch index). */
  step: number;
  /** 0-based batch index within the epoch (or evaluation). */
  batchIndex: number;
  /** Rows in this batch (the last one may be smaller). */
  batchSize: number;
  /** An integer seed unique to this step, for seeded per-batch noise: tf.randomNormal(shape, 0, s, "float32", context.seed). */
  seed: number;
}

/** Batch → named scalar terms. Called inside tf.tidy and under the gradient tape. */
export type LossTermsFn<D extends TensorRecord = TensorRecord> = (batch: D, context: LossContext) => LossTerms;

/** A model or layer whose trainable weights are trained (frozen ones are skipped). */
export type TrainableSource = tf.LayersModel | tf.layers.Layer;

export type OptimizerName = "sgd" | "momentum" | "adam" | "rmsprop" | "adagrad" | "adamax" | "adadelta";

/** A built-in optimiser by name; unset fields take tfjs/Keras defaults. */
export interface OptimizerSpec {
  name: OptimizerName;
  /** Default: sgd/momentum/adagrad 0.01, adam/rmsprop/adadelta 0.001, adamax 0.002. */
  learningRate?: number;
  /** momentum (default 0.9) and rmsprop (default 0). */
  momentum?: number;
  useNesterov?: boolean;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** rmsprop's discounting factor (default 0.9); adamax's learning-rate decay (default 0). */
  decay?: number;
  /** adadelta's decay rate (default 0.95). */
  rho?: number;
  centered?: boolean;
}

/** What a hand-written optimiser gets each step. */
export interface OptimizerStepState {
  /** 0-based global step. */
  step: number;
  /** 1-based epoch. */
  epoch: number;
  /** The rate in effect (after learningRateSchedule); NaN when none is known. */
  learningRate: number;
}

/**
 * A hand-written optimiser: `update` changes each variable in place (v.assign(...)) from
 * its gradient. It runs inside tf.tidy, so state kept across steps must be tf.keep'd or
 * tf.Variables (and freed by `dispose`). `learningRate`, if present, is set by a schedule.
 */
export interface CustomOptimizer {
  update(variables: tf.Variable[], gradients: tf.Tensor[], state: OptimizerStepState): void;
  learningRate?: number;
  dispose?(): void;
}

/** L2 penalty (rate/2)·Σ‖v‖² (gradient rate·v, as PyTorch's weight_decay), logged as term "weightDecay". */
export interface WeightDecayOptions {
  rate: number;
  /** Which variables: a list, or a filter over the trained ones (default: all trained variables). */
  variables?: tf.Variable[] | ((variable: tf.Variable) => boolean);
}

/** Per-epoch results, as callbacks, stopWhen and the history see them. */
export interface EpochLogs {
  /** 1-based. */
  epoch: number;
  numEpochs: number;
  /** Mean over the epoch's samples of each term, plus "total" (and "weightDecay" when used). */
  terms: Record<string, number>;
  /** Validation terms (no gradients, training: false), plus "total". */
  validation?: Record<string, number>;
  learningRate: number;
  samplesPerSecond: number;
  /** Seconds this epoch took, validation included. */
  seconds: number;
  /** Global steps done so far. */
  steps: number;
}

/** Passed to onBatchEnd; `terms` (running epoch means) only at logEvery points, so no step forces a read-back. */
export interface BatchInfo {
  epoch: number;
  step: number;
  batchIndex: number;
  batchSize: number;
  terms?: Record<string, number>;
}

/** Returned by onEpochEnd: false or "stop" ends training after this epoch. */
export type StopSignal = boolean | "stop" | void;

export interface TrainCallbacks {
  onEpochBegin?(epoch: number): void | Promise<void>;
  onBatchEnd?(step: number, info: BatchInfo): void | Promise<void>;
  onEpochEnd?(epoch: number, logs: EpochLogs): StopSignal | Promise<StopSignal>;
  onTrainEnd?(history: TrainHistory): void | Promise<void>;
}

export interface TrainOptions<D extends TensorRecord = TensorRecord> {
  /** Aligned tensors sharing the first dimension. */
  data: D;
  /** Batch → named scalar terms; the loss minimised is Σ lossWeights[k]·term[k]. */
  lossTerms: LossTermsFn<D>;
  /** Variables to train (frozen ones, trainable = false, are skipped). */
  variables?: tf.Variable[];
  /** Models or layers whose trainable weights are trained (respects layer/model.trainable). */
  models?: TrainableSource[];
  /** A tf optimiser (caller owns its state), a spec (created and disposed here) or a hand-written one. Default adam 1e-3. */
  optimizer?: tf.Optimizer | OptimizerSpec | CustomOptimizer;
  numEpochs: number;
  /** Default 32. */
  batchSize?: number;
  /** Reshuffle every epoch with a seeded permutation (default true). */
  shuffle?: boolean;
  /** Seed of shuffles and of context.seed (default 0). */
  seed?: number;
  /** Drop the last partial batch (default false: kept). */
  dropRemainder?: boolean;
  /** Weight of each term in the total (default 1 each); terms are logged unweighted. */
  lossWeights?: Record<string, number>;
  /** Evaluated at each epoch end without gradients, with context.training = false. */
  validationData?: D;
  /** Default: lossTerms. */
  validationLossTerms?: LossTermsFn<D>;
  /** Default: batchSize. */
  validationBatchSize?: number;
  /** Learning rate for a 1-based epoch, given the initial one (see stepDecay). */
  learningRateSchedule?: (epoch: number, initialLearningRate: number) => number;
  /** L2 weight decay: a rate for all trained variables, or WeightDecayOptions. */
  weightDecay?: number | WeightDecayOptions;
  callbacks?: TrainCallbacks;
  /** Stop after the epoch whose logs satisfy this, e.g. logs => logs.terms.total < 1e-3. */
  stopWhen?: (logs: EpochLogs) => boolean;
  /** Also read back (guard, progress, onBatchEnd terms) every this many steps within an epoch. */
  logEvery?: number;
  /** true: show progress; false: none; "auto" (default): in a notebook, or on a terminal's stderr; or options. */
  progress?: boolean | "auto" | ProgressOptions;
  /** Shown first on the progress line (and names the model in warnings). */
  label?: string;
  /** Warn once when weights blow up or the loss stops moving without a NaN (lib/divergence.ts) (default true). */
  divergenceWarning?: boolean;
}

export interface TrainHistory {
  /** 1-based epoch numbers that ran. */
  epochs: number[];
  /** Per-epoch mean of each term, incl. "total". */
  terms: Record<string, number[]>;
  validation?: Record<string, number[]>;
  learningRate: number[];
  samplesPerSecond: number[];
  epochSeconds: number[];
  /** Seconds for the whole call. */
  seconds: number;
  /** Optimiser steps taken. */
  steps: number;
  /** The tfjs backend that ran it (tf.getBackend()). */
  backend: string;
  stoppedEarly: boolean;
  stopReason?: string;
}
