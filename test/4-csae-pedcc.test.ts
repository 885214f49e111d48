/**
 * Notebook 4 (CSAE + PEDCC) in quick mode on the real tslab kernel: its checks pass, its
 * tables carry numbers, its plots are Plotly + PNG (never HTML), and the Fashion-MNIST rows
 * say how to get the data instead of failing when the package is not installed.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { datasetAvailable } from "../lib/data/mnist";
import { findChromium, PLOTLY_MIME } from "../lib/runner/plot-png";
import { joinText, QuickRun, runQuick } from "./helpers/notebooks";

let run: QuickRun;
const markdownTables = (): string[] => run.markdown;
const table = (title: string): string => {
  const found = markdownTables().find((t) => t.includes(title));
  if (!found) throw new Error(`no table titled ${title}`);
  return found;
};

beforeAll(async () => {
  run = await runQuick("notebooks/4-csae-pedcc.ipynb");
}, 300_000);

describe("notebook 4-csae-pedcc (quick mode, real kernel)", () => {
  it("runs every code cell once, in order, in quick mode, naming its backend", () => {
    expect(run.result.ok).toBe(true);
    expect(run.codeCells.map((c) => c.execution_count)).toEqual(run.codeCells.map((_, i) => i + 1));
    expect(run.stdout).toMatch(/^mode: quick · seed: 0 · backend: (wasm|tensorflow|cpu) \(/m);
  });

  it("passes its numerical checks: simplex, losses vs closed forms, training-only noise, evenness vs a plain autoencoder", () => {
    expect(run.stdout).toMatch(/✓ regular simplex: cosines in \[-0\.111\d\d, -0\.111\d\d\]/);
    expect(run.stdout).toMatch(/✓ losses \(6\)–\(9\) and their gradients match the closed forms/);
    expect(run.stdout).toMatch(/✓ no noise at test time; in training std 0\.2[45]\d\d vs αβ = √40·0\.04 = 0\.2530/);
    expect(run.stdout).toMatch(/✓ spread \(max − min\)\/mean: CSAE-L [0-9.]+ vs plain AE [0-9.]+/);
    expect(table("Thomson")).toMatch(/\| 20 \| 150\.88\d+ \| 150\.881568 \|/);
  });

  it("classifies by the nearest centroid with Euclidean and cosine agreeing on every test code", () => {
    const accuracy = table("CSAE-L test accuracy");
    const rows = accuracy.split("\n").filter((l) => l.startsWith("| CSAE-L β="));
    expect(rows).toHaveLength(5);
    for (const row of rows) {
      const [, , euclidean, cosine, agreement] = row.split("|").map((c) => c.trim());
      expect(Number(euclidean)).toBeGreaterThan(0.5);
      expect(cosine).toBe(euclidean);
      expect(Number(agreement)).toBeGreaterThanOrEqual(0.999);
    }
  });

  it("prints the paper-vs-ours table with our numbers next to the paper's, and Table 5", () => {
    const paper = table("Paper 4 vs this notebook");
    expect(paper).toMatch(/\| MNIST CSAE-L accuracy, β = 0\.04 \| 0\.9795 \| 0\.\d{4} \|/);
    expect(paper).toMatch(/\| MNIST CSAE-C accuracy, β = 0\.04 \| 0\.9932 \| 0\.\d{4} \|/);
    expect(paper).toMatch(/\| MNIST CSAE-C encoder only \| 0\.9930 \| 0\.\d{4} \|/);
    expect(paper).toMatch(/\| class-centre distance spread .* \| 0\.0073 \| \d+\.\d{4} \|/);
    expect(table("Table 5")).toMatch(/\| with Laplacian loss( \| \d+\.\d{4}){7} \|/);
    expect(table("Table 5")).toMatch(/ours: CSAE-C, β = 0\.04/);
    expect(run.stdout).toMatch(/→ ours: test Loss1 (higher|lower|equal), Loss2 (higher|lower|equal), Loss3 (higher|lower|equal), accuracy (higher|lower|equal)/);
  });

  it("marks the Fashion-MNIST rows 'not run' with the install command when the package is missing", () => {
    const paper = table("Paper 4 vs this notebook");
    const fashionRows = paper.split("\n").filter((l) => l.startsWith("| Fashion-MNIST"));
    expect(fashionRows).toHaveLength(4);
    if (!datasetAvailable("fashion")) {
      for (const row of fashionRows) expect(row).toMatch(/not run \(Fashion-MNIST not installed: sudo apt-get install dataset-fashion-mnist\)/);
      expect(run.stdout).toMatch(/Fashion-MNIST not installed: sudo apt-get install dataset-fashion-mnist/);
    } else {
      for (const row of fashionRows) expect(row).toMatch(/\| 0\.\d{4} \| 0\.\d{4} \|/);
    }
  });

  it("sends plots as Plotly JSON + PNG + text/plain (never text/html): energy, Figure 2 in 3-D, distance matrices, losses, latent space", () => {
    const plots = run.outputs.filter((o) => o.output_type === "display_data" && PLOTLY_MIME in (o.data as object));
    const expected = findChromium() || process.env.CI ? [PLOTLY_MIME, "image/png", "text/plain"].sort() : [PLOTLY_MIME, "text/plain"].sort();
    for (const p of plots) expect(Object.keys(p.data as object).sort()).toEqual(expected);
    const text = plots.map((p) => joinText((p.data as Record<string, unknown>)["text/plain"]));
    expect(text.filter((t) => t.startsWith("3-D scatter plot"))).toHaveLength(5);
    expect(text.filter((t) => /^3-D scatter plot '(2|4|10|20) points on the sphere'/.test(t))).toHaveLength(4);
    expect(text.filter((t) => t.startsWith("Heatmap"))).toHaveLength(2);
    expect(text.some((t) => t.startsWith("Line plot 'PEDCC"))).toBe(true);
    expect(text.some((t) => /Figure 10/.test(t))).toBe(true);
    for (const o of run.outputs) expect(Object.keys((o.data as object) ?? {})).not.toContain("text/html");
  });

  it("shows reconstructions and 10 × 10 generated grids as PNG images, and frees its tensors", () => {
    const grids = run.outputs.filter((o) => joinText((o.data as Record<string, unknown> | undefined)?.["text/plain"]).startsWith("Image grid"));
    for (const g of grids) expect(Object.keys(g.data as object).sort()).toEqual(["image/png", "text/plain"]);
    const descriptions = grids.map((g) => joinText((g.data as Record<string, unknown>)["text/plain"]));
    expect(descriptions.filter((d) => /10 samples per class': 10 rows, 100 images/.test(d))).toHaveLength(6);
    expect(descriptions.some((d) => /reconstructions \(Figure 4\)': 6 rows, 60 images of 28×28/.test(d))).toBe(true);
    expect(run.stdout).toMatch(/tensors left: 0 · wall time \d/); // run.finish() throws on any leak
  });
});
