/**
 * The reference models as the bench trains them: model, data (real MNIST), loss, optimiser and cost.
 * Each one is what a notebook would write with lib/models + lib/train: issue 3's five, and every
 * model a notebook trains for more than about a minute in full mode (issue 18), with that
 * notebook's optimiser, loss and input shape. lib/bench/torch_bench.py mirrors them in PyTorch
 * (same layers and parameter counts, losses, optimiser, batch and data).
 */
import * as tf from "@tensorflow/tfjs";
import { loadMnist } from "../data/mnist";
import { addGaussianNoise } from "../data/noise";
import { LossTermsFn, OptimizerSpec, predictBatched, TensorRecord, TrainableSource } from "../train";
import {
  categoricalCrossEntropy, cnnClassifier, convDenoisingAutoencoder, csaeLinear, csaeLoss, CSAE_LOSS_WEIGHTS, fsaeClassifier,
  mlpAutoencoder, randomCentroids,
} from "../models";
import { forwardFlopsPerSample, TRAINING_FLOPS_FACTOR } from "../models/cost";
import { csaeBasenet, csaeConv, csaeConvEncoder, csaeConvFlopsPerSample } from "../pedcc/models";
import { encoderOnlyLoss } from "../pedcc/losses";
import { cvae, cvaeLoss } from "../models/cvae";
import { poolingConvAutoencoder } from "../stacked/convae";
import type { UnpoolingKind } from "../stacked/unpool";
import { concreteNetwork } from "../inverse/concrete";
import { meanSquaredError } from "../metrics";

/** The five reference models of issue 3, then the models notebooks 1, 4 and 5 train for minutes in full mode (issue 18). */
export const BENCH_MODEL_IDS = [
  "mlp-ae", "conv-dae", "cnn", "csae-l", "fsae-classifier",
  "csae-c", "csae-encoder", "basenet", "cvae", "pool-cae-random", "pool-cae-even", "pool-cae-switches", "concrete",
] as const;
export type BenchModelId = (typeof BENCH_MODEL_IDS)[number];

/** Short names accepted by --models. */
export const BENCH_MODEL_ALIASES: Readonly<Record<string, BenchModelId>> = {
  mlp: "mlp-ae", "mlp-ae": "mlp-ae", ae: "mlp-ae",
  "conv-dae": "conv-dae", cae: "conv-dae", dae: "conv-dae", conv: "conv-dae",
  cnn: "cnn",
  "csae-l": "csae-l", csae: "csae-l",
  "fsae-classifier": "fsae-classifier", fsae: "fsae-classifier",
  "csae-c": "csae-c", csaec: "csae-c", "csae-encoder": "csae-encoder", encoder: "csae-encoder", basenet: "basenet", cvae: "cvae",
  "pool-cae-random": "pool-cae-random", "pool-cae-even": "pool-cae-even", "pool-cae-switches": "pool-cae-switches",
  concrete: "concrete",
};

/** A model ready to train: caller-owned data and weights (free them with dispose). */
export interface PreparedBenchModel {
  data: TensorRecord;
  lossTerms: LossTermsFn;
  lossWeights?: Record<string, number>;
  /** What trainModel trains (models, or layers used functionally). */
  models: TrainableSource[];
  params: number;
  trainingFlopsPerSample: number;
  dispose(): void;
}

/** How a notebook trains a model: its optimiser and weight decay (the bench's default: Adam at --lr, no decay). */
export interface BenchTraining {
  optimizer: OptimizerSpec;
  /** L2 weight decay rate on every trained variable (trainModel's weightDecay; PyTorch's weight_decay). */
  weightDecay?: number;
  /** The batch size the notebook uses (the bench runs --batch, and the sweep). */
  notebookBatch?: number;
}

