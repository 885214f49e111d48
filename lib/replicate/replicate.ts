/**
 * Run one configuration over seeds and judge claims on the result. `replicate` calls a
 * train-and-evaluate function once per seed; `replicateBatch` hands all seeds to one call (for
 * models stacked along a leading axis, e.g. ae.replicateDemoEnsemble, where N small models train
 * for about the price of one). Both return Replicates: per-seed values of named metrics, from which
 * `summary` and `difference` give t intervals, and `assess` a pre-registered claim's verdict.
 */
import type { TableCell } from "../plots/table";
import { Claim, compareSeeds, CompareOptions, describeRule, formatInterval, FormatIntervalOptions, IntervalOptions, IntervalSummary, judge, SeedValues, summarizeSeeds, Verdict } from "./summary";

/** Per-seed values of named metrics: metrics[m][i] came from seeds[i]. */
export interface Replicates {
  readonly seeds: readonly number[];
  readonly metrics: Readonly<Record<string, readonly number[]>>;
  /** Wall seconds per seed (replicate) or of the one batch call (replicateBatch, one entry). */
  readonly seconds: readonly number[];
  /** One metric with its seeds. */
  values(metric: string): SeedValues;
  /** Mean ± t interval of one metric (eq. R1). */
  summary(metric: string, options?: IntervalOptions): IntervalSummary;
  /** Paired interval of metric a − metric b over the shared seeds. */
  difference(a: string, b: string, options?: IntervalOptions): IntervalSummary;
}

function checkSeeds(seeds: readonly number[], fn: string): number[] {
  if (!Array.isArray(seeds) || seeds.length === 0 || seeds.some((s) => !Number.isInteger(s))) {
    throw new Error(`${fn}: seeds must be a non-empty list of integers, got ${JSON.stringify(seeds)}`);
  }
  if (new Set(seeds).size !== seeds.length) throw new Error(`${fn}: seeds must be distinct, got ${JSON.stringify(seeds)}`);
  return [...seeds];
}

/** Wrap per-seed values already computed (metrics[m][i] from seeds[i]) as Replicates. */
export function replicatesFrom(seeds: readonly number[], metrics: Record<string, readonly number[]>, seconds: readonly number[] = []): Replicates {
  const fn = "replicatesFrom";
  const own = checkSeeds(seeds, fn);
  if (!metrics || typeof metrics !== "object" || Object.keys(metrics).length === 0) throw new Error(`${fn}: metrics must name at least one metric, got ${JSON.stringify(metrics)}`);
  const table: Record<string, number[]> = {};
  for (const [name, values] of Object.entries(metrics)) {
    if (!Array.isArray(values) || values.length !== own.length) {
      throw new Error(`${fn}: metric '${name}' must hold one value per seed (${own.length}), got ${Array.isArray(values) ? values.length : typeof values}`);
    }
    values.forEach((v, i) => { if (typeof v !== "number" || Number.isNaN(v)) throw new Error(`${fn}: metric '${name}' of seed ${own[i]} must be a number, got ${v}`); });
    table[name] = [...values];
  }
  const values = (metric: string): SeedValues => {
    if (!(metric in table)) throw new Error(`Replicates: no metric '${metric}'; have ${Object.keys(table).join(", ")}`);
    return { name: metric, seeds: own, values: table[metric] };
  };
  return {
    seeds: own, metrics: table, seconds: [...seconds], values,
    summary: (metric, options = {}) => summarizeSeeds(values(metric), { name: metric, ...options }),
    difference: (a, b, options = {}) => compareSeeds(values(a), values(b), { ...options, paired: true }),
  };
}

export interface ReplicateOptions {
  /** Distinct integer seeds; run(seed) must derive every random choice (initial weights, shuffles) from it. */
  seeds: readonly number[];
  /** Train and evaluate one seed; return the same metric names for every seed. */
  run: (seed: number, index: number) => Record<string, number> | Promise<Record<string, number>>;
  /** Called after each seed (e.g. to print a progress line). */
  onSeed?: (seed: number, metrics: Record<string, number>, seconds: number) => void;
}

/** Run a configuration once per seed, in order; the metrics of all seeds as Replicates. */
export async function replicate(options: ReplicateOptions): Promise<Replicates> {
  const fn = "replicate";
  const seeds = checkSeeds(options?.seeds, fn);
  if (typeof options.run !== "function") throw new Error(`${fn}: run must be a function (seed, index) => metrics, got ${typeof options.run}`);
  const rows: Record<string, number>[] = [];
  const seconds: number[] = [];
  for (let i = 0; i < seeds.length; i++) {
    const start = Date.now();
    const row = await options.run(seeds[i], i);
    if (!row || typeof row !== "object") throw new Error(`${fn}: run(${seeds[i]}) must return an object of named numbers, got ${JSON.stringify(row)}`);
    if (i > 0) {
      const expected = Object.keys(rows[0]).sort().join(", "), got = Object.keys(row).sort().join(", ");
      if (expected !== got) throw new Error(`${fn}: run(${seeds[i]}) returned metrics [${got}], seed ${seeds[0]} returned [${expected}]`);
    }
    rows.push(row);
    seconds.push((Date.now() - start) / 1000);
    options.onSeed?.(seeds[i], row, seconds[i]);
  }
  const metrics = Object.fromEntries(Object.keys(rows[0]).map((m) => [m, rows.map((r) => r[m])]));
  return replicatesFrom(seeds, metrics, seconds);
}

