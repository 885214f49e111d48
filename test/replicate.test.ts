/**
 * lib/replicate: Student-t quantiles against closed forms and published values, intervals of known
 * samples (single, paired, Welch), every verdict branch, the runners, and errors that name the input.
 */
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import {
  assess, claimRow, compareSeeds, describeRule, formatInterval, judge, logGamma, mergeReplicates, preregister, regularizedIncompleteBeta,
  replicate, replicateBatch, replicatesFrom, seedTable, studentTCdf, studentTQuantile, summarizeSeeds,
} from "../lib/replicate";
import { replicateDemoEnsemble, demoAutoencoderEnsemble, trainDemoEnsemble, gaussianClusters } from "../lib/optim";

// t_{0.975, ν} and t_{0.995, ν} for ν = 1…30 (published tables; six decimals).
const T975 = [12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004, 2.262157, 2.228139, 2.200985, 2.178813, 2.160369,
  2.144787, 2.13145, 2.119905, 2.109816, 2.100922, 2.093024, 2.085963, 2.079614, 2.073873, 2.068658, 2.063899, 2.059539, 2.055529, 2.051831,
  2.048407, 2.04523, 2.042272];
const T995 = [63.656741, 9.924843, 5.840909, 4.604095, 4.032143, 3.707428, 3.499483, 3.355387, 3.249836, 3.169273, 3.105807, 3.05454, 3.012276,
  2.976843, 2.946713, 2.920782, 2.898231, 2.87844, 2.860935, 2.84534, 2.83136, 2.818756, 2.807336, 2.79694, 2.787436, 2.778715, 2.770683,
  2.763262, 2.756386, 2.749996];

describe("Student's t", () => {
  it("logGamma and the incomplete beta match closed forms", () => {
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 12);
    expect(logGamma(1)).toBeCloseTo(0, 12);
    expect(logGamma(10)).toBeCloseTo(Math.log(362880), 10);
    expect(logGamma(0.1)).toBeCloseTo(2.252712651734206, 12);
    for (const x of [0, 0.05, 0.3, 0.5, 0.9, 1]) {
      expect(regularizedIncompleteBeta(x, 1, 1)).toBeCloseTo(x, 12);
      expect(regularizedIncompleteBeta(x, 2.5, 1)).toBeCloseTo(Math.pow(x, 2.5), 12);
      expect(regularizedIncompleteBeta(x, 1, 3.5)).toBeCloseTo(1 - Math.pow(1 - x, 3.5), 12);
      // I_x(2, 3) = 6x² − 8x³ + 3x⁴ (the Beta(2, 3) CDF).
      expect(regularizedIncompleteBeta(x, 2, 3)).toBeCloseTo(6 * x ** 2 - 8 * x ** 3 + 3 * x ** 4, 12);
    }
  });

  it("quantiles match the closed forms for ν = 1 (Cauchy) and ν = 2, and the normal limit", () => {
    for (const p of [0.001, 0.1, 0.3, 0.6, 0.9, 0.975, 0.9995]) {
      expect(studentTQuantile(p, 1)).toBeCloseTo(Math.tan(Math.PI * (p - 0.5)), 8);
      expect(studentTQuantile(p, 2)).toBeCloseTo((2 * p - 1) / Math.sqrt(2 * p * (1 - p)), 10);
    }
    expect(studentTQuantile(0.975, 1e6)).toBeCloseTo(1.959964, 5);
    expect(studentTQuantile(0.5, 7)).toBe(0);
  });

  it("quantiles match published values for ν = 1…30, 40, 60, 120", () => {
    T975.forEach((t, i) => expect(studentTQuantile(0.975, i + 1)).toBeCloseTo(t, 5));
    T995.forEach((t, i) => expect(studentTQuantile(0.995, i + 1)).toBeCloseTo(t, 5));
    expect(studentTQuantile(0.975, 40)).toBeCloseTo(2.021075, 5);
    expect(studentTQuantile(0.975, 60)).toBeCloseTo(2.000298, 5);
    expect(studentTQuantile(0.975, 120)).toBeCloseTo(1.97993, 5);
    expect(studentTQuantile(0.025, 5)).toBeCloseTo(-2.570582, 5); // symmetry
  });

  it("the CDF equals the integral of the density and inverts the quantile (non-integer ν too)", () => {
    for (const df of [3, 7.5]) {
      const density = (t: number) => Math.exp(logGamma((df + 1) / 2) - logGamma(df / 2)) / Math.sqrt(df * Math.PI) * Math.pow(1 + (t * t) / df, -(df + 1) / 2);
      const steps = 2000, h = 2.5 / steps; // Simpson's rule on [0, 2.5]
      let integral = density(0) + density(2.5);
      for (let i = 1; i < steps; i++) integral += (i % 2 ? 4 : 2) * density(i * h);
      expect(studentTCdf(2.5, df)).toBeCloseTo(0.5 + (integral * h) / 3, 10);
      for (const p of [0.01, 0.2, 0.8, 0.995]) expect(studentTCdf(studentTQuantile(p, df), df)).toBeCloseTo(p, 12);
    }
  });

  it("rejects bad input, naming it", () => {
    expect(() => studentTQuantile(1, 5)).toThrow(/studentTQuantile: p must be a probability strictly between 0 and 1, got 1/);
    expect(() => studentTQuantile(0.9, 0)).toThrow(/studentTQuantile: df \(degrees of freedom\) must be a finite number > 0, got 0/);
    expect(() => studentTCdf(NaN, 3)).toThrow(/studentTCdf: t must be a number/);
    expect(() => regularizedIncompleteBeta(1.2, 1, 1)).toThrow(/x must be in \[0, 1\], got 1.2/);
    expect(() => logGamma(-1)).toThrow(/logGamma: x must be a finite number > 0, got -1/);
  });
});

