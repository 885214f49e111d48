/**
 * The training loop: trainModel checks its options once (planTraining), then runs epochs
 * (runEpoch) of optimiser steps (takeStep → step.ts's runStep). Per-term sums stay on the
 * device and are read back only at logging points (epoch end, or every `logEvery` steps),
 * where a NaN/Inf guard stops training with an error naming the term and epoch.
 */
import * as tf from "@tensorflow/tfjs";
import { permutation } from "../random";
import { inKernel } from "../display";
import { createProgressReporter, ProgressReporter } from "../progress";
import { checkPositiveInteger } from "../checks";
import { createDivergenceDetector, DivergenceDetector, trainedName } from "../divergence";
import { checkAlignedData, mixSeeds } from "./batches";
import { evaluateCore } from "./evaluation";
import { firstNonFinite, nonFiniteWord, resolveWeightDecay } from "./loss-terms";
import { resolveOptimizer } from "./optimizers";
import { runStep, StepSetup, StepState } from "./step";
import type { BatchInfo, EpochLogs, LossContext, TensorRecord, TrainCallbacks, TrainHistory, TrainOptions } from "./types";
import { trainableVariables } from "./variables";
import { startTrainingClock } from "./clock";

/** Train the given variables/models on `data` by minimising Σ lossWeights·lossTerms; returns the per-epoch history. */
export async function trainModel<D extends TensorRecord>(options: TrainOptions<D>): Promise<TrainHistory> {
  const plan = planTraining(options);
  const run = startRun(plan);
  const stopClock = startTrainingClock();
  try {
    for (run.epoch = 1; run.epoch <= plan.numEpochs; run.epoch++) {
      const logs = await runEpoch(plan, run);
      if (await stopsAfter(plan, run.history, logs)) break;
      if (plan.reporter.mode !== "none") await yieldToEventLoop();
    }
    return await finishRun(plan, run);
  } catch (error) {
    reportFailure(plan, run, error);
    throw error;
  } finally {
    releaseRun(plan, run);
    stopClock();
  }
}

/** What trainModel fixes before its first epoch: the checked options and what they resolve to. */
interface TrainingPlan<D extends TensorRecord> extends StepSetup<D> {
  options: TrainOptions<D>;
  data: D;
  callbacks: TrainCallbacks;
  numEpochs: number;
  batchSize: number;
  seed: number;
  shuffle: boolean;
  batchesPerEpoch: number;
  totalSteps: number;
  validationBatchSize: number;
  /** Trainable, not frozen (step.ts narrows them to those the loss depends on). */
  variables: tf.Variable[];
  initialLearningRate: number;
  reporter: ProgressReporter;
  divergence: DivergenceDetector | null;
}

/** What changes as trainModel runs; releaseRun frees the tensors it holds. */
interface RunState<D extends TensorRecord> {
  step: StepState;
  history: TrainHistory;
  /** Running sums [terms…, total]·rows of the epoch so far, on the device. */
  sums: tf.Tensor1D | null;
  /** This epoch's permutation of the sample indices (freed at the epoch's end); null without shuffling. */
  order: tf.Tensor1D | null;
  globalStep: number;
  /** 1-based epoch running (numEpochs + 1 after the last). */
  epoch: number;
  /** The last terms and validation read back (shown on the progress line). */
  lastTerms?: Record<string, number>;
  lastValidation?: Record<string, number>;
  /** performance.now() when training started. */
  started: number;
}

/** One epoch as its batches see it. */
interface EpochProgress {
  epoch: number;
  learningRate: number;
  /** performance.now() when the epoch started. */
  start: number;
  samples: number;
  /** First step since the last read-back (the NaN guard names the steps it covers). */
  windowStart: number;
}

/** Check the options (errors name the option) and resolve variables, weight decay, optimiser, progress and divergence warning. */
function planTraining<D extends TensorRecord>(options: TrainOptions<D>): TrainingPlan<D> {
  const fn = "trainModel";
  const sizes = checkSizes(options, fn);
  const allVariables = trainableVariables(options.models ?? [], options.variables ?? []);
  if (allVariables.length === 0) {
    throw new Error(`${fn}: nothing to train: give variables or models with at least one trainable (not frozen) weight ` +
      `(a model whose first layer has no inputShape has no weights until it is first called)`);
  }
  const decay = resolveWeightDecay(options.weightDecay, allVariables, fn);
  const optimizer = resolveOptimizer(options.optimizer, fn);
  const initialLearningRate = optimizer.learningRate();
  const reporter = resolveProgress(options.progress, options.label);
  const divergence = options.divergenceWarning === false ? null
    : createDivergenceDetector({ modelName: trainedName(options.label, options.models, allVariables.length), variables: allVariables });
  const { data, lossTerms, lossWeights, callbacks = {} } = options;
  return {
    ...sizes, fn, options, data, lossTerms, lossWeights, callbacks,
    totalSteps: sizes.numEpochs * sizes.batchesPerEpoch, variables: allVariables, decay, reservedNames: decay ? ["total", "weightDecay"] : ["total"],
    optimizer, initialLearningRate, reporter, divergence,
  };
}

