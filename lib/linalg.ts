/**
 * Small dense linear algebra the notebooks need and TensorFlow.js lacks: a symmetric
 * eigensolver, PCA, principal angles between subspaces, orthonormal bases and the
 * Moore–Penrose pseudo-inverse. Everything is computed in float64 on the JS side (these
 * matrices are at most a few hundred wide), so results do not depend on the backend.
 */
import * as tf from "@tensorflow/tfjs";

/** A dense row-major float64 matrix. */
interface Mat {
  rows: number;
  cols: number;
  data: Float64Array;
}

function fromTensor(t: tf.Tensor, name: string, fn: string): Mat {
  if (t.rank !== 2) throw new Error(`${fn}: ${name} must be a 2-D tensor, got shape [${t.shape}]`);
  const data = Float64Array.from(t.dataSync());
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) throw new Error(`${fn}: ${name} contains a non-finite value at flat index ${i}`);
  }
  return { rows: t.shape[0] as number, cols: t.shape[1] as number, data };
}

function toTensor(m: Mat): tf.Tensor2D {
  return tf.tensor2d(Float32Array.from(m.data), [m.rows, m.cols]);
}

/** C = Aᵀ B for row-major A (n×p) and B (n×q): a p×q matrix. */
function transposeTimes(a: Mat, b: Mat): Mat {
  const out = new Float64Array(a.cols * b.cols);
  for (let r = 0; r < a.rows; r++) {
    const ao = r * a.cols;
    const bo = r * b.cols;
    for (let i = 0; i < a.cols; i++) {
      const v = a.data[ao + i];
      if (v === 0) continue;
      const oo = i * b.cols;
      for (let j = 0; j < b.cols; j++) out[oo + j] += v * b.data[bo + j];
    }
  }
  return { rows: a.cols, cols: b.cols, data: out };
}

/** C = A B for row-major A (n×p) and B (p×q). */
function times(a: Mat, b: Mat): Mat {
  const out = new Float64Array(a.rows * b.cols);
  for (let r = 0; r < a.rows; r++) {
    const oo = r * b.cols;
    for (let k = 0; k < a.cols; k++) {
      const v = a.data[r * a.cols + k];
      if (v === 0) continue;
      const bo = k * b.cols;
      for (let j = 0; j < b.cols; j++) out[oo + j] += v * b.data[bo + j];
    }
  }
  return { rows: a.rows, cols: b.cols, data: out };
}

function transpose(a: Mat): Mat {
  const out = new Float64Array(a.rows * a.cols);
  for (let r = 0; r < a.rows; r++) for (let c = 0; c < a.cols; c++) out[c * a.rows + r] = a.data[r * a.cols + c];
  return { rows: a.cols, cols: a.rows, data: out };
}

export interface SymmetricEigenOptions {
  /** Stop when the off-diagonal mass falls below `tolerance` × the Frobenius norm (default 1e-14). */
  tolerance?: number;
  /** Most Jacobi sweeps (default 100). */
  maxSweeps?: number;
}

export interface SymmetricEigen {
  /** Eigenvalues, descending. */
  values: number[];
  /** vectors[k] is the unit eigenvector of values[k]. */
  vectors: number[][];
}

/** Eigen-decomposition A = V Λ Vᵀ of a symmetric matrix by cyclic Jacobi rotations (float64). */
export function symmetricEigen(matrix: number[][], options: SymmetricEigenOptions = {}): SymmetricEigen {
  const n = matrix.length;
  if (n === 0 || matrix.some((row) => !Array.isArray(row) || row.length !== n)) {
    throw new Error(`symmetricEigen: matrix must be a non-empty square array of rows, got ${n} rows of lengths [${matrix.map((r) => r?.length)}]`);
  }
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = matrix[i][j];
      if (!Number.isFinite(v)) throw new Error(`symmetricEigen: matrix[${i}][${j}] must be finite, got ${v}`);
      a[i * n + j] = v;
    }
  }
  const scale = Math.max(1e-300, ...Array.from(a, Math.abs));
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (Math.abs(a[i * n + j] - a[j * n + i]) > 1e-6 * scale) {
        throw new Error(`symmetricEigen: matrix must be symmetric, but [${i}][${j}] = ${a[i * n + j]} and [${j}][${i}] = ${a[j * n + i]}`);
      }
    }
  }
  const { values, vectors } = jacobi(a, n, options);
  return { values: Array.from(values), vectors: vectors.map((v) => Array.from(v)) };
}

