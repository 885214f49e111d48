/**
 * lib/optim: the optimisers of paper 2's equations (7)–(15), step by step against
 * TensorFlow.js's own optimisers (and against the equations evaluated by hand in double
 * precision), with the forms where the paper differs shown; tensor leaks; bad input.
 */
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import {
  createAdamOptimizer, createEquationOptimizer, createMomentumOptimizer, createRmsPropOptimizer, createSgdOptimizer,
  EquationOptimizer, EquationOptimizerOptions,
} from "../lib/optim";

beforeAll(async () => {
  await tf.setBackend("cpu");
  await tf.ready();
});

/** A deterministic gradient sequence for two variables (a 2×3 matrix and a 3-vector). */
function gradientSequence(steps: number, scale = 1): number[][][] {
  const out: number[][][] = [];
  for (let s = 0; s < steps; s++) {
    const g1 = Array.from({ length: 6 }, (_, i) => scale * Math.sin(1.3 * s + 0.7 * i + 0.1) * (1 + 0.3 * i));
    const g2 = Array.from({ length: 3 }, (_, i) => scale * Math.cos(0.9 * s - 1.1 * i) * (0.5 + i));
    out.push([g1, g2]);
  }
  return out;
}

const INITIAL = [[0.3, -0.2, 0.1, 0.5, -0.4, 0.25], [0.05, -0.15, 0.2]];
const SHAPES: Array<[number] | [number, number]> = [[2, 3], [3]];

function makeVariables(): tf.Variable[] {
  return INITIAL.map((values, i) => tf.variable(tf.tensor(values, SHAPES[i]), true));
}

/** Run `steps` steps of our optimiser and of a tf optimiser on the same gradients; returns the max |Δθ| after each step. */
function compareWithTf(ours: EquationOptimizer, theirs: tf.Optimizer, grads: number[][][], epochOf: (step: number) => number = () => 1): number[] {
  const a = makeVariables();
  const b = makeVariables();
  const diffs: number[] = [];
  grads.forEach((g, step) => {
    tf.tidy(() => {
      const ga = g.map((values, i) => tf.tensor(values, SHAPES[i]));
      ours.update(a, ga, { step, epoch: epochOf(step), learningRate: ours.learningRate });
      const named: tf.NamedTensorMap = {};
      b.forEach((v, i) => { named[v.name] = tf.tensor(g[i], SHAPES[i]); });
      theirs.applyGradients(named);
    });
    const d = Math.max(...a.map((v, i) => tf.tidy(() => tf.max(tf.abs(tf.sub(v, b[i]))).dataSync()[0])));
    diffs.push(d);
  });
  tf.dispose([...a, ...b]);
  ours.dispose();
  theirs.dispose();
  return diffs;
}

/** The equations (7)–(15) in double precision on flat parameter lists, for a closed-form reference. */
function referenceSteps(name: "sgd" | "momentum" | "rmsprop" | "adam", o: Required<Omit<EquationOptimizerOptions, "timeStep">> & { timeStep: "step" | "epoch" }, grads: number[][], epochOf: (s: number) => number): number[] {
  const theta = INITIAL.flat();
  const m = theta.map(() => 0);
  const v = theta.map(() => 0);
  grads.forEach((g, s) => {
    const t = o.timeStep === "epoch" ? epochOf(s) : s + 1;
    g.forEach((gi, i) => {
      let step = gi;
      if (name === "momentum" || name === "adam") m[i] = o.beta1 * m[i] + (1 - o.beta1) * gi;
      if (name === "rmsprop" || name === "adam") v[i] = o.beta2 * v[i] + (1 - o.beta2) * gi * gi;
      const root = (x: number) => (o.epsilonPlacement === "inside" ? Math.sqrt(x + o.epsilon) : Math.sqrt(x) + o.epsilon);
      if (name === "momentum") step = m[i];
      if (name === "rmsprop") step = gi / root(v[i]);
      if (name === "adam") step = (m[i] / (1 - o.beta1 ** t)) / root(v[i] / (1 - o.beta2 ** t));
      theta[i] -= o.learningRate * step;
    });
  });
  return theta;
}

function runOurs(opt: EquationOptimizer, grads: number[][][], epochOf: (s: number) => number = () => 1): number[] {
  const vars = makeVariables();
  grads.forEach((g, step) => tf.tidy(() => opt.update(vars, g.map((values, i) => tf.tensor(values, SHAPES[i])), { step, epoch: epochOf(step) })));
  const out = vars.flatMap((v) => Array.from(v.dataSync()));
  tf.dispose(vars);
  opt.dispose();
  return out;
}

const maxAbsDiff = (a: number[], b: number[]) => Math.max(...a.map((x, i) => Math.abs(x - b[i])));