describe("intervals", () => {
  it("gives the t interval of a known sample", () => {
    const s = summarizeSeeds([1, 2, 3, 4, 5]);
    expect(s.mean).toBe(3);
    expect(s.sd).toBeCloseTo(Math.sqrt(2.5), 12);
    expect(s.lower).toBeCloseTo(1.0367568385224428, 6);
    expect(s.upper).toBeCloseTo(4.963243161477557, 6);
    expect(s.df).toBe(4);
    const s90 = summarizeSeeds([1, 2, 3, 4, 5], { level: 0.9 });
    expect(s90.lower).toBeCloseTo(1.4925566809376762, 6);
    expect(summarizeSeeds([2, 2, 2]).halfWidth).toBe(0);
  });

  it("pairs shared seeds and uses Welch otherwise", () => {
    const a = { name: "a", seeds: [0, 1, 2, 3, 4], values: [10.1, 12.3, 9.8, 11.4, 13.0] };
    const b = { name: "b", seeds: [0, 1, 2, 3, 4], values: a.values.map((v, i) => v - [0.9, 1.1, 1.0, 0.8, 1.2][i]) };
    const paired = compareSeeds(a, b);
    expect(paired.kind).toBe("paired");
    expect(paired.name).toBe("a − b");
    expect(paired.lower).toBeCloseTo(0.803675683852245, 6);
    expect(paired.upper).toBeCloseTo(1.196324316147755, 6);
    const welch = compareSeeds(a, b, { paired: false });
    expect(welch.kind).toBe("welch");
    expect(welch.df).toBeCloseTo(7.962055801203373, 6);
    expect(welch.lower).toBeCloseTo(-0.9444127054155114, 6);
    expect(welch.upper).toBeCloseTo(2.944412705415515, 6);
    // Different seeds and sizes: Welch by default.
    const c = { name: "c", seeds: [5, 6, 7, 8], values: [1.0, 2.5, 2.0, 4.0] };
    const w = compareSeeds(a, c);
    expect(w.kind).toBe("welch");
    expect(w.df).toBeCloseTo(6.827256627416671, 6);
    expect([w.lower, w.upper].map((v) => Number(v.toFixed(6)))).toEqual([6.859326, 11.030674]);
    expect(() => compareSeeds(a, c, { paired: true })).toThrow(/compareSeeds: paired needs the same seeds in the same order; a has \[0, 1, 2, 3, 4\], c has \[5, 6, 7, 8\]/);
  });

  it("formats mean ± CI with n", () => {
    const s = { ...summarizeSeeds([1, 2, 3]), mean: 0.1234, halfWidth: 0.0041 };
    expect(formatInterval(s)).toBe("0.1234 ± 0.0041 (95 % CI, n = 3)"); // two significant digits of the half-width
    expect(formatInterval(s, { digits: 3 })).toBe("0.123 ± 0.004 (95 % CI, n = 3)");
    expect(formatInterval(s, { digits: 2 })).toBe("0.12 ± 0.00 (95 % CI, n = 3)");
    expect(formatInterval({ ...s, kind: "paired", mean: 0.05 })).toBe("+0.0500 ± 0.0041 (95 % CI, n = 3, paired)");
    expect(formatInterval({ ...s, kind: "paired", mean: -0.05 })).toBe("−0.0500 ± 0.0041 (95 % CI, n = 3, paired)");
    expect(formatInterval({ ...s, kind: "welch", counts: [5, 4] })).toBe("+0.1234 ± 0.0041 (95 % CI, n = 5 + 4, Welch)");
    expect(formatInterval({ ...s, level: 0.9 })).toBe("0.1234 ± 0.0041 (90 % CI, n = 3)");
  });

  it("rejects bad input, naming it", () => {
    expect(() => summarizeSeeds([1])).toThrow(/summarizeSeeds: values needs at least 2 seeds for an interval, got 1/);
    expect(() => summarizeSeeds([1, NaN, 2], { name: "cosine" })).toThrow(/summarizeSeeds: cosine\[1\] must be a finite number, got NaN/);
    expect(() => summarizeSeeds([1, 2], { level: 95 })).toThrow(/level must be a probability strictly between 0 and 1 \(e\.g\. 0\.95\), got 95/);
    expect(() => compareSeeds({ name: "a", seeds: [0, 1], values: [1] }, { name: "b", seeds: [0, 1], values: [1, 2] })).toThrow(/compareSeeds: a \(a\) has 2 seeds but 1 values/);
  });
});