/** Cyclic Jacobi on a row-major symmetric n×n array (overwritten); eigenpairs sorted descending. */
function jacobi(a: Float64Array, n: number, options: SymmetricEigenOptions = {}): { values: Float64Array; vectors: Float64Array[] } {
  const tolerance = options.tolerance ?? 1e-14;
  const maxSweeps = options.maxSweeps ?? 100;
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let frob = 0;
  for (let i = 0; i < n * n; i++) frob += a[i] * a[i];
  frob = Math.sqrt(frob);
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q] * a[p * n + q];
    if (Math.sqrt(2 * off) <= tolerance * frob || off === 0) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => a[j * n + j] - a[i * n + i]);
  const values = Float64Array.from(order, (i) => a[i * n + i]);
  const vectors = order.map((col) => Float64Array.from({ length: n }, (_, k) => v[k * n + col]));
  return { values, vectors };
}

/** Orthonormalise the columns of `m` in place order by modified Gram–Schmidt (twice, for stability); throws on rank deficiency. */
function orthonormalise(m: Mat, fn: string, name: string): Mat {
  const { rows, cols } = m;
  const q = new Float64Array(m.data);
  for (let pass = 0; pass < 2; pass++) {
    for (let j = 0; j < cols; j++) {
      for (let i = 0; i < j; i++) {
        let dot = 0;
        for (let r = 0; r < rows; r++) dot += q[r * cols + i] * q[r * cols + j];
        for (let r = 0; r < rows; r++) q[r * cols + j] -= dot * q[r * cols + i];
      }
      let norm = 0;
      for (let r = 0; r < rows; r++) norm += q[r * cols + j] ** 2;
      norm = Math.sqrt(norm);
      if (!(norm > 1e-12)) throw new Error(`${fn}: the columns of ${name} are linearly dependent (column ${j} has no component outside the earlier ones)`);
      for (let r = 0; r < rows; r++) q[r * cols + j] /= norm;
    }
  }
  return { rows, cols, data: q };
}

/** An orthonormal basis (d×k, Qᵀ Q = I) of the column space of `a` (d×k, full column rank). */
export function orthonormalColumns(a: tf.Tensor2D): tf.Tensor2D {
  const m = fromTensor(a, "a", "orthonormalColumns");
  if (m.cols > m.rows) throw new Error(`orthonormalColumns: a must have no more columns than rows, got shape [${a.shape}]`);
  return toTensor(orthonormalise(m, "orthonormalColumns", "a"));
}

/** Principal angles θ₁ ≤ θ₂ ≤ … (radians) between the column spaces of a (d×k) and b (d×m): cos θᵢ are the singular values of Q_aᵀ Q_b. */
export function principalAngles(a: tf.Tensor2D, b: tf.Tensor2D): number[] {
  const ma = fromTensor(a, "a", "principalAngles");
  const mb = fromTensor(b, "b", "principalAngles");
  if (ma.rows !== mb.rows) throw new Error(`principalAngles: a and b must have the same number of rows (the ambient dimension), got [${a.shape}] and [${b.shape}]`);
  if (ma.cols > ma.rows || mb.cols > mb.rows) throw new Error(`principalAngles: each basis needs no more columns than rows, got [${a.shape}] and [${b.shape}]`);
  const qa = orthonormalise(ma, "principalAngles", "a");
  const qb = orthonormalise(mb, "principalAngles", "b");
  let m = transposeTimes(qa, qb); // k×m, singular values = cosines
  if (m.rows > m.cols) m = transpose(m);
  const gram = times(m, transpose(m)); // min(k,m) square: eigenvalues = cos²θ
  const { values } = jacobi(gram.data, gram.rows);
  const angles = Array.from(values, (c2) => Math.acos(Math.min(1, Math.sqrt(Math.max(0, c2)))));
  return angles.sort((x, y) => x - y);
}

export interface PseudoInverseOptions {
  /** Singular values below rcond × the largest are treated as zero (default 1e-6, float32 inputs). */
  rcond?: number;
}

