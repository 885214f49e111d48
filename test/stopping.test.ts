/** The relative-improvement stopping rule for trainModel's stopWhen. */
import { describe, expect, it } from "vitest";
import { relativeImprovementBelow } from "../lib/stopping";
import type { EpochLogs } from "../lib/train";

describe("relativeImprovementBelow", () => {
  const logs = (total: number): EpochLogs => ({ epoch: 1, numEpochs: 9, terms: { total, mse: total }, learningRate: 1e-3, samplesPerSecond: 1, seconds: 1, steps: 1 });

  it("stops on the first epoch that improves by less than the tolerance, after `patience` such epochs", () => {
    const rule = relativeImprovementBelow(0.01);
    expect([1, 0.9, 0.895, 0.5].map((l) => rule(logs(l)))).toEqual([false, false, true, false]);
    const patient = relativeImprovementBelow(0.01, { patience: 2 });
    expect([1, 0.999, 0.5, 0.499, 0.4985].map((l) => patient(logs(l)))).toEqual([false, false, false, false, true]);
    const never = relativeImprovementBelow(0);
    expect([1, 1, 1].map((l) => never(logs(l)))).toEqual([false, false, false]);
  });

  it("names a missing term and bad settings", () => {
    expect(() => relativeImprovementBelow(0.1, { term: "kl" })(logs(1))).toThrow(/no loss term "kl" \(terms: total, mse\)/);
    expect(() => relativeImprovementBelow(-1)).toThrow(/tolerance must be a finite number ≥ 0, got -1/);
    expect(() => relativeImprovementBelow(0.1, { patience: 0 })).toThrow(/patience must be an integer ≥ 1/);
  });
});
