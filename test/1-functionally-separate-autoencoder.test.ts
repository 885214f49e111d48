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
      /test accuracy \d+\.\d\d% on 2000 test images .*; frozen/,
      /one inverse layer per abstract stage, output 28×28×1 = input shape ✓/,
      /cosine similarity of the ten representatives to the class means of the training images: 0\.\d{3} ✓/,
    ]) expect(run.stdout).toMatch(check);
  });

  it("shows the paper-vs-ours table with a number for every variant", () => {
    const table = markdownOutputs().find((m) => m.includes("Paper vs ours"));
    expect(table).toBeDefined();
    expect(table).toMatch(/\| abstract network test accuracy \| 98\.3–99% \| \d+\.\d\d% \| (yes|no \(below\)) \|/);
    for (const variant of ["\\(a\\) plain", "\\(b\\) round", "\\(c\\) jump", "\\(d\\) jump \\+ feedback"]) {
      expect(table).toMatch(new RegExp(`\\| ${variant}: test MSE / MAE / cosine \\| not run \\(pictures only \\(Fig\\. 2\\)\\) \\| 0\\.\\d{4} / 0\\.\\d{4} / 0\\.\\d{3} \\|`));
    }
    expect(table).toMatch(/\| jump raises cosine similarity over plain \| yes \| 0\.\d{3} → 0\.\d{3} \| (yes|no) \|/);
    expect(table).toMatch(/\| feedback raises it further \| yes \| 0\.\d{3} → 0\.\d{3} \| (yes|no) \|/);
    for (const pass of [1, 2]) {
      expect(table).toMatch(new RegExp(`\\| \\(d'\\) loop-trained, pass ${pass}: test MSE / MAE / cosine \\| not run \\(not in the paper\\) \\| 0\\.\\d{4} / 0\\.\\d{4} / 0\\.\\d{3} \\|`));
    }
    expect(table).toMatch(/\| loop-trained: pass 2 raises cosine over pass 1 \| yes \(feedback helps\) \| 0\.\d{3} → 0\.\d{3} \| (yes|no) \|/);
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
    expect(run.stdout).toMatch(/tensors left: 0\n/);
  });
});
