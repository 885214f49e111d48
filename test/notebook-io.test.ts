import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ensureKernelMetadata,
  NotebookError,
  parseNotebook,
  readNotebook,
  serializeNotebook,
  splitLines,
  writeNotebook,
} from "../lib/runner/notebook";
import { applyControlCharacters, CellOutputs, DisplayRegistry } from "../lib/runner/outputs";
import { JupyterMessage } from "../lib/runner/protocol";

const FIXTURES = path.join(__dirname, "fixtures");
let tmp: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "notebook-io-"));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A notebook as Jupyter would write it, with a missing id and string (unsplit) sources. */
function sampleNotebookText(): string {
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 4,
    metadata: { custom: { keep: true } },
    cells: [
      { cell_type: "markdown", id: "md-1", metadata: { tags: ["a"] }, source: "# Title\n\nText" },
      {
        cell_type: "code",
        metadata: { collapsed: false },
        source: ["const x = 1;\n", "x"],
        execution_count: 3,
        outputs: [
          { output_type: "stream", name: "stdout", text: ["1\n", "2\n"] },
          {
            output_type: "display_data",
            data: { "text/plain": ["a\n", "b"], "application/vnd.plotly.v1+json": { data: [], layout: {} }, "image/png": "iVBORw0K" },
            metadata: {},
          },
        ],
      },
      { cell_type: "raw", id: "raw", metadata: {}, source: "" },
    ],
  });
}

/** Write `text` to a fresh file in the temp dir and return its path. */
function tempFile(name: string, text: string): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, text);
  return file;
}

describe("splitLines (Python's splitlines(keepends=True))", () => {
  it("keeps line ends and drops no text", () => {
    expect(splitLines("a\nb\r\nc\rd")).toEqual(["a\n", "b\r\n", "c\r", "d"]);
    expect(splitLines("a\n")).toEqual(["a\n"]);
    expect(splitLines("")).toEqual([]);
    expect(splitLines("x\u2028y").join("")).toBe("x\u2028y");
  });
});