/** The counts the loop runs by, checked. */
interface TrainSizes {
  numEpochs: number;
  batchSize: number;
  seed: number;
  shuffle: boolean;
  numSamples: number;
  validationBatchSize: number;
  batchesPerEpoch: number;
}

/** Check lossTerms, the counts and the data (errors name the option); returns the sizes the loop runs by. */
function checkSizes<D extends TensorRecord>(options: TrainOptions<D>, fn: string): TrainSizes {
  const { data, lossTerms, numEpochs } = options;
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
  return { numEpochs, batchSize, seed, shuffle, numSamples, validationBatchSize, batchesPerEpoch };
}

/** The progress reporter for TrainOptions.progress (default "auto"). */
function resolveProgress(option: TrainOptions["progress"], label: string | undefined): ProgressReporter {
  if (option === false) return createProgressReporter({ mode: "none" });
  // true: always show something: in place in a notebook, else lines on stderr.
  if (option === true) return createProgressReporter({ mode: inKernel() ? "display" : "stream", label });
  if (option === undefined || option === "auto") return createProgressReporter({ mode: "auto", label });
  return createProgressReporter({ label, ...option });
}

/** An empty history and the state of a run about to start (the clock starts here). */
function startRun<D extends TensorRecord>(plan: TrainingPlan<D>): RunState<D> {
  const history: TrainHistory = {
    epochs: [], terms: {}, learningRate: [], samplesPerSecond: [], epochSeconds: [], seconds: 0, steps: 0, backend: tf.getBackend(), stoppedEarly: false,
  };
  const step: StepState = { lossNames: null, logNames: [], variables: plan.variables, variablesChecked: false };
  return { step, history, sums: null, order: null, globalStep: 0, epoch: 0, started: performance.now() };
}

/** One epoch: its steps, the epoch means (one read-back, guarded), validation, the history, the divergence check and the progress line. */
async function runEpoch<D extends TensorRecord>(plan: TrainingPlan<D>, run: RunState<D>): Promise<EpochLogs> {
  const { epoch } = run;
  if (plan.callbacks.onEpochBegin) await plan.callbacks.onEpochBegin(epoch);
  const progress = await runBatches(plan, run, scheduleLearningRate(plan, epoch));
  const terms = await readMeans(plan, run, run.sums!, progress.samples, progress.windowStart, run.globalStep - 1);
  run.sums?.dispose();
  run.sums = null;
  const trainSeconds = (performance.now() - progress.start) / 1000;
  run.order?.dispose();
  run.order = null;
  const validation = plan.options.validationData === undefined ? undefined : await validate(plan, plan.options.validationData, epoch);
  const logs: EpochLogs = {
    epoch, numEpochs: plan.numEpochs, terms, validation, learningRate: progress.learningRate, samplesPerSecond: progress.samples / trainSeconds,
    seconds: (performance.now() - progress.start) / 1000, steps: run.globalStep,
  };
  recordEpoch(run, logs);
  await plan.divergence?.check(epoch, terms);
  reportEpoch(plan, run, logs);
  return logs;
}

/** Set the scheduled learning rate for this epoch (if any); returns the rate in effect. */
function scheduleLearningRate<D extends TensorRecord>(plan: TrainingPlan<D>, epoch: number): number {
  const schedule = plan.options.learningRateSchedule;
  if (schedule) {
    const lr = schedule(epoch, plan.initialLearningRate);
    if (!Number.isFinite(lr) || lr < 0) throw new Error(`${plan.fn}: learningRateSchedule(${epoch}) returned ${lr}; expected a non-negative number`);
    plan.optimizer.setLearningRate(lr);
  }
  return plan.optimizer.learningRate();
}

