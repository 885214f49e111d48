/**
 * Repeated rounds of the bench (`--rounds N`): every case of a model runs N times, ours then
 * PyTorch's in each round, and the table shows the median round of each case. This machine's
 * speed drifts by tens of percent within minutes (on both sides), so one timed run per side can
 * decide a ratio by chance; the median of alternating rounds, with the range of all rounds
 * printed beside it, cannot.
 */
import type { BenchResults } from "./report";
import type { TimedRun } from "./run";

/** The run with the median rate among one case's rounds (the lower middle one for an even count), carrying every round's rate. */
export function medianRound<T extends TimedRun>(runs: readonly T[]): T {
  if (runs.length === 0) throw new Error("medianRound: no runs");
  if (runs.length === 1) return runs[0];
  const sorted = [...runs].sort((a, b) => a.samplesPerSecond - b.samplesPerSecond);
  return { ...sorted[Math.floor((sorted.length - 1) / 2)], rounds: runs.map((r) => r.samplesPerSecond) };
}

/** Runs grouped by `key`, in the order each key first appears. */
function groupBy<T>(items: readonly T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return [...groups.values()];
}

/** Each case's median round (ours by backend, threads and batch; PyTorch's by threads and batch) and every skip or failure once, added to `into`. */
export function mergeRounds(into: BenchResults, rounds: readonly BenchResults[]): void {
  const ours = rounds.flatMap((r) => r.rows);
  for (const group of groupBy(ours, (r) => `${r.model}|${r.backend}|${r.batchSize}`)) into.rows.push(medianRound(group));
  const seen = new Set(into.skips.map((s) => JSON.stringify(s)));
  for (const skip of rounds.flatMap((r) => r.skips)) {
    const k = JSON.stringify(skip);
    if (!seen.has(k)) into.skips.push(skip);
    seen.add(k);
  }
  if (!into.torch) return;
  const torchRows = rounds.flatMap((r) => r.torch?.rows ?? []);
  for (const group of groupBy(torchRows, (r) => `${r.model}|${r.threads}|${r.batchSize}`)) into.torch.rows.push(medianRound(group));
  const failures = new Set(into.torch.failures.map((f) => JSON.stringify(f)));
  for (const failure of rounds.flatMap((r) => r.torch?.failures ?? [])) {
    const k = JSON.stringify(failure);
    if (!failures.has(k)) into.torch.failures.push(failure);
    failures.add(k);
  }
}
