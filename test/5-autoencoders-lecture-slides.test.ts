/**
 * The lecture notebook (paper 5) in quick mode on the real tslab kernel: its numerical
 * checks pass (they throw otherwise), its tables are printed with numbers, its plots are
 * Plotly + PNG without text/html, its image grids are PNGs, and it frees its tensors.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { findChromium, PLOTLY_MIME } from "../lib/runner/plot-png";
import { joinText, QuickRun, runQuick } from "./helpers/notebooks";

let run: QuickRun;

beforeAll(async () => {
  run = await runQuick("notebooks/5-autoencoders-lecture-slides.ipynb");
}, 300_000);

/** The markdown of the table whose bold title contains `title`. */
function table(title: string): string {
  const found = run.markdown.find((md) => md.includes(title));
  if (!found) throw new Error(`no table titled '${title}'`);
  return found;
}

describe("5-autoencoders-lecture-slides (quick mode, real kernel)", () => {
  it("runs every code cell once, in order, in quick mode on a named backend", () => {
    expect(run.result.ok).toBe(true);
    expect(run.codeCells.map((c) => c.execution_count)).toEqual(run.codeCells.map((_, i) => i + 1));
    expect(run.stdout).toMatch(/^mode: quick · seed: 0 · backend: (wasm|tensorflow|cpu) \(/m);
    expect(run.stdout).toMatch(/trainImages=2000 · testImages=1000/);
  });

  it("passes its derivation checks (each cell throws when a check fails)", () => {
    expect(run.stdout).toMatch(/eq\. \(5\) vs tf\.grad: max \|difference\| \d\.\de-\d+; eq\. \(6\), tied: \d\.\de-\d+/);
    expect(run.stdout).toMatch(/J\/\(n·d\) at the PCA solution: 0\.\d+ vs eq\. \(7\) 0\.\d+/);
    expect(run.stdout).toMatch(/ae\.slides\.tiedDense: kernel gradient = eq\. \(6\)/);
    expect(run.stdout).toMatch(/checked: every quantised code value within Δ\/2/);
    expect(run.stdout).toMatch(/eq\. \(9\) ∂L_H\/∂a = z − x matches tf\.grad/);
    expect(run.stdout).toMatch(/checked: switches restore the maxima exactly/);
    // The hand-worked 4×4 example of the three pooling inverses.
    expect(run.stdout).toMatch(/switches \(11c\): 0 0 0 8 \| 0 4 0 0 \| 9 0 0 0 \| 0 0 7 0/);
    expect(run.stdout).toMatch(/even \(11b\): 1 1 2 2 \| 1 1 2 2 \| 2\.25 2\.25 1\.75 1\.75/);
  });

  it("measures the linear autoencoder against the PCA optimum, with principal angles", () => {
    const m = run.stdout.match(/linear AE: MSE 0\.\d+ = (\d+\.\d+) × the PCA optimum/);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThanOrEqual(0.999);
    const angles = run.stdout.match(/principal angles .*\(degrees\): (.*)/)![1].split(", ").map(Number);
    expect(angles).toHaveLength(16);
    for (const a of angles) expect(a).toBeGreaterThanOrEqual(0);
    for (const a of angles) expect(a).toBeLessThanOrEqual(90);
  });

  it("prints the tied-vs-untied, trade-off, pre-training, anchor, pooling and summary tables with numbers", () => {
    expect(table("Tied vs untied")).toMatch(/\| tied, W′ = Wᵀ \| 51024 \| 0\.\d{5} \|/);
    expect(table("Tied vs untied")).toMatch(/\| untied \| 101200 \| 0\.\d{5} \|/);
    expect(table("phone-to-cloud trade-off")).toMatch(/\| 64 \| 64 \| 0\.\d{5} \| 0\.\d{5} \| 256 \| 0\.\d{5} \| 16 \|/);
    const pretraining = table("Pre-training vs random initialisation");
    for (const start of ["pre-trained", "random"]) {
      expect(pretraining).toMatch(new RegExp(`\\| ${start} \\| 100 \\| 20 \\| 0\\.\\d{4} \\|`));
      expect(pretraining).toMatch(new RegExp(`\\| ${start} \\| 2000 \\| 2 \\| 0\\.\\d{4} \\|`));
    }
    const anchors = table("anchors and ours");
    expect(anchors).toMatch(/784-200-200-10 .* 0\.9760 \| published/);
    expect(anchors).toMatch(/784-1000-1000-1000-10 .* 0\.9870 \| published/);
    expect(anchors).toMatch(/\| ours: stacked denoising AE \| 784-500-500-10 \| 1 epochs per layer on 2000 images.* \| 0\.\d{4} \| measured here/);
    const pooling = table("Conv autoencoders");
    for (const kind of ["random", "even", "switches"]) {
      expect(pooling).toMatch(new RegExp(`\\| ${kind} \\| 2633 \\| 392 \\| ${kind === "switches" ? 882 : 0} \\| 0\\.\\d{5} \\|`));
    }
    const summary = table("The lecture's claims vs this run (quick mode)");
    expect(summary).toMatch(/MSE \d\.\d{3} × PCA optimum/);
    expect(summary).toMatch(/10-nearest-neighbour vote in the plane: \d+\.\d% test accuracy \(linear: \d+\.\d%\)/);
    expect(summary).toMatch(/published 97\.6%; ours \(784-500-500-10, 2 epochs\) \d+\.\d\d%/);
    expect(run.stdout).toMatch(/MSE of pool → unpool on raw pixels: random 0\.\d{4}, even 0\.\d{4}, switches 0\.\d{4}/);
  });

  it("sends plots as Plotly JSON + PNG + text/plain and image grids as PNG, never text/html", () => {
    const plots = run.outputs.filter((o) => o.output_type === "display_data" && PLOTLY_MIME in (o.data as object));
    expect(plots).toHaveLength(5); // linear AE vs PCA, principal angles, trade-off, accuracy bars, 2-D embedding
    const expected = findChromium() || process.env.CI ? [PLOTLY_MIME, "image/png", "text/plain"] : [PLOTLY_MIME, "text/plain"];
    for (const p of plots) expect(Object.keys(p.data as object).sort()).toEqual(expected.sort());
    expect(run.plainText).toMatch(/2-D scatter plot 'The 1000 test digits by their 2-value code': 1000 points in 10 classes/);
    const grids = run.outputs.filter((o) => joinText((o.data as Record<string, unknown> | undefined)?.["text/plain"]).startsWith("Image grid"));
    expect(grids.length).toBe(6);
    for (const g of grids) expect(Object.keys(g.data as object).sort()).toEqual(["image/png", "text/plain"]);
    for (const o of run.outputs) expect(Object.keys((o.data as object) ?? {})).not.toContain("text/html");
  });

  it("frees every tensor it made", () => {
    expect(run.stdout).toMatch(/tensors left: 0 · wall time \d/); // run.finish() throws on any leak
  });
});