/** One reference model of the bench. */
export interface BenchModelSpec {
  id: BenchModelId;
  /** Human name, as in issue 3's table. */
  title: string;
  /** Where its architecture comes from. */
  source: string;
  /** Has convolutions (slow on the pure-JS cpu backend). */
  convolutional: boolean;
  /** The loss, in words (the PyTorch side computes the same). */
  loss: string;
  /** The notebook's optimiser and weight decay; absent: Adam at --lr (issue 3's five). */
  training?: BenchTraining;
  /** Also timed at every batch size of --batch-sweep (issue 18: CSAE-C and the CNN). */
  batchSweep?: boolean;
  /** Build the model (seeded) and load `samples` MNIST training images (the first ones, in file order). */
  prepare(samples: number, seed: number): PreparedBenchModel;
}

const mse = (a: tf.Tensor, b: tf.Tensor) => tf.mean(tf.square(tf.sub(a, b))) as tf.Scalar;

/** Noise σ of the conv denoising AE's inputs (paper 3: "Noise point = 0.2"; clipped to [0, 1]). */
export const CONV_DAE_NOISE_FACTOR = 0.2;
/** β of CSAE's latent noise (paper 4, §4). */
export const CSAE_NOISE_FACTOR = 0.04;

function prepareClassifier(build: typeof cnnClassifier, samples: number, seed: number): PreparedBenchModel {
  const mnist = loadMnist({ limit: samples, flatten: false, labels: "onehot" });
  const net = build({ seed });
  return {
    data: { xs: mnist.images, oneHot: mnist.oneHot! },
    lossTerms: ({ xs, oneHot }) => ({ crossEntropy: categoricalCrossEntropy(net.predict(xs), oneHot) }),
    models: [net.model],
    params: net.paramCount,
    trainingFlopsPerSample: net.trainingFlopsPerSample,
    dispose: () => { mnist.dispose(); net.dispose(); },
  };
}


/** Notebook 4's CSAE-C settings (cell "settingsC"): SGD with momentum 0.9 at 0.1, weight decay 5e-4, batch 64. */
export const CSAE_C_TRAINING: BenchTraining = { optimizer: { name: "momentum", learningRate: 0.1, momentum: 0.9 }, weightDecay: 5e-4, notebookBatch: 64 };
/** Notebook 4's loss weights of eq. (10): Loss1 + λ1·Loss2 + λ2·Loss3 with λ1 = 4, λ2 = 0.08. */
export const CSAE_C_LOSS_WEIGHTS: Readonly<Record<"centroid" | "pixel" | "laplacian", number>> = { centroid: 1, pixel: 4, laplacian: 0.08 };
/** Table 2's channel widths of CSAE-C, as notebook 4. */
export const CSAE_C_WIDTHS: [number, number, number, number] = [16, 32, 64, 64];
/** Notebook 1's abstract-network filters (its concrete network mirrors them). */
export const CONCRETE_ABSTRACT_FILTERS = [16, 32, 32];

/** 32×32 padded MNIST as notebook 4 feeds CSAE-C, with int labels and/or one-hot. */
function paddedMnist(samples: number, labels: "int" | "onehot") {
  return loadMnist({ limit: samples, flatten: false, pad32: true, labels });
}

/** Notebook 4's basenet / encoder-only baselines (cell "trainBaseline"), on 32×32 images. */
function prepareCsaeBaseline(kind: "encoder" | "basenet", samples: number, seed: number): PreparedBenchModel {
  const mnist = paddedMnist(samples, kind === "encoder" ? "int" : "onehot");
  const net = kind === "encoder" ? csaeConvEncoder({ widths: CSAE_C_WIDTHS, seed }) : csaeBasenet({ widths: CSAE_C_WIDTHS, seed });
  const apply = (x: tf.Tensor, training: boolean) => net.apply(x, { training }) as tf.Tensor;
  const centroids = kind === "encoder" ? randomCentroids(10, 40, { seed }) : null;
  const forward = csaeConvFlopsPerSample([net]);
  return {
    data: kind === "encoder" ? { xs: mnist.images, labels: mnist.labels! } : { xs: mnist.images, oneHot: mnist.oneHot! },
    lossTerms: kind === "encoder"
      ? encoderOnlyLoss(apply, centroids!)
      : ({ xs, oneHot }, ctx) => ({ crossEntropy: categoricalCrossEntropy(apply(xs, ctx.training), oneHot) }),
    models: [net],
    params: net.countParams(),
    trainingFlopsPerSample: TRAINING_FLOPS_FACTOR * forward,
    dispose: () => { mnist.dispose(); centroids?.dispose(); net.dispose(); },
  };
}