describe("parse and serialize", () => {
  it("joins multi-line fields, generates missing ids and upgrades to nbformat 4.5", () => {
    const nb = parseNotebook(sampleNotebookText(), "sample.ipynb");
    expect(nb.nbformat_minor).toBe(5);
    expect(nb.cells[0].id).toBe("md-1");
    expect(nb.cells[1].id).toMatch(/^[0-9a-f]{8}$/);
    expect(nb.cells[1].source).toBe("const x = 1;\nx");
    const code = nb.cells[1];
    if (code.cell_type !== "code") throw new Error("expected a code cell");
    expect(code.outputs[0].text).toBe("1\n2\n");
    expect((code.outputs[1].data as Record<string, unknown>)["text/plain"]).toBe("a\nb");
    expect(nb.metadata.custom).toEqual({ keep: true });
    expect(nb.cells[0].metadata).toEqual({ tags: ["a"] });
  });

  it("writes like Jupyter: sorted keys, indent 1, lists of lines, JSON MIME data untouched, trailing newline", () => {
    const text = serializeNotebook(parseNotebook(sampleNotebookText(), "sample.ipynb"));
    expect(text.endsWith("}\n")).toBe(true);
    expect(text.startsWith('{\n "cells": [\n  {\n   "cell_type": "markdown",\n   "id": "md-1",')).toBe(true);
    const disk = JSON.parse(text);
    expect(Object.keys(disk)).toEqual(["cells", "metadata", "nbformat", "nbformat_minor"]);
    expect(disk.cells[1].source).toEqual(["const x = 1;\n", "x"]);
    expect(disk.cells[1].outputs[0].text).toEqual(["1\n", "2\n"]);
    expect(disk.cells[1].outputs[1].data["text/plain"]).toEqual(["a\n", "b"]);
    expect(disk.cells[1].outputs[1].data["image/png"]).toBe("iVBORw0K");
    expect(disk.cells[1].outputs[1].data["application/vnd.plotly.v1+json"]).toEqual({ data: [], layout: {} });
    expect(disk.cells[2].source).toEqual([]);
  });

  it("round-trips stably: read → write → read → write gives the same bytes and keeps ids", () => {
    const first = serializeNotebook(parseNotebook(sampleNotebookText(), "a.ipynb"));
    const second = serializeNotebook(parseNotebook(first, "b.ipynb"));
    expect(second).toBe(first);
    for (const name of ["runner-ok.ipynb", "runner-fail.ipynb", "runner-plotly.ipynb", "runner-timeout.ipynb"]) {
      const text = fs.readFileSync(path.join(FIXTURES, name), "utf8");
      const nb = parseNotebook(text, name);
      const ids = JSON.parse(text).cells.map((cell: { id?: string }) => cell.id).filter(Boolean);
      expect(nb.cells.map((cell) => cell.id)).toEqual(expect.arrayContaining(ids));
      // Fixtures with every id present are already in canonical form.
      if (ids.length === nb.cells.length) expect(serializeNotebook(nb)).toBe(text);
    }
  });

  it("never generates an id that a later cell already has", () => {
    const text = JSON.stringify({
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {},
      cells: [{ cell_type: "code", source: "", metadata: {}, outputs: [], execution_count: null }, { cell_type: "markdown", id: "later", source: "", metadata: {} }],
    });
    const nb = parseNotebook(text, "x.ipynb");
    expect(new Set(nb.cells.map((c) => c.id)).size).toBe(2);
  });

  it("drops transient display ids when writing", () => {
    const nb = parseNotebook(sampleNotebookText(), "s.ipynb");
    const code = nb.cells[1];
    if (code.cell_type !== "code") throw new Error("expected a code cell");
    code.outputs[1].transient = { display_id: "abc" };
    expect(serializeNotebook(nb)).not.toContain("transient");
  });

  it("fills the project's kernelspec and language_info only where missing", () => {
    const nb = parseNotebook(sampleNotebookText(), "s.ipynb");
    ensureKernelMetadata(nb);
    expect(nb.metadata.kernelspec).toEqual({ name: "autoencoder-notebooks", display_name: "TypeScript (autoencoder-notebooks)", language: "typescript" });
    expect((nb.metadata.language_info as { name: string }).name).toBe("typescript");
    nb.metadata.kernelspec = { name: "other", display_name: "Other", language: "typescript" };
    ensureKernelMetadata(nb);
    expect((nb.metadata.kernelspec as { name: string }).name).toBe("other");
  });
});

describe("atomic write", () => {
  it("writes through a temp file in the same folder and leaves no temp file behind", () => {
    const file = path.join(tmp, "sub", "written.ipynb");
    writeNotebook(file, parseNotebook(sampleNotebookText(), "s.ipynb"));
    expect(readNotebook(file).cells).toHaveLength(3);
    expect(fs.readdirSync(path.dirname(file))).toEqual(["written.ipynb"]);
  });

  it("leaves the old file intact when the write fails", () => {
    const file = tempFile("keep.ipynb", "old content");
    const nb = parseNotebook(sampleNotebookText(), "s.ipynb");
    (nb.metadata as Record<string, unknown>).bad = { toJSON: () => { throw new Error("cannot serialise"); } };
    expect(() => writeNotebook(file, nb)).toThrow(/cannot serialise/);
    expect(fs.readFileSync(file, "utf8")).toBe("old content");
    expect(fs.readdirSync(tmp).filter((name) => name.includes(".tmp"))).toEqual([]);
  });
});

