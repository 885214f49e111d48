/**
 * Notebook 3 (regularised autoencoders survey) in quick mode on the real tslab kernel: its
 * numerical checks pass, its tables carry numbers, its plots are Plotly + PNG (never HTML),
 * and it frees every tensor it made.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { findChromium, PLOTLY_MIME } from "../lib/runner/plot-png";
import { joinText, QuickRun, runQuick, tableRows } from "./helpers/notebooks";

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
    const kl = tableRows(table("Largest relative error of eq. 5"));
    expect(kl).toHaveLength(2);
    for (const [, vsGrad, vsFd] of kl) {
      expect(Number(vsGrad)).toBeLessThan(1e-5);
      expect(Number(vsFd)).toBeLessThan(1e-7);
    }
    for (const title of ["Eq. 8 vs a Jacobian built by autodiff", "Eq. 8 vs autodiff on the trained contractive encoder"]) {
      const r = tableRows(table(title));
      expect(r.length).toBeGreaterThanOrEqual(2);
      for (const cells of r) expect(Number(cells[3])).toBeLessThan(1e-4);
    }
    expect(run.stdout).toMatch(/minimum KL 0\.0e\+0 at ρ̂ = 0\.2;/);
  });

  it("reproduces the paper's shapes and its 2,561 parameters", () => {
    expect(tableRows(table("The paper's one-layer models")).map((r) => r[3])).toEqual(["28×28×16", "14×14×16", "26×26×16", "13×13×16"]);
    const conv = tableRows(table("The 2,561-parameter convolutional denoising autoencoder"));
    expect(conv[conv.length - 1]).toEqual(["total", "—", "—", "2561", "2561"]);
    for (const r of conv.slice(0, -1)) expect(r[1]).toBe(r[2]);
  });

  it("compares a nonlinear AE with PCA at every code size, over seeds, with a computed verdict", () => {
    expect(run.stdout).toMatch(/claims fixed: test MSE: AE − PCA, 95 % CI below 0, at k = 2, 16/);
    const r = tableRows(table("Nonlinear AE vs PCA"));
    expect(r.map((cells) => cells[2])).toEqual(["test MSE: AE − PCA, k = 2", "test MSE: AE − PCA, k = 16"]);
    for (const cells of r) {
      expect(cells[4]).toMatch(/^[+−]?[0-9.]+ ± [0-9.]+ \(95 % CI, n = 2, paired\)$/);
      expect(["holds", "does not hold", "within noise"]).toContain(cells[5]);
    }
  });

  it("chooses each penalty's weight by the rule fixed before the sweep: the largest within 1.5 × plain's test MSE", () => {
    const sweep = tableRows(table("Weight sweep"));
    expect(sweep).toHaveLength(16);
    const chosen = new Map<string, number>();
    for (const kind of ["l1", "kl", "denoising", "contractive"]) {
      const own = sweep.filter((c) => c[0] === kind);
      expect(own).toHaveLength(4);
      const within = own.filter((c) => Number(c[2]) <= 1.5).map((c) => Number(c[1]));
      const expected = within.length > 0 ? Math.max(...within) : Math.min(...own.map((c) => Number(c[1])));
      expect(own.filter((c) => c[7] === "←").map((c) => Number(c[1]))).toEqual([expected]);
      chosen.set(kind, expected);
    }
    expect(run.stdout).toContain(`chosen: L1 λ = ${chosen.get("l1")}, KL β = ${chosen.get("kl")}, denoising σ = ${chosen.get("denoising")}, contractive λ = ${chosen.get("contractive")}`);
  });

  it("prints the five-way comparison as mean ± interval over seeds, verdicts for every pre-registered claim", () => {
    const r = tableRows(table("Five regularisers, one autoencoder"));
    expect(r.map((cells) => cells[0])).toEqual(["plain", "l1", "kl", "denoising", "contractive"]);
    for (const cells of r) {
      expect(cells).toHaveLength(7);
      for (const cell of cells.slice(1)) expect(cell).toMatch(/^[0-9.]+ ± [0-9.]+$/);
    }
    const verdicts = tableRows(table("Five regularisers: verdicts"));
    expect(verdicts).toHaveLength(15);
    for (const cells of verdicts) expect(["holds", "does not hold", "within noise"]).toContain(cells[5]);
    expect(run.stdout).toMatch(/reference: linear probe on raw pixels 0\.[0-9]+ ± [0-9.]+ \(95 % CI, n = 2\)/);
  });

  it("tries both losses on the conv DAE over seeds, then trains it and scores it at four noise levels", () => {
    const losses = tableRows(table("Conv DAE trained with BCE or MSE as the loss"));
    expect(losses.map((cells) => cells[0])).toEqual(["0", "1", "mean ± 95 % CI"]);
    expect(tableRows(table("The loss of the conv DAE: verdict"))[0][5]).toMatch(/^(holds|does not hold|within noise)$/);
    const conv = tableRows(table("Convolutional DAE (trained at σ = 0.2)"));
    expect(conv.map((cells) => Number(cells[0]))).toEqual([0.1, 0.2, 0.3, 0.5]);
    expect(conv.map((cells) => cells[1])).toEqual(["exploratory", "the paper's σ", "exploratory", "exploratory"]);
    for (const cells of conv) for (const cell of cells.slice(2)) expect(Number.isFinite(Number(cell))).toBe(true);
    expect(run.stdout).toMatch(/2 epochs; training BCE [0-9.]+, MSE [0-9.]+; relative BCE gain over the last 10 epochs: n\/a/);
  });

  it("collects every comparison over seeds in one table whose count of holding claims is computed", () => {
    const all = run.markdown.find((md) => md.startsWith("**Every comparison over seeds (quick mode)"));
    expect(all).toBeDefined();
    const r = tableRows(all!);
    const holding = r.filter((cells) => cells[5] === "holds").length;
    expect(all!).toContain(`: ${holding} of ${r.length} hold`);
    expect(r.length).toBeGreaterThanOrEqual(18);
  });

  it("checks the score-matching result on a Gaussian mixture: Tweedie exact, the error of order σ², the Jacobians three ways", () => {
    expect(Number(run.stdout.match(/max \|∇log p \(17\) − tf\.grad log p\| = ([0-9.e+-]+)/)![1])).toBeLessThan(1e-4);
    const optimal = tableRows(table("The optimal denoiser r* = E[x | x̃]"));
    expect(optimal.map((c) => Number(c[0]))).toEqual([0.4, 0.2, 0.1, 0.05, 0.025]);
    for (const c of optimal) expect(Number(c[1])).toBeLessThan(1e-4);
    const rms = optimal.map((c) => Number(c[2]));
    for (let i = 1; i < rms.length; i++) expect(rms[i]).toBeLessThan(rms[i - 1]);
    const orders = [...run.stdout.matchAll(/→0\.[0-9]+: ([0-9.]+)/g)].map((m) => Number(m[1]));
    expect(orders).toHaveLength(4);
    expect(orders[3]).toBeGreaterThan(1.8);
    expect(orders[3]).toBeLessThan(2.2);
    for (const c of tableRows(table("Encoder Jacobian at 8 points of the circle"))) {
      expect(Number(c[2])).toBeLessThan(1e-4);
      expect(Number(c[3])).toBeLessThan(1e-5);
    }
    expect(tableRows(table("Flattening (Figure 9): claims fixed before the seeds ran")).length).toBe(4);
  });

  it("sends plots as Plotly JSON + PNG + text/plain and image grids as PNG, never text/html", () => {
    const plots = run.outputs.filter((o) => o.output_type === "display_data" && PLOTLY_MIME in (o.data as object));
    expect(plots.length).toBe(16);
    const expected = (findChromium() || process.env.CI ? [PLOTLY_MIME, "image/png", "text/plain"] : [PLOTLY_MIME, "text/plain"]).sort();
    for (const p of plots) expect(Object.keys(p.data as object).sort()).toEqual(expected);
    expect(run.plainText).toMatch(/Line plot 'Figure 5 redrawn: KL sparsity penalty for ρ = 0\.2'/);
    expect(run.plainText).toMatch(/Vector field 'Reconstruction field r\(x\) − x around a circle/);
    const grids = run.outputs.filter((o) => joinText((o.data as Record<string, unknown> | undefined)?.["text/plain"]).startsWith("Image grid"));
    expect(grids).toHaveLength(4);
    for (const g of grids) expect(Object.keys(g.data as object).sort()).toEqual(["image/png", "text/plain"]);
    for (const o of run.outputs) expect(Object.keys((o.data as object) ?? {})).not.toContain("text/html");
  });

  it("frees every tensor it made", () => {
    expect(run.stdout).toMatch(/tensors left: 0 · wall time \d/); // run.finish() throws on any leak
  });
});
