/**
 * The training clock (lib/train/clock.ts), the run summary that run.finish() stores in its
 * output's metadata, and the runner's README table of full-run times read back from the
 * committed notebooks (lib/runner/run-times.ts).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { startTrainingClock, trainingSeconds } from "../lib/train/clock";
import { trainModel } from "../lib/train";
import { NotebookRun } from "../lib/run";
import type { BackendReport } from "../lib/backend";
import { RUN_SUMMARY_METADATA } from "../lib/run-metadata";
import { clearCollectedOutputs, collectedOutputs } from "../lib/display";
import { committedRunTime, committedRunTimes, parseDuration, runTimesMarkdown, writeRunTimesReadme, RUNS_END, RUNS_START } from "../lib/runner/run-times";
import type { Notebook, NotebookOutput } from "../lib/runner/notebook";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "run-times-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
afterEach(() => {
  vi.restoreAllMocks();
  clearCollectedOutputs();
});

describe("the training clock", () => {
  it("adds up the wall time of trainModel calls, a call inside another once, and a second stop does nothing", () => {
    const now = vi.spyOn(Date, "now");
    now.mockReturnValue(1_000);
    const before = trainingSeconds();
    const stopOuter = startTrainingClock();
    now.mockReturnValue(3_000);
    const stopInner = startTrainingClock();
    now.mockReturnValue(4_000);
    expect(trainingSeconds() - before).toBeCloseTo(3, 9); // the call in progress counts
    stopInner();
    stopInner();
    now.mockReturnValue(6_000);
    stopOuter();
    now.mockReturnValue(60_000);
    expect(trainingSeconds() - before).toBeCloseTo(5, 9); // 1 → 6 s, once, and nothing after the stop
  });

  it("a run counts trainModel's time since setup(), also when training throws, and finish() stores it in its output's metadata", async () => {
    const run = new NotebookRun("full", 0, { name: "cpu", reason: "test" } as unknown as BackendReport, {});
    const init = tf.zeros([3, 1]);
    const w = tf.variable(init);
    const data = { x: tf.ones([8, 3]), y: tf.ones([8, 1]) };
    const loss = (b: { x: tf.Tensor; y: tf.Tensor }) => ({ mse: tf.losses.meanSquaredError(b.y, tf.matMul(b.x, w)) as tf.Scalar });
    const before = run.trainingSeconds();
    expect(before).toBe(0);
    await trainModel({ variables: [w], data, lossTerms: loss, numEpochs: 2, batchSize: 4, progress: false });
    const afterOne = run.trainingSeconds();
    expect(afterOne).toBeGreaterThan(0);
    await expect(trainModel({ variables: [w], data, lossTerms: () => { throw new Error("bad loss"); }, numEpochs: 1, batchSize: 4, progress: false })).rejects.toThrow("bad loss");
    const afterFailure = run.trainingSeconds();
    expect(afterFailure).toBeGreaterThanOrEqual(afterOne);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(run.trainingSeconds()).toBe(afterFailure); // the clock stopped when the failed call ended
    tf.dispose([w, init, data.x, data.y]);
    vi.spyOn(console, "log").mockImplementation(() => undefined);
    const summary = run.finish();
    expect(summary.trainingSeconds).toBe(afterFailure);
    expect(summary.trainingSeconds).toBeLessThanOrEqual(summary.totalSeconds);
    const output = collectedOutputs().at(-1)!;
    expect(output.metadata[RUN_SUMMARY_METADATA]).toEqual(summary);
    expect(output.data["text/markdown"]).toMatch(/\| time inside trainModel \| [\d.]+ s \(\d+ %\) \|/);
  });
});

/** A notebook whose last code cell has `outputs`. */
function notebookWith(outputs: NotebookOutput[]): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [
      { cell_type: "markdown", id: "a", metadata: {}, source: "# t" },
      { cell_type: "code", id: "b", metadata: {}, source: "run.finish()", execution_count: 1, outputs },
    ],
  };
}

const OLD_STYLE: NotebookOutput = {
  output_type: "display_data",
  metadata: {},
  data: { "text/markdown": "**What ran (full mode)**\n\n| what | value |\n| :--- | :--- |\n| mode | full (seed 0) |\n| wall time in all | 30.2 min |\n" },
};