/** Moore–Penrose pseudo-inverse W⁺ (n×m) of W (m×n) from the eigen-decomposition of the smaller Gram matrix: W⁺ = (WᵀW)⁺Wᵀ or Wᵀ(WWᵀ)⁺. */
export function pseudoInverse(w: tf.Tensor2D, options: PseudoInverseOptions = {}): tf.Tensor2D {
  const rcond = options.rcond ?? 1e-6;
  if (!(rcond >= 0 && rcond < 1)) throw new Error(`pseudoInverse: rcond must be in [0, 1), got ${rcond}`);
  const m = fromTensor(w, "w", "pseudoInverse");
  const tall = m.rows >= m.cols;
  const gram = tall ? transposeTimes(m, m) : times(m, transpose(m)); // s×s, s = min(m, n)
  const s = gram.rows;
  const { values, vectors } = jacobi(gram.data, s);
  const largest = Math.max(0, values[0]);
  // Eigenvalues of the Gram matrix are σ², so the cut-off on σ is squared here.
  const cut = (rcond * Math.sqrt(largest)) ** 2;
  const ginv = new Float64Array(s * s);
  for (let k = 0; k < s; k++) {
    if (!(values[k] > cut) || values[k] <= 0) continue;
    const inv = 1 / values[k];
    const vk = vectors[k];
    for (let i = 0; i < s; i++) for (let j = 0; j < s; j++) ginv[i * s + j] += inv * vk[i] * vk[j];
  }
  const gInv: Mat = { rows: s, cols: s, data: ginv };
  const result = tall ? times(gInv, transpose(m)) : times(transpose(m), gInv);
  return toTensor(result);
}

export interface PcaOptions {
  /** How many principal components to return (1 ≤ k ≤ d). */
  numComponents: number;
  /** Subtract the mean first (default true). */
  center?: boolean;
  /** Most subspace iterations when d is large (default 500). */
  maxIterations?: number;
  /** Stop when the Ritz values change by less than this, relative (default 1e-10). */
  tolerance?: number;
}

export interface PcaResult {
  /** k×d, orthonormal rows: the principal directions, by descending variance. */
  components: tf.Tensor2D;
  /** Variance along each component (divisor n), descending. */
  explainedVariance: number[];
  /** Total variance, the trace of the covariance (divisor n). */
  totalVariance: number;
  /** The mean that was subtracted (zeros when center is false). */
  mean: tf.Tensor1D;
  /** Subspace iterations used (0 when the full eigen-decomposition was taken). */
  iterations: number;
}

/** PCA of the rows of x (n×d): eigenvectors of the covariance C = (X − μ)ᵀ(X − μ)/n, largest first. */
export function pca(x: tf.Tensor2D, options: PcaOptions): PcaResult {
  const fn = "pca";
  if (!(x instanceof tf.Tensor) || x.rank !== 2) throw new Error(`${fn}: x must be a 2-D tensor (samples × features), got ${x instanceof tf.Tensor ? `shape [${x.shape}]` : typeof x}`);
  const [n, d] = x.shape;
  const k = options?.numComponents;
  if (!Number.isInteger(k) || k < 1 || k > d) throw new Error(`${fn}: numComponents must be an integer in [1, ${d}], got ${k}`);
  if (n < 2) throw new Error(`${fn}: x needs at least 2 rows, got ${n}`);
  const center = options.center ?? true;
  const { covariance, mean } = tf.tidy(() => {
    const mu = center ? tf.mean(x, 0) : tf.zeros([d]);
    const xc = tf.sub(x, mu);
    return { covariance: tf.div(tf.matMul(xc, xc, true, false), n), mean: mu as tf.Tensor1D };
  });
  const c = Float64Array.from(covariance.dataSync());
  covariance.dispose();
  for (let i = 0; i < d; i++) for (let j = i + 1; j < d; j++) c[i * d + j] = c[j * d + i] = 0.5 * (c[i * d + j] + c[j * d + i]);
  let totalVariance = 0;
  for (let i = 0; i < d; i++) totalVariance += c[i * d + i];

  let values: Float64Array;
  let vectors: Float64Array[];
  let iterations = 0;
  if (d <= 160) {
    ({ values, vectors } = jacobi(new Float64Array(c), d));
  } else {
    const cTensor = tf.tensor2d(Float32Array.from(c), [d, d]);
    try {
      ({ values, vectors, iterations } = subspaceIteration(cTensor, d, k, options.maxIterations ?? 1000, options.tolerance ?? 1e-5));
    } finally {
      cTensor.dispose();
    }
  }
  const comps = new Float32Array(k * d);
  for (let i = 0; i < k; i++) comps.set(vectors[i], i * d);
  return {
    components: tf.tensor2d(comps, [k, d]),
    explainedVariance: Array.from(values.subarray(0, k), (v) => Math.max(0, v)),
    totalVariance,
    mean,
    iterations,
  };
}