describe("pre-registered claims", () => {
  const interval = (lower: number, upper: number) => ({ ...summarizeSeeds([lower, upper]), lower, upper });
  it("gives every verdict of every direction", () => {
    const above = preregister({ claim: "A beats B", source: "paper §2", metric: "A − B", direction: "above", threshold: 0 });
    expect(judge(above, interval(0.1, 0.3))).toBe("holds");
    expect(judge(above, interval(-0.3, -0.1))).toBe("does not hold");
    expect(judge(above, interval(-0.1, 0.3))).toBe("within noise");
    const below = preregister({ claim: "A costs less", source: "ours", metric: "A − B", direction: "below", threshold: 0.05 });
    expect(judge(below, interval(-0.1, 0.04))).toBe("holds");
    expect(judge(below, interval(0.06, 0.2))).toBe("does not hold");
    expect(judge(below, interval(0.0, 0.06))).toBe("within noise");
    // Every seed exactly on the threshold: a strict claim ("more than", "less than") does not hold.
    expect(judge(above, interval(0, 0))).toBe("does not hold");
    expect(judge(below, interval(0.05, 0.05))).toBe("does not hold");
    expect(judge(above, interval(0, 0.01))).toBe("within noise");
    const between = preregister({ claim: "accuracy 98.3–99 %", source: "paper §3", metric: "accuracy", direction: "between", threshold: [0.983, 0.99] });
    expect(judge(between, interval(0.984, 0.989))).toBe("holds");
    expect(judge(between, interval(0.95, 0.98))).toBe("does not hold");
    expect(judge(between, interval(0.991, 0.995))).toBe("does not hold");
    expect(judge(between, interval(0.985, 0.992))).toBe("within noise");
    expect(describeRule(between)).toBe("95 % CI inside [0.983, 0.99]");
    expect(describeRule(above)).toBe("95 % CI above 0");
    expect(assess(above, interval(0.1, 0.3)).verdict).toBe("holds");
  });

  it("freezes the rule and refuses a bad one or an interval at another level", () => {
    const claim = preregister({ claim: "x", source: "exploratory", metric: "m", direction: "above", threshold: 0 });
    expect(Object.isFrozen(claim)).toBe(true);
    expect(claim.exploratory).toBe(true);
    expect(() => { (claim as { threshold: number }).threshold = 5; }).toThrow();
    expect(() => judge(claim, summarizeSeeds([1, 2, 3], { level: 0.9 }))).toThrow(/judge: the claim "x" is judged on a 0.95 interval, got a 0.9 one/);
    expect(() => preregister({ claim: "", source: "ours", metric: "m", direction: "above", threshold: 0 })).toThrow(/preregister: claim must be a non-empty string/);
    expect(() => preregister({ claim: "x", source: "ours", metric: "m", direction: "up" as "above", threshold: 0 })).toThrow(/direction must be "above", "below" or "between", got "up"/);
    expect(() => preregister({ claim: "x", source: "ours", metric: "m", direction: "between", threshold: [1, 0] })).toThrow(/threshold of a "between" claim must be \[lo, hi\] with lo < hi, got \[1,0\]/);
    expect(() => preregister({ claim: "x", source: "ours", metric: "m", direction: "above", threshold: NaN })).toThrow(/threshold of an "above" claim must be a finite number/);
  });

  it("credits only paper claims to the paper in claimRow", () => {
    const i = summarizeSeeds([0.1, 0.2, 0.15]);
    const rule = { metric: "m", direction: "above" as const, threshold: 0 };
    expect(claimRow(assess(preregister({ ...rule, claim: "jump helps", source: "paper, Fig. 2(c)" }), i))).toEqual({
      claim: "jump helps", paper: "paper, Fig. 2(c)", measured: "m", rule: "95 % CI above 0", ours: "0.15 ± 0.12 (95 % CI, n = 3)", verdict: "holds" });
    expect(claimRow(assess(preregister({ ...rule, claim: "κ = 0.25", source: "exploratory" }), i)).paper).toBe("— (exploratory: not credited to the paper)");
    expect(claimRow(assess(preregister({ ...rule, claim: "floor", source: "ours: closed form" }), i)).paper).toBe("— (ours: closed form)");
  });
});

