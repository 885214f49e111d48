import { afterEach, describe, expect, it, vi } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { setup } from "../lib/setup";
import { formatSeconds, NotebookRun } from "../lib/run";
import type { BackendReport } from "../lib/backend";
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
    expect(table).toContain("| backend | cpu |"); // the short form (setup printed the full report)
    expect(table).toContain("| :--- | :--- |"); // every value is text, so the text table left-aligns it
    expect(table).toContain("| train | 60000 |");
    expect(table).toContain("| epochs trained | 7 |");
    expect(table).toMatch(/\| time: training \| 30 s \(\d+ %\) \|/);
    expect(table).toMatch(/\| wall time in all \| \d/);
    expect(log).toHaveBeenCalledWith(expect.stringMatching(/^tensors left: 0 · wall time /));
  });

  it("names the backend in one short line: wasm with SIMD and the native kernels' threads", () => {
    const report = { name: "wasm", reason: "a long sentence", attempts: [], requested: "auto", requestedBy: "default", simd: true, threads: 1, nativeThreads: 2, tfjsVersion: "4.22.0" } as const;
    const run = new NotebookRun("quick", 0, report as unknown as BackendReport, { train: 10 });
    run.note("seeds", 4);
    const rows = run.whatRan();
    expect(rows.find((r) => r.what === "backend")?.value).toBe("wasm (SIMD, native kernels × 2)");
    expect(rows.find((r) => r.what === "train")?.value).toBe("10");
    expect(rows.find((r) => r.what === "seeds")?.value).toBe("4");
  });

  it("formats durations in s, min and h", () => {
    expect(formatSeconds(4.25)).toBe("4.3 s");
    expect(formatSeconds(75)).toBe("75 s");
    expect(formatSeconds(754)).toBe("12.6 min");
    expect(formatSeconds(7540)).toBe("2.09 h");
  });
});
