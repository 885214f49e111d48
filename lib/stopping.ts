/**
 * Stopping rules for trainModel's `stopWhen`. Each says what it measures: "the loss stopped
 * improving by much", which is not the same as "trained to convergence".
 */
import type { EpochLogs } from "./train";

export interface RelativeImprovementOptions {
  /** Which logged loss term to watch (default "total", the weighted objective). */
  term?: string;
  /** Consecutive epochs below the tolerance before stopping (default 1). */
  patience?: number;
}

/**
 * A `stopWhen` rule: stop once an epoch lowers the watched loss by less than `tolerance`
 * relative to the epoch before, (L_{t−1} − L_t) / L_{t−1} < tolerance, for `patience` epochs
 * in a row; tolerance 0 never stops. Each call makes a fresh rule (it remembers the last loss).
 */
export function relativeImprovementBelow(tolerance: number, options: RelativeImprovementOptions = {}): (logs: EpochLogs) => boolean {
  const fn = "relativeImprovementBelow";
  if (!Number.isFinite(tolerance) || tolerance < 0) throw new Error(`${fn}: tolerance must be a finite number ≥ 0, got ${tolerance}`);
  const term = options.term ?? "total";
  const patience = options.patience ?? 1;
  if (!Number.isInteger(patience) || patience < 1) throw new Error(`${fn}: patience must be an integer ≥ 1, got ${patience}`);
  let previous = Infinity;
  let slowEpochs = 0;
  return (logs: EpochLogs) => {
    const loss = logs.terms[term];
    if (loss === undefined) throw new Error(`${fn}: the epoch logs have no loss term "${term}" (terms: ${Object.keys(logs.terms).join(", ")})`);
    const improvement = previous === Infinity ? Infinity : (previous - loss) / Math.abs(previous);
    previous = loss;
    slowEpochs = tolerance > 0 && improvement < tolerance ? slowEpochs + 1 : 0;
    return slowEpochs >= patience;
  };
}
