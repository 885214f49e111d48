/**
 * Student's t distribution, computed rather than tabulated: the CDF from the regularized
 * incomplete beta function, P(T ≤ t) = 1 − ½·I_{ν/(ν+t²)}(ν/2, ½) for t ≥ 0, and the quantile
 * by bisection on that CDF (any real ν > 0, so Welch's non-integer degrees of freedom work).
 */

const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos approximation, g = 7; about 15 significant digits). */
export function logGamma(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) throw new Error(`logGamma: x must be a finite number > 0, got ${x}`);
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x); // reflection
  const z = x - 1;
  let sum = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i] / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** Continued fraction of I_x(a, b) (modified Lentz), converging fast for x < (a + 1)/(a + b + 2). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  d = Math.abs(d) < tiny ? tiny : d;
  d = 1 / d;
  let result = d;
  for (let m = 1; m <= 10000; m++) {
    const even = (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m));
    d = 1 + even * d; d = Math.abs(d) < tiny ? tiny : d; d = 1 / d;
    c = 1 + even / c; c = Math.abs(c) < tiny ? tiny : c;
    result *= d * c;
    const odd = -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 + odd * d; d = Math.abs(d) < tiny ? tiny : d; d = 1 / d;
    c = 1 + odd / c; c = Math.abs(c) < tiny ? tiny : c;
    const step = d * c;
    result *= step;
    if (Math.abs(step - 1) < 1e-15) return result;
  }
  throw new Error(`regularizedIncompleteBeta: no convergence for x = ${x}, a = ${a}, b = ${b}`);
}

/** The regularized incomplete beta function I_x(a, b) = B(x; a, b)/B(a, b), x in [0, 1], a, b > 0. */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  const fn = "regularizedIncompleteBeta";
  if (!(x >= 0 && x <= 1)) throw new Error(`${fn}: x must be in [0, 1], got ${x}`);
  if (!(a > 0) || !Number.isFinite(a)) throw new Error(`${fn}: a must be a finite number > 0, got ${a}`);
  if (!(b > 0) || !Number.isFinite(b)) throw new Error(`${fn}: b must be a finite number > 0, got ${b}`);
  if (x === 0 || x === 1) return x;
  const logFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  // Use the fraction on the side where it converges; the other side by symmetry I_x(a, b) = 1 − I_{1−x}(b, a).
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(logFront) * betaContinuedFraction(x, a, b)) / a;
  return 1 - (Math.exp(logFront) * betaContinuedFraction(1 - x, b, a)) / b;
}

function checkDf(df: number, fn: string): void {
  if (!(df > 0) || !Number.isFinite(df)) throw new Error(`${fn}: df (degrees of freedom) must be a finite number > 0, got ${df}`);
}

/** P(T > t) for t ≥ 0 without cancellation: ½·I_{ν/(ν+t²)}(ν/2, ½). */
function upperTail(t: number, df: number): number {
  if (t === Infinity) return 0;
  // ν/(ν + t²) written to stay accurate when t² ≫ ν.
  const x = 1 / (1 + (t / Math.sqrt(df)) * (t / Math.sqrt(df)));
  return 0.5 * regularizedIncompleteBeta(x, df / 2, 0.5);
}

/** P(T ≤ t) for Student's t with df degrees of freedom (df > 0, not necessarily an integer). */
export function studentTCdf(t: number, df: number): number {
  checkDf(df, "studentTCdf");
  if (Number.isNaN(t)) throw new Error("studentTCdf: t must be a number, got NaN");
  return t >= 0 ? 1 - upperTail(t, df) : upperTail(-t, df);
}

/** The p-quantile of Student's t with df degrees of freedom: t such that P(T ≤ t) = p (p in (0, 1)). */
export function studentTQuantile(p: number, df: number): number {
  const fn = "studentTQuantile";
  checkDf(df, fn);
  if (!(p > 0 && p < 1)) throw new Error(`${fn}: p must be a probability strictly between 0 and 1, got ${p}`);
  if (p === 0.5) return 0;
  const tail = Math.min(p, 1 - p); // solve P(T > t) = tail for t > 0, then restore the sign
  let lo = 0;
  let hi = 1;
  while (upperTail(hi, df) > tail) {
    lo = hi;
    hi *= 2;
    if (hi > 1e300) throw new Error(`${fn}: p = ${p} is too extreme for df = ${df}`);
  }
  for (let i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
    const mid = 0.5 * (lo + hi);
    if (upperTail(mid, df) > tail) lo = mid;
    else hi = mid;
  }
  const t = 0.5 * (lo + hi);
  return p > 0.5 ? t : -t;
}
