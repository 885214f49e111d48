/**
 * The reference models as the bench trains them: model, data (real MNIST), loss and cost.
 * Each one is what a notebook would write with lib/models + lib/train; lib/bench/torch_bench.py
 * mirrors them in PyTorch (same layer sizes, losses, optimiser, batch and data).
 */
import * as tf from "@tensorflow/tfjs";
import { loadMnist } from "../data/mnist";
import { addGaussianNoise } from "../data/noise";
import { LossTermsFn, TensorRecord } from "../train";
import {
  categoricalCrossEntropy, cnnClassifier, convDenoisingAutoencoder, csaeLinear, csaeLoss, CSAE_LOSS_WEIGHTS, fsaeClassifier,
  mlpAutoencoder, randomCentroids,
} from "../models";

/** The five reference models of issue 3. */
export const BENCH_MODEL_IDS = ["mlp-ae", "conv-dae", "cnn", "csae-l", "fsae-classifier"] as const;
export type BenchModelId = (typeof BENCH_MODEL_IDS)[number];

/** Short names accepted by --models. */
export const BENCH_MODEL_ALIASES: Readonly<Record<string, BenchModelId>> = {
  mlp: "mlp-ae", "mlp-ae": "mlp-ae", ae: "mlp-ae",
  "conv-dae": "conv-dae", cae: "conv-dae", dae: "conv-dae", conv: "conv-dae",
  cnn: "cnn",
  "csae-l": "csae-l", csae: "csae-l",
  "fsae-classifier": "fsae-classifier", fsae: "fsae-classifier",
};

/** A model ready to train: caller-owned data and weights (free them with dispose). */
export interface PreparedBenchModel {
  data: TensorRecord;
  lossTerms: LossTermsFn;
  lossWeights?: Record<string, number>;
  /** What trainModel trains. */
  models: tf.LayersModel[];
  params: number;
  trainingFlopsPerSample: number;
  dispose(): void;
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

/** The bench's models, in issue 3's order. */
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
