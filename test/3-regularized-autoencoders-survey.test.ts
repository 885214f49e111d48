/**
 * Notebook 3 (regularised autoencoders survey) in quick mode on the real tslab kernel: its
 * numerical checks pass, its tables carry numbers, its plots are Plotly + PNG (never HTML),
 * and it frees every tensor it made.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { findChromium, PLOTLY_MIME } from "../lib/runner/plot-png";
import { joinText, QuickRun, runQuick } from "./helpers/notebooks";

let run: QuickRun;

beforeAll(async () => {
  run = await runQuick("notebooks/3-regularized-autoencoders-survey.ipynb");
}, 300_000);

/** The markdown of the table whose bold title starts with `title`. */
function table(title: string): string {
  const found = run.markdown.find((md) => md.startsWith(`**${title}`));
  if (!found) throw new Error(`no table titled '${title}'`);
  return found;
}

/** Body rows of a markdown table, split into trimmed cells. */
function rows(markdown: string): string[][] {
  return markdown.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| ---") && !/^\| :?-/.test(l)).slice(1)
    .map((l) => l.slice(2, -2).split(" | ").map((c) => c.trim()));
}

describe("notebook 3: regularised autoencoders (quick mode, real kernel)", () => {
  it("runs every code cell once, in order, in quick mode, naming its backend", () => {
    expect(run.result.ok).toBe(true);
    expect(run.codeCells.map((c) => c.execution_count)).toEqual(run.codeCells.map((_, i) => i + 1));
    expect(run.stdout).toMatch(/^mode: quick · seed: 0 · backend: (wasm|tensorflow|cpu) \(/m);
  });

  it("finds PCA's subspace with the linear autoencoder: every principal angle below 5° and the loss at PCA's bound", () => {
    const angles = run.stdout.match(/principal angles \(degrees\): ([0-9., ]+)/);
    expect(angles).not.toBeNull();
    const values = angles![1].split(",").map(Number);
    expect(values).toHaveLength(6);
    for (const a of values) expect(a).toBeLessThan(5);
    const ratio = Number(run.stdout.match(/\(ratio ([0-9.]+)\)/)![1]);
    expect(ratio).toBeGreaterThanOrEqual(0.999);
    expect(ratio).toBeLessThan(1.02);
  });

  it("checks the KL derivative and the contractive closed form numerically", () => {
    const kl = rows(table("Largest relative error of eq. 5"));
    expect(kl).toHaveLength(2);
    for (const [, vsGrad, vsFd] of kl) {
      expect(Number(vsGrad)).toBeLessThan(1e-5);
      expect(Number(vsFd)).toBeLessThan(1e-7);
    }
    for (const title of ["Eq. 8 vs a Jacobian built by autodiff", "Eq. 8 vs autodiff on the trained contractive encoder"]) {
      const r = rows(table(title));
      expect(r.length).toBeGreaterThanOrEqual(2);
      for (const cells of r) expect(Number(cells[3])).toBeLessThan(1e-4);
    }
    expect(run.stdout).toMatch(/minimum KL 0\.0e\+0 at ρ̂ = 0\.2;/);
  });

  it("reproduces the paper's shapes and its 2,561 parameters", () => {
    expect(rows(table("The paper's one-layer models")).map((r) => r[3])).toEqual(["28×28×16", "14×14×16", "26×26×16", "13×13×16"]);
    const conv = rows(table("The 2,561-parameter convolutional denoising autoencoder"));
    expect(conv[conv.length - 1]).toEqual(["total", "—", "—", "2561", "2561"]);
    for (const r of conv.slice(0, -1)) expect(r[1]).toBe(r[2]);
  });

  it("prints the five-way comparison with a number in every cell", () => {
    const r = rows(table("Five regularisers, one autoencoder"));
    expect(r.map((cells) => cells[0])).toEqual(["plain", "l1", "kl", "denoising", "contractive"]);
    for (const cells of r) {
      expect(cells).toHaveLength(7);
      for (const cell of cells.slice(1)) expect(Number.isFinite(Number(cell))).toBe(true);
    }
    const conv = rows(table("Convolutional DAE on"));
    expect(conv.map((cells) => Number(cells[0]))).toEqual([0.2, 0.5]);
    for (const cells of conv) for (const cell of cells) expect(Number.isFinite(Number(cell))).toBe(true);
  });

  it("prints the paper-vs-ours table with the structural claims holding", () => {
    const r = rows(table("Paper vs ours (quick mode)"));
    expect(r.length).toBeGreaterThanOrEqual(10);
    const byClaim = new Map(r.map((cells) => [cells[0], cells]));
    expect(byClaim.get("conv DAE parameters")).toEqual(["conv DAE parameters", "2,561", "2,561", "yes"]);
    expect(byClaim.get("conv DAE layer shapes match eqs. 9–10")![3]).toBe("yes");
    expect(byClaim.get("one-layer output sizes (Sequential 1–4)")![3]).toBe("yes");
    expect(byClaim.get("Figure 5: KL(0.2‖ρ̂) minimum")![3]).toBe("yes");
    for (const cells of r) expect(["yes", "no"].includes(cells[3]) || cells[3].startsWith("not run (")).toBe(true);
  });

  it("sends plots as Plotly JSON + PNG + text/plain and image grids as PNG, never text/html", () => {
    const plots = run.outputs.filter((o) => o.output_type === "display_data" && PLOTLY_MIME in (o.data as object));
    expect(plots.length).toBe(7);
    const expected = (findChromium() || process.env.CI ? [PLOTLY_MIME, "image/png", "text/plain"] : [PLOTLY_MIME, "text/plain"]).sort();
    for (const p of plots) expect(Object.keys(p.data as object).sort()).toEqual(expected);
    expect(run.plainText).toMatch(/Line plot 'Figure 5 redrawn: KL sparsity penalty for ρ = 0\.2'/);
    expect(run.plainText).toMatch(/Vector field 'Reconstruction field r\(x\) − x around a circle/);
    const grids = run.outputs.filter((o) => joinText((o.data as Record<string, unknown> | undefined)?.["text/plain"]).startsWith("Image grid"));
    expect(grids).toHaveLength(3);
    for (const g of grids) expect(Object.keys(g.data as object).sort()).toEqual(["image/png", "text/plain"]);
    for (const o of run.outputs) expect(Object.keys((o.data as object) ?? {})).not.toContain("text/html");
  });

  it("frees every tensor it made", () => {
    expect(run.stdout).toMatch(/tensors left: 0 · wall time \d/); // run.finish() throws on any leak
  });
});
