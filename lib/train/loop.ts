/**
 * The one training loop behind every model of the five papers.
 *
 * The caller gives aligned data tensors, a function that turns a batch into NAMED loss
 * terms (the total is their optionally weighted sum), and what to train (variables, or
 * models/layers whose trainable weights are collected; frozen ones are left alone).
 * Each step runs in tf.tidy; per-term sums stay on the device and are read back only at
 * logging points (epoch end, or every `logEvery` steps), where a NaN/Inf guard stops
 * training with an error naming the term and epoch. Same seed → same history.
 */
import * as tf from "@tensorflow/tfjs";
import { createAdam } from "./optimizer-hooks";
import { permutation } from "./random";
import { inKernel } from "./display";
import { createProgressReporter, ProgressOptions, ProgressReporter, ProgressState } from "./progress";
import { checkPositiveInteger } from "./checks";
import { createDivergenceDetector, trainedName } from "./divergence";

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

/** Scheduled learning rate: initial·factor^⌊(epoch−1)/every⌋ (e.g. every 30 epochs ÷10: { every: 30, factor: 0.1 }). */
export function stepDecay(options: { every: number; factor: number }): (epoch: number, initialLearningRate: number) => number {
  const { every, factor } = options;
  if (!Number.isInteger(every) || every < 1) throw new Error(`stepDecay: every must be a positive integer, got ${every}`);
  if (!Number.isFinite(factor) || factor <= 0) throw new Error(`stepDecay: factor must be a positive number, got ${factor}`);
  return (epoch, initial) => initial * Math.pow(factor, Math.floor((epoch - 1) / every));
}

/** Exclude a model or layer from training (trainable = false); returns it. */
export function freeze<T extends TrainableSource>(model: T): T {
  model.trainable = false;
  return model;
}

/** Make a model or layer trainable again; returns it. */
export function unfreeze<T extends TrainableSource>(model: T): T {
  model.trainable = true;
  return model;
}

/** The trainable tf.Variables of models/layers and loose variables, frozen ones left out, each once. */
export function trainableVariables(sources: TrainableSource[] = [], variables: tf.Variable[] = []): tf.Variable[] {
  const out: tf.Variable[] = [];
  const seen = new Set<string>();
  const add = (v: tf.Variable) => {
    if (!v.trainable || seen.has(v.name)) return;
    seen.add(v.name);
    out.push(v);
  };
  for (const source of sources) {
    if (source == null || !Array.isArray((source as { trainableWeights?: unknown }).trainableWeights)) {
      throw new Error("trainableVariables: each entry of models must be a tf.LayersModel or tf.layers.Layer");
    }
    for (const w of source.trainableWeights) if (w.trainable) add(w.read() as tf.Variable);
  }
  for (const v of variables) {
    if (!(v instanceof tf.Variable)) throw new Error("trainableVariables: each entry of variables must be a tf.Variable");
    add(v);
  }
  return out;
}

const DEFAULT_LEARNING_RATES: Record<OptimizerName, number> = {
  sgd: 0.01, momentum: 0.01, adagrad: 0.01, adam: 0.001, rmsprop: 0.001, adadelta: 0.001, adamax: 0.002,
};

/**
 * Free everything a tf optimiser holds. tfjs 4.22's MomentumOptimizer.dispose() frees its
 * momentum scalar and slots but not the learning-rate scalar it inherits from SGD, so a
 * plain dispose() leaves one tensor per momentum optimiser; this frees that too.
 */
export function disposeOptimizer(optimizer: tf.Optimizer): void {
  optimizer.dispose();
  const learningRateScalar = (optimizer as unknown as { c?: tf.Tensor }).c;
  if (learningRateScalar instanceof tf.Tensor && !learningRateScalar.isDisposed) learningRateScalar.dispose();
}

