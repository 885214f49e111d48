/**
 * Every committed notebook keeps the project's skeleton and carries a clean full run:
 * title and subtitle, one setup call, the paper-vs-ours table before the summary and the
 * exercises, short cells, every code cell executed once in order in full mode, no errors,
 * plots as Plotly JSON + PNG + text/plain and never text/html. (Each notebook's own test
 * runs it in quick mode; this one reads the committed files only, so it is fast.)
 */
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { CodeCell, Notebook, readNotebook } from "../lib/runner/notebook";
import { joinText, ROOT } from "./helpers/notebooks";

const NOTEBOOK_DIR = path.join(ROOT, "notebooks");
const PLOTLY = "application/vnd.plotly.v1+json";

/** The notebooks in notebooks/, sorted by name. */
function notebookFiles(): string[] {
  if (!fs.existsSync(NOTEBOOK_DIR)) return [];
  return fs.readdirSync(NOTEBOOK_DIR).filter((f) => f.endsWith(".ipynb")).sort();
}

function source(cell: { source: unknown }): string {
  return joinText(cell.source);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Position (cell index + line / 1000) of the first markdown heading matching `pattern`, or -1. */
function headingIndex(notebook: Notebook, pattern: RegExp): number {
  for (const [i, cell] of notebook.cells.entries()) {
    if (cell.cell_type !== "markdown") continue;
    const line = source(cell).split("\n").findIndex((l) => /^#{1,4} /.test(l) && pattern.test(l));
    if (line >= 0) return i + line / 1000;
  }
  return -1;
}

const files = notebookFiles();

describe("committed notebooks", () => {
  it("the five papers each have a notebook named after the paper", () => {
    const papers = ["1-functionally-separate-autoencoder", "2-autoencoder-learning-process-demo", "3-regularized-autoencoders-survey", "4-csae-pedcc", "5-autoencoders-lecture-slides"];
    expect(files).toEqual(papers.map((p) => `${p}.ipynb`));
  });

  for (const file of files) {
    describe(file, () => {
      const notebook = readNotebook(path.join(NOTEBOOK_DIR, file));
      const codeCells = notebook.cells.filter((c): c is CodeCell => c.cell_type === "code");
      const outputs = codeCells.flatMap((c) => c.outputs);

      it("runs on our kernel", () => {
        expect((notebook.metadata as { kernelspec?: { name?: string } }).kernelspec?.name).toBe("autoencoder-notebooks");
      });

      it("opens with a title and a subtitle naming the paper", () => {
        const first = notebook.cells[0];
        expect(first.cell_type).toBe("markdown");
        const lines = source(first).split("\n").filter((l) => l.trim() !== "");
        expect(lines[0]).toMatch(/^# \S/);
        expect(lines.length).toBeGreaterThan(1);
      });

      it("has one setup call, before any training", () => {
        const setupCells = codeCells.map((c, i) => ({ i, text: source(c) })).filter((c) => /\bae\.setup\(/.test(c.text));
        expect(setupCells).toHaveLength(1);
        const firstTraining = codeCells.findIndex((c) => /\btrainModel\(|\bae\.train/.test(source(c)));
        if (firstTraining >= 0) expect(setupCells[0].i).toBeLessThan(firstTraining);
      });

      it("ends with paper vs ours, then a summary, then exercises", () => {
        const table = headingIndex(notebook, /paper vs\.? ours/i);
        const summary = headingIndex(notebook, /summary/i);
        const exercises = headingIndex(notebook, /exercises/i);
        expect(table, "a 'Paper vs ours' heading").toBeGreaterThan(0);
        expect(summary, "a 'Summary' heading after it").toBeGreaterThan(table);
        expect(exercises, "an 'Exercises' heading after that").toBeGreaterThan(summary);
      });

      // The guide asks for a median of about 6 lines and at most about 20; this guards against drift.
      it("keeps cells short (median ≤ 9 lines, none over 22)", () => {
        const lengths = codeCells.map((c) => source(c).replace(/\n+$/, "").split("\n").length);
        expect(median(lengths)).toBeLessThanOrEqual(9);
        const long = codeCells.map((c, i) => ({ i, n: lengths[i] })).filter((c) => c.n > 22);
        expect(long, `code cells over 22 lines: ${long.map((c) => `#${c.i} (${c.n})`).join(", ")}`).toEqual([]);
      });

      it("carries a clean full run: every code cell executed once, in order, in full mode, with no errors", () => {
        expect(codeCells.map((c) => c.execution_count)).toEqual(codeCells.map((_, i) => i + 1));
        expect(outputs.filter((o) => o.output_type === "error")).toEqual([]);
        const stdout = outputs.filter((o) => o.output_type === "stream" && o.name === "stdout").map((o) => joinText(o.text)).join("");
        expect(stdout).toMatch(/^mode: full · seed: \d+ · backend: /m);
      });

      it("shows plots as Plotly JSON + PNG + text/plain and nothing as text/html", () => {
        const rich = outputs.filter((o) => o.output_type === "display_data" || o.output_type === "execute_result");
        for (const o of rich) expect(Object.keys((o.data as object) ?? {})).not.toContain("text/html");
        const plots = rich.filter((o) => PLOTLY in ((o.data as object) ?? {}));
        expect(plots.length).toBeGreaterThan(0);
        for (const plot of plots) expect(Object.keys(plot.data as object).sort()).toEqual([PLOTLY, "image/png", "text/plain"].sort());
      });

      it("prints its paper-vs-ours table from the run", () => {
        const tableAt = headingIndex(notebook, /paper vs\.? ours/i);
        const after = notebook.cells.slice(Math.floor(tableAt)).filter((c): c is CodeCell => c.cell_type === "code").flatMap((c) => c.outputs);
        const tables = after.filter((o) => o.output_type === "display_data" && /^\|.*\|\s*$/m.test(joinText((o.data as Record<string, unknown>)["text/markdown"])));
        expect(tables.length).toBeGreaterThan(0);
      });
    });
  }
});
