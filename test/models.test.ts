import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import {
  mlpAutoencoder, convDenoisingAutoencoder, cnnClassifier, fsaeClassifier, csaeLinear, csaeLoss, csaeLossTerms,
  laplacian3x3, randomCentroids, categoricalCrossEntropy, layerCosts, countParams, forwardFlopsPerSample,
  trainingFlopsPerSample, LAPLACIAN_KERNEL, CSAE_LOSS_WEIGHTS,
} from "../lib/models";
import { trainModel } from "../lib/train";
import * as lib from "../lib/index";

beforeAll(async () => {
  await tf.setBackend("cpu");
  await tf.ready();
  // Prime: the first op of a backend may allocate lasting tensors.
  tf.tidy(() => tf.add(tf.ones([2]), 1));
});

/** Tensors alive after `fn` minus before it. */
async function leaked(fn: () => unknown | Promise<unknown>): Promise<number> {
  const before = tf.memory().numTensors;
  await fn();
  return tf.memory().numTensors - before;
}

async function values(t: tf.Tensor): Promise<number[]> {
  return Array.from(await t.data());
}

describe("mlpAutoencoder (784-400-40-400-784)", () => {
  it("has the hand-counted parameters and the expected shapes", async () => {
    const ae = mlpAutoencoder();
    // 784·400+400 + 400·40+40 + 40·400+400 + 400·784+784
    expect(ae.paramCount).toBe(314_000 + 16_040 + 16_400 + 314_384);
    expect(ae.paramCount).toBe(660_824);
    expect(ae.model.countParams()).toBe(660_824);
    expect(ae.inputShape).toEqual([784]);
    expect(ae.latentShape).toEqual([40]);
    const x = tf.randomUniform([3, 784], 0, 1, "float32", 1);
    const z = ae.encode(x, false);
    const y = ae.reconstruct(x, false);
    expect(z.shape).toEqual([3, 40]);
    expect(y.shape).toEqual([3, 784]);
    const out = await values(y);
    expect(Math.min(...out)).toBeGreaterThan(0); // sigmoid output
    expect(Math.max(...out)).toBeLessThan(1);
    // decode(encode(x)) is the chained model
    const y2 = ae.decode(z, false);
    expect(await values(y2)).toEqual(out);
    tf.dispose([x, z, y, y2]);
    ae.dispose();
  });

  it("uses the documented activations", () => {
    const ae = mlpAutoencoder();
    const activations = [...ae.encoder.layers, ...ae.decoder.layers].map((l) => (l.getConfig() as { activation: string }).activation);
    expect(activations).toEqual(["relu", "linear", "relu", "sigmoid"]);
    ae.dispose();
  });

  it("is seeded: the same seed gives the same weights, another seed others", async () => {
    // A small 20-8-4-8-20 network takes the same seeded-initialiser path as the default 784-400-40-400-784 (4 s under load → 0.1 s).
    const layerSizes = [20, 8, 4, 8, 20];
    const a = mlpAutoencoder({ layerSizes, seed: 7 });
    const b = mlpAutoencoder({ layerSizes, seed: 7 });
    const c = mlpAutoencoder({ layerSizes, seed: 8 });
    const wa = await values(a.model.weights[0].read());
    expect(await values(b.model.weights[0].read())).toEqual(wa);
    expect(await values(c.model.weights[0].read())).not.toEqual(wa);
    // different layers of one model get different streams
    const first = wa.slice(0, 16);
    expect(await values(a.model.weights[6].read()).then((v) => v.slice(0, 16))).not.toEqual(first);
    [a, b, c].forEach((m) => m.dispose());
  });

  it("builds other sizes and leaky ReLU, and frees everything on dispose", async () => {
    expect(await leaked(() => {
      const ae = mlpAutoencoder({ layerSizes: [10, 6, 3, 6, 10], hiddenActivation: "leakyRelu", seed: 1 });
      expect(ae.paramCount).toBe(10 * 6 + 6 + 6 * 3 + 3 + 3 * 6 + 6 + 6 * 10 + 10);
      expect(ae.encoder.layers.map((l) => l.getClassName())).toEqual(["Dense", "LeakyReLU", "Dense"]);
      ae.dispose();
    })).toBe(0);
  });

  it("rejects bad options with the option's name", () => {
    expect(() => mlpAutoencoder({ layerSizes: [784, 40, 40, 784] })).toThrow(/layerSizes must list an odd number/);
    expect(() => mlpAutoencoder({ layerSizes: [784, 0, 784] })).toThrow(/layerSizes must hold positive integers/);
    expect(() => mlpAutoencoder({ hiddenActivation: "rellu" as never })).toThrow(/hiddenActivation must be one of/);
    expect(() => mlpAutoencoder({ seed: 0.5 })).toThrow(/seed must be an integer/);
  });
});

