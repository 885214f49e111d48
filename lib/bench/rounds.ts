/**
 * Repeated rounds of the bench (`--rounds N`): every case of a model runs N times, ours then
 * PyTorch's in each round, and the table shows the median round of each case. This machine's
 * speed drifts by tens of percent within minutes (on both sides), so one timed run per side can
 * decide a ratio by chance; the median of alternating rounds is far less at the mercy of one slow
 * minute, and the range of all rounds printed beside it shows how much the host moved.
 */
import type { BenchResults } from "./report";
import type { TimedRun } from "./run";

/** A run's case when the caller did not say: model, engine label (backend, or PyTorch's thread count) and batch size. */
export function defaultCaseKey(run: TimedRun): string {
  const engine = "backend" in run ? String((run as { backend: unknown }).backend) : `torch×${String((run as { threads?: unknown }).threads)}`;
  return `${run.model}|${engine}|${run.batchSize}`;
}

/**
 * One case's runs, indexed by round (null: that round's run failed), as the run with the median
 * rate of those that ran (the lower middle one for an even count), carrying every round's rate.
 */
export function medianRound<T extends TimedRun>(runs: ReadonlyArray<T | null>): T {
  const ran = runs.filter((r): r is T => r !== null);
  if (ran.length === 0) throw new Error("medianRound: no run succeeded");
  const sorted = [...ran].sort((a, b) => a.samplesPerSecond - b.samplesPerSecond);
  return { ...sorted[Math.floor((sorted.length - 1) / 2)], rounds: runs.map((r) => (r === null ? null : r.samplesPerSecond)) };
}

/** Each case's runs by round, cases in the order they first ran. */
function byCase<T extends TimedRun>(rounds: ReadonlyArray<readonly T[]>, caseKey: (run: TimedRun) => string): Array<Array<T | null>> {
  const cases = new Map<string, Array<T | null>>();
  rounds.forEach((runs, round) => {
    for (const run of runs) {
      const key = caseKey(run);
      if (!cases.has(key)) cases.set(key, rounds.map(() => null));
      const slots = cases.get(key)!;
      if (slots[round] !== null) throw new Error(`mergeRounds: two runs of case ${key} in round ${round + 1}`);
      slots[round] = run;
    }
  });
  return [...cases.values()];
}

/**
 * The rounds' results added to `into`: with one round, as they are; with more, each case's median
 * round (cases by `caseKey`: what was asked for, not the label a backend reported), and each skip
 * and failure with the round it happened in (a backend that cannot start is said once).
 */
export function mergeRounds(into: BenchResults, rounds: readonly BenchResults[], caseKey: (run: TimedRun) => string = defaultCaseKey): void {
  if (rounds.length === 1) {
    const [only] = rounds;
    into.rows.push(...only.rows);
    into.skips.push(...only.skips);
    if (into.torch && only.torch) {
      into.torch.rows.push(...only.torch.rows);
      into.torch.failures.push(...only.torch.failures);
    }
    return;
  }
  const tag = (text: string, round: number) => `${text} (round ${round + 1} of ${rounds.length})`;
  for (const runs of byCase(rounds.map((r) => r.rows), caseKey)) into.rows.push(medianRound(runs));
  const unavailable = new Set(into.skips.filter((s) => s.backendUnavailable).map((s) => `${s.model}|${s.backend}`));
  rounds.forEach((r, round) => {
    for (const skip of r.skips) {
      if (!skip.backendUnavailable) into.skips.push({ ...skip, reason: tag(skip.reason, round) });
      else if (!unavailable.has(`${skip.model}|${skip.backend}`)) {
        unavailable.add(`${skip.model}|${skip.backend}`);
        into.skips.push(skip);
      }
    }
  });
  if (!into.torch) return;
  for (const runs of byCase(rounds.map((r) => r.torch?.rows ?? []), caseKey)) into.torch.rows.push(medianRound(runs));
  rounds.forEach((r, round) => {
    for (const failure of r.torch?.failures ?? []) into.torch!.failures.push({ ...failure, error: tag(failure.error, round) });
  });
}
