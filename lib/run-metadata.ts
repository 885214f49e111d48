/**
 * The machine-readable part of a notebook's "what ran" output: run.finish() puts this object
 * under RUN_SUMMARY_METADATA in the output's metadata, and the runner reads it back from the
 * committed notebooks for the README's table of full-run times.
 */

/** Metadata key of the run summary on finish()'s "what ran" output. */
export const RUN_SUMMARY_METADATA = "autoencoder-notebooks/run-summary";

/** What the runner reads from it (finish() stores its whole RunSummary). */
export interface RunTimesMetadata {
  mode: "quick" | "full";
  totalSeconds: number;
  /** Of totalSeconds, the time spent inside trainModel. */
  trainingSeconds: number;
}