/** Build a tf optimiser from a spec (the caller disposes it, with disposeOptimizer). */
export function createOptimizer(spec: OptimizerSpec): tf.Optimizer {
  if (!(spec.name in DEFAULT_LEARNING_RATES)) {
    throw new Error(`createOptimizer: unknown optimizer ${JSON.stringify(spec.name)}; expected one of ${Object.keys(DEFAULT_LEARNING_RATES).join(", ")}`);
  }
  const lr = spec.learningRate ?? DEFAULT_LEARNING_RATES[spec.name];
  if (!Number.isFinite(lr) || lr < 0) throw new Error(`createOptimizer: learningRate must be a non-negative number, got ${lr}`);
  switch (spec.name) {
    case "sgd": return tf.train.sgd(lr);
    case "momentum": return tf.train.momentum(lr, spec.momentum ?? 0.9, spec.useNesterov ?? false);
    // tfjs's Adam, or an accelerator's with the same arithmetic (lib/optimizer-hooks.ts).
    case "adam": return createAdam(lr, spec.beta1 ?? 0.9, spec.beta2 ?? 0.999, spec.epsilon);
    case "rmsprop": return tf.train.rmsprop(lr, spec.decay ?? 0.9, spec.momentum ?? 0, spec.epsilon, spec.centered ?? false);
    case "adagrad": return tf.train.adagrad(lr);
    case "adamax": return tf.train.adamax(lr, spec.beta1 ?? 0.9, spec.beta2 ?? 0.999, spec.epsilon, spec.decay ?? 0);
    case "adadelta": return tf.train.adadelta(lr, spec.rho ?? 0.95, spec.epsilon);
  }
}

/** A deterministic 31-bit seed from a base seed and a salt (epoch, step). */
export function mixSeeds(seed: number, salt: number): number {
  let h = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul((salt | 0) + 0x632be5ab, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) & 0x7fffffff;
}

/** Check a data record: non-empty, live tensors, one shared first dimension; returns it. */
function checkAlignedData(data: TensorRecord, what: string, fn: string): number {
  if (data == null || typeof data !== "object") throw new Error(`${fn}: ${what} must be a record of tensors, e.g. { xs, ys }`);
  const keys = Object.keys(data);
  if (keys.length === 0) throw new Error(`${fn}: ${what} is empty; give at least one tensor, e.g. { xs }`);
  let n = -1;
  for (const key of keys) {
    const t = data[key];
    if (!(t instanceof tf.Tensor)) throw new Error(`${fn}: ${what}.${key} must be a tf.Tensor`);
    if (t.isDisposed) throw new Error(`${fn}: ${what}.${key} has been disposed`);
    if (t.rank < 1) throw new Error(`${fn}: ${what}.${key} must have a sample dimension (rank ≥ 1), got a scalar`);
    if (n < 0) n = t.shape[0];
    else if (t.shape[0] !== n) {
      throw new Error(`${fn}: ${what} tensors must share their first dimension: ${keys[0]} has ${n} rows but ${key} has ${t.shape[0]} (shape [${t.shape.join(", ")}])`);
    }
  }
  if (n === 0) throw new Error(`${fn}: ${what} has no samples (first dimension 0)`);
  return n;
}

/** Rows [start, start+size) of every tensor in the record (the record itself when that is all of it). */
function sliceRecord<D extends TensorRecord>(data: D, start: number, size: number, numSamples: number): D {
  if (start === 0 && size === numSamples) return data;
  const out: TensorRecord = {};
  for (const key of Object.keys(data)) out[key] = tf.slice(data[key], start, size);
  return out as D;
}

/** Every tensor of the record reordered by one gather with the same index tensor. */
function gatherRecord<D extends TensorRecord>(data: D, order: Int32Array): D {
  return tf.tidy(() => {
    const indices = tf.tensor1d(order, "int32");
    const out: TensorRecord = {};
    for (const key of Object.keys(data)) out[key] = tf.gather(data[key], indices);
    return out;
  }) as D;
}

