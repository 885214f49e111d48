/**
 * A user's own notebook, saved in a folder outside the repository, imports the library by
 * its package name and runs through the headless runner; a failing cell is reported with
 * notebook, cell, line and the Jupyter error output the patched tslab sends. Run with png: false,
 * its figure goes out as Plotly JSON + text, and the kernel starts no chromium of its own.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireLibBuild } from "./helpers/build";
import { CodeCell, Notebook, readNotebook, writeNotebook } from "../lib/runner/notebook";
import { PLOTLY_MIME } from "../lib/runner/plot-png";
import { formatFailure } from "../lib/runner/report";
import { NotebookResult, runNotebook } from "../lib/runner/runner";

let dir: string;
let result: NotebookResult;
let saved: Notebook;

/** A code cell with an id. */
function code(id: string, source: string): CodeCell {
  return { cell_type: "code", id, source, metadata: {}, outputs: [], execution_count: null };
}

beforeAll(async () => {
  await requireLibBuild(); // the kernel imports the compiled library
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "my-own-notebooks-"));
  const file = path.join(dir, "my.ipynb");
  writeNotebook(file, {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [
      code("setup", 'import * as tf from "@tensorflow/tfjs";\nimport * as ae from "autoencoder-notebooks";\nconst run = await ae.setup({ seed: 1 });'),
      code("use", "const total = tf.tidy(() => tf.ones([3]).sum().dataSync()[0]);\nconsole.log(`mode ${run.mode}, total ${total}`);\nae.showFigure(ae.linePlot({ loss: [3, 2, 1] }, { title: \"no PNG asked for\" }));"),
      code("fail", "function check(n: number): number {\n  if (n > 2) throw new RangeError(`n too big: ${n}`);\n  return n;\n}\ncheck(total);"),
      code("never", 'console.log("not reached");'),
    ],
  });
  result = await runNotebook(file, { mode: "quick", png: false, cellTimeoutMs: 120_000 });
  saved = readNotebook(file);
}, 180_000);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("a notebook in a folder outside the repository", () => {
  it("imports the library by its package name and runs its cells", () => {
    expect(result.cells.map((c) => c.status)).toEqual(["ok", "ok", "error"]);
    const use = saved.cells[1] as CodeCell;
    expect(use.outputs.filter((o) => o.name === "stdout")).toEqual([{ output_type: "stream", name: "stdout", text: "mode quick, total 3\n" }]);
  });

  it("with png: false the kernel sends its figure without a PNG and without a warning (it starts no chromium)", () => {
    const figures = (saved.cells[1] as CodeCell).outputs.filter((o) => o.output_type === "display_data");
    expect(figures).toHaveLength(1);
    expect(Object.keys(figures[0].data as object).sort()).toEqual([PLOTLY_MIME, "text/plain"]);
    expect((saved.cells[1] as CodeCell).outputs.filter((o) => o.name === "stderr")).toEqual([]);
  });

  it("a failing cell is saved as a Jupyter error output and reported with notebook, cell and line", () => {
    const fail = saved.cells[2] as CodeCell;
    expect(fail.outputs).toHaveLength(1);
    expect(fail.outputs[0]).toMatchObject({ output_type: "error", ename: "RangeError", evalue: "n too big: 3" });
    expect(result.failure).toMatchObject({
      kind: "cell-error",
      cellIndex: 2,
      message: "RangeError: n too big: 3",
      location: { line: 2, text: "  if (n > 2) throw new RangeError(`n too big: ${n}`);" },
    });
    const report = formatFailure(result);
    expect(report).toContain(`✗ ${path.join(dir, "my.ipynb")}`);
    expect(report).toContain("failed at cell index 2 (code cell 3 of 4): cell-error");
    expect(report).toContain("at line 2 of the cell:");
    expect(report).toContain("    at check (cell line 2)");
    expect((saved.cells[3] as CodeCell).execution_count).toBeNull();
  });
});
