/**
 * Contractive flattening (paper 3, Figure 9): how strongly a map (an encoder h, or the whole
 * reconstruction r) responds to moving along the data manifold versus across it. On the circle
 * of radius R, at c(θ) = R(cos θ, sin θ) with unit tangent t = (−sin θ, cos θ) and unit normal
 * n = (cos θ, sin θ):
 *
 *   (F1) gain along  ‖J(c) t‖,   gain across  ‖J(c) n‖,   J = ∂f/∂x at c
 *   (F2) singular values s₁ ≥ s₂ … of J = square roots of the eigenvalues of JᵀJ
 *
 * A contractive encoder keeps ‖J t‖ (it must tell points along the manifold apart) and shrinks
 * ‖J n‖ (moves off the manifold are noise). J comes from autodiff, checked against central
 * finite differences.
 */
import * as tf from "@tensorflow/tfjs";
import { symmetricEigen } from "../linalg";
import { checkPositiveInteger } from "../checks";

function checkRowMap(f: unknown, x: unknown, fn: string): asserts x is tf.Tensor2D {
  if (typeof f !== "function") throw new Error(`${fn}: f must be a function [n, inputs] → [n, units] acting row by row`);
  if (!(x instanceof tf.Tensor) || x.isDisposed || x.rank !== 2 || x.shape[0] === 0) {
    throw new Error(`${fn}: x must be a live [n, inputs] tf.Tensor with n ≥ 1, got ${x instanceof tf.Tensor ? `shape [${x.shape.join(", ")}]` : typeof x}`);
  }
}

function checkOutput(y: unknown, n: number, fn: string): asserts y is tf.Tensor2D {
  if (!(y instanceof tf.Tensor) || y.rank !== 2 || y.shape[0] !== n) {
    throw new Error(`${fn}: f must return [${n}, units] for [${n}, inputs], got ${y instanceof tf.Tensor ? `shape [${y.shape.join(", ")}]` : typeof y}`);
  }
}

/**
 * Jacobians Jᵢ = ∂f(xᵢ)/∂xᵢ of a row-wise map f at every row of x, [n, units, inputs] (eq. F1's J),
 * by autodiff: unit j's row at all n points is the gradient of Σᵢ f(xᵢ)ⱼ (one backward pass per unit).
 * f must treat rows independently (no batch statistics).
 */
export function rowwiseJacobian(f: (x: tf.Tensor2D) => tf.Tensor, x: tf.Tensor2D): tf.Tensor3D {
  const fn = "rowwiseJacobian";
  checkRowMap(f, x, fn);
  return tf.tidy(() => {
    const probe = f(x);
    checkOutput(probe, x.shape[0], fn);
    const rows: tf.Tensor[] = [];
    for (let j = 0; j < probe.shape[1]; j++) {
      rows.push(tf.grad((input: tf.Tensor) => tf.sum(tf.slice(f(input as tf.Tensor2D), [0, j], [-1, 1])))(x));
    }
    return tf.stack(rows, 1) as tf.Tensor3D;
  });
}

export interface FiniteDifferenceOptions {
  /** Step h of the central difference (f(x + h eᵢ) − f(x − h eᵢ)) / 2h (default 1e-2). */
  step?: number;
}

/** The same Jacobians [n, units, inputs] by central finite differences: the check on rowwiseJacobian. */
export function finiteDifferenceJacobian(f: (x: tf.Tensor2D) => tf.Tensor, x: tf.Tensor2D, options: FiniteDifferenceOptions = {}): tf.Tensor3D {
  const fn = "finiteDifferenceJacobian";
  checkRowMap(f, x, fn);
  const h = options.step ?? 1e-2;
  if (!(h > 0) || !Number.isFinite(h)) throw new Error(`${fn}: step must be a positive number, got ${h}`);
  return tf.tidy(() => {
    const columns: tf.Tensor[] = [];
    for (let i = 0; i < x.shape[1]; i++) {
      const e = tf.mul(h, tf.oneHot(tf.fill([x.shape[0]], i, "int32"), x.shape[1]));
      const plus = f(tf.add(x, e) as tf.Tensor2D), minus = f(tf.sub(x, e) as tf.Tensor2D);
      checkOutput(plus, x.shape[0], fn);
      columns.push(tf.div(tf.sub(plus, minus), 2 * h));
    }
    return tf.stack(columns, 2) as tf.Tensor3D;
  });
}

/** ‖Jᵢ uᵢ‖ for each point's Jacobian [n, units, inputs] and direction uᵢ [n, inputs], [n] (eq. F1). */
export function directionalGains(jacobians: tf.Tensor3D, directions: tf.Tensor2D): tf.Tensor1D {
  const fn = "directionalGains";
  if (!(jacobians instanceof tf.Tensor) || jacobians.rank !== 3) throw new Error(`${fn}: jacobians must be [n, units, inputs]`);
  if (!(directions instanceof tf.Tensor) || directions.rank !== 2 || directions.shape[0] !== jacobians.shape[0] || directions.shape[1] !== jacobians.shape[2]) {
    throw new Error(`${fn}: directions must be [${jacobians.shape[0]}, ${jacobians.shape[2]}] to match jacobians [${jacobians.shape.join(", ")}], got ${directions instanceof tf.Tensor ? `[${directions.shape.join(", ")}]` : typeof directions}`);
  }
  return tf.tidy(() => tf.norm(tf.squeeze(tf.matMul(jacobians, tf.expandDims(directions, 2)), [2]), "euclidean", 1) as tf.Tensor1D);
}

