/**
 * lib/stacked: tied weights (gradients against tf.grad of the explicit formula, parameter
 * counts), the three inverses of max pooling (closed-form examples, exact round trip on the
 * maxima), code quantisation (bytes, error bound), L_H, greedy pre-training and the conv
 * autoencoder; leaks and bad input throughout.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import {
  TiedDense, codeBytes, basicAutoencoder, denseKernelVariable, dequantizeCodes, fineTuneClassifier, fitCodeRange, maxPoolWithSwitches,
  poolUnpoolRoundTrip, poolingConvAutoencoder, pretrainStackedDenoising, quantizationStep, quantizeCodes, randomSwitches,
  reconstructionCrossEntropy, stackedClassifier, tiedDense, tiedDenseApply, transmitCodes, unpoolEvenSpread, unpoolRandomLocation,
  unpoolWithSwitches,
} from "../lib/stacked";
import { leakedBy } from "./helpers/leaks";

beforeAll(async () => {
  await tf.setBackend("cpu");
  await tf.ready();
});

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

describe("tied weights W′ = Wᵀ", () => {
  it("computes φ(y·Kᵀ + b′) and tf.grad of the explicit formula matches the layer's gradients", () => {
    const d = 6, k = 3;
    const encoder = tf.layers.dense({ units: k, activation: "sigmoid", inputShape: [d], kernelInitializer: tf.initializers.randomNormal({ seed: 3 }), biasInitializer: tf.initializers.randomNormal({ seed: 4 }) });
    const decoder = tiedDense({ tiedTo: encoder, activation: "sigmoid" });
    const model = tf.sequential({ layers: [encoder, decoder] });
    decoder.setWeights([tf.tensor1d([0.1, -0.2, 0.3, 0, 0.5, -0.4])]);
    const x = tf.randomUniform([5, d], 0, 1, "float32", 7);
    const [K, b] = encoder.getWeights() as [tf.Tensor2D, tf.Tensor1D];
    const [b2] = decoder.getWeights() as [tf.Tensor1D];
    // Closed form of the lecture's z = φ(W′y + b′), y = φ(Wx + b), W = Kᵀ, W′ = Wᵀ = K.
    const explicit = (kk: tf.Tensor, bb: tf.Tensor, bb2: tf.Tensor) => {
      const y = tf.sigmoid(tf.add(tf.matMul(x, kk), bb));
      const z = tf.sigmoid(tf.add(tf.matMul(y, tf.transpose(kk)), bb2));
      return tf.mul(0.5, tf.sum(tf.square(tf.sub(z, x)))) as tf.Scalar;
    };
    const z = model.predict(x) as tf.Tensor;
    const zExplicit = tf.sigmoid(tf.add(tf.matMul(tf.sigmoid(tf.add(tf.matMul(x, K), b)), K, false, true), b2));
    expect(maxAbsDiff(z, zExplicit)).toBeLessThan(1e-6);

    const fromLayers = tf.variableGrads(() => {
      const out = model.apply(x) as tf.Tensor;
      return tf.mul(0.5, tf.sum(tf.square(tf.sub(out, x)))) as tf.Scalar;
    });
    const [gK, gb, gb2] = tf.grads((kk: tf.Tensor, bb: tf.Tensor, bb2: tf.Tensor) => explicit(kk, bb, bb2))([K, b, b2]);
    const kernelVar = denseKernelVariable(encoder);
    expect(Object.keys(fromLayers.grads)).toHaveLength(3); // K (shared), b, b′
    expect(maxAbsDiff(fromLayers.grads[kernelVar.name], gK)).toBeLessThan(1e-5);
    expect(maxAbsDiff(fromLayers.grads[(encoder.weights[1].read() as tf.Variable).name], gb)).toBeLessThan(1e-5);
    expect(maxAbsDiff(fromLayers.grads[(decoder.weights[0].read() as tf.Variable).name], gb2)).toBeLessThan(1e-5);
    // The gradient of K has two parts (encoder and decoder use); dropping one changes it.
    const frozenK = K.clone(); // a different tensor: the decoder's use is not differentiated
    const encoderOnly = tf.grad((kk: tf.Tensor) => {
      const y = tf.sigmoid(tf.add(tf.matMul(x, kk), b));
      const zz = tf.sigmoid(tf.add(tf.matMul(y, frozenK, false, true), b2));
      return tf.mul(0.5, tf.sum(tf.square(tf.sub(zz, x))));
    })(K);
    expect(maxAbsDiff(encoderOnly, gK)).toBeGreaterThan(1e-4);
    tf.dispose([x, frozenK, z, zExplicit, gK, gb, gb2, encoderOnly, ...Object.values(fromLayers.grads), fromLayers.value]);
    model.dispose();
  });

  it("tiedDenseApply matches y·Kᵀ + b′ and rejects mismatched shapes", () => {
    const y = tf.tensor2d([[1, 2]]);
    const K = tf.tensor2d([[1, 0], [0, 1], [1, 1]]); // [inputDim 3, codeDim 2]
    const out = tiedDenseApply(y, K, tf.tensor1d([0, 0, 1]));
    expect(Array.from(out.dataSync())).toEqual([1, 2, 4]);
    expect(() => tiedDenseApply(tf.tensor2d([[1, 2, 3]]), K)).toThrow(/codes have 3 columns.*codeDim 2/);
    expect(() => tiedDenseApply(y, K, tf.tensor1d([0, 0]))).toThrow(/bias must have shape \[3\]/);
    expect(() => tiedDenseApply(y, K, null, "bogus" as never)).toThrow(/activation must be one of/);
    expect(leakedBy(() => tiedDenseApply(y, K).dispose())).toBe(0);
    tf.dispose([y, K, out]);
  });

  it("counts d·k + k + d parameters tied and d·k + k + k·d + d untied, and reconstructs alike in shape", () => {
    const tied = basicAutoencoder({ codeDim: 32, tiedWeights: true });
    const untied = basicAutoencoder({ codeDim: 32, tiedWeights: false });
    expect(tied.paramCount).toBe(784 * 32 + 32 + 784);
    expect(untied.paramCount).toBe(784 * 32 + 32 + 32 * 784 + 784);
    const x = tf.randomUniform([3, 784], 0, 1, "float32", 1) as tf.Tensor2D;
    const zt = tied.reconstruct(x), zu = untied.reconstruct(x);
    expect(zt.shape).toEqual([3, 784]);
    expect(zu.shape).toEqual([3, 784]);
    const code = tied.encode(x);
    expect(code.shape).toEqual([3, 32]);
    tf.dispose([x, zt, zu, code]);
    const before = tf.memory().numTensors;
    tied.dispose();
    expect(before - tf.memory().numTensors).toBe(3); // K, b, b′
    untied.dispose();
  });

  it("names what is wrong: unbuilt or non-dense tiedTo, wrong input width, bad codeDim", () => {
    expect(() => new TiedDense({ tiedTo: null as never })).toThrow(/tiedTo must be the encoder's Dense layer/);
    const unbuilt = tf.layers.dense({ units: 4 });
    expect(() => tiedDense({ tiedTo: unbuilt }).apply(tf.zeros([1, 4]))).toThrow(/not built yet/);
    const enc = tf.layers.dense({ units: 4, inputShape: [6] });
    tf.tidy(() => { enc.apply(tf.zeros([1, 6])); });
    expect(() => tf.tidy(() => { tiedDense({ tiedTo: enc }).apply(tf.zeros([1, 5])); })).toThrow(/input has 5 features but .* has 4 units/);
    expect(() => basicAutoencoder({ codeDim: 0 })).toThrow(/codeDim must be a positive integer/);
    expect(() => basicAutoencoder({ codeDim: 2, activation: "leakyRelu" })).toThrow(/leakyRelu/);
    enc.dispose();
  });
});

describe("inverses of max pooling", () => {
  // 4×4 image, 2×2 windows; maxima 4 (offset 3), 8 (offset 1), 9 (offset 0), 7 (offset 2).
  const image = [
    [1, 2, 0, 8],
    [3, 4, 5, 6],
    [9, 0, 1, 1],
    [2, 1, 7, 3],
  ];
  const x = () => tf.tensor4d(image.flat(), [1, 4, 4, 1]);

  it("maxPoolWithSwitches gives the window maxima and their row-major offsets", () => {
    const { pooled, switches } = maxPoolWithSwitches(x());
    expect(Array.from(pooled.dataSync())).toEqual([4, 8, 9, 7]);
    expect(Array.from(switches.dataSync())).toEqual([3, 1, 0, 2]);
    expect(switches.dtype).toBe("int32");
    tf.dispose([pooled, switches]);
  });

  it("unpoolWithSwitches puts each maximum back where it was (closed form)", () => {
    const out = poolUnpoolRoundTrip(x(), "switches");
    expect(Array.from(out.dataSync())).toEqual([
      0, 0, 0, 8,
      0, 4, 0, 0,
      9, 0, 0, 0,
      0, 0, 7, 0,
    ]);
    out.dispose();
  });

  it("unpoolEvenSpread shares v/4 over the window (or copies v)", () => {
    const pooled = tf.tensor4d([4, 8, 9, 7], [1, 2, 2, 1]);
    expect(Array.from(unpoolEvenSpread(pooled).dataSync())).toEqual([
      1, 1, 2, 2,
      1, 1, 2, 2,
      2.25, 2.25, 1.75, 1.75,
      2.25, 2.25, 1.75, 1.75,
    ]);
    expect(Array.from(unpoolEvenSpread(pooled, { mode: "copy" }).dataSync())).toEqual([4, 4, 8, 8, 4, 4, 8, 8, 9, 9, 7, 7, 9, 9, 7, 7]);
    pooled.dispose();
  });

  it("unpoolRandomLocation puts each value at exactly one position of its window, repeatably by seed", () => {
    const pooled = tf.tensor4d([4, 8, 9, 7, 1, 2, 3, 5], [2, 2, 2, 1]);
    const a = unpoolRandomLocation(pooled, { seed: 11 });
    const b = unpoolRandomLocation(pooled, { seed: 11 });
    expect(a.shape).toEqual([2, 4, 4, 1]);
    expect(maxAbsDiff(a, b)).toBe(0);
    // Pooling the result gives back the pooled values, and each window has one non-zero.
    const { pooled: again } = maxPoolWithSwitches(a);
    expect(maxAbsDiff(again, pooled)).toBe(0);
    const nonZeroPerWindow = tf.tidy(() => tf.sum(tf.cast(tf.notEqual(a, 0), "float32")).dataSync()[0]);
    expect(nonZeroPerWindow).toBe(8); // 8 pooled values → 8 non-zeros
    // The positions are those of randomSwitches with the same seed.
    const s = randomSwitches([2, 2, 2, 1], { seed: 11 });
    const viaSwitches = unpoolWithSwitches(pooled, s);
    expect(maxAbsDiff(viaSwitches, a)).toBe(0);
    const counts = new Array(4).fill(0);
    const many = randomSwitches([1, 50, 50, 4], { seed: 5 });
    for (const v of many.dataSync()) counts[v]++;
    for (const c of counts) expect(c).toBeGreaterThan(2200); // 10,000 draws, ≈ 2,500 each
    tf.dispose([pooled, a, b, again, s, viaSwitches, many]);
  });

  it("is exact on the maxima for random multi-channel batches: x ⊙ mask = unpool(pool(x)), and matches tf.maxPool", () => {
    const xs = tf.randomNormal([3, 6, 8, 5], 0, 1, "float32", 21) as tf.Tensor4D;
    const { pooled, switches } = maxPoolWithSwitches(xs);
    const reference = tf.maxPool(xs, 2, 2, "valid");
    expect(maxAbsDiff(pooled, reference)).toBe(0);
    const restored = unpoolWithSwitches(pooled, switches);
    const isMax = tf.tidy(() => tf.cast(tf.equal(xs, tf.mul(tf.ones(xs.shape), unpoolEvenSpread(pooled, { mode: "copy" }))), "float32"));
    const masked = tf.mul(xs, isMax);
    expect(maxAbsDiff(restored, masked)).toBe(0);
    // Pooling the restored map gives the pooled values back where the maxima are positive (zeros fill the rest).
    const positive = tf.tidy(() => tf.add(tf.abs(xs), 0.01)) as tf.Tensor4D;
    const pp = maxPoolWithSwitches(positive);
    const again = maxPoolWithSwitches(unpoolWithSwitches(pp.pooled, pp.switches));
    expect(maxAbsDiff(again.pooled, pp.pooled)).toBe(0);
    expect(Array.from(again.switches.dataSync())).toEqual(Array.from(pp.switches.dataSync()));
    tf.dispose([positive, pp.pooled, pp.switches, again.pooled, again.switches]);
    // 3-pooling too.
    const x3 = tf.randomUniform([2, 6, 9, 2], 0.01, 1, "float32", 22) as tf.Tensor4D;
    const p3 = maxPoolWithSwitches(x3, { poolSize: 3 });
    expect(maxAbsDiff(p3.pooled, tf.maxPool(x3, 3, 3, "valid"))).toBe(0);
    expect(maxAbsDiff(maxPoolWithSwitches(unpoolWithSwitches(p3.pooled, p3.switches, { poolSize: 3 }), { poolSize: 3 }).pooled, p3.pooled)).toBe(0);
    tf.dispose([xs, pooled, switches, reference, restored, isMax, masked, x3, p3.pooled, p3.switches]);
  });

  it("ties go to the first maximum, so zero windows get one position", () => {
    const { pooled, switches } = maxPoolWithSwitches(tf.zeros([1, 2, 2, 1]) as tf.Tensor4D);
    expect(Array.from(switches.dataSync())).toEqual([0]);
    tf.dispose([pooled, switches]);
  });

  it("the pooled values' gradient goes to the switch position, ties included (one position per window)", () => {
    // Windows with ties (two of four values equal to the maximum) and an all-zero window.
    const xs = tf.tensor4d([1, 3, 0, 0, 0, 3, 0, 0, 2, 2, 5, 4, -1, 0, 5, 5], [1, 4, 4, 1]);
    const w = tf.tensor4d([0.5, -2, 3, 7], [1, 2, 2, 1]);
    const { pooled, switches } = maxPoolWithSwitches(xs);
    const gx = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(maxPoolWithSwitches(x as tf.Tensor4D).pooled, w)))(xs);
    const expected = unpoolWithSwitches(w, switches);
    expect(Array.from(switches.dataSync())).toEqual([1, 0, 0, 0]);
    expect(maxAbsDiff(gx, expected)).toBe(0);
    expect(tf.tidy(() => tf.sum(tf.notEqual(gx, 0)).dataSync()[0])).toBe(4); // one position per window
    tf.dispose([xs, w, pooled, switches, gx, expected]);
  });

  it("the gradients are the closed forms: each window's weights picked at the switch, averaged, or at the random spot", () => {
    const xs = tf.randomNormal([2, 4, 4, 3], 0, 1, "float32", 31) as tf.Tensor4D;
    const w = tf.randomNormal([2, 4, 4, 3], 0, 1, "float32", 32);
    const { pooled, switches } = maxPoolWithSwitches(xs);
    const gSwitch = tf.grad((p: tf.Tensor) => tf.sum(tf.mul(unpoolWithSwitches(p as tf.Tensor4D, switches), w)))(pooled);
    // d/dp Σ w ⊙ unpool(p) = w at the switch position of each window:
    const expectedSwitch = tf.tidy(() => {
      const hot = unpoolWithSwitches(tf.onesLike(pooled), switches);
      return tf.mul(tf.avgPool(tf.mul(hot, w) as tf.Tensor4D, 2, 2, "valid"), 4); // the window's sum of w ⊙ one-hot
    });
    expect(maxAbsDiff(gSwitch, expectedSwitch)).toBeLessThan(1e-6);
    const gEven = tf.grad((p: tf.Tensor) => tf.sum(tf.mul(unpoolEvenSpread(p as tf.Tensor4D), w)))(pooled);
    const expectedEven = tf.tidy(() => tf.avgPool(w as tf.Tensor4D, 2, 2, "valid"));
    expect(maxAbsDiff(gEven, expectedEven)).toBeLessThan(1e-6);
    tf.dispose([xs, w, pooled, switches, gSwitch, expectedSwitch, gEven, expectedEven]);
  });

  it("frees its intermediates", () => {
    const xs = tf.randomNormal([2, 4, 4, 3], 0, 1, "float32", 41) as tf.Tensor4D;
    for (const kind of ["switches", "random", "even"] as const) {
      expect(leakedBy(() => poolUnpoolRoundTrip(xs, kind, { seed: 1 }).dispose())).toBe(0);
    }
    expect(leakedBy(() => { const r = maxPoolWithSwitches(xs); tf.dispose([r.pooled, r.switches]); })).toBe(0);
    xs.dispose();
  });

  it("names bad input", () => {
    const odd = tf.zeros([1, 5, 4, 1]) as tf.Tensor4D;
    expect(() => maxPoolWithSwitches(odd)).toThrow(/height 5 and width 4 must be divisible by poolSize 2/);
    expect(() => maxPoolWithSwitches(tf.zeros([4, 4]) as never)).toThrow(/must have rank 4/);
    expect(() => maxPoolWithSwitches(odd, { poolSize: 0 })).toThrow(/poolSize must be a positive integer/);
    const p = tf.zeros([1, 2, 2, 1]) as tf.Tensor4D;
    expect(() => unpoolWithSwitches(p, tf.zeros([1, 2, 3, 1], "int32") as tf.Tensor4D)).toThrow(/switches \[1,2,3,1\] must have the shape of pooled/);
    expect(() => unpoolWithSwitches(p, tf.zeros([1, 2, 2, 1]) as tf.Tensor4D)).toThrow(/must be int32/);
    expect(() => unpoolEvenSpread(p, { mode: "smear" as never })).toThrow(/mode must be "share" or "copy"/);
    expect(() => poolUnpoolRoundTrip(p, "nearest" as never)).toThrow(/kind must be one of random, even, switches/);
    expect(() => unpoolRandomLocation(p, { seed: 1.5 })).toThrow(/seed must be an integer/);
    tf.dispose([odd, p]);
  });
});

describe("code quantisation (phone → cloud)", () => {
  it("counts bytes ⌈k·b/8⌉, or 4k for float32", () => {
    expect(codeBytes(32, 8)).toBe(32);
    expect(codeBytes(32, 4)).toBe(16);
    expect(codeBytes(3, 4)).toBe(2);
    expect(codeBytes(2, 1)).toBe(1);
    expect(codeBytes(10, "float32")).toBe(40);
    expect(() => codeBytes(0, 8)).toThrow(/codeDim must be a positive integer/);
    expect(() => codeBytes(4, 17)).toThrow(/bits must be an integer in 1 … 16/);
  });

  it("keeps the error within Δ/2 inside the range, clips outside, and uses levels 0 … 2ᵇ−1", async () => {
    const codes = tf.randomUniform([200, 5], -3, 2, "float32", 9) as tf.Tensor2D;
    const range = await fitCodeRange(codes);
    for (const bits of [1, 2, 4, 8]) {
      const levels = quantizeCodes(codes, range, bits);
      const lv = levels.dataSync();
      expect(Math.min(...lv)).toBe(0);
      expect(Math.max(...lv)).toBe(2 ** bits - 1);
      const back = dequantizeCodes(levels, range, bits);
      const steps = quantizationStep(range, bits);
      const err = tf.tidy(() => tf.max(tf.abs(tf.sub(back, codes)), 0).dataSync());
      err.forEach((e, i) => expect(e).toBeLessThanOrEqual(steps[i] / 2 + 1e-5));
      // and the bound is nearly reached (uniform data)
      expect(Math.max(...Array.from(err).map((e, i) => e / steps[i]))).toBeGreaterThan(0.4);
      tf.dispose([levels, back]);
    }
    const outside = tf.tensor2d([[10, -10, 0, 0, 0]]);
    const t = transmitCodes(outside, range, 8);
    const tv = t.dataSync();
    expect(tv[0]).toBeCloseTo(range.hi[0], 5);
    expect(tv[1]).toBeCloseTo(range.lo[1], 5);
    const f = transmitCodes(outside, range, "float32");
    expect(Array.from(f.dataSync())).toEqual([10, -10, 0, 0, 0]);
    tf.dispose([codes, outside, t, f]);
  });

  it("sends level 0 for a constant dimension and decodes it exactly", async () => {
    const codes = tf.tensor2d([[1, 0.5], [1, 0.25]]);
    const range = await fitCodeRange(codes);
    const back = transmitCodes(codes, range, 4);
    expect(back.dataSync()[0]).toBe(1);
    expect(back.dataSync()[2]).toBe(1);
    tf.dispose([codes, back]);
  });

  it("frees intermediates and names bad input", async () => {
    const codes = tf.randomUniform([20, 3], 0, 1, "float32", 2) as tf.Tensor2D;
    const range = await fitCodeRange(codes);
    expect(leakedBy(() => transmitCodes(codes, range, 6).dispose())).toBe(0);
    const before = tf.memory().numTensors;
    await fitCodeRange(codes);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => quantizeCodes(codes, { lo: [0, 0], hi: [1, 1] }, 8)).toThrow(/range has 2\/2 entries .* 3 dimensions/);
    expect(() => quantizeCodes(codes, { lo: [0, 0, 2], hi: [1, 1, 1] }, 8)).toThrow(/dimension 2 must have finite lo ≤ hi/);
    expect(() => quantizeCodes(tf.zeros([3]) as never, range, 8)).toThrow(/codes must be rank 2/);
    expect(() => quantizeCodes(codes, range, 0)).toThrow(/bits must be an integer in 1 … 16/);
    codes.dispose();
  });
});

describe("L_H and stacked denoising pre-training", () => {
  it("reconstructionCrossEntropy equals −Σ[x log z + (1−x) log(1−z)]/n and its gradient is (sigmoid(a) − x)/n", () => {
    const x = tf.tensor2d([[0, 1, 0.3], [1, 0, 0.9]]);
    const a = tf.tensor2d([[-2, 3, 0.1], [40, -1, -60]]);
    const naive = (aa: tf.Tensor) => {
      const z = tf.clipByValue(tf.sigmoid(aa), 1e-30, 1 - 1e-7);
      return tf.div(tf.neg(tf.sum(tf.add(tf.mul(x, tf.log(z)), tf.mul(tf.sub(1, x), tf.log(tf.sub(1, z)))))), 2);
    };
    const ours = reconstructionCrossEntropy(x, a).dataSync()[0];
    // closed form element by element (stable, in float64)
    const xv = [0, 1, 0.3, 1, 0, 0.9], av = [-2, 3, 0.1, 40, -1, -60];
    const exact = xv.reduce((s, xi, i) => s + Math.max(av[i], 0) - av[i] * xi + Math.log1p(Math.exp(-Math.abs(av[i]))), 0) / 2;
    expect(ours).toBeCloseTo(exact, 4);
    const small = tf.tensor2d([[-2, 3, 0.1], [4, -1, -6]]);
    expect(ours).toBeGreaterThan(0);
    expect(reconstructionCrossEntropy(x, small).dataSync()[0]).toBeCloseTo(naive(small).dataSync()[0], 4);
    const g = tf.grad((aa: tf.Tensor) => reconstructionCrossEntropy(x, aa))(a);
    const expected = tf.div(tf.sub(tf.sigmoid(a), x), 2);
    expect(maxAbsDiff(g, expected)).toBeLessThan(1e-6);
    expect(() => reconstructionCrossEntropy(x, tf.zeros([2, 4]))).toThrow(/must have the same shape/);
    expect(leakedBy(() => reconstructionCrossEntropy(x, a).dispose())).toBe(0);
    tf.dispose([x, a, small, g, expected]);
  });

  it("pre-trains layer by layer (decoders discarded), copies the encoders into a classifier and fine-tunes it, leaking nothing", async () => {
    const data = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([96, 12], 0, 1, "float32", 5), 0.5), "float32")) as tf.Tensor2D;
    const labels = tf.tidy(() => tf.oneHot(tf.cast(tf.greater(tf.sum(tf.slice(data, [0, 0], [96, 6]), 1), 3), "int32"), 2).toFloat()) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    const seen: Array<[number, number[]]> = [];
    const stack = await pretrainStackedDenoising({
      data, hiddenSizes: [8, 4], numEpochs: 6, batchSize: 16, progress: false, seed: 1,
      optimizer: { name: "adam", learningRate: 0.02 },
      onLayerTrained: (info) => {
        const noisy = info.corrupt(info.inputs, 3);
        const z = tf.tidy(() => info.decode(info.encode(noisy)));
        seen.push([info.layer, z.shape]);
        tf.dispose([noisy, z]);
      },
    });
    expect(seen).toEqual([[0, [96, 12]], [1, [96, 8]]]);
    expect(stack.layerSizes).toEqual([12, 8, 4]);
    expect(stack.encoders.map((e) => e.getWeights()[0].shape)).toEqual([[12, 8], [8, 4]]);
    for (const h of stack.histories) {
      expect(h.epochs).toHaveLength(6);
      expect(h.terms.crossEntropy[5]).toBeLessThan(h.terms.crossEntropy[0]);
    }
    // Only the encoders' weights remain (2 kernels + 2 biases): decoders and codes are freed.
    expect(tf.memory().numTensors - before).toBe(4);

    const pre = stackedClassifier({ pretrained: stack, numClasses: 2, seed: 1 });
    const random = stackedClassifier({ layerSizes: [12, 8, 4], numClasses: 2, seed: 1 });
    expect(pre.countParams()).toBe(random.countParams());
    const [k1] = stack.encoders[0].getWeights();
    expect(maxAbsDiff(pre.layers[0].getWeights()[0], k1)).toBe(0);
    expect(maxAbsDiff(random.layers[0].getWeights()[0], k1)).toBeGreaterThan(0.01);
    const h = await fineTuneClassifier({ model: pre, images: data, oneHot: labels, numEpochs: 2, batchSize: 32, progress: false });
    expect(h.terms.crossEntropy).toHaveLength(2);
    // Fine-tuning changes the copy, not the pre-trained encoder.
    expect(maxAbsDiff(pre.layers[0].getWeights()[0], k1)).toBeGreaterThan(0);
    pre.dispose();
    random.dispose();
    stack.dispose();
    stack.dispose(); // twice is safe
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([data, labels]);
  });

  it("names bad input", async () => {
    await expect(pretrainStackedDenoising({ data: tf.zeros([4]) as never, hiddenSizes: [2] })).rejects.toThrow(/data must be a tf.Tensor2D/);
    await expect(pretrainStackedDenoising({ data: tf.zeros([4, 3]) as tf.Tensor2D, hiddenSizes: [] })).rejects.toThrow(/hiddenSizes must be a non-empty array/);
    await expect(pretrainStackedDenoising({ data: tf.zeros([4, 3]) as tf.Tensor2D, hiddenSizes: [2, 2], corruption: [{ kind: "none" }] })).rejects.toThrow(/corruption lists 1 specs for 2 hidden layers/);
    expect(() => stackedClassifier({ layerSizes: [5] })).toThrow(/layerSizes must list at least/);
    expect(() => stackedClassifier({ layerSizes: [5, 3], numClasses: 1 })).toThrow(/numClasses must be an integer ≥ 2/);
  });
});

describe("convolutional autoencoder with a pooling inverse", () => {
  it("has the slides' shapes, the same parameters for every inverse, and switch side-information only for switches", () => {
    const xs = tf.randomUniform([2, 28, 28, 1], 0, 1, "float32", 3) as tf.Tensor4D;
    const counts: number[] = [];
    for (const unpooling of ["random", "even", "switches"] as const) {
      const cae = poolingConvAutoencoder({ unpooling, seed: 1 });
      expect(cae.codeShape).toEqual([7, 7, 8]);
      expect(cae.codeSize).toBe(392);
      expect(cae.switchBits).toBe(unpooling === "switches" ? (14 * 14 * 16 + 7 * 7 * 8) * 2 : 0);
      counts.push(cae.paramCount);
      const out = tf.tidy(() => cae.reconstruct(xs, { seed: 4 }));
      expect(out.shape).toEqual([2, 28, 28, 1]);
      const v = out.dataSync();
      expect(Math.min(...v)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...v)).toBeLessThanOrEqual(1);
      out.dispose();
      expect(leakedBy(() => tf.tidy(() => { cae.reconstruct(xs, { seed: 1 }); }))).toBe(0);
      cae.dispose();
    }
    const expected = (9 * 1 * 16 + 16) + (9 * 16 * 8 + 8) + (9 * 8 * 16 + 16) + (9 * 16 * 1 + 1);
    expect(counts).toEqual([expected, expected, expected]);
    const two = poolingConvAutoencoder({ unpooling: "even", codeDim: 2 });
    expect(two.codeShape).toEqual([2]);
    expect(two.paramCount).toBe(expected + (392 * 2 + 2) + (2 * 392 + 392));
    const code = tf.tidy(() => two.encode(xs).code);
    expect(code.shape).toEqual([2, 2]);
    code.dispose();
    const before = tf.memory().numTensors;
    two.dispose();
    expect(before - tf.memory().numTensors).toBe(12);
    // building and disposing leaves nothing behind
    expect(leakedBy(() => poolingConvAutoencoder({ unpooling: "switches", inputShape: [8, 8, 1], codeDim: 2 }).dispose())).toBe(0);
    xs.dispose();
  });

  it("lets gradients reach every layer under each inverse", () => {
    const xs = tf.randomUniform([2, 8, 8, 1], 0, 1, "float32", 3) as tf.Tensor4D;
    for (const unpooling of ["random", "even", "switches"] as const) {
      const cae = poolingConvAutoencoder({ unpooling, inputShape: [8, 8, 1], filters: [3, 2], codeDim: unpooling === "even" ? 2 : undefined });
      const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(tf.sub(cae.reconstruct(xs, { seed: 2 }), xs))) as tf.Scalar);
      const names = cae.layers.flatMap((l) => l.trainableWeights.map((w) => (w.read() as tf.Variable).name));
      for (const name of names) {
        expect(grads[name], `${unpooling}: ${name}`).toBeDefined();
        expect(tf.tidy(() => tf.sum(tf.abs(grads[name])).dataSync()[0]), `${unpooling}: ${name}`).toBeGreaterThan(0);
      }
      tf.dispose([value, ...Object.values(grads)]);
      cae.dispose();
    }
    xs.dispose();
  });

  it("names bad input", () => {
    expect(() => poolingConvAutoencoder({ unpooling: "bilinear" as never })).toThrow(/unpooling must be one of "random", "even", "switches"/);
    expect(() => poolingConvAutoencoder({ unpooling: "even", inputShape: [30, 30, 1] })).toThrow(/divisible by 4/);
    expect(() => poolingConvAutoencoder({ unpooling: "even", codeDim: 0 })).toThrow(/codeDim must be a positive integer/);
    const cae = poolingConvAutoencoder({ unpooling: "switches", inputShape: [8, 8, 1], filters: [2, 2] });
    expect(() => cae.encode(tf.zeros([1, 28, 28, 1]) as tf.Tensor4D)).toThrow(/encode expects images \[n, 8, 8, 1\]/);
    expect(() => tf.tidy(() => cae.decode(tf.zeros([1, 2, 2, 2])))).toThrow(/needs the encoder's switches/);
    cae.dispose();
  });
});

describe("the pooling inverses on wasm (what the notebook runs) agree with cpu", () => {
  it("forward values and gradients match, switches and random positions included", async () => {
    const { initBackend } = await import("../lib/backend");
    const compute = () => tf.tidy(() => {
      const xs = tf.tensor4d(Array.from({ length: 2 * 4 * 6 * 3 }, (_, i) => Math.sin(i * 1.7) + 0.01 * i), [2, 4, 6, 3]);
      const w = tf.tensor4d(Array.from({ length: 2 * 4 * 6 * 3 }, (_, i) => Math.cos(i * 0.9)), [2, 4, 6, 3]);
      const { pooled, switches } = maxPoolWithSwitches(xs);
      const out: number[][] = [Array.from(switches.dataSync())];
      for (const f of [
        (p: tf.Tensor) => unpoolWithSwitches(p as tf.Tensor4D, switches),
        (p: tf.Tensor) => unpoolRandomLocation(p as tf.Tensor4D, { seed: 3 }),
        (p: tf.Tensor) => unpoolEvenSpread(p as tf.Tensor4D),
      ]) {
        out.push(Array.from(f(pooled).dataSync()));
        out.push(Array.from(tf.grad((p: tf.Tensor) => tf.sum(tf.mul(f(p), w)))(pooled).dataSync()));
      }
      return out;
    });
    const onCpu = compute();
    const report = await initBackend({ backend: "wasm" });
    expect(report.name).toBe("wasm");
    try {
      const onWasm = compute();
      onWasm.forEach((values, i) => values.forEach((v, j) => expect(Math.abs(v - onCpu[i][j]), `output ${i}[${j}]`).toBeLessThan(1e-5)));
      // a gradient that is all zeros would pass the comparison only if cpu's were too: it is not
      expect(Math.max(...onCpu[2].map(Math.abs))).toBeGreaterThan(0.1);
    } finally {
      await tf.setBackend("cpu");
    }
  });
});