/** The epoch's steps over the (seeded, reshuffled) data; reads back only at logEvery points. */
async function runBatches<D extends TensorRecord>(plan: TrainingPlan<D>, run: RunState<D>, learningRate: number): Promise<EpochProgress> {
  const start = performance.now();
  // Each batch gathers its rows through the epoch's permutation (no reordered copy of the whole data set).
  run.order = plan.shuffle ? tf.tensor1d(permutation(plan.numSamples, mixSeeds(plan.seed, run.epoch)), "int32") : null;
  const progress: EpochProgress = { epoch: run.epoch, learningRate, start, samples: 0, windowStart: run.globalStep };
  for (let b = 0; b < plan.batchesPerEpoch; b++) {
    const info = takeStep(plan, run, progress, b);
    if (isLogPoint(plan, b)) info.terms = await readWindow(plan, run, progress);
    const r = plan.callbacks.onBatchEnd?.(info.step, info);
    if (isThenable(r)) await r;
    // Let the kernel send the update now, not after the epoch (the loop holds the event loop otherwise).
    if (plan.reporter.mode !== "none" && updateProgress(plan, run, progress, b)) await yieldToEventLoop();
  }
  return progress;
}

/** Batch b of the epoch: its context, one optimiser step, the running sums swapped (no read-back). */
function takeStep<D extends TensorRecord>(plan: TrainingPlan<D>, run: RunState<D>, progress: EpochProgress, b: number): BatchInfo {
  const { epoch } = progress;
  const start = b * plan.batchSize;
  const size = Math.min(plan.batchSize, plan.numSamples - start);
  const step = run.globalStep;
  const context: LossContext = { training: true, epoch, numEpochs: plan.numEpochs, step, batchIndex: b, batchSize: size, seed: mixSeeds(plan.seed, step + 0x10000) };
  const next = runStep(plan, run.step, { data: plan.data, order: run.order, start, size }, context, run.sums, progress.learningRate);
  run.sums?.dispose();
  run.sums = next;
  progress.samples += size;
  run.globalStep++;
  run.history.steps = run.globalStep;
  return { epoch, step, batchIndex: b, batchSize: size };
}

/** Within an epoch, a read-back every logEvery steps (the epoch's last step reads back anyway). */
function isLogPoint<D extends TensorRecord>(plan: TrainingPlan<D>, b: number): boolean {
  const { logEvery } = plan.options;
  return logEvery !== undefined && (b + 1) % logEvery === 0 && b + 1 < plan.batchesPerEpoch;
}

/** A logEvery read-back: the epoch's running means so far, guarded. */
async function readWindow<D extends TensorRecord>(plan: TrainingPlan<D>, run: RunState<D>, progress: EpochProgress): Promise<Record<string, number>> {
  run.lastTerms = await readMeans(plan, run, run.sums!, progress.samples, progress.windowStart, run.globalStep - 1);
  progress.windowStart = run.globalStep;
  return run.lastTerms;
}

/** Read the running sums back as means over `count` rows; the NaN/Inf guard names the first bad term, the epoch and the steps. */
async function readMeans<D extends TensorRecord>(
  plan: TrainingPlan<D>, run: RunState<D>, vector: tf.Tensor1D, count: number, firstStep: number, lastStep: number,
): Promise<Record<string, number>> {
  const { logNames } = run.step;
  const values = await vector.data();
  const bad = firstNonFinite(logNames, values);
  if (bad) {
    const steps = firstStep === lastStep ? `step ${firstStep}` : `steps ${firstStep}–${lastStep}`;
    throw new Error(`${plan.fn}: loss term '${bad.name}' became ${nonFiniteWord(bad.value)} in epoch ${run.epoch} (${steps}); ` +
      `try a lower learning rate or check that term for log(0), division by zero or overflow`);
  }
  const out: Record<string, number> = {};
  logNames.forEach((name, i) => { out[name] = values[i] / count; });
  return out;
}

/** The in-epoch progress line after batch b (throttled by the reporter); true when it was shown. */
function updateProgress<D extends TensorRecord>(plan: TrainingPlan<D>, run: RunState<D>, progress: EpochProgress, b: number): boolean {
  const now = performance.now();
  const elapsed = (now - run.started) / 1000;
  return plan.reporter.update({
    epoch: progress.epoch, numEpochs: plan.numEpochs, batch: b + 1, batchesPerEpoch: plan.batchesPerEpoch, terms: run.lastTerms, validation: run.lastValidation,
    samplesPerSecond: progress.samples / ((now - progress.start) / 1000), elapsedSeconds: elapsed,
    etaSeconds: (elapsed * (plan.totalSteps - run.globalStep)) / run.globalStep,
  });
}

