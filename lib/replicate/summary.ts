/**
 * Seed statistics and pre-registered verdicts. A result measured over n seeds is reported as
 * mean ± a t-based interval, x̄ ± t_{(1+level)/2, n−1}·s/√n (eq. R1), and a difference of two
 * configurations either paired (the same seeds: the interval of the per-seed differences, R1 on
 * d_i = a_i − b_i) or unpaired (Welch: x̄_a − x̄_b ± t_{(1+level)/2, ν}·√(s_a²/n_a + s_b²/n_b),
 * ν by Welch–Satterthwaite, eq. R2). A claim's rule (direction and threshold) is an object fixed
 * with `preregister` before the data are seen; `judge` reads the verdict off the interval.
 */
import { studentTQuantile } from "./student-t";

/** A t-based interval of a mean (or of a mean difference). */
export interface IntervalSummary {
  /** What was measured, e.g. "cosine (jump) − cosine (plain)". */
  name: string;
  /** Seeds that went in (paired: the differences' count). */
  n: number;
  mean: number;
  /** Sample standard deviation (divisor n − 1) of the values, or of the per-seed differences when paired; NaN for Welch (two samples). */
  sd: number;
  /** Standard error of the mean. */
  se: number;
  /** Degrees of freedom of the t quantile (Welch: not an integer). */
  df: number;
  /** Coverage, e.g. 0.95. */
  level: number;
  /** t_{(1+level)/2, df}·se. */
  halfWidth: number;
  lower: number;
  upper: number;
  /** "single" (one configuration), "paired" or "welch" (a difference). */
  kind: "single" | "paired" | "welch";
  /** Welch only: the two sample sizes [n_a, n_b] (n is the smaller). */
  counts?: readonly [number, number];
}

/** Per-seed values with the seeds they came from (seeds[i] gave values[i]). */
export interface SeedValues {
  name: string;
  seeds: readonly number[];
  values: readonly number[];
}

export interface IntervalOptions {
  /** Coverage of the interval (default 0.95). */
  level?: number;
  /** Name shown in tables and errors (default "values"). */
  name?: string;
}

function checkLevel(level: number, fn: string): number {
  if (!(level > 0 && level < 1)) throw new Error(`${fn}: level must be a probability strictly between 0 and 1 (e.g. 0.95), got ${level}`);
  return level;
}

function checkValues(values: readonly number[], fn: string, name: string, minimum = 2): void {
  if (!Array.isArray(values)) throw new Error(`${fn}: ${name} must be an array of numbers, got ${typeof values}`);
  if (values.length < minimum) throw new Error(`${fn}: ${name} needs at least ${minimum} seeds for an interval, got ${values.length}`);
  values.forEach((v, i) => { if (typeof v !== "number" || !Number.isFinite(v)) throw new Error(`${fn}: ${name}[${i}] must be a finite number, got ${v}`); });
}

function meanAndSd(values: readonly number[]): { mean: number; sd: number } {
  const n = values.length;
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const sd = Math.sqrt(values.reduce((s, v) => s + (v - mean) * (v - mean), 0) / (n - 1));
  return { mean, sd };
}

/** Mean, sd and the t interval (R1) of values from n ≥ 2 seeds. */
export function summarizeSeeds(values: readonly number[] | SeedValues, options: IntervalOptions = {}): IntervalSummary {
  const fn = "summarizeSeeds";
  const list = Array.isArray(values) ? (values as readonly number[]) : (values as SeedValues)?.values;
  const name = options.name ?? (Array.isArray(values) ? "values" : (values as SeedValues)?.name ?? "values");
  checkValues(list, fn, name);
  const level = checkLevel(options.level ?? 0.95, fn);
  const n = list.length;
  const { mean, sd } = meanAndSd(list);
  const se = sd / Math.sqrt(n);
  const halfWidth = studentTQuantile((1 + level) / 2, n - 1) * se;
  return { name, n, mean, sd, se, df: n - 1, level, halfWidth, lower: mean - halfWidth, upper: mean + halfWidth, kind: "single" };
}

export interface CompareOptions extends IntervalOptions {
  /**
   * "auto" (default): paired when both came from the same seeds in the same order, else Welch;
   * true: paired (the seeds must match); false: Welch even when the seeds match.
   */
  paired?: boolean | "auto";
}