/** Check a batch's terms: non-empty, scalars, no reserved names, the same names every step. */
function checkTerms(terms: LossTerms, expected: string[] | null, reserved: string[], fn: string, what: string): string[] {
  if (terms == null || typeof terms !== "object") throw new Error(`${fn}: ${what} must return a record of scalar tensors, e.g. { reconstruction: mse }`);
  const names = Object.keys(terms);
  if (names.length === 0) throw new Error(`${fn}: ${what} returned no terms; return at least one, e.g. { reconstruction: mse }`);
  for (const name of names) {
    const t = terms[name];
    if (!(t instanceof tf.Tensor)) throw new Error(`${fn}: ${what} term '${name}' must be a tf.Scalar`);
    if (t.rank !== 0) throw new Error(`${fn}: ${what} term '${name}' must be a scalar (rank 0), got shape [${t.shape.join(", ")}]; reduce it, e.g. with tf.mean`);
    if (reserved.includes(name)) throw new Error(`${fn}: ${what} may not name a term '${name}' (reserved: ${reserved.join(", ")})`);
  }
  if (expected !== null && (names.length !== expected.length || names.some((n, i) => n !== expected[i]))) {
    throw new Error(`${fn}: ${what} must return the same terms every batch: first [${expected.join(", ")}], now [${names.join(", ")}]`);
  }
  return names;
}

function checkLossWeights(lossWeights: Record<string, number> | undefined, names: string[], fn: string): void {
  if (!lossWeights) return;
  for (const [name, weight] of Object.entries(lossWeights)) {
    if (!names.includes(name)) throw new Error(`${fn}: lossWeights names '${name}', which is not a loss term (terms: ${names.join(", ")})`);
    if (!Number.isFinite(weight)) throw new Error(`${fn}: lossWeights.${name} must be a finite number, got ${weight}`);
  }
}

/** Σ w_k·t_k over the terms, and a vector [t_1, …, t_K, total] (float32). */
function totalAndVector(terms: LossTerms, names: string[], lossWeights: Record<string, number> | undefined): { total: tf.Scalar; vector: tf.Tensor1D } {
  const values = names.map((n) => (terms[n].dtype === "float32" ? terms[n] : tf.cast(terms[n], "float32")) as tf.Scalar);
  const weighted = values.map((v, i) => {
    const w = lossWeights?.[names[i]];
    return w === undefined || w === 1 ? v : tf.mul(v, w);
  });
  const total = (weighted.length === 1 ? weighted[0] : tf.addN(weighted)) as tf.Scalar;
  return { total, vector: tf.stack([...values, total]) as tf.Tensor1D };
}

function firstNonFinite(names: string[], values: ArrayLike<number>): { name: string; value: number } | null {
  // Report a named term before "total", which is non-finite whenever one term is.
  for (let i = 0; i < names.length; i++) {
    if (!Number.isFinite(values[i])) return { name: names[i], value: values[i] };
  }
  return null;
}