/** 2 × multiply-adds of one 28×28 image through notebook 5's pooling conv AE (filters f1, f2, k×k "same" convolutions). */
function poolingCaeForwardFlops(f1: number, f2: number, k: number): number {
  const conv = (side: number, inC: number, outC: number) => side * side * outC * k * k * inC;
  return 2 * (conv(28, 1, f1) + conv(14, f1, f2) + conv(14, f2, f1) + conv(28, f1, 1));
}

/** Notebook 5's conv autoencoder with one inverse of pooling (cell "trainPoolingCae"): MSE, Adam 2e-3, batch 32. */
function poolingCaeSpec(unpooling: UnpoolingKind): BenchModelSpec {
  return {
    id: `pool-cae-${unpooling}` as BenchModelId,
    title: `pooling conv AE, ${unpooling} unpooling (tanh convs 16/8, 2×2 max pooling)`,
    source: "notebook 5 §7 (lecture slides' conv AE, lib/stacked/convae.ts)",
    convolutional: true,
    loss: `pixel MSE; decoder undoes each 2×2 max pooling by ${unpooling === "switches" ? "the encoder's switches (argmax)" : unpooling === "even" ? "spreading v/4 over the window" : "a random position per window, seeded per step"}`,
    training: { optimizer: { name: "adam", learningRate: 2e-3 }, notebookBatch: 32 },
    prepare(samples, seed) {
      const mnist = loadMnist({ limit: samples, flatten: false, labels: "int" });
      const cae = poolingConvAutoencoder({ unpooling, seed });
      return {
        data: { xs: mnist.images },
        lossTerms: ({ xs }, ctx) => ({ mse: meanSquaredError(cae.reconstruct(xs as tf.Tensor4D, { seed: ctx.seed }), xs) }),
        models: cae.layers,
        params: cae.paramCount,
        trainingFlopsPerSample: TRAINING_FLOPS_FACTOR * poolingCaeForwardFlops(16, 8, 3),
        dispose: () => { mnist.dispose(); cae.dispose(); },
      };
    },
  };
}

