import { describe, expect, it } from "vitest";
import { formatProgress, formatDuration, formatLossValue, createProgressReporter, resolveProgressMode } from "../lib/progress";
import { collectedOutputs } from "../lib/display";

describe("formatProgress", () => {
  it("formats a running epoch with terms (total first), validation, rate, elapsed and ETA", () => {
    const line = formatProgress({
      label: "CSAE-L", epoch: 3, numEpochs: 10, batch: 12, batchesPerEpoch: 40,
      terms: { loss1: 0.123456, loss2: 2.5e-5, total: 0.1235 }, validation: { total: 0.2 },
      samplesPerSecond: 12345.6, elapsedSeconds: 75, etaSeconds: 3725,
    });
    expect(line).toBe("CSAE-L · epoch 3/10 · batch 12/40 · total 0.1235 · loss1 0.1235 · loss2 2.500e-5 · val total 0.2 · 12,346 samples/s · elapsed 1:15 · ETA 1:02:05");
  });

  it("formats the final summary, an early stop and a failure", () => {
    expect(formatProgress({ epoch: 1, numEpochs: 1, done: true, elapsedSeconds: 2.25, terms: { total: 1 } }))
      .toBe("done: 1 epoch in 2.3s · total 1");
    expect(formatProgress({ epoch: 4, numEpochs: 10, done: true, elapsedSeconds: 12, stopReason: "stopWhen was met after epoch 4" }))
      .toBe("stopped after epoch 4/10 in 0:12 (stopWhen was met after epoch 4)");
    expect(formatProgress({ epoch: 2, numEpochs: 5, done: true, error: "loss term 'kl' became NaN" }))
      .toBe("failed in epoch 2/5: loss term 'kl' became NaN");
  });

  it("formats numbers and durations", () => {
    expect(formatLossValue(NaN)).toBe("NaN");
    expect(formatLossValue(-Infinity)).toBe("-Inf");
    expect(formatLossValue(0)).toBe("0");
    expect(formatLossValue(123456)).toBe("1.235e+5");
    expect(formatLossValue(0.5)).toBe("0.5");
    expect(formatDuration(9.94)).toBe("9.9s");
    expect(formatDuration(61)).toBe("1:01");
    expect(formatDuration(3600)).toBe("1:00:00");
    expect(formatDuration(NaN)).toBe("?");
  });
});

describe("createProgressReporter", () => {
  it("updates one output in place, throttled, with every epoch end and the summary shown", () => {
    collectedOutputs(true);
    let clock = 0;
    const reporter = createProgressReporter({ mode: "display", minIntervalMs: 500, now: () => clock, label: "ae" });
    expect(reporter.update({ epoch: 1, numEpochs: 2, batch: 1, batchesPerEpoch: 9 })).toBe(true);
    clock = 200;
    expect(reporter.update({ epoch: 1, numEpochs: 2, batch: 2, batchesPerEpoch: 9 })).toBe(false);
    clock = 600;
    expect(reporter.update({ epoch: 1, numEpochs: 2, batch: 3, batchesPerEpoch: 9 })).toBe(true);
    clock = 650;
    reporter.epochEnd({ epoch: 1, numEpochs: 2, terms: { total: 0.5 } });
    clock = 700;
    expect(reporter.update({ epoch: 2, numEpochs: 2, batch: 1, batchesPerEpoch: 9 })).toBe(false);
    reporter.finish({ epoch: 2, numEpochs: 2, terms: { total: 0.25 }, elapsedSeconds: 0.7 });
    const outputs = collectedOutputs(true);
    expect(outputs.map((o) => o.update)).toEqual([false, true, true, true]);
    expect(new Set(outputs.map((o) => o.displayId)).size).toBe(1);
    expect(outputs[0].displayId).toBeTruthy();
    expect(outputs.map((o) => o.data["text/plain"])).toEqual([
      "ae · epoch 1/2 · batch 1/9",
      "ae · epoch 1/2 · batch 3/9",
      "ae · epoch 1/2 · total 0.5",
      "ae · done: 2 epochs in 0.7s · total 0.25",
    ]);
  });

  it("writes lines to a stream: every epoch end, in-epoch lines only after the stream interval", () => {
    const lines: string[] = [];
    let clock = 0;
    const reporter = createProgressReporter({ mode: "stream", stream: { write: (s) => lines.push(s) }, streamIntervalMs: 10_000, now: () => clock });
    expect(reporter.update({ epoch: 1, numEpochs: 1, batch: 1, batchesPerEpoch: 100 })).toBe(false);
    clock = 10_001;
    expect(reporter.update({ epoch: 1, numEpochs: 1, batch: 50, batchesPerEpoch: 100 })).toBe(true);
    reporter.epochEnd({ epoch: 1, numEpochs: 1, terms: { total: 1 } });
    reporter.finish({ epoch: 1, numEpochs: 1, elapsedSeconds: 20 });
    expect(lines).toEqual(["epoch 1/1 · batch 50/100\n", "epoch 1/1 · total 1\n", "done: 1 epoch in 0:20\n"]);
    expect(collectedOutputs().length).toBe(0);
  });

  it("is silent in mode none, and auto outside a kernel never uses the notebook output", () => {
    const reporter = createProgressReporter({ mode: "none" });
    expect(reporter.update({ epoch: 1, numEpochs: 1 })).toBe(false);
    reporter.epochEnd({ epoch: 1, numEpochs: 1 });
    reporter.finish({ epoch: 1, numEpochs: 1 });
    expect(collectedOutputs().length).toBe(0);
    expect(["stream", "none"]).toContain(resolveProgressMode("auto"));
    expect(resolveProgressMode("display")).toBe("display");
  });
});
