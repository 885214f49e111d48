/**
 * Paper 2's notebook (the autoencoder learning-process demo) in quick mode on the real
 * tslab kernel: its checks pass, its figures are Plotly + PNG (the codes as an animation
 * with a slider), and the paper-vs-ours table is printed with numbers.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { findChromium, PLOTLY_MIME } from "../lib/runner/plot-png";
import { joinText, QuickRun, runQuick } from "./helpers/notebooks";

let run: QuickRun;

beforeAll(async () => {
  run = await runQuick("notebooks/2-autoencoder-learning-process-demo.ipynb");
}, 300_000);

const markdownTables = () => run.markdown;

describe("2-autoencoder-learning-process-demo (quick mode, real kernel)", () => {
  it("runs every code cell once, in order, in quick mode, and names its backend", () => {
    expect(run.result.ok).toBe(true);
    expect(run.codeCells.map((c) => c.execution_count)).toEqual(run.codeCells.map((_, i) => i + 1));
    expect(run.stdout).toMatch(/^mode: quick · seed: 0 · backend: (wasm|tensorflow|cpu) \(/m);
    expect(run.stdout).toMatch(/layers 4-6-2-5-4 · tanh · adam η = 0\.005 · batch 32 · at most \d+ epochs · ε = 0\.005/);
  });

  it("validates the form, naming every problem", () => {
    expect(run.stdout).toMatch(/invalid demo config:\n {2}- layers: the code layer \(layer 2\) must have exactly 2 units, got 3\n {2}- optimizer must be one of/);
    expect(run.stdout).toMatch(/batchSize must be a positive integer, got 0/);
  });

  it("passes its derivation checks and prints their errors", () => {
    expect(run.stdout).toMatch(/400 points in R\^4, 4 clusters; divided by [0-9.]+ so that max \|x\| = 1\n/);
    expect(run.stdout).toMatch(/RMSE \(3\) [0-9.]+ = √\(MSS\/4\) ✓/);
    expect(run.stdout).toMatch(/max \|closed-form σ′ − tf\.grad\| on \[−5, 5\]: \{ identity: [0-9.e-]+, sigmoid: [0-9.e-]+, tanh: [0-9.e-]+ \}/);
    expect(run.stdout).toMatch(/max \|\(B1\)–\(B4\) − tf\.variableGrads\| over all W, b: \{ mean: [0-9.e-]+, program: [0-9.e-]+ \}/);
    expect(run.stdout).toMatch(/PCA limit \(linear 2-D code\): 0\.\d{5} = measured projection error 0\.\d{5}/);
    expect(run.stdout).toMatch(/sigmoid \+ adam: loss \/ floor \d\.\d{3}–\d\.\d{3} \(above the bound on all 5 seeds\); the floor ranges 0\.\d{4}–0\.\d{4} with the data/);
    const optimizers = markdownTables().find((t) => t.includes("max \\|Δθ\\| after 20 steps"));
    expect(optimizers).toBeDefined();
    expect(optimizers!.match(/equal \(< 1e-6, float32\)/g)).toHaveLength(4);
    expect(optimizers!.match(/different forms/g)).toHaveLength(3);
  });

  it("trains through trainModel with one progress output per run", () => {
    const done = run.plainText.split("\n").filter((l) => / · done: \d+ epochs in /.test(l));
    expect(done.length).toBe(8); // the main run and seven sweeps
    expect(run.stdout).toMatch(/\d+ epochs \(\d+ steps\) in [0-9.]+ s on (wasm|cpu|tensorflow), [0-9.]+ ms per step/);
    expect(run.stdout).toMatch(/7 sweeps × 5 seeds in \d+ s/);
  });

  it("shows Plotly + PNG figures, never text/html, the codes as a slider animation", () => {
    const plots = run.outputs.filter((o) => o.output_type === "display_data" && PLOTLY_MIME in (o.data as object));
    expect(plots.length).toBe(7);
    const expected = (findChromium() || process.env.CI ? [PLOTLY_MIME, "image/png", "text/plain"] : [PLOTLY_MIME, "text/plain"]).sort();
    for (const p of plots) expect(Object.keys(p.data as object).sort()).toEqual(expected);
    for (const o of run.outputs) expect(Object.keys((o.data as object) ?? {})).not.toContain("text/html");
    const animation = plots.map((p) => (p.data as Record<string, { frames?: Array<{ layout?: { title?: { text?: string } } }>; layout: { sliders?: unknown[] } }>)[PLOTLY_MIME])
      .find((f) => Array.isArray(f.frames));
    expect(animation!.frames!.length).toBeGreaterThan(10);
    expect(animation!.layout.sliders).toHaveLength(1);
    expect(animation!.frames![animation!.frames!.length - 1].layout!.title!.text).toMatch(/^epoch \d+ · loss 0\.\d{4} · phase [1-4]$/);
  });

  it("prints the phases, the sweep summary and the paper-vs-ours table with numbers", () => {
    const tables = markdownTables();
    expect(tables.some((t) => /\| 1 \| 1–\d+ \| 0\.\d{4} \| unfolding/.test(t))).toBe(true);
    expect(tables.some((t) => /\| identity \+ adam \| \d \| .* \| 0\.\d{4} \| 0\.\d{4} \| 0\.\d{4} \|/.test(t))).toBe(true);
    const whatRan = tables.find((t) => t.includes("**What ran (quick mode)**"));
    expect(whatRan).toMatch(/\| time: section 8: one network, tanh \+ Adam \| [\d.]+ (s|min) \(\d+ %\) \|/);
    expect(whatRan).toMatch(/\| time: section 9: seed sweep \| [\d.]+ (s|min) \(\d+ %\) \|/);
    expect(run.stdout).toMatch(/tanh \+ SGD, η = 0\.005, after \d+ epochs: median loss 0\.\d{4} with the program.s summed weight gradients, 0\.\d{4} with mean gradients/);
  });

  it("fixes every claim's reading in a cell before any training", () => {
    const cells = run.codeCells.map((c) => joinText(c.source));
    const rules = cells.findIndex((c) => /ae\.preregister\(/.test(c));
    const firstTraining = cells.findIndex((c) => /ae\.(demo\.)?train\w*\(|ae\.(demo\.)?replicateDemoEnsemble\(/.test(c));
    expect(rules).toBeGreaterThan(0);
    expect(rules).toBeLessThan(firstTraining);
    expect(markdownTables().some((t) => t.includes("Claims and rules, fixed before any run"))).toBe(true);
  });

  // Quick mode (5 seeds, 80 epochs) is deterministic given its seeds: these are the verdicts it reaches.
  it("judges each claim over the seeds with the verdict quick mode reaches, numbers only from the run", () => {
    const paper = markdownTables().find((t) => t.includes("| claim | paper | measured | rule | ours | verdict |"));
    expect(paper).toBeDefined();
    expect(paper!).not.toMatch(/epochs ≈|0\.03–0\.07|≈ 0\.07/);
    const row = (claim: string) => paper!.split("\n").find((l) => l.startsWith(`| ${claim} |`))?.split(" | ").map((c) => c.replace(/^\| | \|$/g, ""));
    const expected: Array<[string, string, string, boolean]> = [
      ["Momentum reaches a lower loss than SGD", "paper §2.4, §2.4.1", "within noise", true],
      ["RMSProp reaches a lower loss than SGD", "paper §2.4, §2.4.2", "holds", true],
      ["Adam reaches a lower loss than SGD", "paper §2.4, §2.4.3", "holds", true],
      ["a non-linear activation learns what the identity cannot", "paper §2.3", "does not hold", true],
      ["several phases of learning can be told apart", "paper §5", "does not hold", false],
      ["a linear network stops at the PCA limit", "— (ours: Eckart–Young)", "holds", false],
      ["sigmoid cannot go below its output floor", "— (ours: closed-form bound)", "holds", false],
    ];
    for (const [claim, source, verdict, paired] of expected) {
      const cells = row(claim);
      expect(cells, claim).toBeDefined();
      expect(cells![1]).toBe(source);
      expect(cells![4]).toMatch(new RegExp(`^[−+]?\\d+\\.\\d+ ± \\d+\\.\\d+ \\(95 % CI, n = 5${paired ? ", paired" : ""}\\)$`));
      expect(cells![5]).toBe(verdict);
    }
    expect(run.stdout).toMatch(/mode quick: 5 seeds × at most 80 epochs per configuration; verdicts: within noise · holds · holds · does not hold · does not hold · holds · holds\n/);
  });

  it("frees its tensors (2 left: the scalar tf.train.momentum keeps after dispose, twice)", () => {
    expect(run.stdout).toMatch(/tensors left: 2 · wall time \d/); // the 2 allowed in run.finish(), with their reason
    const whatRan = markdownTables().find((t) => t.includes("**What ran (quick mode)**"));
    expect(whatRan).toContain("| sweepSeeds | 5 |");
    expect(whatRan).toMatch(/\| wall time in all \| [\d.]+ (s|min) \|/);
  });
});