describe("optimisers against TensorFlow.js (float32: agreement to 1e-6 after 20 steps)", () => {
  const grads = gradientSequence(20);

  it("SGD (7) is tf.train.sgd", () => {
    const d = compareWithTf(createSgdOptimizer({ learningRate: 0.05 }), tf.train.sgd(0.05), grads);
    expect(Math.max(...d)).toBeLessThan(1e-6);
  });

  it("Momentum (8)–(9), an average of gradients, is tf.train.momentum with the rate α(1−β₁); with rate α it is not", () => {
    const [alpha, beta] = [0.05, 0.9];
    const same = compareWithTf(createMomentumOptimizer({ learningRate: alpha, beta1: beta }), tf.train.momentum(alpha * (1 - beta), beta), grads);
    expect(Math.max(...same)).toBeLessThan(1e-6);
    // tf's momentum accumulates g without the (1−β) factor: its steps are 1/(1−β) = 10× larger.
    const different = compareWithTf(createMomentumOptimizer({ learningRate: alpha, beta1: beta }), tf.train.momentum(alpha, beta), grads);
    // First step: ours α(1−β)g, tf αg; they differ by αβ·max|g| ≈ 0.045 · 1.6.
    expect(different[0]).toBeGreaterThan(0.05);
  });

  it("RMSProp (10)–(12) with ε inside the root is tf.train.rmsprop; the paper's ε outside differs where gradients are small", () => {
    const [alpha, beta2, eps] = [0.01, 0.9, 1e-3];
    const inside = compareWithTf(createRmsPropOptimizer({ learningRate: alpha, beta2, epsilon: eps, epsilonPlacement: "inside" }), tf.train.rmsprop(alpha, beta2, 0, eps), grads);
    expect(Math.max(...inside)).toBeLessThan(1e-6);
    // Small gradients (|g| ~ 1e-3 ≈ √ε … ε): √v + ε and √(v + ε) differ visibly.
    const small = gradientSequence(5, 1e-3);
    const outside = compareWithTf(createRmsPropOptimizer({ learningRate: alpha, beta2, epsilon: eps }), tf.train.rmsprop(alpha, beta2, 0, eps), small);
    expect(outside[0]).toBeGreaterThan(1e-3);
  });

  it("Adam (13)–(15) with ε outside the root is tf.train.adam; as printed (ε inside) it differs", () => {
    const [alpha, b1, b2, eps] = [0.01, 0.9, 0.999, 1e-8];
    const outside = compareWithTf(createAdamOptimizer({ learningRate: alpha, beta1: b1, beta2: b2, epsilon: eps, epsilonPlacement: "outside" }), tf.train.adam(alpha, b1, b2, eps), grads);
    expect(Math.max(...outside)).toBeLessThan(1e-6);
    // The first Adam step is α·g/(|g| + ε) (outside) or α·g/√(g² + ε) (inside): with ε = 1e-4 and |g| ~ 1e-2 they differ by ~α·ε/(2g²) ≈ 5e-3·α.
    const small = gradientSequence(3, 1e-2);
    const inside = compareWithTf(createAdamOptimizer({ learningRate: alpha, beta1: b1, beta2: b2, epsilon: 1e-4 }), tf.train.adam(alpha, b1, b2, 1e-4), small);
    expect(inside[0]).toBeGreaterThan(1e-5);
  });

  it("the default ε placement is the paper's: RMSProp outside (12), Adam inside (15)", () => {
    expect(createRmsPropOptimizer({ learningRate: 1 }).epsilonPlacement).toBe("outside");
    expect(createAdamOptimizer({ learningRate: 1 }).epsilonPlacement).toBe("inside");
    expect(createAdamOptimizer({ learningRate: 1 }).timeStep).toBe("step");
  });
});

describe("optimisers against the equations in double precision (relative 1e-5)", () => {
  const grads = gradientSequence(12).map((g) => g.flat());
  const base = { learningRate: 0.02, beta1: 0.8, beta2: 0.95, epsilon: 1e-3 };
  const epochOf = (s: number) => 1 + Math.floor(s / 5);
  const cases: Array<["sgd" | "momentum" | "rmsprop" | "adam", "inside" | "outside", "step" | "epoch"]> = [
    ["sgd", "outside", "step"], ["momentum", "outside", "step"], ["rmsprop", "outside", "step"], ["rmsprop", "inside", "step"],
    ["adam", "outside", "step"], ["adam", "inside", "step"], ["adam", "outside", "epoch"],
  ];
  for (const [name, placement, timeStep] of cases) {
    it(`${name}, ε ${placement}, t per ${timeStep}`, () => {
      const opts = { ...base, epsilonPlacement: placement, timeStep } as const;
      const ours = runOurs(createEquationOptimizer(name, opts), gradientSequence(12), epochOf);
      const ref = referenceSteps(name, opts, grads, epochOf);
      expect(maxAbsDiff(ours, ref) / Math.max(...ref.map(Math.abs))).toBeLessThan(1e-5);
    });
  }

  it("Adam with t = epoch (the program) keeps the bias correction of epoch 1 for all of epoch 1's steps", () => {
    const opts = { ...base, epsilonPlacement: "outside", timeStep: "epoch" } as const;
    const perEpoch = runOurs(createAdamOptimizer(opts), gradientSequence(12), epochOf);
    const perStep = runOurs(createAdamOptimizer({ ...opts, timeStep: "step" }), gradientSequence(12), epochOf);
    expect(maxAbsDiff(perEpoch, perStep)).toBeGreaterThan(1e-4);
  });
});

