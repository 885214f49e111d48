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
import { permutation } from "../random";
import { inKernel } from "../display";
import { createProgressReporter, ProgressReporter, ProgressState } from "../progress";
import { checkPositiveInteger } from "../checks";
import { createDivergenceDetector, trainedName } from "../divergence";
import { checkAlignedData, gatherRecord, mixSeeds, sliceRecord } from "./batches";
import { evaluateCore } from "./evaluation";
import { checkLossWeights, checkTerms, firstNonFinite, nonFiniteWord, resolveWeightDecay, totalAndVector } from "./loss-terms";
import { resolveOptimizer } from "./optimizers";
import type { BatchInfo, EpochLogs, LossContext, TensorRecord, TrainHistory, TrainOptions } from "./types";
import { trainableVariables } from "./variables";

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function isThenable(value: unknown): value is Promise<unknown> {
  return value != null && typeof (value as { then?: unknown }).then === "function";
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