describe("malformed notebooks get a clear error naming the file, and the file is untouched", () => {
  const cases: Array<[string, string, RegExp]> = [
    ["bad-json", '{"nbformat": 4, "cells": [', /not valid JSON/],
    ["not-object", "[1, 2]", /top level must be a JSON object/],
    ["nbformat-3", JSON.stringify({ nbformat: 3, nbformat_minor: 0, metadata: {}, worksheets: [] }), /nbformat must be 4, got 3/],
    ["no-cells", JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {} }), /cells must be a list, got nothing/],
    ["no-cell-type", JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ source: "x", metadata: {} }] }), /cell 0 has cell_type undefined/],
    ["no-source", JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: "code", metadata: {}, outputs: [] }] }), /cell 0\.source must be a string or a list of strings, got nothing/],
    [
      "bad-output",
      JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: "code", source: "", metadata: {}, outputs: [{ output_type: "html" }] }] }),
      /cell 0 output 0 has output_type "html"/,
    ],
    [
      "duplicate-id",
      JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: "raw", id: "a", source: "", metadata: {} }, { cell_type: "raw", id: "a", source: "", metadata: {} }] }),
      /cell 1\.id "a" is used by an earlier cell/,
    ],
    [
      "bad-count",
      JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: "code", source: "", metadata: {}, outputs: [], execution_count: "3" }] }),
      /execution_count must be an integer or null/,
    ],
  ];

  for (const [name, text, problem] of cases) {
    it(name, () => {
      const file = tempFile(`${name}.ipynb`, text);
      const before = fs.readFileSync(file);
      let error: unknown;
      try {
        readNotebook(file);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(NotebookError);
      expect((error as Error).message).toContain(file);
      expect((error as Error).message).toMatch(problem);
      expect(fs.readFileSync(file).equals(before)).toBe(true);
    });
  }

  it("a missing file says so", () => {
    const file = path.join(tmp, "does-not-exist.ipynb");
    expect(() => readNotebook(file)).toThrow(`${file}: no such file`);
    expect(fs.existsSync(file)).toBe(false);
  });
});

/** A fake iopub message. */
function iopub(msgType: string, content: Record<string, unknown>): JupyterMessage {
  return {
    header: { msg_id: "m", msg_type: msgType, session: "s", username: "u", date: new Date().toISOString(), version: "5.3" },
    parent_header: {},
    metadata: {},
    content,
    buffers: [],
  };
}

describe("iopub messages become nbformat outputs", () => {
  it("merges consecutive stream chunks of one name and applies \\r and \\b", () => {
    const cell = new CellOutputs(new DisplayRegistry());
    cell.handle(iopub("stream", { name: "stdout", text: "50%\r" }));
    cell.handle(iopub("stream", { name: "stdout", text: "100%\n" }));
    cell.handle(iopub("stream", { name: "stderr", text: "warn\n" }));
    cell.handle(iopub("stream", { name: "stdout", text: "abc\b\bX\n" }));
    expect(cell.finalOutputs()).toEqual([
      { output_type: "stream", name: "stdout", text: "100%\n" },
      { output_type: "stream", name: "stderr", text: "warn\n" },
      { output_type: "stream", name: "stdout", text: "aX\n" },
    ]);
    expect(cell.stderr).toBe("warn\n");
    expect(applyControlCharacters("12345\rab\n")).toBe("ab345\n");
  });

  it("update_display_data replaces the bundle of the output with that display_id, also in an earlier cell", () => {
    const registry = new DisplayRegistry();
    const first = new CellOutputs(registry);
    first.handle(iopub("display_data", { data: { "text/plain": "step 0" }, metadata: {}, transient: { display_id: "p" } }));
    const second = new CellOutputs(registry);
    second.handle(iopub("update_display_data", { data: { "text/plain": "step 9", "text/markdown": "**9**" }, metadata: { x: 1 }, transient: { display_id: "p" } }));
    second.handle(iopub("update_display_data", { data: { "text/plain": "ignored" }, metadata: {}, transient: { display_id: "unknown" } }));
    expect(first.outputs).toEqual([{ output_type: "display_data", data: { "text/plain": "step 9", "text/markdown": "**9**" }, metadata: { x: 1 } }]);
    expect(second.outputs).toEqual([]);
  });

  it("maps execute_result, error and clear_output(wait)", () => {
    const cell = new CellOutputs(new DisplayRegistry());
    cell.handle(iopub("execute_result", { data: { "text/plain": "42" }, metadata: {}, execution_count: 3 }));
    cell.handle(iopub("clear_output", { wait: true }));
    expect(cell.outputs).toHaveLength(1);
    cell.handle(iopub("error", { ename: "TypeError", evalue: "x is undefined", traceback: ["line 1"] }));
    expect(cell.outputs).toEqual([{ output_type: "error", ename: "TypeError", evalue: "x is undefined", traceback: ["line 1"] }]);
  });
});
