/**
 * Training paper 1's concrete network while the abstract one stays frozen: a data-dependent
 * start (calibrateConcreteNetwork), the paper's metrics (MSE, MAE, cosine similarity) and
 * trainConcreteNetwork on ae.trainModel, optionally through an unrolled negative-feedback loop.
 */
import * as tf from "@tensorflow/tfjs";
import { meanAbsoluteError, meanCosineSimilarity, meanSquaredError } from "../metrics";
import { LossContext, LossTerms, TrainHistory, TrainOptions, trainModel } from "../train";
import { applyAbstractStages } from "./stages";
import { ConcreteInputs, ConcreteNetwork, concreteInputs } from "./concrete";

/** Options of `calibrateConcreteNetwork`. */
export interface CalibrateOptions {
  /** RMS every hidden trainable layer's output is scaled to (default 1). */
  hiddenRms?: number;
  /** RMS the output is scaled to (default: the RMS of `target` when given, else 1). */
  target?: tf.Tensor;
}

/**
 * Data-dependent start (LSUV-style): for each trainable layer from the top down, divide its kernel
 * and bias so its output on a calibration batch has the requested RMS. The inverse leaky ReLU
 * multiplies negative values by 1/α at every stage and eq. (4) outputs ±16, so Glorot starts
 * produce outputs thousands of times too large. Returns the RMS seen before each rescale.
 */
export function calibrateConcreteNetwork(network: ConcreteNetwork, inputs: ConcreteInputs, options: CalibrateOptions = {}): Array<{ layer: string; rmsBefore: number }> {
  const fn = "calibrateConcreteNetwork";
  const hiddenRms = options.hiddenRms ?? 1;
  if (!Number.isFinite(hiddenRms) || hiddenRms <= 0) throw new Error(`${fn}: hiddenRms must be a positive number, got ${hiddenRms}`);
  if (inputs.jumps.length !== network.jumps.length) throw new Error(`${fn}: expected ${network.jumps.length} jump tensor(s), got ${inputs.jumps.length}`);
  const outputRms = options.target ? tf.tidy(() => tf.sqrt(tf.mean(tf.square(options.target!))).dataSync()[0]) : 1;
  const trainable = network.model.layers.filter((l) => l.trainableWeights.length > 0);
  const report: Array<{ layer: string; rmsBefore: number }> = [];
  for (const layer of trainable) {
    const probe = tf.model({ inputs: network.model.inputs, outputs: layer.output as tf.SymbolicTensor });
    const rms = tf.tidy(() => {
      const out = probe.predict([inputs.top, ...inputs.jumps]) as tf.Tensor;
      return tf.sqrt(tf.mean(tf.square(out))).dataSync()[0];
    });
    if (!Number.isFinite(rms) || rms === 0) throw new Error(`${fn}: layer '${layer.name}' gives RMS ${rms} on the calibration batch`);
    const wanted = layer === trainable[trainable.length - 1] ? outputRms : hiddenRms;
    const scaled = tf.tidy(() => layer.getWeights().map((w) => tf.mul(w, wanted / rms)));
    layer.setWeights(scaled);
    tf.dispose(scaled);
    report.push({ layer: layer.name, rmsBefore: rms });
  }
  return report;
}

/** MSE, MAE and mean cosine similarity of generated images against their inputs (the paper's training metrics). */
export interface GenerationMetrics {
  mse: number;
  mae: number;
  cosineSimilarity: number;
}

/** The paper's metrics of a generation: MSE, MAE and cosine similarity per sample, averaged (read back: a logging point). */
export function generationMetrics(target: tf.Tensor, output: tf.Tensor): GenerationMetrics {
  const values = tf.tidy(() => tf.stack([meanSquaredError(target, output), meanAbsoluteError(target, output), meanCosineSimilarity(target, output)]).dataSync());
  return { mse: values[0], mae: values[1], cosineSimilarity: values[2] };
}