function nonFiniteWord(value: number): string {
  return Number.isNaN(value) ? "NaN" : value > 0 ? "Inf" : "-Inf";
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function isThenable(value: unknown): value is Promise<unknown> {
  return value != null && typeof (value as { then?: unknown }).then === "function";
}

interface EvaluateCoreOptions {
  batchSize: number;
  lossWeights?: Record<string, number>;
  epoch: number;
  numEpochs: number;
  seed: number;
}

/** Batched, gradient-free means over samples of each term and the total; sums stay on device until one read-back. */
async function evaluateCore<D extends TensorRecord>(
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

/** What the loop learns at its first step and keeps. */
interface StepState {
  /** Names returned by lossTerms (fixed at the first step). */
  lossNames: string[] | null;
  /** Logged names: loss terms, weightDecay when used, total. */
  logNames: string[];
  /** Trained variables; narrowed after the first step to those the loss depends on. */
  variables: tf.Variable[];
  variablesChecked: boolean;
}

interface ResolvedOptimizer {
  apply(variables: tf.Variable[], grads: tf.NamedTensorMap, state: OptimizerStepState): void;
  setLearningRate(lr: number): void;
  learningRate(): number;
  dispose(): void;
}

function resolveOptimizer(optimizer: TrainOptions["optimizer"], fn: string): ResolvedOptimizer {
  const spec = optimizer ?? { name: "adam" as const, learningRate: 0.001 };
  const readLr = (o: object): number => {
    const lr = (o as { learningRate?: unknown }).learningRate;
    return typeof lr === "number" ? lr : NaN;
  };
  if (typeof (spec as CustomOptimizer).update === "function" && typeof (spec as tf.Optimizer).applyGradients !== "function") {
    const custom = spec as CustomOptimizer;
    return {
      apply: (variables, grads, state) => custom.update(variables, variables.map((v) => grads[v.name]), state),
      setLearningRate: (lr) => { custom.learningRate = lr; },
      learningRate: () => readLr(custom),
      dispose: () => {},
    };
  }
  let owned = false;
  let tfOptimizer: tf.Optimizer;
  if (typeof (spec as tf.Optimizer).applyGradients === "function") tfOptimizer = spec as tf.Optimizer;
  else if (typeof (spec as OptimizerSpec).name === "string") {
    tfOptimizer = createOptimizer(spec as OptimizerSpec);
    owned = true;
  } else {
    throw new Error(`${fn}: optimizer must be a tf.Optimizer, a spec such as { name: "adam", learningRate: 1e-3 }, or an object with update(variables, gradients, state)`);
  }
  return {
    apply: (_variables, grads) => tfOptimizer.applyGradients(grads),
    setLearningRate: (lr) => {
      const withSetter = tfOptimizer as unknown as { setLearningRate?: (lr: number) => void; learningRate?: number };
      if (typeof withSetter.setLearningRate === "function") withSetter.setLearningRate(lr);
      else withSetter.learningRate = lr;
    },
    learningRate: () => readLr(tfOptimizer),
    dispose: () => { if (owned) disposeOptimizer(tfOptimizer); },
  };
}

function resolveWeightDecay(option: TrainOptions["weightDecay"], trained: tf.Variable[], fn: string): { rate: number; variables: tf.Variable[] } | null {
  if (option === undefined) return null;
  const spec: WeightDecayOptions = typeof option === "number" ? { rate: option } : option;
  if (!Number.isFinite(spec.rate) || spec.rate < 0) throw new Error(`${fn}: weightDecay rate must be a non-negative number, got ${spec.rate}`);
  if (spec.rate === 0) return null;
  const variables = spec.variables === undefined ? trained
    : typeof spec.variables === "function" ? trained.filter(spec.variables)
    : spec.variables;
  if (variables.length === 0) throw new Error(`${fn}: weightDecay selects no variables`);
  return { rate: spec.rate, variables };
}

function resolveProgress(option: TrainOptions["progress"], label: string | undefined): ProgressReporter {
  if (option === false) return createProgressReporter({ mode: "none" });
  // true: always show something: in place in a notebook, else lines on stderr.
  if (option === true) return createProgressReporter({ mode: inKernel() ? "display" : "stream", label });
  if (option === undefined || option === "auto") return createProgressReporter({ mode: "auto", label });
  return createProgressReporter({ label, ...option });
}

/** Train the given variables/models on `data` by minimising Σ lossWeights·lossTerms; returns the per-epoch history. */
export async function trainModel<D extends TensorRecord>(options: TrainOptions<D>): Promise<TrainHistory> {
  const fn = "trainModel";
  const { data, lossTerms, numEpochs, lossWeights, callbacks = {} } = options;
  if (typeof lossTerms !== "function") throw new Error(`${fn}: lossTerms must be a function (batch, context) => { name: scalar, … }`);
  if (!Number.isInteger(numEpochs) || numEpochs < 0) throw new Error(`${fn}: numEpochs must be a non-negative integer, got ${numEpochs}`);
  const batchSize = options.batchSize ?? 32;
  checkPositiveInteger(batchSize, "batchSize", fn);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new Error(`${fn}: seed must be an integer, got ${seed}`);
  if (options.logEvery !== undefined) checkPositiveInteger(options.logEvery, "logEvery", fn);
  const shuffle = options.shuffle ?? true;
  const numSamples = checkAlignedData(data, "data", fn);
  if (options.validationData !== undefined) checkAlignedData(options.validationData, "validationData", fn);
  const validationBatchSize = options.validationBatchSize ?? batchSize;
  checkPositiveInteger(validationBatchSize, "validationBatchSize", fn);
  const batchesPerEpoch = options.dropRemainder ? Math.floor(numSamples / batchSize) : Math.ceil(numSamples / batchSize);
  if (batchesPerEpoch === 0) throw new Error(`${fn}: dropRemainder with batchSize ${batchSize} > ${numSamples} samples leaves no batch`);

  const allVariables = trainableVariables(options.models ?? [], options.variables ?? []);
  if (allVariables.length === 0) {
    throw new Error(`${fn}: nothing to train: give variables or models with at least one trainable (not frozen) weight ` +
      `(a model whose first layer has no inputShape has no weights until it is first called)`);
  }
  const decay = resolveWeightDecay(options.weightDecay, allVariables, fn);
  const reservedNames = decay ? ["total", "weightDecay"] : ["total"];
  const optimizer = resolveOptimizer(options.optimizer, fn);
  const initialLearningRate = optimizer.learningRate();
  const reporter = resolveProgress(options.progress, options.label);
  const divergence = options.divergenceWarning === false ? null
    : createDivergenceDetector({ modelName: trainedName(options.label, options.models, allVariables.length), variables: allVariables });

  const history: TrainHistory = {
    epochs: [], terms: {}, learningRate: [], samplesPerSecond: [], epochSeconds: [], seconds: 0, steps: 0, backend: tf.getBackend(), stoppedEarly: false,
  };
  const state: StepState = { lossNames: null, logNames: [], variables: allVariables, variablesChecked: false };
  let sums: tf.Tensor1D | null = null;
  let shuffled: D | null = null;
  let globalStep = 0;
  let lastTerms: Record<string, number> | undefined;
  let lastValidation: Record<string, number> | undefined;
  let epoch = 0;
  const started = performance.now();
  const totalSteps = numEpochs * batchesPerEpoch;

  /** One optimiser step in tf.tidy; returns the new running sums [terms…, total]·rows (kept), the old ones untouched. */
  const runStep = (st: StepState, epochData: D, start: number, size: number, context: LossContext, previous: tf.Tensor1D | null, learningRate: number): tf.Tensor1D => {
    let next: tf.Tensor1D | null = null;
    try {
      tf.tidy(() => {
        const batch = sliceRecord(epochData, start, size, numSamples);
        let result: { value: tf.Scalar; grads: tf.NamedTensorMap };
        try {
          result = tf.variableGrads(() => {
            const terms = { ...lossTerms(batch, context) };
            const lossNamesNow = checkTerms(terms, st.lossNames, reservedNames, fn, "lossTerms");
            if (st.lossNames === null) {
              checkLossWeights(lossWeights, decay ? [...lossNamesNow, "weightDecay"] : lossNamesNow, fn);
              st.lossNames = lossNamesNow;
              st.logNames = [...lossNamesNow, ...(decay ? ["weightDecay"] : []), "total"];
            }
            if (decay) {
              const squares = decay.variables.map((v) => tf.sum(tf.square(v)));
              terms.weightDecay = tf.mul(decay.rate / 2, squares.length === 1 ? squares[0] : tf.addN(squares)) as tf.Scalar;
            }
            const { total, vector } = totalAndVector(terms, st.logNames.slice(0, -1), lossWeights);
            const scaled = tf.mul(vector, size);
            // Running sums stay on the device: read back only at logging points.
            next = tf.keep(previous === null ? scaled : tf.add(previous, scaled)) as tf.Tensor1D;
            return total;
          }, st.variables);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          if (message.startsWith("Cannot find a connection")) {
            throw new Error(`${fn}: the loss does not depend on any of the ${st.variables.length} trained variables; compute lossTerms from the models/variables you pass`);
          }
          throw error;
        }
        if (!st.variablesChecked) {
          // Train only what the loss depends on; tf optimisers key their state by position, so the list then stays fixed.
          const unused = st.variables.filter((v) => result.grads[v.name] == null);
          if (unused.length > 0) {
            const names = unused.slice(0, 3).map((v) => v.name).join(", ") + (unused.length > 3 ? ", …" : "");
            console.warn(`${fn}: the loss does not depend on ${unused.length} of ${st.variables.length} trained variables (${names}); they are left unchanged`);
            st.variables = st.variables.filter((v) => result.grads[v.name] != null);
          }
          st.variablesChecked = true;
        }
        const grads: tf.NamedTensorMap = {};
        for (const v of st.variables) grads[v.name] = result.grads[v.name] ?? tf.zerosLike(v);
        optimizer.apply(st.variables, grads, { step: context.step, epoch: context.epoch, learningRate });
      });
    } catch (error) {
      (next as tf.Tensor1D | null)?.dispose();
      throw error;
    }
    return next!;
  };

  const readMeans = async (vector: tf.Tensor1D, count: number, firstStep: number, lastStep: number): Promise<Record<string, number>> => {
    const values = await vector.data();
    const bad = firstNonFinite(state.logNames, values);
    if (bad) {
      const steps = firstStep === lastStep ? `step ${firstStep}` : `steps ${firstStep}–${lastStep}`;
      throw new Error(`${fn}: loss term '${bad.name}' became ${nonFiniteWord(bad.value)} in epoch ${epoch} (${steps}); ` +
        `try a lower learning rate or check that term for log(0), division by zero or overflow`);
    }
    const out: Record<string, number> = {};
    state.logNames.forEach((name, i) => { out[name] = values[i] / count; });
    return out;
  };

  try {
    for (epoch = 1; epoch <= numEpochs; epoch++) {
      if (callbacks.onEpochBegin) await callbacks.onEpochBegin(epoch);
      if (options.learningRateSchedule) {
        const lr = options.learningRateSchedule(epoch, initialLearningRate);
        if (!Number.isFinite(lr) || lr < 0) throw new Error(`${fn}: learningRateSchedule(${epoch}) returned ${lr}; expected a non-negative number`);
        optimizer.setLearningRate(lr);
      }
      const learningRate = optimizer.learningRate();
      const epochStart = performance.now();
      shuffled = shuffle ? gatherRecord(data, permutation(numSamples, mixSeeds(seed, epoch))) : data;
      const epochData: D = shuffled;
      let samplesInEpoch = 0;
      let windowStart = globalStep;

      for (let b = 0; b < batchesPerEpoch; b++) {
        const start = b * batchSize;
        const size = Math.min(batchSize, numSamples - start);
        const step = globalStep;
        const context: LossContext = { training: true, epoch, numEpochs, step, batchIndex: b, batchSize: size, seed: mixSeeds(seed, step + 0x10000) };
        const next = runStep(state, epochData, start, size, context, sums, learningRate);
        sums?.dispose();
        sums = next as tf.Tensor1D | null;
        samplesInEpoch += size;
        globalStep++;
        history.steps = globalStep;

        let info: BatchInfo | undefined;
        const isLogPoint = options.logEvery !== undefined && (b + 1) % options.logEvery === 0 && b + 1 < batchesPerEpoch;
        if (isLogPoint) {
          lastTerms = await readMeans(sums!, samplesInEpoch, windowStart, globalStep - 1);
          windowStart = globalStep;
          info = { epoch, step, batchIndex: b, batchSize: size, terms: lastTerms };
        }
        if (callbacks.onBatchEnd) {
          const r = callbacks.onBatchEnd(step, info ?? { epoch, step, batchIndex: b, batchSize: size });
          if (isThenable(r)) await r;
        }
        if (reporter.mode !== "none") {
          const now = performance.now();
          const elapsed = (now - started) / 1000;
          const progressState: ProgressState = {
            epoch, numEpochs, batch: b + 1, batchesPerEpoch, terms: lastTerms, validation: lastValidation,
            samplesPerSecond: samplesInEpoch / ((now - epochStart) / 1000), elapsedSeconds: elapsed,
            etaSeconds: (elapsed * (totalSteps - globalStep)) / globalStep,
          };
          // Let the kernel send the update now, not after the epoch (the loop holds the event loop otherwise).
          if (reporter.update(progressState)) await yieldToEventLoop();
        }
      }

      const terms = await readMeans(sums!, samplesInEpoch, windowStart, globalStep - 1);
      sums?.dispose();
      sums = null;
      const trainSeconds = (performance.now() - epochStart) / 1000;
      if (shuffled !== data) tf.dispose(Object.values(shuffled));
      shuffled = null;

      let validation: Record<string, number> | undefined;
      if (options.validationData !== undefined) {
        validation = await evaluateCore(options.validationData, options.validationLossTerms ?? lossTerms,
          { batchSize: validationBatchSize, lossWeights, epoch, numEpochs, seed }, fn, "validationData", "validationLossTerms");
        const names = Object.keys(validation);
        const bad = firstNonFinite(names, names.map((n) => validation![n]));
        if (bad) throw new Error(`${fn}: validation loss term '${bad.name}' became ${nonFiniteWord(bad.value)} in epoch ${epoch}`);
      }
      const epochSeconds = (performance.now() - epochStart) / 1000;
      const samplesPerSecond = samplesInEpoch / trainSeconds;

      history.epochs.push(epoch);
      for (const name of Object.keys(terms)) (history.terms[name] ??= []).push(terms[name]);
      if (validation) {
        history.validation ??= {};
        for (const name of Object.keys(validation)) (history.validation[name] ??= []).push(validation[name]);
      }
      history.learningRate.push(learningRate);
      history.samplesPerSecond.push(samplesPerSecond);
      history.epochSeconds.push(epochSeconds);
      lastTerms = terms;
      lastValidation = validation;
      await divergence?.check(epoch, terms);

      const logs: EpochLogs = { epoch, numEpochs, terms, validation, learningRate, samplesPerSecond, seconds: epochSeconds, steps: globalStep };
      const elapsed = (performance.now() - started) / 1000;
      reporter.epochEnd({
        epoch, numEpochs, terms, validation, samplesPerSecond, elapsedSeconds: elapsed,
        etaSeconds: (elapsed * (numEpochs - epoch)) / epoch,
      });
      if (callbacks.onEpochEnd) {
        const signal = await callbacks.onEpochEnd(epoch, logs);
        if (signal === false || signal === "stop") {
          history.stoppedEarly = true;
          history.stopReason = `onEpochEnd asked to stop after epoch ${epoch}`;
        }
      }
      if (!history.stoppedEarly && options.stopWhen && options.stopWhen(logs)) {
        history.stoppedEarly = true;
        history.stopReason = `stopWhen was met after epoch ${epoch}`;
      }
      if (history.stoppedEarly) break;
      if (reporter.mode !== "none") await yieldToEventLoop();
    }
    history.seconds = (performance.now() - started) / 1000;
    const lastEpoch = history.epochs.length;
    reporter.finish({
      epoch: lastEpoch, numEpochs, terms: lastTerms, validation: lastValidation, elapsedSeconds: history.seconds,
      samplesPerSecond: lastEpoch > 0 ? history.samplesPerSecond[lastEpoch - 1] : undefined, stopReason: history.stopReason,
    });
    if (callbacks.onTrainEnd) await callbacks.onTrainEnd(history);
    return history;
  } catch (error) {
    history.seconds = (performance.now() - started) / 1000;
    reporter.finish({
      epoch: Math.min(epoch, numEpochs), numEpochs, terms: lastTerms, elapsedSeconds: history.seconds,
      error: error instanceof Error ? error.message : String(error),
    });
    throw error;
  } finally {
    sums?.dispose();
    if (shuffled !== null && shuffled !== data) tf.dispose(Object.values(shuffled));
    optimizer.dispose();
    divergence?.dispose();
  }
}