describe("the README's table of full-run times", () => {
  it("reads a duration back as run.ts formats it", () => {
    expect(parseDuration("75 s")).toBe(75);
    expect(parseDuration("30.2 min")).toBeCloseTo(1812, 9);
    expect(parseDuration("2.09 h")).toBeCloseTo(7524, 9);
    expect(parseDuration("soon")).toBeNull();
  });

  it("takes the run summary from the metadata, else the wall time from an older run's table, else nothing", () => {
    const stored: NotebookOutput = { output_type: "display_data", data: { "text/plain": "What ran" }, metadata: { [RUN_SUMMARY_METADATA]: { mode: "full", totalSeconds: 600, trainingSeconds: 450, phases: [], tensorsLeft: 0 } } };
    expect(committedRunTime(notebookWith([OLD_STYLE, stored, { output_type: "stream", name: "stdout", text: "tensors left: 0" }]), "nb")).toEqual({ notebook: "nb", mode: "full", totalSeconds: 600, trainingSeconds: 450 });
    expect(committedRunTime(notebookWith([OLD_STYLE]), "old")).toEqual({ notebook: "old", mode: "full", totalSeconds: 1812, trainingSeconds: null });
    expect(committedRunTime(notebookWith([]), "never")).toEqual({ notebook: "never", mode: null, totalSeconds: null, trainingSeconds: null });
  });

  it("writes one row per notebook with the share spent training, and the total", () => {
    const table = runTimesMarkdown([
      { notebook: "1-a", mode: "full", totalSeconds: 600, trainingSeconds: 450 },
      { notebook: "2-b", mode: "full", totalSeconds: 1812, trainingSeconds: null },
      { notebook: "3-c", mode: null, totalSeconds: null, trainingSeconds: null },
    ]);
    expect(table).toContain("| 1-a | full | 10.0 min | 7.5 min | 75 % |");
    expect(table).toContain("| 2-b | full | 30.2 min | not recorded | — |");
    expect(table).toContain("| 3-c | none | — | not recorded | — |");
    expect(table).toContain("40.2 min in all");
    expect(table).toContain('"Not recorded": that committed run predates the training clock');
    const complete = runTimesMarkdown([{ notebook: "1-a", mode: "full", totalSeconds: 600, trainingSeconds: 450 }]);
    expect(complete).toContain("10.0 min in all.");
    expect(complete).not.toContain("Not recorded");
  });

  it("rewrites only what lies between the README's markers, and names the README when they are missing", () => {
    const root = path.join(tmp, "project");
    fs.mkdirSync(path.join(root, "notebooks"), { recursive: true });
    fs.writeFileSync(path.join(root, "notebooks", "1-a.ipynb"), JSON.stringify(notebookWith([OLD_STYLE])));
    fs.writeFileSync(path.join(root, "notebooks", "notes.md"), "not a notebook");
    fs.writeFileSync(path.join(root, "README.md"), `# P\nbefore\n${RUNS_START}\nstale\n${RUNS_END}\nafter\n`);
    expect(committedRunTimes(root).map((r) => r.notebook)).toEqual(["1-a"]);
    const first = writeRunTimesReadme(root);
    expect(first.changed).toBe(true);
    const text = fs.readFileSync(path.join(root, "README.md"), "utf8");
    expect(text).toMatch(/^# P\nbefore\n<!-- runs:start -->\n\| notebook \|/);
    expect(text).toContain("| 1-a | full | 30.2 min | not recorded | — |");
    expect(text).not.toContain("stale");
    expect(text.endsWith(`${RUNS_END}\nafter\n`)).toBe(true);
    expect(writeRunTimesReadme(root).changed).toBe(false);
    fs.writeFileSync(path.join(root, "README.md"), "# no markers\n");
    expect(() => writeRunTimesReadme(root)).toThrow(/README\.md: expected the markers <!-- runs:start --> and <!-- runs:end -->/);
  });

  it("the committed README's table is what the committed notebooks say", () => {
    const root = path.resolve(__dirname, "..");
    const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
    const between = readme.slice(readme.indexOf(RUNS_START) + RUNS_START.length, readme.indexOf(RUNS_END));
    expect(between.trim()).toBe(runTimesMarkdown(committedRunTimes(root)));
  });
});