describe("convDenoisingAutoencoder (paper 3)", () => {
  it("has exactly 2,561 parameters, layer by layer as in the paper's summary", () => {
    const ae = convDenoisingAutoencoder();
    expect(ae.paramCount).toBe(2561);
    const perLayer = layerCosts(ae.model).map((l) => [l.className, l.params, l.outputShape]);
    expect(perLayer).toEqual([
      ["Conv2D", 160, [28, 28, 16]],
      ["Conv2D", 1160, [14, 14, 8]],
      ["Conv2D", 584, [7, 7, 8]],
      ["Conv2DTranspose", 584, [14, 14, 8]],
      ["Conv2DTranspose", 73, [28, 28, 1]],
    ]);
    const classes = [...ae.encoder.layers, ...ae.decoder.layers].map((l) => l.getClassName());
    expect(classes).toEqual(["Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Conv2D", "UpSampling2D", "Conv2DTranspose", "UpSampling2D", "Conv2DTranspose"]);
    const configs = [...ae.encoder.layers, ...ae.decoder.layers]
      .filter((l) => l.weights.length > 0)
      .map((l) => l.getConfig() as { activation: string; padding: string; strides: number[]; kernelSize: number[] });
    expect(configs.map((c) => c.activation)).toEqual(["relu", "relu", "relu", "relu", "sigmoid"]);
    expect(configs.every((c) => c.padding === "same" && c.strides.every((s) => s === 1) && c.kernelSize.every((k) => k === 3))).toBe(true);
    ae.dispose();
  });

  it("maps [n, 28, 28, 1] to itself through a 7×7×8 code", async () => {
    const ae = convDenoisingAutoencoder({ seed: 3 });
    expect(ae.latentShape).toEqual([7, 7, 8]);
    const x = tf.randomUniform([2, 28, 28, 1], 0, 1, "float32", 2);
    const y = ae.reconstruct(x, false);
    expect(y.shape).toEqual([2, 28, 28, 1]);
    const v = await values(y);
    expect(v.every((p) => p > 0 && p < 1)).toBe(true);
    tf.dispose([x, y]);
    ae.dispose();
  });

  it("rejects images whose side is not divisible by 4", () => {
    expect(() => convDenoisingAutoencoder({ inputShape: [30, 30, 1] })).toThrow(/divisible by 4/);
  });
});

describe("cnnClassifier and fsaeClassifier", () => {
  it("issue 3's CNN: valid 3×3 convs 28→26→24→22, dense 128, softmax 10; hand-counted parameters", async () => {
    const cnn = cnnClassifier();
    // (9·1·32+32) + (9·32·64+64) + (9·64·64+64) + (22·22·64·128+128) + (128·10+10)
    expect(cnn.paramCount).toBe(320 + 18_496 + 36_928 + 3_965_056 + 1_290);
    expect(layerCosts(cnn.model).map((l) => l.outputShape)).toEqual([[26, 26, 32], [24, 24, 64], [22, 22, 64], [128], [10]]);
    const x = tf.randomUniform([4, 28, 28, 1], 0, 1, "float32", 5);
    const p = cnn.predict(x, false);
    expect(p.shape).toEqual([4, 10]);
    const sums = await values(tf.sum(p, 1));
    sums.forEach((s) => expect(s).toBeCloseTo(1, 5));
    tf.dispose([x, p]);
    cnn.dispose();
  });

  it("the FSAE classifier has the same shapes with leaky ReLU (α = 0.3) after every hidden layer", () => {
    const fsae = fsaeClassifier();
    const cnn = cnnClassifier();
    expect(fsae.paramCount).toBe(cnn.paramCount);
    expect(fsae.trainingFlopsPerSample).toBe(cnn.trainingFlopsPerSample);
    const classes = fsae.model.layers.map((l) => l.getClassName());
    expect(classes).toEqual(["Conv2D", "LeakyReLU", "Conv2D", "LeakyReLU", "Conv2D", "LeakyReLU", "Flatten", "Dense", "LeakyReLU", "Dense"]);
    const leaky = fsae.model.layers.find((l) => l.getClassName() === "LeakyReLU")!;
    expect((leaky.getConfig() as { alpha: number }).alpha).toBeCloseTo(0.3, 6);
    expect(cnn.model.layers.some((l) => l.getClassName() === "LeakyReLU")).toBe(false);
    fsae.dispose();
    cnn.dispose();
  });

  it("categoricalCrossEntropy: log(10) for uniform probabilities, 0 for a sure hit, clipped at a sure miss", async () => {
    const uniform = tf.fill([3, 10], 0.1);
    const oneHot = tf.oneHot(tf.tensor1d([1, 4, 9], "int32"), 10);
    expect((await categoricalCrossEntropy(uniform, oneHot).data())[0]).toBeCloseTo(Math.log(10), 5);
    expect((await categoricalCrossEntropy(oneHot, oneHot).data())[0]).toBeCloseTo(0, 5);
    const miss = tf.oneHot(tf.tensor1d([0, 0, 0], "int32"), 10);
    expect((await categoricalCrossEntropy(miss, oneHot).data())[0]).toBeCloseTo(-Math.log(1e-7), 2);
    expect(() => categoricalCrossEntropy(uniform, tf.zeros([3, 9]))).toThrow(/same shape/);
  });
});

