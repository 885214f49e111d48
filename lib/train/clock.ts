/**
 * The training clock: wall time this process has spent inside trainModel (a call inside
 * another is counted once). A notebook's run reads it at setup() and at finish() to say what
 * share of its wall time went to training.
 */

let depth = 0;
let startedAt = 0;
let stoppedSeconds = 0;

/** Seconds spent inside trainModel so far in this process, the call in progress included. */
export function trainingSeconds(): number {
  return stoppedSeconds + (depth > 0 ? (Date.now() - startedAt) / 1000 : 0);
}

/** Start timing one trainModel call; returns the function that stops it (calling it again does nothing). */
export function startTrainingClock(): () => void {
  if (depth === 0) startedAt = Date.now();
  depth += 1;
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    depth -= 1;
    if (depth === 0) stoppedSeconds += (Date.now() - startedAt) / 1000;
  };
}