/** The interval of a − b: paired over shared seeds (R1 on the differences), or Welch's (R2). */
export function compareSeeds(a: SeedValues, b: SeedValues, options: CompareOptions = {}): IntervalSummary {
  const fn = "compareSeeds";
  for (const [label, x] of [["a", a], ["b", b]] as const) {
    if (!x || !Array.isArray(x.values) || !Array.isArray(x.seeds)) throw new Error(`${fn}: ${label} must be { name, seeds, values }, got ${JSON.stringify(x)}`);
    if (x.seeds.length !== x.values.length) throw new Error(`${fn}: ${label} (${x.name}) has ${x.seeds.length} seeds but ${x.values.length} values`);
    checkValues(x.values, fn, `${label} (${x.name})`);
  }
  const level = checkLevel(options.level ?? 0.95, fn);
  const name = options.name ?? `${a.name} − ${b.name}`;
  const sameSeeds = a.seeds.length === b.seeds.length && a.seeds.every((s, i) => s === b.seeds[i]);
  const paired = options.paired ?? "auto";
  if (paired === true && !sameSeeds) {
    throw new Error(`${fn}: paired needs the same seeds in the same order; ${a.name} has [${a.seeds.join(", ")}], ${b.name} has [${b.seeds.join(", ")}]`);
  }
  if (paired === true || (paired === "auto" && sameSeeds)) {
    const diff = summarizeSeeds(a.values.map((v, i) => v - b.values[i]), { level, name });
    return { ...diff, kind: "paired" };
  }
  const sa = meanAndSd(a.values), sb = meanAndSd(b.values);
  const va = (sa.sd * sa.sd) / a.values.length, vb = (sb.sd * sb.sd) / b.values.length;
  const se = Math.sqrt(va + vb);
  const df = se === 0 ? a.values.length + b.values.length - 2
    : (va + vb) * (va + vb) / ((va * va) / (a.values.length - 1) + (vb * vb) / (b.values.length - 1));
  const mean = sa.mean - sb.mean;
  const halfWidth = studentTQuantile((1 + level) / 2, df) * se;
  return { name, n: Math.min(a.values.length, b.values.length), mean, sd: NaN, se, df, level, halfWidth, lower: mean - halfWidth, upper: mean + halfWidth, kind: "welch",
    counts: [a.values.length, b.values.length] };
}

/** A claim's reading, fixed in code before its data: what is measured, and which side of which threshold makes it hold. */
export interface ClaimRule {
  /** The claim in our words, e.g. "the jump connection raises cosine similarity". */
  claim: string;
  /** Where it comes from: "paper §…" (credited to the paper), "ours" (a result of this project) or "exploratory". */
  source: string;
  /** The number whose interval is judged, e.g. "cosine (jump) − cosine (plain), test set". */
  metric: string;
  /** "above": holds when the interval lies above threshold; "below": under it; "between": inside [lo, hi]. */
  direction: "above" | "below" | "between";
  /** The threshold (a minimum effect for a difference), or [lo, hi] for "between". */
  threshold: number | readonly [number, number];
  /** Coverage of the interval the verdict reads (default 0.95). */
  level?: number;
}

/** A pre-registered claim: a validated, frozen ClaimRule. */
export interface Claim extends Readonly<ClaimRule> {
  readonly level: number;
  /** True when source is "exploratory": never credited to the paper. */
  readonly exploratory: boolean;
}

/** holds: the whole interval is on the claim's side; does not hold: the whole interval is on the other; within noise: it straddles. */
export type Verdict = "holds" | "does not hold" | "within noise";

/** Validate and freeze a claim's rule (call it in a cell before the results it judges are shown). */
export function preregister(rule: ClaimRule): Claim {
  const fn = "preregister";
  if (!rule || typeof rule !== "object") throw new Error(`${fn}: rule must be an object, got ${rule}`);
  for (const key of ["claim", "source", "metric"] as const) {
    if (typeof rule[key] !== "string" || rule[key].trim() === "") throw new Error(`${fn}: ${key} must be a non-empty string, got ${JSON.stringify(rule[key])}`);
  }
  if (!["above", "below", "between"].includes(rule.direction)) throw new Error(`${fn}: direction must be "above", "below" or "between", got ${JSON.stringify(rule.direction)}`);
  const t = rule.threshold;
  if (rule.direction === "between") {
    if (!Array.isArray(t) || t.length !== 2 || !t.every(Number.isFinite) || !(t[0] < t[1])) throw new Error(`${fn}: threshold of a "between" claim must be [lo, hi] with lo < hi, got ${JSON.stringify(t)}`);
  } else if (typeof t !== "number" || !Number.isFinite(t)) {
    throw new Error(`${fn}: threshold of an "${rule.direction}" claim must be a finite number, got ${JSON.stringify(t)}`);
  }
  const level = checkLevel(rule.level ?? 0.95, fn);
  const threshold = Array.isArray(t) ? Object.freeze([t[0], t[1]] as const) : t;
  return Object.freeze({ ...rule, threshold, level, exploratory: rule.source.trim().toLowerCase() === "exploratory" });
}

