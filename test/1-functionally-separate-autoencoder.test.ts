/**
 * Paper 1's notebook in quick mode on the real tslab kernel: every check it makes passes, the
 * variants are trained and shown as image grids, plots are Plotly + PNG (never HTML), and the
 * paper-vs-ours table is printed with numbers.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { findChromium, PLOTLY_MIME } from "../lib/runner/plot-png";
import { joinText, QuickRun, runQuick } from "./helpers/notebooks";

let run: QuickRun;

beforeAll(async () => {
  run = await runQuick("notebooks/1-functionally-separate-autoencoder.ipynb");
}, 300_000);

const markdownOutputs = () => run.markdown;

describe("1-functionally-separate-autoencoder notebook (quick mode, real kernel)", () => {
  it("runs every code cell in order in quick mode and names its backend", () => {
    expect(run.result.ok).toBe(true);
    expect(run.codeCells.map((c) => c.execution_count)).toEqual(run.codeCells.map((_, i) => i + 1));
    expect(run.stdout).toMatch(/^mode: quick · seed: 0 · backend: (wasm|tensorflow|cpu) \(/m);
  });

  it("prints every numerical check as passed", () => {
    for (const check of [
      /dense inverse: exact when widening, least-squares \(right inverse\) when narrowing ✓/,
      /logit ✓ \(tolerance 1e-4 on \|x\| ≤ 5; ∞ beyond x ≈ 17\.3\), leaky ReLU ✓ \(1e-5\), ReLU not invertible ✓/,
      /eq\. \(3\): ln\(y\/\(1−y\)\) \+ ln Σ_\{j≠i\} e\^\{x_j\} rebuilds x to [0-9.e+-]+ ✓/,
      /at p = 0\.9: largest → 0\.9\d+, others 0\.0111 → 0\.0\d+ ✓/,
      /transposed conv = adjoint ✓, M⁺ inverts the valid conv ✓, two different 2×2 windows both max-pool to 1 \(not invertible\) ✓/,
      /test accuracy \d+\.\d\d% on 1000 test images .*; > 0\.85 ✓; frozen/,
      /one inverse layer per abstract stage, output 28×28×1 = input shape ✓/,
      /cosine similarity of the ten representatives to the class means of the training images: 0\.\d{3} > 0\.9 ✓/,
    ]) expect(run.stdout).toMatch(check);
  });

  it("fixes every claim's reading in a cell before any training, feedback at κ = 1 and 4 passes", () => {
    const cells = run.codeCells.map((c) => joinText(c.source));
    const rules = cells.findIndex((c) => /ae\.preregister\(/.test(c));
    const firstTraining = cells.findIndex((c) => /ae\.trainModel\(|ae\.(fsae\.)?trainConcreteNetwork\(/.test(c));
    expect(rules).toBeGreaterThan(0);
    expect(rules).toBeLessThan(firstTraining);
    expect(cells[rules]).toMatch(/const feedbackReading = \{ gain: 1, passes: 4 \}/);
    const table = markdownOutputs().find((m) => m.includes("Claims and rules, fixed before any result"));
    expect(table).toMatch(/\| negative feedback with the jump connection raises the similarity further \| paper, Fig\. 2\(d\) paragraph \| cosine, pass 4 − pass 1 \(κ = 1\), jump network \(c\) \| 95 % CI above 0 \|/);
  });

  it("trains and measures three seeds in quick mode", () => {
    const table = markdownOutputs().find((m) => m.includes("Per seed: test accuracy"));
    expect(table).toBeDefined();
    const rows = table!.split("\n").filter((l) => /^\| (\d|mean)/.test(l));
    expect(rows.map((r) => r.split(" | ")[0])).toEqual(["| 0", "| 1", "| 2", "| mean ± 95 % CI"]);
    expect(run.plainText.split("\n").filter((l) => /^\(c\) jump, seed \d · done/.test(l))).toHaveLength(2);
  });

  // Quick mode (1,500 / 600 training images, 1,000 / 100 test images, one epoch, seeds 0–2) is deterministic given its seeds: these are the verdicts it reaches.
  it("judges each claim over seeds with the verdict quick mode reaches, crediting the paper only with its own claims", () => {
    const table = markdownOutputs().find((m) => m.includes("**Paper vs ours**"));
    expect(table).toBeDefined();
    const row = (claim: string) => table!.split("\n").find((l) => l.startsWith(`| ${claim} |`))?.split(" | ").map((c) => c.replace(/^\| | \|$/g, ""));
    const interval = (paired: boolean) => new RegExp(`^[−+]?\\d\\.\\d+ ± \\d\\.\\d+ \\(95 % CI, n = 3${paired ? ", paired" : ""}\\)$`);
    const expected: Array<[string, string, string, boolean]> = [
      ["the abstract network's test accuracy is 98.3–99 %", "paper, experiment paragraph", "does not hold", false],
      ["a jump connection makes the output more similar to the input", "paper, Fig. 2(c) paragraph", "within noise", true],
      ["negative feedback with the jump connection raises the similarity further", "paper, Fig. 2(d) paragraph", "within noise", true],
      ["negative feedback does not help without a jump connection", "paper, Fig. 2(d) paragraph", "holds", true],
      ["feedback with the gentler gain κ = 0.25 raises the similarity of (c)", "— (exploratory: not credited to the paper)", "within noise", true],
    ];
    for (const [claim, paper, verdict, paired] of expected) {
      const cells = row(claim);
      expect(cells, claim).toBeDefined();
      expect(cells![1]).toBe(paper);
      expect(cells![4]).toMatch(interval(paired));
      expect(cells![5]).toBe(verdict);
    }
    expect(row("the round function gives each class one representative, its mean")![5]).toBe("holds (one seed: a check)");
    expect(row("(d') a loop trained into (c) makes pass 2 beat pass 1")![1]).toBe("— (exploratory: not credited to the paper)");
    expect(run.stdout).toMatch(/exploratory, κ = 0\.25: [−+]?\d\.\d+ ± \d\.\d+ \(95 % CI, n = 3, paired\) → within noise/);
  });

  it("shows the Figure-2-style grids, the class representatives and the feedback passes as PNG image grids", () => {
    const grids = run.outputs.filter((o) => joinText((o.data as Record<string, unknown> | undefined)?.["text/plain"]).startsWith("Image grid"));
    const titles = grids.map((g) => joinText((g.data as Record<string, unknown>)["text/plain"]));
    for (const expected of ["(a) plain", "(a) from one-hot labels", "(b) round", "(b) representatives", "(c) jump connection", "(d) jump connection + negative feedback", "(d') loop-trained jump network"]) {
      expect(titles.some((t) => t.includes(expected))).toBe(true);
    }
    for (const g of grids) expect(Object.keys(g.data as object).sort()).toEqual(["image/png", "text/plain"]);
  });

  it("sends its plots as Plotly JSON + PNG + text/plain, never text/html", () => {
    const plots = run.outputs.filter((o) => o.output_type === "display_data" && PLOTLY_MIME in (o.data as object));
    expect(plots.length).toBe(5); // softmax-inverse figure, feedback MSE, feedback gains, two training-curve plots
    const expected = findChromium() || process.env.CI ? [PLOTLY_MIME, "image/png", "text/plain"] : [PLOTLY_MIME, "text/plain"];
    for (const p of plots) expect(Object.keys(p.data as object).sort()).toEqual(expected.sort());
    for (const o of run.outputs) expect(Object.keys((o.data as object) ?? {})).not.toContain("text/html");
    expect(run.plainText).toMatch(/Softmax inverse approximation, eq\. \(4\)/);
  });

  it("frees everything it made", () => {
    expect(run.stdout).toMatch(/tensors left: 0 · wall time \d/); // run.finish() throws on any leak
    const whatRan = run.outputs.map((o) => joinText((o.data as Record<string, unknown> | undefined)?.["text/markdown"])).find((t) => t.includes("**What ran (quick mode)**"));
    expect(whatRan).toContain("| seeds | 3 |");
    expect(whatRan).toMatch(/\| time: section 4: every comparison over seeds \| [\d.]+ (s|min) \(\d+ %\) \|/);
    expect(whatRan).toMatch(/\| wall time in all \| [\d.]+ (s|min) \|/);
  });
});