export interface ReplicateBatchOptions {
  seeds: readonly number[];
  /** Train and evaluate all seeds in one call; metric m's array must hold one value per seed, in the order of seeds. */
  run: (seeds: number[]) => Record<string, readonly number[]> | Promise<Record<string, readonly number[]>>;
}

/** Run all seeds in one call (stacked models); the metrics as Replicates. */
export async function replicateBatch(options: ReplicateBatchOptions): Promise<Replicates> {
  const fn = "replicateBatch";
  const seeds = checkSeeds(options?.seeds, fn);
  if (typeof options.run !== "function") throw new Error(`${fn}: run must be a function (seeds) => { metric: values per seed }, got ${typeof options.run}`);
  const start = Date.now();
  const metrics = await options.run([...seeds]);
  return replicatesFrom(seeds, metrics, [(Date.now() - start) / 1000]);
}

/** Replicates of the same seeds with their metrics put together (metric names must not repeat). */
export function mergeReplicates(...parts: Replicates[]): Replicates {
  const fn = "mergeReplicates";
  if (parts.length === 0) throw new Error(`${fn}: give at least one Replicates`);
  const seeds = parts[0].seeds;
  const metrics: Record<string, readonly number[]> = {};
  parts.forEach((p, k) => {
    if (p.seeds.length !== seeds.length || p.seeds.some((s, i) => s !== seeds[i])) {
      throw new Error(`${fn}: part ${k} has seeds [${p.seeds.join(", ")}], part 0 has [${seeds.join(", ")}]`);
    }
    for (const [m, v] of Object.entries(p.metrics)) {
      if (m in metrics) throw new Error(`${fn}: metric '${m}' appears in more than one part`);
      metrics[m] = v;
    }
  });
  return replicatesFrom(seeds, metrics, parts.flatMap((p) => p.seconds));
}

/** A claim judged on its interval. */
export interface ClaimResult {
  claim: Claim;
  interval: IntervalSummary;
  verdict: Verdict;
}

/** Judge a pre-registered claim on an interval (from summary() or difference() at the claim's level). */
export function assess(claim: Claim, interval: IntervalSummary): ClaimResult {
  return { claim, interval, verdict: judge(claim, interval) };
}

/**
 * One row of a claims table: the claim in our words; paper: where the paper makes it (its source) or
 * "— (exploratory …)" / "— (ours …)"; what is measured, the pre-registered rule, ours as mean ± CI, the verdict.
 */
export function claimRow(result: ClaimResult, options: FormatIntervalOptions = {}): Record<string, TableCell> {
  const { claim } = result;
  const paper = claim.exploratory ? "— (exploratory: not credited to the paper)" : /^paper\b/i.test(claim.source) ? claim.source : `— (${claim.source})`;
  return { claim: claim.claim, paper, measured: claim.metric, rule: describeRule(claim), ours: formatInterval(result.interval, options), verdict: result.verdict };
}

export interface SeedTableOptions {
  /** Metrics to show, in order (default: all). */
  metrics?: readonly string[];
  /** Decimals of the per-seed values and the summary row (default 4). */
  digits?: number;
  /** Coverage of the summary row's interval (default 0.95). */
  level?: number;
}

/** Rows for ae.showTable: one per seed, then "mean ± CI" (needs ≥ 2 seeds). */
export function seedTable(replicates: Replicates, options: SeedTableOptions = {}): Array<Record<string, TableCell>> {
  const metrics = options.metrics ?? Object.keys(replicates.metrics);
  const digits = options.digits ?? 4;
  const rows: Array<Record<string, TableCell>> = replicates.seeds.map((seed, i) =>
    Object.fromEntries([["seed", String(seed)], ...metrics.map((m) => [m, replicates.values(m).values[i].toFixed(digits)])]));
  rows.push(Object.fromEntries([["seed", `mean ± ${Number((100 * (options.level ?? 0.95)).toPrecision(6))} % CI`],
    ...metrics.map((m) => [m, formatInterval(replicates.summary(m, { level: options.level }), { digits }).replace(/ \(.*\)$/, "")])]));
  return rows;
}

export type { CompareOptions };