/** The verdict of a pre-registered claim from an interval computed at the claim's level. */
export function judge(claim: Claim, interval: IntervalSummary): Verdict {
  const fn = "judge";
  if (!claim || !Object.isFrozen(claim) || typeof claim.direction !== "string") throw new Error(`${fn}: claim must come from preregister()`);
  if (!interval || !Number.isFinite(interval.lower) || !Number.isFinite(interval.upper)) throw new Error(`${fn}: interval must come from summarizeSeeds() or compareSeeds(), got ${JSON.stringify(interval)}`);
  if (Math.abs(interval.level - claim.level) > 1e-12) {
    throw new Error(`${fn}: the claim "${claim.claim}" is judged on a ${claim.level} interval, got a ${interval.level} one`);
  }
  const { lower, upper } = interval;
  if (claim.direction === "between") {
    const [lo, hi] = claim.threshold as readonly [number, number];
    if (lower >= lo && upper <= hi) return "holds";
    return upper < lo || lower > hi ? "does not hold" : "within noise";
  }
  // "above t" claims value > t: it holds when the whole interval is above t and fails when none of
  // it is (upper ≤ t, so an interval of zero width sitting on t fails rather than reading as noise).
  const t = claim.threshold as number;
  if (claim.direction === "above") return lower > t ? "holds" : upper <= t ? "does not hold" : "within noise";
  return upper < t ? "holds" : lower >= t ? "does not hold" : "within noise";
}

/** The rule in words, e.g. "95 % CI above 0" or "95 % CI inside [0.983, 0.99]". */
export function describeRule(claim: Claim): string {
  const level = `${formatPercent(claim.level)} CI`;
  if (claim.direction === "between") {
    const [lo, hi] = claim.threshold as readonly [number, number];
    return `${level} inside [${lo}, ${hi}]`;
  }
  return `${level} ${claim.direction} ${claim.threshold}`;
}

function formatPercent(level: number): string {
  return `${Number((100 * level).toPrecision(6))} %`;
}

export interface FormatIntervalOptions {
  /** Decimals (default: enough to show the half-width to two significant digits, at most 6). */
  digits?: number;
  /** Show a + on positive means (default: true for differences). */
  sign?: boolean;
}

/** "0.123 ± 0.004 (95 % CI, n = 5)"; differences add "paired" or "Welch". */
export function formatInterval(interval: IntervalSummary, options: FormatIntervalOptions = {}): string {
  const fn = "formatInterval";
  if (!interval || !Number.isFinite(interval.mean) || !Number.isFinite(interval.halfWidth)) throw new Error(`${fn}: interval must come from summarizeSeeds() or compareSeeds()`);
  const auto = interval.halfWidth > 0 ? Math.min(6, Math.max(0, 1 - Math.floor(Math.log10(interval.halfWidth)))) : 4;
  const digits = options.digits ?? auto;
  if (!Number.isInteger(digits) || digits < 0 || digits > 20) throw new Error(`${fn}: digits must be an integer 0–20, got ${digits}`);
  const sign = options.sign ?? interval.kind !== "single";
  const magnitude = Math.abs(interval.mean).toFixed(digits);
  const zero = /^[0.]+$/.test(magnitude);
  const shown = zero ? magnitude : interval.mean < 0 ? `−${magnitude}` : sign ? `+${magnitude}` : magnitude;
  const n = interval.kind === "welch" && interval.counts ? `${interval.counts[0]} + ${interval.counts[1]}, Welch` : `${interval.n}${interval.kind === "paired" ? ", paired" : ""}`;
  return `${shown} ± ${interval.halfWidth.toFixed(digits)} (${formatPercent(interval.level)} CI, n = ${n})`;
}