/** Singular values of each Jacobian, descending (eq. F2: √eig(JᵀJ) in float64), as plain arrays. */
export function jacobianSingularValues(jacobians: tf.Tensor3D): number[][] {
  if (!(jacobians instanceof tf.Tensor) || jacobians.rank !== 3) throw new Error("jacobianSingularValues: jacobians must be [n, units, inputs]");
  const gram = tf.tidy(() => tf.matMul(jacobians, jacobians, true, false));
  const g = gram.arraySync() as number[][][];
  gram.dispose();
  return g.map((m) => symmetricEigen(m.map((row, i) => row.map((v, j) => (v + m[j][i]) / 2))).values.map((v) => Math.sqrt(Math.max(0, v))));
}

export interface CircleFramesOptions {
  /** Points on the circle (default 64), at θ = 2πk/numPoints. */
  numPoints?: number;
  /** Radius R (default 1). */
  radius?: number;
}

/** Points c(θ) on the circle with their unit tangent t(θ) and outward unit normal n(θ), as plain arrays. */
export interface CircleFrames {
  angles: number[];
  points: Array<[number, number]>;
  tangents: Array<[number, number]>;
  normals: Array<[number, number]>;
}

/** c(θ) = R(cos θ, sin θ), t = (−sin θ, cos θ), n = (cos θ, sin θ) at evenly spaced θ (eq. F1's frame). */
export function circleFrames(options: CircleFramesOptions = {}): CircleFrames {
  const fn = "circleFrames";
  const n = options.numPoints ?? 64;
  const radius = options.radius ?? 1;
  checkPositiveInteger(n, "numPoints", fn);
  if (!(radius > 0) || !Number.isFinite(radius)) throw new Error(`${fn}: radius must be a positive number, got ${radius}`);
  const angles = Array.from({ length: n }, (_, k) => (2 * Math.PI * k) / n);
  return {
    angles,
    points: angles.map((a) => [radius * Math.cos(a), radius * Math.sin(a)] as [number, number]),
    tangents: angles.map((a) => [-Math.sin(a), Math.cos(a)] as [number, number]),
    normals: angles.map((a) => [Math.cos(a), Math.sin(a)] as [number, number]),
  };
}

/** The gains of a map along and across the circle at each frame point, and their summary. */
export interface TangentNormalGains {
  angles: number[];
  /** ‖J t‖ per point. */
  along: number[];
  /** ‖J n‖ per point. */
  across: number[];
  /** Singular values of J per point, descending. */
  singularValues: number[][];
  meanAlong: number;
  meanAcross: number;
  /** meanAlong / meanAcross: > 1 when the map is flatter across the manifold than along it. */
  ratio: number;
}

/** ‖J t‖ and ‖J n‖ (eq. F1) and the singular values (eq. F2) of a row-wise map f: [n, 2] → [n, units] on the circle. */
export function circleTangentNormalGains(f: (x: tf.Tensor2D) => tf.Tensor, options: CircleFramesOptions = {}): TangentNormalGains {
  const frames = circleFrames(options);
  const [jac, along, across] = tf.tidy(() => {
    const j = rowwiseJacobian(f, tf.tensor2d(frames.points));
    return [j, directionalGains(j, tf.tensor2d(frames.tangents)), directionalGains(j, tf.tensor2d(frames.normals))];
  });
  const result = { along: Array.from(along.dataSync()), across: Array.from(across.dataSync()), singularValues: jacobianSingularValues(jac as tf.Tensor3D) };
  tf.dispose([jac, along, across]);
  const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
  const meanAlong = mean(result.along), meanAcross = mean(result.across);
  return { angles: frames.angles, ...result, meanAlong, meanAcross, ratio: meanAlong / meanAcross };
}

export interface NormalProfileOptions {
  /** Radius R of the circle (default 1). */
  radius?: number;
  /** Angle θ of the base point c(θ) (default 0). */
  angle?: number;
  /** Offsets d of the inputs c + d n (default 41 values from −0.6 to 0.6). */
  offsets?: readonly number[];
}

/** Reconstruction across the manifold (Figure 9): for x = c + d n, the normal coordinate (r(x) − c)·n against d. */
export function normalProfile(reconstruct: (x: tf.Tensor2D) => tf.Tensor, options: NormalProfileOptions = {}): { offsets: number[]; normalCoordinate: number[] } {
  const fn = "normalProfile";
  if (typeof reconstruct !== "function") throw new Error(`${fn}: reconstruct must be a function [n, 2] → [n, 2]`);
  const radius = options.radius ?? 1;
  const angle = options.angle ?? 0;
  const offsets = Array.from(options.offsets ?? Array.from({ length: 41 }, (_, i) => -0.6 + 0.03 * i));
  if (offsets.length === 0 || offsets.some((d) => !Number.isFinite(d))) throw new Error(`${fn}: offsets must be a non-empty list of finite numbers`);
  const [nx, ny] = [Math.cos(angle), Math.sin(angle)];
  const out = tf.tidy(() => {
    const r = reconstruct(tf.tensor2d(offsets.map((d) => [(radius + d) * nx, (radius + d) * ny])));
    if (!(r instanceof tf.Tensor) || r.rank !== 2 || r.shape[0] !== offsets.length || r.shape[1] !== 2) throw new Error(`${fn}: reconstruct must return [${offsets.length}, 2]`);
    return tf.sub(tf.matMul(r, tf.tensor2d([[nx], [ny]])), radius);
  });
  const normalCoordinate = Array.from(out.dataSync());
  out.dispose();
  return { offsets, normalCoordinate };
}
