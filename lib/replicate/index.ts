/**
 * Results over seeds: Student-t quantiles, mean ± t intervals (paired or Welch for differences),
 * pre-registered claims with verdicts, and runners that train and evaluate a configuration per seed.
 */
export * from "./student-t";
export * from "./summary";
export * from "./replicate";