describe("FLOP counting", () => {
  it("a dense layer 784→400, by hand: 313,600 multiply-adds, 627,200 forward FLOPs, 1,881,600 training FLOPs", () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 400, inputShape: [784] })] });
    expect(layerCosts(model)).toEqual([{ name: model.layers[0].name, className: "Dense", params: 314_000, multiplyAdds: 313_600, outputShape: [400] }]);
    expect(forwardFlopsPerSample(model)).toBe(627_200);
    expect(trainingFlopsPerSample(model)).toBe(1_881_600);
    expect(countParams(model)).toBe(314_000);
    model.dispose();
  });

  it("convolutions by hand: same, valid and strided Conv2D, and Conv2DTranspose counted per input pixel", () => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: "same", inputShape: [6, 6, 2] }), // 6·6·4·9·2 = 2592
        tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: "valid" }), // 4·4·3·9·4 = 1728
        tf.layers.conv2d({ filters: 2, kernelSize: 2, strides: 2, padding: "valid" }), // 2·2·2·4·3 = 96
        tf.layers.conv2dTranspose({ filters: 5, kernelSize: 3, strides: 2, padding: "same" }), // input 2·2·2, each ·9·5 = 360
        tf.layers.maxPooling2d({ poolSize: 2 }), // 0
        tf.layers.flatten(),
        tf.layers.dense({ units: 7 }), // 2·2·5 = 20 inputs · 7 = 140
      ],
    });
    expect(layerCosts(model).map((l) => l.multiplyAdds)).toEqual([2592, 1728, 96, 360, 140]);
    expect(forwardFlopsPerSample(model)).toBe(2 * (2592 + 1728 + 96 + 360 + 140));
    model.dispose();
  });

  it("the reference models: conv AE 536,256 multiply-adds; CNN 32,619,904; nested models are walked; a list is summed", () => {
    const cae = convDenoisingAutoencoder();
    expect(forwardFlopsPerSample(cae.model)).toBe(2 * (112_896 + 225_792 + 28_224 + 112_896 + 56_448));
    expect(cae.trainingFlopsPerSample).toBe(3 * cae.forwardFlopsPerSample);
    expect(forwardFlopsPerSample([cae.encoder, cae.decoder])).toBe(cae.forwardFlopsPerSample);
    expect(countParams([cae.encoder, cae.decoder])).toBe(2561);
    const cnn = cnnClassifier();
    expect(cnn.forwardFlopsPerSample).toBe(2 * (194_688 + 10_616_832 + 17_842_176 + 3_964_928 + 1_280));
    const mlp = mlpAutoencoder();
    expect(mlp.forwardFlopsPerSample).toBe(2 * (784 * 400 + 400 * 40 + 40 * 400 + 400 * 784));
    [cae, cnn, mlp].forEach((m) => m.dispose());
  });

  it("refuses a weight-carrying layer it has no formula for", () => {
    const model = tf.sequential({ layers: [tf.layers.batchNormalization({ inputShape: [4] })] });
    expect(() => forwardFlopsPerSample(model)).toThrow(/no FLOP formula for layer .*BatchNormalization/);
    model.dispose();
  });
});