describe("optimiser state, leaks and errors", () => {
  it("keeps a constant number of tensors per step and frees its state on dispose", () => {
    for (const name of ["sgd", "momentum", "rmsprop", "adam"] as const) {
      const vars = makeVariables();
      const opt = createEquationOptimizer(name, { learningRate: 0.01 });
      const g = INITIAL.map((values, i) => tf.tensor(values, SHAPES[i]));
      opt.update(vars, g, { epoch: 1 }); // primes the state
      const before = tf.memory().numTensors;
      for (let i = 0; i < 5; i++) opt.update(vars, g, { epoch: 1 });
      expect(tf.memory().numTensors).toBe(before);
      const stateTensors = name === "sgd" ? 0 : name === "adam" ? 2 : 1;
      opt.dispose();
      expect(tf.memory().numTensors).toBe(before - stateTensors);
      tf.dispose([...vars, ...g]);
    }
  });

  it("state() returns m and v per variable", () => {
    const vars = makeVariables();
    const opt = createAdamOptimizer({ learningRate: 0.01, beta1: 0.5, beta2: 0.5 });
    expect(opt.state()).toBeUndefined();
    const g = INITIAL.map((values, i) => tf.tensor(values, SHAPES[i]));
    opt.update(vars, g);
    const s = opt.state()!;
    expect(s.m!.map((t) => t.shape)).toEqual([[2, 3], [3]]);
    expect(Array.from(s.m![1].dataSync())).toEqual(INITIAL[1].map((x) => Math.fround(0.5 * x)));
    expect(Array.from(s.v![1].dataSync()).map((x) => +x.toFixed(7))).toEqual(INITIAL[1].map((x) => +(0.5 * x * x).toFixed(7)));
    tf.dispose([...s.m!, ...s.v!, ...vars, ...g]);
    opt.dispose();
  });

  it("rejects bad hyperparameters and bad updates with clear errors", () => {
    expect(() => createAdamOptimizer({ learningRate: 0 })).toThrow(/createAdamOptimizer: learningRate must be a positive number, got 0/);
    expect(() => createMomentumOptimizer({ learningRate: 0.1, beta1: 1 })).toThrow(/beta1 must be a number in \[0, 1\), got 1/);
    expect(() => createRmsPropOptimizer({ learningRate: 0.1, beta2: -0.1 })).toThrow(/beta2 must be a number in \[0, 1\)/);
    expect(() => createAdamOptimizer({ learningRate: 0.1, epsilon: -1 })).toThrow(/epsilon must be a non-negative number/);
    expect(() => createAdamOptimizer({ learningRate: 0.1, epsilonPlacement: "middle" as never })).toThrow(/epsilonPlacement must be "inside" or "outside"/);
    expect(() => createEquationOptimizer("adagrad" as never, { learningRate: 0.1 })).toThrow(/name must be one of "sgd", "momentum", "rmsprop", "adam"/);
    const vars = makeVariables();
    const opt = createAdamOptimizer({ learningRate: 0.1, timeStep: "epoch" });
    const g = INITIAL.map((values, i) => tf.tensor(values, SHAPES[i]));
    expect(() => opt.update(vars, [g[0]])).toThrow(/one gradient per variable, got 2 variables and 1 gradients/);
    expect(() => opt.update(vars, [g[1], g[0]], { epoch: 1 })).toThrow(/gradient 0 has shape \[3\] but variable .* has \[2, 3\]/);
    expect(() => opt.update(vars, g)).toThrow(/timeStep "epoch" needs state.epoch/);
    opt.update(vars, g, { epoch: 1 });
    expect(() => opt.update([vars[1], vars[0]], [g[1], g[0]], { epoch: 1 })).toThrow(/same variables, in the same order/);
    opt.dispose();
    expect(() => opt.update(vars, g, { epoch: 1 })).toThrow(/has been disposed/);
    tf.dispose([...vars, ...g]);
  });
});