/** Validation terms of the epoch (no gradients, training: false), guarded against NaN/Inf. */
async function validate<D extends TensorRecord>(plan: TrainingPlan<D>, data: D, epoch: number): Promise<Record<string, number>> {
  const { fn } = plan;
  const validation = await evaluateCore(data, plan.options.validationLossTerms ?? plan.lossTerms,
    { batchSize: plan.validationBatchSize, lossWeights: plan.lossWeights, epoch, numEpochs: plan.numEpochs, seed: plan.seed }, fn, "validationData", "validationLossTerms");
  const names = Object.keys(validation);
  const bad = firstNonFinite(names, names.map((n) => validation[n]));
  if (bad) throw new Error(`${fn}: validation loss term '${bad.name}' became ${nonFiniteWord(bad.value)} in epoch ${epoch}`);
  return validation;
}

/** Append the epoch's logs to the history; they are also what the progress line shows next. */
function recordEpoch<D extends TensorRecord>(run: RunState<D>, logs: EpochLogs): void {
  const { history } = run;
  const { terms, validation } = logs;
  history.epochs.push(logs.epoch);
  for (const name of Object.keys(terms)) (history.terms[name] ??= []).push(terms[name]);
  if (validation) {
    history.validation ??= {};
    for (const name of Object.keys(validation)) (history.validation[name] ??= []).push(validation[name]);
  }
  history.learningRate.push(logs.learningRate);
  history.samplesPerSecond.push(logs.samplesPerSecond);
  history.epochSeconds.push(logs.seconds);
  run.lastTerms = terms;
  run.lastValidation = validation;
}

/** The epoch's line on the progress reporter. */
function reportEpoch<D extends TensorRecord>(plan: TrainingPlan<D>, run: RunState<D>, logs: EpochLogs): void {
  const { epoch, numEpochs, terms, validation, samplesPerSecond } = logs;
  const elapsed = (performance.now() - run.started) / 1000;
  plan.reporter.epochEnd({ epoch, numEpochs, terms, validation, samplesPerSecond, elapsedSeconds: elapsed, etaSeconds: (elapsed * (numEpochs - epoch)) / epoch });
}

/** Whether training ends after this epoch: onEpochEnd returned false or "stop", or stopWhen holds (the history says which). */
async function stopsAfter<D extends TensorRecord>(plan: TrainingPlan<D>, history: TrainHistory, logs: EpochLogs): Promise<boolean> {
  const { epoch } = logs;
  if (plan.callbacks.onEpochEnd) {
    const signal = await plan.callbacks.onEpochEnd(epoch, logs);
    if (signal === false || signal === "stop") {
      history.stoppedEarly = true;
      history.stopReason = `onEpochEnd asked to stop after epoch ${epoch}`;
    }
  }
  const { stopWhen } = plan.options;
  if (!history.stoppedEarly && stopWhen && stopWhen(logs)) {
    history.stoppedEarly = true;
    history.stopReason = `stopWhen was met after epoch ${epoch}`;
  }
  return history.stoppedEarly;
}

/** The closing progress line and onTrainEnd; returns the history. */
async function finishRun<D extends TensorRecord>(plan: TrainingPlan<D>, run: RunState<D>): Promise<TrainHistory> {
  const { history } = run;
  history.seconds = (performance.now() - run.started) / 1000;
  const lastEpoch = history.epochs.length;
  plan.reporter.finish({
    epoch: lastEpoch, numEpochs: plan.numEpochs, terms: run.lastTerms, validation: run.lastValidation, elapsedSeconds: history.seconds,
    samplesPerSecond: lastEpoch > 0 ? history.samplesPerSecond[lastEpoch - 1] : undefined, stopReason: history.stopReason,
  });
  if (plan.callbacks.onTrainEnd) await plan.callbacks.onTrainEnd(history);
  return history;
}

/** The closing progress line of a run that threw (the error is rethrown by the caller). */
function reportFailure<D extends TensorRecord>(plan: TrainingPlan<D>, run: RunState<D>, error: unknown): void {
  run.history.seconds = (performance.now() - run.started) / 1000;
  plan.reporter.finish({
    epoch: Math.min(run.epoch, plan.numEpochs), numEpochs: plan.numEpochs, terms: run.lastTerms, elapsedSeconds: run.history.seconds,
    error: error instanceof Error ? error.message : String(error),
  });
}

/** Free what the run holds (sums, the epoch's order, an owned optimiser, the divergence detector's copy), also after an error. */
function releaseRun<D extends TensorRecord>(plan: TrainingPlan<D>, run: RunState<D>): void {
  run.sums?.dispose();
  run.order?.dispose();
  plan.optimizer.dispose();
  plan.divergence?.dispose();
}

/** Let pending I/O (a kernel's display messages) go out. */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function isThenable(value: unknown): value is Promise<unknown> {
  return value != null && typeof (value as { then?: unknown }).then === "function";
}