describe("laplacian3x3 (paper 4, eq. 8)", () => {
  it("is the kernel G of eq. (8)", () => {
    expect(LAPLACIAN_KERNEL).toEqual([[0, 1, 0], [1, -4, 1], [0, 1, 0]]);
  });

  it("closed form on f(i, j) = i² + j²: 4 inside, 4 − (missing neighbours' f) at the zero-padded border", async () => {
    const h = 6;
    const w = 5;
    const f = (i: number, j: number) => i * i + j * j;
    const image = tf.tensor4d(Array.from({ length: h * w }, (_, k) => f(Math.floor(k / w), k % w)), [1, h, w, 1]);
    const got = await values(laplacian3x3(image));
    const expected: number[] = [];
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        let value = 4; // the discrete second differences of i² and j² are 2 each
        for (const [di, dj] of [[-1, 0], [1, 0], [0, -1], [0, 1]]) {
          const [ni, nj] = [i + di, j + dj];
          if (ni < 0 || ni >= h || nj < 0 || nj >= w) value -= f(ni, nj); // zero padding drops that neighbour
        }
        expected.push(value);
      }
    }
    got.forEach((v, k) => expect(v).toBeCloseTo(expected[k], 4));
    expect(expected[1 * w + 1]).toBe(4);
    expect(expected[0]).toBe(2); // corner: neighbours f(1,0) + f(0,1) = 2, centre 0
  });

  it("maps a centred impulse to G itself; keeps flat, 3-D and multi-channel shapes", async () => {
    const impulse = tf.buffer([1, 5, 5, 1]);
    impulse.set(1, 0, 2, 2, 0);
    const out = await values(laplacian3x3(impulse.toTensor()).slice([0, 1, 1, 0], [1, 3, 3, 1]));
    expect(out).toEqual(LAPLACIAN_KERNEL.flat());
    const flat = tf.randomUniform([2, 784], 0, 1, "float32", 9);
    const viaFlat = laplacian3x3(flat);
    expect(viaFlat.shape).toEqual([2, 784]);
    const via4 = laplacian3x3(tf.reshape(flat, [2, 28, 28, 1]));
    expect(await values(viaFlat)).toEqual(await values(via4));
    expect(laplacian3x3(tf.zeros([2, 7, 7])).shape).toEqual([2, 7, 7]);
    // channels are independent
    const two = tf.randomUniform([1, 6, 6, 2], 0, 1, "float32", 4);
    const both = laplacian3x3(two);
    const first = laplacian3x3(two.slice([0, 0, 0, 0], [1, 6, 6, 1]));
    expect(await values(both.slice([0, 0, 0, 0], [1, 6, 6, 1]))).toEqual(await values(first));
    expect(() => laplacian3x3(tf.zeros([2, 783]))).toThrow(/square d/);
  });

  it("is leak-free", async () => {
    const x = tf.randomUniform([2, 28, 28, 1]);
    expect(await leaked(() => laplacian3x3(x).dispose())).toBe(0);
    x.dispose();
  });
});

