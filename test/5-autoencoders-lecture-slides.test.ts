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
    expect(run.stdout).toMatch(/trainImages=2000 · testImages=500/);
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
    expect(plots).toHaveLength(7); // linear AE vs PCA, principal angles, trade-off, accuracy bars, 2-D embedding, PSNR vs σ, stack accuracy bars
    const expected = findChromium() || process.env.CI ? [PLOTLY_MIME, "image/png", "text/plain"] : [PLOTLY_MIME, "text/plain"];
    for (const p of plots) expect(Object.keys(p.data as object).sort()).toEqual(expected.sort());
    expect(run.plainText).toMatch(/2-D scatter plot 'The 500 test digits by their 2-value code': 500 points in 10 classes/);
    const grids = run.outputs.filter((o) => joinText((o.data as Record<string, unknown> | undefined)?.["text/plain"]).startsWith("Image grid"));
    expect(grids.length).toBe(8); // … and the BN autoencoders' and the denoiser's reconstructions
    for (const g of grids) expect(Object.keys(g.data as object).sort()).toEqual(["image/png", "text/plain"]);
    for (const o of run.outputs) expect(Object.keys((o.data as object) ?? {})).not.toContain("text/html");
  });

  it("checks batch normalisation (12′, 13), the noisy input's PSNR (14) and the softmax-regression gradient (15)", () => {
    const bn = run.stdout.match(/eq\. \(12′\): channel means = β within (\S+), variances = γ²σ²\/\(σ² \+ ε\) within (\S+)/);
    expect(bn).not.toBeNull();
    expect(Number(bn![1])).toBeLessThan(1e-4);
    expect(Number(bn![2])).toBeLessThan(1e-3);
    const bias = run.stdout.match(/eq\. \(13\): ∂L\/∂b before BN by tf\.grad (\S+), against (\S+) for a bias added after it/);
    expect(Number(bias![1])).toBeLessThan(1e-4 * Number(bias![2]));
    const psnrLine = run.stdout.match(/eq\. \(14\), noisy test digits, PSNR in dB \(closed form \/ unclipped \/ clipped\): (.*)/)![1];
    const rows = [...psnrLine.matchAll(/σ ([\d.]+): ([\d.]+) \/ ([\d.]+) \/ ([\d.]+)/g)].map((m) => m.slice(1).map(Number));
    expect(rows.map((r) => r[0])).toEqual([0.1, 0.25, 0.5, 0.75]);
    for (const [sigma, closed, unclipped, clipped] of rows) {
      expect(closed).toBeCloseTo(-20 * Math.log10(sigma), 2);
      expect(Math.abs(unclipped - closed)).toBeLessThanOrEqual(0.05);
      expect(clipped).toBeGreaterThan(unclipped);
    }
    const softmax = run.stdout.match(/eq\. \(15\) vs tf\.grad: max \|difference\| (\S+) \(W\), (\S+) \(b\)/);
    expect(Number(softmax![1])).toBeLessThan(1e-6);
    expect(Number(softmax![2])).toBeLessThan(1e-6);
    expect(run.stdout).toMatch(/checked: before training, the CNN from the stack computes the stack's top features \(max \|difference\| 0\.0e\+0\)/);
  });

  it("trains the BN conv autoencoder with each inverse of pooling, and the denoiser, over 2 seeds", () => {
    const bn = table("BN conv autoencoders: test MSE per seed (1 epochs on 300 images)");
    for (const seed of ["0", "1"]) expect(bn).toMatch(new RegExp(`\\| ${seed} \\| 0\\.\\d{5} \\| 0\\.\\d{5} \\| 0\\.\\d{5} \\|`));
    expect(bn).toMatch(/\| mean ± 95 % CI \| 0\.\d{5} ± 0\.\d{5} \|/);
    const verdicts = table("Inverses of pooling inside the BN autoencoder: verdicts");
    expect(verdicts).toMatch(/\| test MSE: switches − even \| 95 % CI below 0 \| [−+]?0\.\d{5} ± 0\.\d{5} \(95 % CI, n = 2, paired\) \| (holds|does not hold|within noise) \|/);
    const psnr = table("PSNR against the clean test digits; the denoiser was trained at σ = 0.5 only");
    const noisy = ["0.10", "0.25", "0.50", "0.75"].map((s) => Number(psnr.match(new RegExp(`\\| ${s} \\| ([\\d.]+) \\| \\d+\\.\\d\\d ± \\d+\\.\\d\\d \\(95 % CI, n = 2\\) \\|`))![1]));
    for (let i = 1; i < 4; i++) expect(noisy[i]).toBeLessThan(noisy[i - 1]); // more noise, lower PSNR
    expect(noisy[2]).toBeGreaterThan(-20 * Math.log10(0.5)); // clipped noise beats the closed form (14)
    expect(table("The conv denoiser: verdict")).toMatch(/paper: the slides' noisy-MNIST example .* \| (holds|does not hold|within noise) \|/);
    expect(run.stdout).toMatch(/seed 1: PSNR at σ = 0\.5: noisy \d+\.\d\d dB → denoised \d+\.\d\d dB/);
  });

  it("compares stack features with pixels and a stack-initialised CNN with a random one, for 100, 600 and 1000 labels", () => {
    const acc = table("Test accuracy, mean ± 95 % CI over 2 seeds");
    const cell = "(0\\.\\d{4}) ± 0\\.\\d{4} \\(95 % CI, n = 2\\)";
    for (const [n, epochs] of [[100, 3], [600, 1], [1000, 1]]) {
      const m = acc.match(new RegExp(`\\| ${n} \\| ${cell} \\| ${cell} \\| ${cell} \\| ${cell} \\| ${epochs} \\|`));
      expect(m, `row for ${n} labels`).not.toBeNull();
      // Softmax regression on pixels or on the stack's features is far above chance even in quick mode.
      expect(Number(m![1])).toBeGreaterThan(0.6);
      expect(Number(m![2])).toBeGreaterThan(0.6);
    }
    const verdicts = table("Features for a classifier, and a CNN's first weights: verdicts");
    expect(verdicts.split("\n").filter((l) => /^\| a /.test(l))).toHaveLength(6);
  });

  it("repeats tied vs untied and the pre-training gain over seeds, reusing sections 3 and 6 for their seed", () => {
    const tiedTable = table("Tied vs untied 784-64-784, 2 epochs on 2000 images, per seed");
    const single = table("Tied vs untied, 784-64-784");
    const singleTest = [...single.matchAll(/\| (?:tied, W′ = Wᵀ|untied) \| \d+ \| (0\.\d{5}) \|/g)].map((m) => m[1]);
    const seed1 = tiedTable.match(/\| 1 \| (0\.\d{5}) \| (0\.\d{5}) \| (0\.\d{5}) \| (0\.\d{5}) \| (\S+) \| (\S+) \|/)!.slice(1);
    expect(seed1.slice(0, 2)).toEqual(singleTest); // seed 1 is section 3's pair
    expect(Number(seed1[4].replace("−", "-"))).toBeCloseTo(Number(seed1[0]) - Number(seed1[2]), 4); // gap = test − train
    expect(table("Tied vs untied: verdicts")).toMatch(/\| \(test − training MSE\): tied − untied \| 95 % CI below 0 \|/);
    expect(run.stdout).toMatch(/reading \(rule fixed before the run\): (tying regularises|tying fits better in the same epochs|no consistent advantage)/);
    const single6 = table("Pre-training vs random initialisation");
    const few = single6.match(/\| pre-trained \| 100 \| 20 \| (0\.\d{4}) \|/)![1];
    expect(table("Stacked DAE 784-500-500-10: test accuracy per seed")).toMatch(new RegExp(`\\| 0 \\| ${few} \\| 0\\.\\d{4} \\| 0\\.\\d{4} \\| 0\\.\\d{4} \\|`));
    const claims = table("Pre-registered claims over seeds (quick mode)").split("\n").filter((l) => /^\| (?!claim|:)/.test(l));
    expect(claims).toHaveLength(15);
    for (const row of claims) expect(row).toMatch(/\| (holds|does not hold|within noise) \|$/);
    expect(claims.filter((row) => /^\| [^|]+\| paper: /.test(row))).toHaveLength(3); // pre-training twice, the denoiser
    expect(run.stdout).toMatch(/verdicts: ((holds|does not hold|within noise)( · )?){15}; tied vs untied read as: /);
  });

  it("records per-image training costs in the what-ran table", () => {
    const whatRan = table("What ran (quick mode)");
    expect(whatRan).toMatch(/\| BN conv AE, ms per image-epoch \| random \d+\.\d\d, even \d+\.\d\d, switches \d+\.\d\d \|/);
    expect(whatRan).toMatch(/\| conv denoiser, ms per image-epoch \| \d+\.\d\d \|/);
    expect(whatRan).toMatch(/\| CNN training, ms per image-epoch \| 100 labels \d+\.\d\d, 600 labels \d+\.\d\d, 1000 labels \d+\.\d\d \|/);
  });

  it("frees every tensor it made", () => {
    expect(run.stdout).toMatch(/tensors left: 0 · wall time \d/); // run.finish() throws on any leak
  });
});