/** Options of `trainConcreteNetwork`. */
export interface TrainConcreteOptions {
  /** The frozen abstract network. */
  abstract: tf.LayersModel;
  network: ConcreteNetwork;
  /** Training images (the abstract network's input); they are also the targets. */
  images: tf.Tensor;
  numEpochs: number;
  /** Default 64. */
  batchSize?: number;
  /** Default adam 1e-3 (the paper's optimiser). */
  optimizer?: TrainOptions["optimizer"];
  /** Rescale the starting weights on the first 256 samples first (default true; see calibrateConcreteNetwork). */
  calibrate?: boolean;
  /** Images whose MSE is evaluated after each epoch (a held-out set). */
  validationImages?: tf.Tensor;
  seed?: number;
  progress?: TrainOptions["progress"];
  label?: string;
  /**
   * Passes of the negative-feedback loop unrolled in training (default 1: no feedback). With P > 1 the loss is the
   * MSE of pass P's output, u_{t+1} = u_t + κ(x − x̂_t) as in negativeFeedback, and gradients flow through every
   * pass (through the frozen abstract network to its input).
   */
  feedbackPasses?: number;
  /** κ of the unrolled loop (default 1). */
  feedbackGain?: number;
  /** Passed to ae.trainModel (e.g. to record running means every `logEvery` steps). */
  logEvery?: number;
  callbacks?: TrainOptions["callbacks"];
}

/**
 * Train a concrete network with ae.trainModel while the abstract one stays frozen: its outputs
 * (the top a_K and the jump values) are computed once, the loss is the MSE between the generated
 * and the input image (self-supervised: the label is the input).
 */
export async function trainConcreteNetwork(options: TrainConcreteOptions): Promise<TrainHistory> {
  const fn = "trainConcreteNetwork";
  const { abstract, network, images } = options;
  if (!(images instanceof tf.Tensor) || images.isDisposed) throw new Error(`${fn}: images must be a live tf.Tensor`);
  if (abstract.trainable) throw new Error(`${fn}: freeze the abstract network first (ae.freeze(model)): the paper trains the concrete half alone`);
  const passes = options.feedbackPasses ?? 1;
  if (!Number.isInteger(passes) || passes < 1) throw new Error(`${fn}: feedbackPasses must be a positive integer, got ${passes}`);
  const gain = options.feedbackGain ?? 1;
  if (!Number.isFinite(gain)) throw new Error(`${fn}: feedbackGain must be a finite number, got ${gain}`);
  const wanted = [network.stages.length, ...network.jumps];
  const toRecord = (x: tf.Tensor): Record<string, tf.Tensor> => {
    const inputs = concreteInputs(abstract, network, x);
    const record: Record<string, tf.Tensor> = { top: inputs.top, target: tf.clone(x) };
    inputs.jumps.forEach((j, i) => { record[`jump${i}`] = j; });
    return record;
  };
  const data = toRecord(images);
  const validation = options.validationImages ? toRecord(options.validationImages) : undefined;
  try {
    if (options.calibrate ?? true) {
      const count = Math.min(256, images.shape[0]);
      tf.tidy(() => {
        const slice = (t: tf.Tensor) => tf.slice(t, 0, count);
        calibrateConcreteNetwork(network, { top: slice(data.top), jumps: network.jumps.map((_, i) => slice(data[`jump${i}`])) }, { target: slice(data.target) });
      });
    }
    const lossTerms = (batch: Record<string, tf.Tensor>, context: LossContext): LossTerms => {
      let output = network.generate(batch.top, network.jumps.map((_, i) => batch[`jump${i}`]), context.training);
      let input = batch.target;
      for (let pass = 2; pass <= passes; pass++) {
        input = tf.add(input, tf.mul(gain, tf.sub(batch.target, output)));
        const [top, ...jumps] = applyAbstractStages(network.stages, input, wanted);
        output = network.generate(top, jumps, context.training);
      }
      return { mse: meanSquaredError(batch.target, output) };
    };
    return await trainModel({
      data, lossTerms, models: [network.model], numEpochs: options.numEpochs, batchSize: options.batchSize ?? 64,
      optimizer: options.optimizer ?? { name: "adam", learningRate: 1e-3 }, validationData: validation, seed: options.seed ?? 0,
      progress: options.progress, label: options.label, logEvery: options.logEvery, callbacks: options.callbacks,
    });
  } finally {
    tf.dispose(Object.values(data));
    if (validation) tf.dispose(Object.values(validation));
  }
}