/** PCA's reconstruction from its top k components (the Eckart–Young optimum of rank k): x̂ = μ + (x − μ) C_kᵀ C_k. */
export function pcaReconstruct(result: PcaResult, x: tf.Tensor2D, k: number = result.components.shape[0]): tf.Tensor2D {
  const fn = "pcaReconstruct";
  const [available, d] = result.components.shape;
  if (!(x instanceof tf.Tensor) || x.rank !== 2 || x.shape[1] !== d) throw new Error(`${fn}: x must be a 2-D tensor [samples, ${d}], got ${x instanceof tf.Tensor ? `shape [${x.shape}]` : typeof x}`);
  if (!Number.isInteger(k) || k < 1 || k > available) throw new Error(`${fn}: k must be an integer in [1, ${available}] (the components the PCA kept), got ${k}`);
  return tf.tidy(() => {
    const basis = result.components.slice([0, 0], [k, d]);
    const codes = tf.matMul(tf.sub(x, result.mean), basis, false, true);
    return tf.add(tf.matMul(codes, basis), result.mean) as tf.Tensor2D;
  });
}

/**
 * Top-k eigenpairs of a symmetric d×d matrix C by orthogonal (subspace) iteration with
 * Rayleigh–Ritz on k + 10 columns: Z = C Q (float32 on the backend), T = Qᵀ Z, then
 * Q ← orth(Z) in float64, until every top-k Ritz pair has ‖C v − λ v‖ < tolerance · λ₁.
 */
function subspaceIteration(c: tf.Tensor2D, d: number, k: number, maxIterations: number, tolerance: number): { values: Float64Array; vectors: Float64Array[]; iterations: number } {
  const p = Math.min(d, k + 10);
  // A fixed, deterministic start: a pseudo-random matrix from a small LCG.
  let state = 12345;
  const start = new Float64Array(d * p);
  for (let i = 0; i < start.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    start[i] = state / 2 ** 32 - 0.5;
  }
  let q = orthonormalise({ rows: d, cols: p, data: start }, "pca", "the start basis");
  let best: { values: Float64Array; vectors: Float64Array[] } = { values: new Float64Array(k), vectors: [] };
  let iterations = 0;
  for (iterations = 1; iterations <= maxIterations; iterations++) {
    const zTensor = tf.tidy(() => tf.matMul(c, tf.tensor2d(Float32Array.from(q.data), [d, p])));
    const z: Mat = { rows: d, cols: p, data: Float64Array.from(zTensor.dataSync()) };
    zTensor.dispose();
    const t = transposeTimes(q, z); // p×p Rayleigh quotient Qᵀ C Q
    for (let i = 0; i < p; i++) for (let j = i + 1; j < p; j++) t.data[i * p + j] = t.data[j * p + i] = 0.5 * (t.data[i * p + j] + t.data[j * p + i]);
    const ritz = jacobi(t.data, p);
    // Ritz vectors v = Q y and their residuals C v − λ v = Z y − λ Q y.
    const vectors: Float64Array[] = [];
    let worst = 0;
    for (let i = 0; i < k; i++) {
      const y = ritz.vectors[i];
      const v = new Float64Array(d);
      let residual = 0;
      for (let r = 0; r < d; r++) {
        let qy = 0;
        let zy = 0;
        for (let j = 0; j < p; j++) {
          qy += q.data[r * p + j] * y[j];
          zy += z.data[r * p + j] * y[j];
        }
        v[r] = qy;
        residual += (zy - ritz.values[i] * qy) ** 2;
      }
      vectors.push(v);
      worst = Math.max(worst, Math.sqrt(residual));
    }
    best = { values: ritz.values, vectors };
    if (worst <= tolerance * Math.max(1e-300, Math.abs(ritz.values[0]))) break;
    q = orthonormalise(z, "pca", "the iterated basis");
  }
  return { ...best, iterations: Math.min(iterations, maxIterations) };
}