describe("CSAE-L (paper 4)", () => {
  it("csaeLinear is the 784-400-40-400-784 autoencoder", () => {
    const csae = csaeLinear();
    expect(csae.paramCount).toBe(660_824);
    expect(csae.latentShape).toEqual([40]);
    csae.dispose();
  });

  it("randomCentroids: unit directions scaled by √d (eq. 5), seeded", async () => {
    const c = randomCentroids(10, 40, { seed: 3 });
    expect(c.shape).toEqual([10, 40]);
    const norms = await values(tf.norm(c, "euclidean", 1));
    norms.forEach((n) => expect(n).toBeCloseTo(Math.sqrt(40), 4));
    expect(await values(randomCentroids(10, 40, { seed: 3 }))).toEqual(await values(c));
    expect(await values(randomCentroids(10, 40, { seed: 4 }))).not.toEqual(await values(c));
    expect(() => randomCentroids(0, 40)).toThrow(/numClasses must be a positive integer/);
  });

  it("csaeLossTerms: named terms with closed forms for a constant offset", async () => {
    const c = 0.25;
    const images = tf.randomUniform([3, 784], 0, 0.5, "float32", 6);
    const reconstruction = tf.add(images, c);
    const latent = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
    const targetCentroids = tf.tensor2d([[1, 2], [3, 5], [5, 4]]);
    const terms = csaeLossTerms({ images, reconstruction, latent, targetCentroids });
    expect(Object.keys(terms)).toEqual(["centroid", "pixel", "laplacian"]);
    expect(Object.keys(terms)).toEqual(Object.keys(CSAE_LOSS_WEIGHTS));
    expect((await terms.centroid.data())[0]).toBeCloseTo((0 + 0 + 0 + 1 + 0 + 4) / 6, 6);
    expect((await terms.pixel.data())[0]).toBeCloseTo(c * c, 6);
    // G∗c on a 28×28 image with zero padding: 0 inside, −c on the 104 edge pixels, −2c on the 4 corners.
    expect((await terms.laplacian.data())[0]).toBeCloseTo(((104 + 4 * 4) * c * c) / 784, 6);
    expect(() => csaeLossTerms({ images, reconstruction: latent, latent, targetCentroids })).toThrow(/shape of images/);
  });

  it("the Laplacian term's gradient is (2/N)·G∗G∗(x* − x) (G symmetric, its own adjoint)", async () => {
    const images = tf.randomUniform([2, 8, 8, 1], 0, 1, "float32", 11);
    const recon = tf.randomUniform([2, 8, 8, 1], 0, 1, "float32", 12);
    const latent = tf.zeros([2, 3]);
    const grad = tf.grad((r: tf.Tensor) => csaeLossTerms({ images, reconstruction: r, latent, targetCentroids: latent }).laplacian)(recon);
    const expected = tf.mul(2 / images.size, laplacian3x3(laplacian3x3(tf.sub(recon, images))));
    const g = await values(grad);
    const e = await values(expected);
    g.forEach((v, i) => expect(v).toBeCloseTo(e[i], 5));
  });

  it("csaeLoss trains through trainModel: finite named terms, noise only in training, no leaks", async () => {
    const csae = csaeLinear({ layerSizes: [16, 8, 4, 8, 16], seed: 2 });
    const centroids = randomCentroids(3, 4, { seed: 1 });
    const data = { xs: tf.randomUniform([24, 16], 0, 1, "float32", 8), labels: tf.tensor1d(Array.from({ length: 24 }, (_, i) => i % 3), "int32") };
    const loss = csaeLoss(csae, { centroids });
    const evalContext = { training: false, epoch: 1, numEpochs: 1, step: 0, batchIndex: 0, batchSize: 24, seed: 5 };
    const a = tf.tidy(() => loss(data, evalContext).pixel.dataSync()[0]);
    const b = tf.tidy(() => loss(data, { ...evalContext, seed: 6 }).pixel.dataSync()[0]);
    expect(a).toBe(b); // evaluation: no noise
    const t1 = tf.tidy(() => loss(data, { ...evalContext, training: true }).pixel.dataSync()[0]);
    const t2 = tf.tidy(() => loss(data, { ...evalContext, training: true, seed: 6 }).pixel.dataSync()[0]);
    expect(t1).not.toBe(t2); // training: seeded noise differs per step seed
    const tensorsBefore = tf.memory().numTensors;
    const history = await trainModel({
      data, lossTerms: loss, models: [csae.model], numEpochs: 2, batchSize: 8, lossWeights: CSAE_LOSS_WEIGHTS, progress: false,
    });
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(Object.keys(history.terms).sort()).toEqual(["centroid", "laplacian", "pixel", "total"]);
    for (const series of Object.values(history.terms)) series.forEach((v) => expect(Number.isFinite(v)).toBe(true));
    expect(() => csaeLoss(csae, { centroids: tf.zeros([3]) as unknown as tf.Tensor2D })).toThrow(/centroids must be/);
    expect(() => tf.tidy(() => loss({ xs: data.xs } as never, evalContext))).toThrow(/needs "xs" \(images\) and "labels"/);
    tf.dispose([centroids, data.xs, data.labels]);
    csae.dispose();
  });
});

describe("lib/index", () => {
  it("re-exports the models and builds nothing on import", () => {
    expect(typeof lib.mlpAutoencoder).toBe("function");
    expect(typeof lib.convDenoisingAutoencoder).toBe("function");
    expect(typeof lib.trainingFlopsPerSample).toBe("function");
    expect(typeof lib.csae.csaeLoss).toBe("function");
  });
});
