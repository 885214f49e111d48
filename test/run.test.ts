import { afterEach, describe, expect, it, vi } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { setup } from "../lib/setup";
import { formatSeconds } from "../lib/run";
import { clearCollectedOutputs, collectedOutputs } from "../lib/display";
import { restoreGlobalRandom } from "../lib/random";

describe("the run object that setup() returns", () => {
  afterEach(() => {
    restoreGlobalRandom();
    clearCollectedOutputs();
    vi.restoreAllMocks();
  });

  it("hands out the mode's sizes and rejects sizes without both modes", async () => {
    const sizes = { quick: { train: 100, epochs: 1 }, full: { train: 60000, epochs: 20 } };
    const quick = await setup({ seed: 1, backend: "cpu", mode: "quick", verbose: false, sizes });
    expect(quick.sizes).toEqual({ train: 100, epochs: 1 });
    expect(quick).toMatchObject({ mode: "quick", quick: true, seed: 1 });
    const full = await setup({ backend: "cpu", mode: "full", verbose: false, sizes });
    expect(full.sizes.train).toBe(60000);
    await expect(setup({ backend: "cpu", verbose: false, sizes: { quick: { train: 1 } } as never })).rejects.toThrow(/sizes must be \{ quick: …, full: … \}/);
  });

  it("times named phases (same name adds up), returns the work's result and times a phase that throws", async () => {
    const run = await setup({ backend: "cpu", mode: "quick", verbose: false });
    const now = vi.spyOn(Date, "now");
    now.mockReturnValueOnce(1_000).mockReturnValueOnce(3_500);
    expect(await run.time("train", () => 42)).toBe(42);
    now.mockReturnValueOnce(10_000).mockReturnValueOnce(10_500);
    await expect(run.time("train", async () => { throw new Error("boom"); })).rejects.toThrow("boom");
    now.mockRestore();
    run.addSeconds("evaluate", 4);
    expect(run.phases).toEqual([{ name: "train", seconds: 3 }, { name: "evaluate", seconds: 4 }]);
    expect(() => run.addSeconds("x", -1)).toThrow(/seconds must be a finite number ≥ 0, got -1/);
    await expect(run.time("", () => 0)).rejects.toThrow(/name must be a non-empty string/);
  });

  it("finish() fails on a leaked tensor, naming the count", async () => {
    const run = await setup({ backend: "cpu", mode: "quick", verbose: false });
    const leaked = tf.zeros([2]);
    expect(() => run.finish({ verbose: false })).toThrow(/the notebook leaked 1 tensor\(s\): 1 left since setup\(\)/);
    expect(() => run.finish({ allowedTensors: 1, verbose: false })).toThrow(/say why tensors remain/);
    expect(run.finish({ allowedTensors: 1, reason: "kept on purpose", verbose: false }).tensorsLeft).toBe(1);
    expect(() => run.finish()).toThrow(/already called/);
    leaked.dispose();
  });

  it("finish() shows the what-ran table: mode, backend, sizes, notes, phases and the total", async () => {
    const run = await setup({ seed: 2, backend: "cpu", mode: "full", verbose: false, sizes: { quick: { train: 1 }, full: { train: 60000 } } });
    run.note("epochs trained", 7);
    run.addSeconds("training", 30);
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    const summary = run.finish();
    expect(summary).toMatchObject({ mode: "full", backend: "cpu", tensorsLeft: 0 });
    const table = collectedOutputs().at(-1)!.data["text/markdown"] as string;
    expect(table).toContain("**What ran (full mode)**");
    expect(table).toContain("| mode | full (seed 2) |");
    expect(table).toMatch(/\| backend \| cpu: /);
    expect(table).toContain("| train | 60000 |");
    expect(table).toContain("| epochs trained | 7 |");
    expect(table).toMatch(/\| time: training \| 30 s \(\d+ %\) \|/);
    expect(table).toMatch(/\| wall time in all \| \d/);
    expect(log).toHaveBeenCalledWith(expect.stringMatching(/^tensors left: 0 · wall time /));
  });

  it("formats durations in s, min and h", () => {
    expect(formatSeconds(4.25)).toBe("4.3 s");
    expect(formatSeconds(75)).toBe("75 s");
    expect(formatSeconds(754)).toBe("12.6 min");
    expect(formatSeconds(7540)).toBe("2.09 h");
  });
});
