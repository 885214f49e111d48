/**
 * Notebook 4 (CSAE + PEDCC) in quick mode on the real tslab kernel, every model trained afresh
 * (AE_FRESH=1): its checks pass, every model goes through the cache, its tables and claims carry
 * numbers and verdicts, its plots are Plotly + PNG (never HTML), its figures have the rows the
 * paper's figures have, and the Fashion-MNIST rows say how to get the data when it is missing.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { datasetAvailable } from "../lib/data/mnist";
import { findChromium, PLOTLY_MIME } from "../lib/runner/plot-png";
import { joinText, QuickRun, runQuick } from "./helpers/notebooks";

let run: QuickRun;
const table = (title: string): string => {
  const found = run.markdown.find((t) => t.includes(title));
  if (!found) throw new Error(`no table titled ${title}`);
  return found;
};
const rowsOf = (title: string, start: string): string[][] =>
  table(title).split("\n").filter((l) => l.startsWith(`| ${start}`)).map((l) => l.split("|").slice(1, -1).map((c) => c.trim()));
const fashion = datasetAvailable("fashion");
const VERDICT = /^(holds|does not hold|within noise)$/;
const INTERVAL = (n: number) => new RegExp(`^[+−-]?\\d\\.\\d{4} ± \\d\\.\\d{4} \\(95 % CI, n = ${n}(, paired)?\\)$`);

beforeAll(async () => {
  run = await runQuick("notebooks/4-csae-pedcc.ipynb", { env: { AE_FRESH: "1" } });
}, 400_000);

describe("notebook 4-csae-pedcc (quick mode, real kernel)", () => {
  it("runs every code cell once, in order, in quick mode, naming its backend", () => {
    expect(run.result.ok).toBe(true);
    expect(run.codeCells.map((c) => c.execution_count)).toEqual(run.codeCells.map((_, i) => i + 1));
    expect(run.stdout).toMatch(/^mode: quick · seed: 0 · backend: (wasm|tensorflow|cpu) \(/m);
  });

  it("passes its numerical checks: simplex, losses vs closed forms, training-only noise, the CVAE's KL, evenness vs a plain autoencoder", () => {
    expect(run.stdout).toMatch(/✓ regular simplex: cosines in \[-0\.111\d\d, -0\.111\d\d\]/);
    expect(run.stdout).toMatch(/✓ losses \(6\)–\(9\) and their gradients match the closed forms/);
    expect(run.stdout).toMatch(/✓ no noise at test time; in training std 0\.2[45]\d\d vs αβ = √40·0\.04 = 0\.2530/);
    expect(run.stdout).toMatch(/✓ KL \(14\) in closed form \d+\.\d{4} vs Monte Carlo over 20,000 samples \d+\.\d{4}/);
    expect(run.stdout).toMatch(/✓ spread \(max − min\)\/mean: CSAE-L [0-9.]+ vs plain AE [0-9.]+/);
    expect(table("Thomson")).toMatch(/\| 20 \| 150\.88\d+ \| 150\.881568 \|/);
  });

  it("trains every model through the cache (fresh run: each says 'trained now'), none twice", () => {
    const trained = [...run.stdout.matchAll(/^(\S+): trained now in \d+\.\d min$/gm)].map((m) => m[1]);
    const expected = [
      "csae-l-beta0.02", "csae-l-beta0.04", "csae-l-beta0.06", "csae-l-beta0.1", "cvae-seed0", "cvae-seed1", "cvae-elbo-seed0", "csae-l-beta0.04-seed1",
      "csae-c-beta0.02", "csae-c-beta0.04", "csae-c-beta0.06", "csae-c-beta0.1",
      "csae-c-beta0.04-noloss3-seed0", "encoder-mnist-32-seed0", "basenet-mnist-32-seed0",
      "csae-c-beta0.04-seed1", "csae-c-beta0.04-noloss3-seed1", "encoder-mnist-32-seed1", "basenet-mnist-32-seed1", "plain-ae",
      "csae-l-0to7-beta0-seed0", "csae-l-0to7-beta0.1-seed0", "cvae-0to7-seed0", "csae-l-0to7-beta0-seed1", "csae-l-0to7-beta0.1-seed1", "cvae-0to7-seed1",
      ...(fashion ? ["fashion-csae-l-beta0.04", "fashion-csae-c-beta0.04", "encoder-fashion-32-seed0", "basenet-fashion-32-seed0", "fashion-cvae-seed0"] : []),
    ];
    expect(trained).toEqual(expected);
    expect(run.stdout).not.toMatch(/: loaded: trained on/);
  });

  it("prints Table 3's columns by epoch, and the seed tables with mean ± 95 % CI", () => {
    for (const [title, model] of [["Table 3, first column", "CSAE-L"], ["Table 3, second column", "CSAE-C"]]) {
      const rows = rowsOf(title, `${model} β=`);
      expect(rows.map((r) => r[0])).toEqual(["0.02", "0.04", "0.06", "0.1"].map((b) => `${model} β=${b}`));
      for (const r of rows) {
        expect(r).toHaveLength(3); // model, epoch 1, epoch 2 (quick: one checkpoint and the end)
        for (const v of r.slice(1)) expect(Number(v)).toBeGreaterThanOrEqual(0);
      }
    }
    expect(table("Table 3, first column")).toMatch(/\| model \| epoch 1 \| epoch 2 \|/);
    for (const r of rowsOf("Table 3, first column", "CSAE-L β=")) expect(Number(r[2])).toBeGreaterThan(0.5);
    const seeds = rowsOf("MNIST test accuracy over 2 seeds", "");
    expect(seeds.map((r) => r[0])).toEqual(["seed", ":---", "0", "1", "mean ± 95 % CI"]);
    for (const cell of seeds[4].slice(1)) expect(cell).toMatch(/^0\.\d{4} ± \d\.\d{4}$/);
  });

  it("judges the paper's comparisons on paired intervals over seeds, with a computed verdict for each", () => {
    const claims = rowsOf("the paper's claims, judged on paired differences over seeds", "the ");
    const csae = rowsOf("the paper's claims, judged on paired differences over seeds", "CSAE-C beats basenet");
    expect([...claims, ...csae].map((r) => r[0])).toEqual([
      "the Laplacian loss raises CSAE-C's accuracy", "the encoder trained towards PEDCC centroids beats basenet", "the decoder helps: CSAE-C beats its encoder alone", "CSAE-C beats basenet"]);
    const samples = rowsOf("the paper's claims about the CVAE", "");
    const extrapolation = rowsOf("§4.4's claims", "");
    for (const r of [...claims, ...csae, ...samples.slice(2), ...extrapolation.slice(2)]) {
      expect(r[3]).toBe("95 % CI above 0");
      expect(r[4]).toMatch(INTERVAL(2));
      expect(r[5]).toMatch(VERDICT);
    }
    expect(samples.slice(2).map((r) => r[1])).toEqual(["paper §4.1, Figure 4", "paper §4.2, Figure 6", "— (ours (the paper shows pictures only))"]);
    expect(extrapolation.slice(2)).toHaveLength(2);
    expect(table("The paper's comparisons, over 2 seeds")).toMatch(/\| verdict \|/);
    expect(run.stdout).toMatch(/→ ours: test Loss1 (higher|lower|within noise), Loss2 (higher|lower|within noise), Loss3 (higher|lower|within noise), accuracy (holds|does not hold|within noise)/);
  });

  it("measures the CVAE against CSAE-L (MSE, sharpness, a fixed judge's accuracy) and the extrapolation stand-in", () => {
    const quality = rowsOf("CVAE vs CSAE-L β=0.04, both after 1 epochs", "");
    expect(quality[0]).toEqual(["seed", "MSE CVAE", "MSE CSAE-L", "sharpness CVAE", "sharpness CSAE-L", "recognised CVAE", "recognised CSAE-L"]);
    for (const r of quality.slice(2, 4)) for (const v of r.slice(1)) expect(Number(v)).toBeGreaterThanOrEqual(0);
    expect(run.stdout).toMatch(/^CVAE \(15\) seed 0, epoch 1 → 1: cross-entropy \d+\.\d{3} → \d+\.\d{3}, KL \d+\.\d{3} → \d+\.\d{3} nats per image$/m);
    expect(run.stdout).toMatch(/judge \(basenet, seed 0\) on real test digits: \d\.\d{4}; sharpness of real test digits: \d\.\d{4}/);
    const exploratory = rowsOf("Exploratory (not credited to the paper)", "C");
    expect(exploratory.map((r) => r[0])).toEqual(["CVAE on the plain ELBO (13)", "CVAE, authors' weighting (15)", "CSAE-L β=0.04"]);
    for (const r of exploratory) for (const v of r.slice(1)) expect(v).toMatch(/^\d\.\d{4}$/);
    const mse = rowsOf("Reconstruction error of models trained on digits 0–7", "");
    expect(mse.slice(2).map((r) => r[0])).toEqual(["seen digits", "unseen digits", ...(fashion ? ["Fashion-MNIST"] : [])]);
    for (const r of mse.slice(2)) for (const v of r.slice(1)) expect(v).toMatch(INTERVAL(2));
  });

  it("prints the paper-vs-ours table: Table 3 both columns, the baselines over seeds, Figure 9's spread, Table 4", () => {
    const paper = table("Paper 4 vs this notebook");
    for (const [b, p] of [["0.02", "0.9786"], ["0.04", "0.9795"], ["0.06", "0.9797"], ["0.1", "0.9774"]]) {
      expect(paper).toMatch(new RegExp(`\\| MNIST CSAE-L accuracy, β = ${b} \\| ${p} \\| 0\\.\\d{4} \\| [+−]0\\.\\d{4}`));
    }
    for (const [b, p] of [["0.02", "0.9932"], ["0.04", "0.9932"], ["0.06", "0.9938"], ["0.1", "0.9935"]]) {
      expect(paper).toMatch(new RegExp(`\\| MNIST CSAE-C accuracy, β = ${b} \\| ${p} \\| 0\\.\\d{4} \\|`));
    }
    expect(paper).toMatch(/\| MNIST CSAE-C encoder only \| 0\.9930 \| 0\.\d{4} ± \d\.\d{4} \(95 % CI, n = 2\) \|/);
    expect(paper).toMatch(/\| MNIST basenet \| 0\.9925 \| 0\.\d{4} ± \d\.\d{4} \(95 % CI, n = 2\) \|/);
    expect(paper).toMatch(/\| class-centre distance spread \(max−min\)\/mean, CSAE-L β = 0\.04 \| 0\.0073 \| \d+\.\d{4} \| noise floor \d\.\d{4} \| training codes, 2 decimals/);
    const fashionRows = paper.split("\n").filter((l) => l.startsWith("| Fashion-MNIST"));
    expect(fashionRows).toHaveLength(4);
    for (const row of fashionRows) {
      expect(row).toMatch(fashion ? /\| 0\.\d{4} \| 0\.\d{4} \| [+−]0\.\d{4}/ : /not run \(Fashion-MNIST not installed: sudo apt-get install dataset-fashion-mnist\)/);
    }
    const models = "(CSAE-L|CSAE-C|encoder|basenet)";
    expect(run.stdout).toMatch(new RegExp(`^Table 4 ranking, paper: encoder > basenet > CSAE-C > CSAE-L; ours: ${fashion ? `${models}( > ${models}){3}` : "not run"}$`, "m"));
    expect(run.stdout).toMatch(/largest seed-to-seed range of one model on MNIST \(§8\): \d\.\d{4}$/m);
    expect(table("Figure 9: spread")).toMatch(/\| CSAE-L β=0\.04, 1000 training images \| \d\.\d{4} \| \d\.\d{4} \[\d\.\d{4}, \d\.\d{4}\] \| \d\.\d{4} \[/);
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
    expect(text.some((t) => /^Line plot 'CSAE-L β=0\.04: Loss1, Loss2, Loss3 \(Figure 10\)': 3 series × 2 points/.test(t))).toBe(true);
    for (const o of run.outputs) expect(Object.keys((o.data as object) ?? {})).not.toContain("text/html");
  });

  it("shows Figures 4–8 and 11 as PNG image grids with a row per model and stage, and frees its tensors", () => {
    const grids = run.outputs.filter((o) => joinText((o.data as Record<string, unknown> | undefined)?.["text/plain"]).startsWith("Image grid"));
    for (const g of grids) expect(Object.keys(g.data as object).sort()).toEqual(["image/png", "text/plain"]);
    const d = grids.map((g) => joinText((g.data as Record<string, unknown>)["text/plain"]));
    // Figure 4: input, CVAE after 1 epoch, 4 β × 2 stages of CSAE-L, input 32×32, CSAE-C.
    expect(d).toContainEqual(expect.stringMatching(/^Image grid 'Figure 4: reconstructions of MNIST test digits': 12 rows, 120 images/));
    expect(d).toContainEqual(expect.stringMatching(/^Image grid 'Figure 6: generated digits, two per class \(CVAE and CSAE-L\)': 9 rows, 180 images of 28×28/));
    expect(d).toContainEqual(expect.stringMatching(/^Image grid 'Figure 7: generated digits, two per class \(CSAE-C\)': 8 rows, 160 images of 32×32/));
    expect(d.filter((t) => /^Image grid 'Figure 11 stand-in: .*': 4 rows, 40 images of 28×28/.test(t))).toHaveLength(fashion ? 2 : 1);
    if (fashion) {
      expect(d).toContainEqual(expect.stringMatching(/^Image grid 'Figure 5: reconstructions of Fashion-MNIST test images, one per class': 5 rows, 50 images/));
      expect(d).toContainEqual(expect.stringMatching(/^Image grid 'Figure 8: generated Fashion-MNIST images, two per class': 3 rows, 60 images/));
    }
    expect(run.stdout).toMatch(/tensors left: 0 · wall time \d/); // run.finish() throws on any leak
  });
});
