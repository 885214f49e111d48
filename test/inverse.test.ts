/**
 * lib/inverse/functions.ts and layers.ts: the inverse of each layer of paper 1's abstract network,
 * checked by round trips, closed forms, tf.grad and the explicit matrix of a convolution;
 * leak counts and bad-input errors.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../lib/backend";
import {
  convolutionMatrix, denseInverse, denseInverseWeights, inverseLeakyReluLayer, leakyReluInverse, logit, logitLayer,
  roundLayer, roundProbabilities, softmaxInverseApprox, softmaxInverseCentered, softmaxInverseDroppedTerm, softmaxInverseLayer,
} from "../lib/inverse";
import { assertClose, seededNormal } from "./helpers/gradcheck";
import { leakedBy } from "./helpers/leaks";

beforeAll(async () => {
  await initBackend();
});

const values = (t: tf.Tensor): number[] => {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
};

describe("leaky ReLU inverse min(y, y/α)", () => {
  it("undoes max(x, αx) for every x (round trip within float32 rounding)", () => {
    const x = tf.tensor1d(seededNormal(1000, 1, 3));
    for (const alpha of [0.01, 0.3, 0.9]) {
      const y = tf.leakyRelu(x, alpha);
      assertClose(values(leakyReluInverse(y, { alpha })), x.dataSync(), { rtol: 1e-6, atol: 1e-6 }, `round trip α=${alpha}`);
      const back = leakyReluInverse(x, { alpha });
      assertClose(values(tf.leakyRelu(back, alpha)), x.dataSync(), { rtol: 1e-6, atol: 1e-6 }, `other way α=${alpha}`);
      tf.dispose([y, back]);
    }
    x.dispose();
  });

  it("has derivative 1 for y > 0 and 1/α for y < 0 (tf.grad)", () => {
    const y = tf.tensor1d([-2, -0.5, 0.5, 3]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(leakyReluInverse(t, { alpha: 0.3 })))(y);
    assertClose(values(g), [1 / 0.3, 1 / 0.3, 1, 1], { rtol: 1e-6, atol: 0 }, "d/dy");
    y.dispose();
  });

  it("rejects α outside (0, 1), naming plain ReLU for α = 0, and leaks nothing", () => {
    const y = tf.tensor1d([1, -1]);
    expect(() => leakyReluInverse(y, { alpha: 0 })).toThrow(/alpha must lie in \(0, 1\).*plain ReLU/);
    expect(() => leakyReluInverse(y, { alpha: 1.5 })).toThrow(/alpha/);
    expect(() => leakyReluInverse(null as unknown as tf.Tensor)).toThrow(/leakyReluInverse: y must be a tf.Tensor/);
    expect(leakedBy(() => leakyReluInverse(y).dispose())).toBe(0);
    y.dispose();
  });
});

describe("logit, the inverse of the sigmoid", () => {
  it("round-trips sigmoid within 2e-3 for |x| ≤ 9 in float32, and its error grows beyond", () => {
    const xs = Array.from({ length: 181 }, (_, i) => -9 + i * 0.1);
    const x = tf.tensor1d(xs);
    const back = values(logit(tf.sigmoid(x)));
    assertClose(back, xs, { rtol: 0, atol: 2e-3 }, "logit(sigmoid(x))");
    // Near 0 the error is at float32 rounding.
    assertClose(back.slice(80, 101), xs.slice(80, 101), { rtol: 0, atol: 1e-5 }, "|x| ≤ 1");
    x.dispose();
  });

  it("reaches +∞ where float32 rounds sigmoid(x) to 1 (x > 17.3), and ε keeps it finite", () => {
    const edge = tf.tensor1d([17]);
    const below = values(logit(tf.sigmoid(edge))); // 1 − y is one float32 step, 6e-8: logit ≈ 16.6, not 17
    expect(Math.abs(below[0] - 17)).toBeGreaterThan(0.1);
    edge.dispose();
    const x = tf.tensor1d([18, 20]);
    const s = tf.sigmoid(x);
    expect(Array.from(s.dataSync())).toEqual([1, 1]);
    expect(values(logit(s))).toEqual([Infinity, Infinity]);
    const capped = values(logit(s, { epsilon: 1e-7 }));
    expect(capped[0]).toBeCloseTo(Math.log((1 + 1e-7) / 1e-7), 2);
    tf.dispose([x, s]);
  });

  it("has derivative 1/(y(1−y)) (tf.grad) and rejects a negative ε", () => {
    const y = tf.tensor1d([0.1, 0.5, 0.8]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(logit(t)))(y);
    assertClose(values(g), [0.1, 0.5, 0.8].map((p) => 1 / (p * (1 - p))), { rtol: 1e-5, atol: 0 }, "d logit/dy");
    expect(() => logit(y, { epsilon: -1 })).toThrow(/epsilon must be a finite number ≥ 0/);
    expect(leakedBy(() => logit(y, { epsilon: 1e-7 }).dispose())).toBe(0);
    y.dispose();
  });
});

describe("softmax inverse, eqs. (2)–(4)", () => {
  const logits = () => tf.tensor2d([[3, 1, -2, 0.5], [0.2, 0.1, -0.3, 0], [-1, 4, 2, 2]]);

  it("eq. (3) is exact: ln(y_i/(1−y_i)) + ln Σ_{j≠i} e^{x_j} = x_i", () => {
    const x = logits();
    const y = tf.softmax(x);
    const rebuilt = tf.add(logit(y), softmaxInverseDroppedTerm(x));
    assertClose(values(rebuilt), x.dataSync(), { rtol: 0, atol: 2e-5 }, "eq. (3)");
    tf.dispose([x, y]);
  });

  it("eq. (4) widens every logit gap in favour of the larger probability (x̃_i − x̃_j > x_i − x_j when y_i > y_j)", () => {
    const x = logits();
    const y = tf.softmax(x);
    const approx = tf.tensor2d(values(softmaxInverseApprox(y, { epsilon: 0 })), x.shape as [number, number]);
    const [xa, ya, aa] = [x.arraySync(), y.arraySync(), approx.arraySync()];
    let pairs = 0;
    for (let r = 0; r < xa.length; r++) {
      for (let i = 0; i < xa[r].length; i++) {
        for (let j = 0; j < xa[r].length; j++) {
          if (ya[r][i] <= ya[r][j]) continue;
          expect(aa[r][i] - aa[r][j]).toBeGreaterThan(xa[r][i] - xa[r][j]);
          pairs++;
        }
      }
    }
    expect(pairs).toBeGreaterThan(10);
    // With the shift that makes Σ_{j≠1} e^{x_j} < 1 (the paper's case y_1 ≥ 0.9), eq. (4) raises x_1 itself.
    const shifted = tf.tensor2d([[3, -3, -3, -3]]);
    const up = values(softmaxInverseApprox(tf.softmax(shifted), { epsilon: 0 }));
    expect(up[0]).toBeGreaterThan(3);
    tf.dispose([x, y, approx, shifted]);
  });

  it("softmax of eq. (4)'s logits has the closed form p_i ∝ y_i/(1−y_i): large probabilities grow, small ones shrink", () => {
    const y = tf.tensor2d([[0.7, 0.2, 0.1], [0.4, 0.35, 0.25]]);
    const sharpened = values(tf.softmax(softmaxInverseApprox(y, { epsilon: 0 })));
    const expected = [[0.7, 0.2, 0.1], [0.4, 0.35, 0.25]].flatMap((row) => {
      const odds = row.map((p) => p / (1 - p));
      const sum = odds.reduce((a, b) => a + b, 0);
      return odds.map((o) => o / sum);
    });
    assertClose(sharpened, expected, { rtol: 1e-5, atol: 1e-6 }, "closed form");
    expect(sharpened[0]).toBeGreaterThan(0.7);
    expect(sharpened[2]).toBeLessThan(0.1);
    y.dispose();
  });

  it("ε = 1e-7 keeps one-hot inputs finite: ±ln((1+ε)/ε) ≈ ±16.12", () => {
    const y = tf.tensor2d([[1, 0, 0]]);
    const out = values(softmaxInverseApprox(y));
    const big = Math.log((1 + 1e-7) / 1e-7);
    assertClose(out, [big, -big, -big], { rtol: 1e-4, atol: 0 }, "one-hot");
    expect(leakedBy(() => softmaxInverseApprox(y).dispose())).toBe(0);
    y.dispose();
  });

  it("the centred inverse ln y − mean ln y is exact up to softmax's free constant", () => {
    const x = logits();
    const y = tf.softmax(x);
    const centred = softmaxInverseCentered(y);
    assertClose(values(tf.softmax(centred)), y.dataSync(), { rtol: 1e-5, atol: 1e-7 }, "softmax(centred) = y");
    assertClose(values(centred), values(tf.sub(x, tf.mean(x, -1, true))), { rtol: 0, atol: 1e-5 }, "x − mean x");
    tf.dispose([x, y]);
  });
});

describe("dense layer inverse (pseudo-inverse)", () => {
  const make = (nIn: number, nOut: number, seed: number) => ({
    w: tf.tensor2d(seededNormal(nIn * nOut, seed), [nIn, nOut]),
    b: tf.tensor1d(seededNormal(nOut, seed + 1)),
    x: tf.tensor2d(seededNormal(4 * nIn, seed + 2), [4, nIn]),
  });

  it("is exact when W has full row rank (nIn ≤ nOut): x̂ = x", () => {
    const { w, b, x } = make(5, 8, 10);
    const y = tf.add(tf.matMul(x, w), b) as tf.Tensor2D;
    assertClose(values(denseInverse(y, w, b)), x.dataSync(), { rtol: 1e-4, atol: 1e-4 }, "tall round trip");
    tf.dispose([w, b, x, y]);
  });

  it("otherwise returns the minimum-norm preimage: x̂·W + b = y, x − x̂ in the null space, ‖x̂‖ ≤ ‖x‖", () => {
    const { w, b, x } = make(8, 5, 20);
    const y = tf.add(tf.matMul(x, w), b) as tf.Tensor2D;
    const xHat = denseInverse(y, w, b);
    assertClose(values(tf.add(tf.matMul(xHat, w), b)), y.dataSync(), { rtol: 1e-4, atol: 1e-4 }, "forward of x̂");
    const lost = tf.sub(x, xHat);
    // the lost part is orthogonal to x̂ (x̂ lies in the row space of W, the lost part in its null space)
    assertClose(values(tf.sum(tf.mul(lost, xHat), 1)), [0, 0, 0, 0], { rtol: 0, atol: 1e-3 }, "⟨x − x̂, x̂⟩");
    const norms = values(tf.sub(tf.norm(x, "euclidean", 1), tf.norm(xHat, "euclidean", 1)));
    for (const d of norms) expect(d).toBeGreaterThan(0);
    tf.dispose([w, b, x, y, xHat, lost]);
  });

  it("is itself a dense layer: kernel W⁺ [nOut, nIn], bias −b·W⁺; no leaks; clear errors", () => {
    const { w, b, x } = make(6, 3, 30);
    const inv = denseInverseWeights(w, b);
    expect(inv.kernel.shape).toEqual([3, 6]);
    expect(inv.bias.shape).toEqual([6]);
    tf.dispose([inv.kernel, inv.bias]);
    const y = tf.add(tf.matMul(x, w), b) as tf.Tensor2D;
    expect(leakedBy(() => denseInverse(y, w, b).dispose())).toBe(0);
    expect(() => denseInverse(y, w, tf.zeros([4]) as tf.Tensor1D)).toThrow(/bias must have shape \[3\]/);
    expect(() => denseInverse(x as tf.Tensor2D, w, b)).toThrow(/y must have shape \[n, 3\]/);
    expect(() => denseInverseWeights(tf.zeros([2, 2, 2]) as unknown as tf.Tensor2D)).toThrow(/kernel must be a 2-D/);
    tf.dispose([w, b, x, y]);
  });
});

describe("valid convolution as a matrix; the transposed convolution is its adjoint", () => {
  const kernel = () => tf.tensor4d(seededNormal(3 * 3 * 1 * 3, 40), [3, 3, 1, 3]);

  it("vec(conv(x)) = vec(x)·M", () => {
    const k = kernel();
    const m = convolutionMatrix(k, [6, 6, 1]);
    expect(m.shape).toEqual([36, 48]);
    const x = tf.tensor4d(seededNormal(36, 41), [1, 6, 6, 1]);
    assertClose(values(tf.matMul(tf.reshape(x, [1, 36]), m)), values(tf.conv2d(x, k, 1, "valid")), { rtol: 1e-5, atol: 1e-5 }, "conv as matrix");
    tf.dispose([k, m, x]);
  });

  it("conv2dTranspose(g, K) = g·Mᵀ = ∂⟨conv(x), g⟩/∂x (tf.grad)", () => {
    const k = kernel();
    const m = convolutionMatrix(k, [6, 6, 1]);
    const g = tf.tensor4d(seededNormal(48, 42), [1, 4, 4, 3]);
    const transposed = values(tf.conv2dTranspose(g, k, [1, 6, 6, 1], 1, "valid"));
    assertClose(transposed, values(tf.matMul(tf.reshape(g, [1, 48]), m, false, true)), { rtol: 1e-5, atol: 1e-5 }, "adjoint");
    const x = tf.zeros([1, 6, 6, 1]) as tf.Tensor4D;
    const grad = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(t as tf.Tensor4D, k, 1, "valid"), g)))(x);
    assertClose(values(grad), transposed, { rtol: 1e-5, atol: 1e-5 }, "tf.grad");
    tf.dispose([k, m, g, x]);
  });

  it("a valid convolution to more numbers than it reads is injective: its pseudo-inverse undoes it exactly", () => {
    const k = kernel();
    const m = convolutionMatrix(k, [6, 6, 1]);
    const inv = denseInverseWeights(m); // M⁺ with zero bias
    const x = tf.tensor2d(seededNormal(36, 43), [1, 36]);
    assertClose(values(tf.matMul(tf.matMul(x, m), inv.kernel)), x.dataSync(), { rtol: 1e-3, atol: 1e-3 }, "M⁺ undoes M");
    tf.dispose([k, m, inv.kernel, inv.bias, x]);
  });

  it("rejects wrong shapes and too-large inputs", () => {
    const k = kernel();
    expect(() => convolutionMatrix(k, [6, 6, 2])).toThrow(/2 channels but the kernel expects 1/);
    expect(() => convolutionMatrix(k, [100, 100, 1])).toThrow(/at most 4096/);
    expect(() => convolutionMatrix(tf.zeros([3, 3]) as unknown as tf.Tensor4D, [6, 6, 1])).toThrow(/kernel must be 4-D/);
    k.dispose();
  });
});

describe("round function and the inverse layers", () => {
  it("round makes a confident softmax row one-hot and an unsure one all zeros", () => {
    const y = tf.tensor2d([[0.9, 0.05, 0.05], [0.4, 0.35, 0.25]]);
    expect(values(roundProbabilities(y))).toEqual([1, 0, 0, 0, 0, 0]);
    expect(() => roundProbabilities(y, { threshold: NaN })).toThrow(/threshold must be a finite number/);
    y.dispose();
  });

  it("each layer computes its function inside a model, and rejects bad settings", () => {
    const input = tf.input({ shape: [3] });
    const chain = [inverseLeakyReluLayer({ alpha: 0.3 }), logitLayer({ epsilon: 0 }), softmaxInverseLayer(), roundLayer()];
    const model = tf.model({ inputs: input, outputs: chain.map((l) => l.apply(input) as tf.SymbolicTensor) });
    const y = tf.tensor2d([[0.2, 0.6, 0.1]]);
    const outs = model.predict(y) as tf.Tensor[];
    const negative = tf.tensor2d([[-0.5, 0.5, 2]]);
    const inv = chain[0].apply(negative) as tf.Tensor;
    assertClose(values(inv), [-0.5 / 0.3, 0.5, 2], { rtol: 1e-6, atol: 0 }, "InverseLeakyReLU");
    assertClose(values(outs[1]), values(logit(y)), { rtol: 1e-6, atol: 0 }, "logit layer");
    assertClose(values(outs[2]), values(softmaxInverseApprox(y)), { rtol: 1e-6, atol: 0 }, "softmax-inverse layer");
    expect(values(outs[3])).toEqual([0, 1, 0]);
    tf.dispose([negative, outs[0]]);
    expect(chain[0].getConfig().alpha).toBe(0.3);
    expect(() => inverseLeakyReluLayer({ alpha: 0 })).toThrow(/plain ReLU/);
    expect(() => logitLayer({ epsilon: -1 })).toThrow(/epsilon/);
    tf.dispose([y, ...outs]);
    model.dispose();
  });
});
