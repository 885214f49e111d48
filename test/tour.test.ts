/**
 * End to end: the tour fixture drives the whole library inside the real tslab kernel
 * (setup, MNIST, the training loop with its in-place progress, a Plotly figure with its
 * PNG, an image grid, a table) and we assert on what the notebook shows.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { findChromium, PLOTLY_MIME } from "../lib/runner/plot-png";
import { joinText, QuickRun, runQuick } from "./helpers/notebooks";

let run: QuickRun;

beforeAll(async () => {
  run = await runQuick("test/fixtures/tour.ipynb");
}, 300_000);

describe("tour notebook (quick mode, real kernel)", () => {
  it("runs every code cell once, in order, and names its backend and mode", () => {
    expect(run.result.ok).toBe(true);
    expect(run.codeCells.map((c) => c.execution_count)).toEqual(run.codeCells.map((_, i) => i + 1));
    expect(run.stdout).toMatch(/^mode: quick · seed: 1 · backend: (wasm|tensorflow|cpu) \(/m);
    expect(run.stdout).toMatch(/train: 512,784 images, 512 labels/);
  });

  it("shows training progress as one output updated in place, ending with a summary", () => {
    const cell = run.codeCells[3];
    const rich = cell.outputs.filter((o) => o.output_type === "display_data");
    expect(rich).toHaveLength(1);
    expect(joinText((rich[0].data as Record<string, unknown>)["text/plain"])).toMatch(/^done: 3 epochs in .* mse [0-9.]+ .*samples\/s/);
    expect(run.stdout).toMatch(/loss 0\.\d+ → 0\.\d+/);
  });

  it("sends plots as Plotly JSON + PNG + text/plain, never text/html", () => {
    const plots = run.outputs.filter((o) => o.output_type === "display_data" && PLOTLY_MIME in (o.data as object));
    expect(plots).toHaveLength(1);
    const keys = Object.keys(plots[0].data as object).sort();
    const expected = findChromium() || process.env.CI ? [PLOTLY_MIME, "image/png", "text/plain"] : [PLOTLY_MIME, "text/plain"];
    expect(keys).toEqual(expected.sort());
    for (const o of run.outputs) expect(Object.keys((o.data as object) ?? {})).not.toContain("text/html");
  });

  it("shows the image grid as a PNG and the table as markdown, with no stray echoes", () => {
    const grid = run.outputs.find((o) => joinText((o.data as Record<string, unknown> | undefined)?.["text/plain"]).startsWith("Image grid"));
    expect(grid && Object.keys(grid.data as object).sort()).toEqual(["image/png", "text/plain"]);
    const table = run.outputs.find((o) => "text/markdown" in ((o.data as object) ?? {}));
    expect(joinText((table!.data as Record<string, unknown>)["text/markdown"])).toMatch(/\| final MSE \| 0\.\d{4} \| not run \(no paper here\) \|/);
    // show* return nothing, so no cell echoes a display id or a table object to stdout.
    expect(run.stdout).not.toMatch(/^[0-9a-f]{16}$/m);
    expect(run.stdout).not.toMatch(/markdown:/);
  });

  it("frees its data: only the model's 4 weight tensors remain", () => {
    expect(run.stdout).toMatch(/tensors left: 4\n/);
  });
});
