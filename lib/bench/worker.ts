/**
 * Child-process entry of the bench: runs one case (lib/bench/run.ts), or with { peak: true } the
 * backend's matrix-product peak (measurePeak), and prints its outcome as
 * one line `BENCH_RESULT_MARKER <json>` on stdout; progress goes to stderr.
 *   node -r ts-node/register/transpile-only lib/bench/worker.ts '<BenchCaseOptions as JSON>'
 */
import { BenchCaseOptions, measurePeak, PeakOptions, runBenchCase } from "./run";

/** Prefix of the result line on the worker's stdout. */
export const BENCH_RESULT_MARKER = "@@bench-result@@";

async function main(): Promise<void> {
  const text = process.argv[2];
  if (text === undefined) throw new Error("worker: expected the case options as a JSON argument");
  const parsed = JSON.parse(text) as (BenchCaseOptions & { peak?: false }) | (PeakOptions & { peak: true });
  // { peak: true, … }: the matrix-product peak of the backend instead of a training case.
  const outcome = parsed.peak
    ? await measurePeak(parsed)
    : await runBenchCase({ ...parsed, log: (line) => process.stderr.write(line + "\n") });
  process.stdout.write(`${BENCH_RESULT_MARKER} ${JSON.stringify(outcome)}\n`);
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error) => {
      process.stderr.write(`bench worker failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