describe("runners", () => {
  it("replicate runs each seed in order and pairs metrics by seed", async () => {
    const calls: number[] = [];
    const reps = await replicate({ seeds: [3, 1, 2], run: async (seed) => { calls.push(seed); return { a: seed, b: seed - 0.5 + 0.01 * seed }; } });
    expect(calls).toEqual([3, 1, 2]);
    expect(reps.values("a")).toEqual({ name: "a", seeds: [3, 1, 2], values: [3, 1, 2] });
    expect(reps.seconds).toHaveLength(3);
    const d = reps.difference("a", "b");
    expect(d.kind).toBe("paired");
    expect(d.mean).toBeCloseTo(0.5 - 0.02, 12);
    expect(reps.summary("a").mean).toBe(2);
    expect(() => reps.values("c")).toThrow(/Replicates: no metric 'c'; have a, b/);
    const rows = seedTable(reps, { metrics: ["a"], digits: 2 });
    expect(rows.map((r) => r.seed)).toEqual(["3", "1", "2", "mean ± 95 % CI"]);
    expect(rows[3].a).toBe("2.00 ± 2.48");
  });

  it("replicateBatch and mergeReplicates check shapes and seeds", async () => {
    const batch = await replicateBatch({ seeds: [0, 1], run: (seeds) => ({ x: seeds.map((s) => s * 2) }) });
    expect(batch.metrics.x).toEqual([0, 2]);
    const other = replicatesFrom([0, 1], { y: [1, 1] });
    expect(Object.keys(mergeReplicates(batch, other).metrics)).toEqual(["x", "y"]);
    expect(() => mergeReplicates(batch, replicatesFrom([1, 0], { z: [0, 0] }))).toThrow(/mergeReplicates: part 1 has seeds \[1, 0\], part 0 has \[0, 1\]/);
    await expect(replicateBatch({ seeds: [0, 1], run: () => ({ x: [1] }) })).rejects.toThrow(/metric 'x' must hold one value per seed \(2\), got 1/);
    await expect(replicate({ seeds: [0, 0], run: () => ({ x: 1 }) })).rejects.toThrow(/replicate: seeds must be distinct, got \[0,0\]/);
    await expect(replicate({ seeds: [0, 1], run: (s): Record<string, number> => (s === 0 ? { x: 1 } : { y: 1 }) })).rejects.toThrow(/replicate: run\(1\) returned metrics \[y\], seed 0 returned \[x\]/);
  });

  it("replicateDemoEnsemble trains all seeds at once, each as it would alone", async () => {
    const data = (seed: number) => gaussianClusters({ means: [[0.5, 0, 0, 0.3], [0, 0.5, 0, -0.4]], covariances: [[0.1, 0.01, 0.01, 0.01], [0.01, 0.1, 0.01, 0.01]], counts: [40, 40], seed }).points;
    const before = tf.memory().numTensors;
    const options = { layerSizes: [4, 6, 2, 5, 4], activation: "tanh" as const, optimizer: "adam" as const, learningRate: 0.01, numEpochs: 6, stopBelow: 0 };
    const { replicates, result } = await replicateDemoEnsemble({ ...options, seeds: [3, 4], inputs: data });
    expect(tf.memory().numTensors).toBe(before);
    expect(Object.keys(replicates.metrics).sort()).toEqual(["converged", "epochs", "lastLoss", "stopLoss"]);
    expect(replicates.metrics.epochs).toEqual([6, 6]);
    expect(result.losses[1]).toHaveLength(6);
    for (const [k, seed] of [3, 4].entries()) {
      const alone = demoAutoencoderEnsemble({ seeds: [seed], layerSizes: options.layerSizes, activation: "tanh" });
      const single = await trainDemoEnsemble({ ...options, ensemble: alone, inputs: [data(seed)] });
      alone.dispose();
      expect(replicates.metrics.lastLoss[k]).toBeCloseTo(single.stopLoss[0], 5);
    }
  });
});