/** The bench's models: issue 3's five in its order, then issue 18's. */
export const BENCH_MODELS: readonly BenchModelSpec[] = [
  {
    id: "mlp-ae",
    title: "MLP autoencoder 784-400-40-400-784",
    source: "issue 3; paper 4 §4 (CSAE-L's network)",
    convolutional: false,
    loss: "pixel MSE",
    prepare(samples, seed) {
      const mnist = loadMnist({ limit: samples, labels: "int" });
      const ae = mlpAutoencoder({ seed });
      return {
        data: { xs: mnist.images },
        lossTerms: ({ xs }) => ({ reconstruction: mse(ae.reconstruct(xs), xs) }),
        models: [ae.model],
        params: ae.paramCount,
        trainingFlopsPerSample: ae.trainingFlopsPerSample,
        dispose: () => { mnist.dispose(); ae.dispose(); },
      };
    },
  },
  {
    id: "conv-dae",
    title: "conv denoising AE (2,561 parameters)",
    source: "paper 3, Implementation (model summary)",
    convolutional: true,
    loss: `pixel MSE against the clean image; inputs with Gaussian noise σ = ${CONV_DAE_NOISE_FACTOR}, clipped, drawn once`,
    prepare(samples, seed) {
      const mnist = loadMnist({ limit: samples, flatten: false, labels: "int" });
      const noisy = addGaussianNoise(mnist.images, { noiseFactor: CONV_DAE_NOISE_FACTOR, seed });
      const ae = convDenoisingAutoencoder({ seed });
      return {
        data: { noisy, clean: mnist.images },
        lossTerms: ({ noisy: x, clean }) => ({ reconstruction: mse(ae.reconstruct(x), clean) }),
        models: [ae.model],
        params: ae.paramCount,
        trainingFlopsPerSample: ae.trainingFlopsPerSample,
        dispose: () => { mnist.dispose(); noisy.dispose(); ae.dispose(); },
      };
    },
  },
  {
    id: "cnn",
    title: "CNN classifier, 3 valid convs 32/64/64 + dense 128 + 10",
    source: "issue 3 (ReLU)",
    convolutional: true,
    batchSweep: true,
    loss: "softmax cross-entropy",
    prepare: (samples, seed) => prepareClassifier(cnnClassifier, samples, seed),
  },
  {
    id: "csae-l",
    title: "CSAE-L (784-400-40-400-784, three losses)",
    source: "paper 4 §3.2, §3.4, §4",
    convolutional: false,
    loss: `MSE(z, centroid) + pixel MSE + Laplacian MSE; latent noise √d·${CSAE_NOISE_FACTOR}·N(0, I); fixed random centroids`,
    prepare(samples, seed) {
      const mnist = loadMnist({ limit: samples, labels: "int" });
      const csae = csaeLinear({ seed });
      const centroids = randomCentroids(10, csae.latentShape[0], { seed });
      return {
        data: { xs: mnist.images, labels: mnist.labels! },
        lossTerms: csaeLoss(csae, { centroids, noiseFactor: CSAE_NOISE_FACTOR }),
        lossWeights: { ...CSAE_LOSS_WEIGHTS },
        models: [csae.model],
        params: csae.paramCount,
        trainingFlopsPerSample: csae.trainingFlopsPerSample,
        dispose: () => { mnist.dispose(); centroids.dispose(); csae.dispose(); },
      };
    },
  },
  {
    id: "fsae-classifier",
    title: "FSAE abstract network (the CNN with leaky ReLU 0.3)",
    source: "paper 1, experiment section; sizes from issue 3",
    convolutional: true,
    loss: "softmax cross-entropy",
    prepare: (samples, seed) => prepareClassifier(fsaeClassifier, samples, seed),
  },
  {
    id: "csae-c",
    title: "CSAE-C (residual conv encoder + deconv decoder, batch norm, 32×32)",
    source: "paper 4 §3.3, Table 2; notebook 4 §6",
    convolutional: true,
    loss: `Loss1 + 4·Loss2 + 0.08·Loss3 (centroid MSE, pixel MSE, Laplacian MSE) + weight decay; latent noise √d·${CSAE_NOISE_FACTOR}·N(0, I); fixed random centroids`,
    training: CSAE_C_TRAINING,
    batchSweep: true,
    prepare(samples, seed) {
      const mnist = paddedMnist(samples, "int");
      const csae = csaeConv({ widths: CSAE_C_WIDTHS, seed });
      const centroids = randomCentroids(10, csae.latentShape[0], { seed });
      return {
        data: { xs: mnist.images, labels: mnist.labels! },
        lossTerms: csaeLoss(csae, { centroids, noiseFactor: CSAE_NOISE_FACTOR }),
        lossWeights: { ...CSAE_C_LOSS_WEIGHTS },
        models: [csae.encoder, csae.decoder],
        params: csae.paramCount,
        trainingFlopsPerSample: csae.trainingFlopsPerSample,
        dispose: () => { mnist.dispose(); centroids.dispose(); csae.dispose(); },
      };
    },
  },
  {
    id: "csae-encoder",
    title: "CSAE-C encoder only (Loss1 to fixed centroids)",
    source: "paper 4 Table 3 (CSAE_encoder); notebook 4 §6 baselines",
    convolutional: true,
    loss: "MSE(encoder(x), centroid of its class) + weight decay; fixed random centroids",
    training: CSAE_C_TRAINING,
    prepare: (samples, seed) => prepareCsaeBaseline("encoder", samples, seed),
  },
  {
    id: "basenet",
    title: "basenet (CSAE-C's convolutions, 4×4 average pooling, softmax)",
    source: "paper 4 Table 3; notebook 4 §6 baselines",
    convolutional: true,
    loss: "softmax cross-entropy + weight decay",
    training: CSAE_C_TRAINING,
    prepare: (samples, seed) => prepareCsaeBaseline("basenet", samples, seed),
  },
  {
    id: "cvae",
    title: "CVAE 784-400-40-400-784 conditioned on the one-hot label",
    source: "paper 4 §4 (the CVAE baseline); issue 20",
    convolutional: false,
    loss: "−ELBO: Bernoulli reconstruction (BCE from logits, summed over pixels) + KL(q ‖ N(0, I)); one reparameterised sample per image",
    training: { optimizer: { name: "adam", learningRate: 1e-3 } },
    prepare(samples, seed) {
      const mnist = loadMnist({ limit: samples, labels: "onehot" });
      const net = cvae({ seed });
      return {
        data: { xs: mnist.images, oneHot: mnist.oneHot! },
        lossTerms: cvaeLoss(net),
        models: net.models,
        params: net.paramCount,
        trainingFlopsPerSample: net.trainingFlopsPerSample,
        dispose: () => { mnist.dispose(); net.dispose(); },
      };
    },
  },
  poolingCaeSpec("random"),
  poolingCaeSpec("even"),
  poolingCaeSpec("switches"),
  {
    id: "concrete",
    title: "concrete (generating) network (a), mirror of the abstract net 16/32/32",
    source: "paper 1; notebook 1 §3 (lib/inverse/concrete.ts)",
    convolutional: true,
    loss: "pixel MSE of the image generated from the frozen abstract network's class probabilities",
    training: { optimizer: { name: "adam", learningRate: 1e-3 }, notebookBatch: 64 },
    prepare(samples, seed) {
      const mnist = loadMnist({ limit: samples, flatten: false, labels: "int" });
      const abstract = fsaeClassifier({ filters: CONCRETE_ABSTRACT_FILTERS, seed });
      abstract.model.trainable = false;
      const net = concreteNetwork(abstract.model, { seed: seed + 1, name: "plain" });
      // The frozen abstract network's outputs are computed once, as trainConcreteNetwork does (untrained here: only the speed is measured).
      const top = predictBatched((x) => abstract.predict(x, false), mnist.images);
      return {
        data: { top, target: mnist.images },
        lossTerms: ({ top: t, target }, ctx) => ({ mse: meanSquaredError(net.generate(t, [], ctx.training), target) }),
        models: [net.model],
        params: net.paramCount,
        trainingFlopsPerSample: TRAINING_FLOPS_FACTOR * forwardFlopsPerSample(net.model),
        dispose: () => { mnist.dispose(); top.dispose(); net.dispose(); abstract.dispose(); },
      };
    },
  },
];

/** The spec of a model id (or alias), or an error listing the known ones. */
export function benchModel(idOrAlias: string): BenchModelSpec {
  const id = BENCH_MODEL_ALIASES[idOrAlias.trim().toLowerCase()];
  const spec = BENCH_MODELS.find((m) => m.id === id);
  if (!spec) {
    throw new Error(`unknown model ${JSON.stringify(idOrAlias)}; expected one of ${BENCH_MODEL_IDS.join(", ")} (or ${Object.keys(BENCH_MODEL_ALIASES).filter((a) => !(BENCH_MODEL_IDS as readonly string[]).includes(a)).join(", ")})`);
  }
  return spec;
}
