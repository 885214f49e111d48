/** Unit tests of the runner's pure parts: wire protocol, error explanation, notebook selection, CLI args, reports; and its lib/dist build. */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildLib } from "../lib/runner/build";
import { kernelEnv, parseCliArgs } from "../lib/runner/cli";
import { explainCellError } from "../lib/runner/errors";
import { KERNEL_NAME, kernelArgv, projectRoot } from "../lib/runner/kernel-command";
import { ephemeralPortRange, freePorts, writeConnectionFile } from "../lib/runner/kernel";
import { figureSize } from "../lib/runner/plot-png";
import { decodeMessage, encodeMessage, newRequest, ProtocolError } from "../lib/runner/protocol";
import { formatFailure, formatSummary } from "../lib/runner/report";
import { defaultOutPath, NotebookResult, summarize, wantsTsService } from "../lib/runner/runner";
import { startTsService, TS_SERVICE_ENV, tsServiceStats } from "../lib/runner/ts-service";
import { selectNotebooks } from "../lib/runner/select";

describe("wire protocol", () => {
  const key = "0123456789abcdef";

  it("encodes and decodes a signed message", () => {
    const message = newRequest("execute_request", { code: "1 + 1" }, "session-1");
    const frames = encodeMessage(message, key);
    expect(frames[0].toString()).toBe("<IDS|MSG>");
    expect(frames[1].toString()).toMatch(/^[0-9a-f]{64}$/);
    const decoded = decodeMessage([Buffer.from("router-identity"), ...frames], key);
    expect(decoded.header.msg_type).toBe("execute_request");
    expect(decoded.header.msg_id).toBe(message.header.msg_id);
    expect(decoded.content).toEqual({ code: "1 + 1" });
  });

  it("rejects a tampered message and a wrong key", () => {
    const frames = encodeMessage(newRequest("kernel_info_request", {}, "s"), key);
    const tampered = [...frames];
    tampered[5] = Buffer.from(JSON.stringify({ code: "evil()" }));
    expect(() => decodeMessage(tampered, key)).toThrow(ProtocolError);
    expect(() => decodeMessage(frames, "another key")).toThrow(/signature/);
    expect(() => decodeMessage(frames.slice(1), key)).toThrow(/delimiter/);
  });

  it("connection files: loopback tcp, five distinct free ports, a 256-bit key, owner-only permissions", async () => {
    const { dir, file, info } = await writeConnectionFile();
    try {
      expect(info.ip).toBe("127.0.0.1");
      expect(info.transport).toBe("tcp");
      expect(info.signature_scheme).toBe("hmac-sha256");
      expect(info.key).toMatch(/^[0-9a-f]{64}$/);
      const ports = [info.shell_port, info.iopub_port, info.stdin_port, info.control_port, info.hb_port];
      expect(new Set(ports).size).toBe(5);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(JSON.parse(fs.readFileSync(file, "utf8"))).toEqual(info);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect((await freePorts(3)).every((port) => port > 0)).toBe(true);
  });

  it("picks kernel ports below the ephemeral range, so no outgoing connection can take them first", async () => {
    const range = ephemeralPortRange();
    const ports = await freePorts(5);
    expect(new Set(ports).size).toBe(5);
    if (range && range[0] > 11_000) for (const port of ports) expect(port < range[0] && port >= 10_000).toBe(true);
    expect(ephemeralPortRange("/nonexistent")).toBeNull();
  });

  it("the kernel command is this node and this project's tslab", () => {
    const argv = kernelArgv("{connection_file}");
    expect(argv).toEqual([process.execPath, "--max-semi-space-size=64", path.join(projectRoot(), "node_modules", "tslab", "bin", "tslab"), "kernel", "--config-path", "{connection_file}"]);
    expect(KERNEL_NAME).toBe("autoencoder-notebooks");
  });
});

describe("explainCellError from the patched tslab's error output", () => {
  it("a compile error's line and column come from its context and caret lines", () => {
    const source = "const fine: number = 1;\nconst wrong: number = \"x\";";
    const error = {
      ename: "TypeScriptError",
      evalue: "2:7 - Type 'string' is not assignable to type 'number'.",
      traceback: ["TypeScriptError: 2:7 - Type 'string' is not assignable to type 'number'.", '  line 2 | const wrong: number = "x";', "         |       ^"],
    };
    const info = explainCellError(source, "", error);
    expect(info.message).toBe("TypeScriptError: 2:7 - Type 'string' is not assignable to type 'number'.");
    expect(info.location).toEqual({ line: 2, column: 7, text: 'const wrong: number = "x";' });
  });

  it("a thrown error names its line without a column; no context line means no location", () => {
    const source = "function f() {\n  throw new RangeError(\"boom\");\n}\nf();";
    const traceback = ["RangeError: boom", "    at f (cell line 2)", "    at cell line 4", '  line 2 |   throw new RangeError("boom");'];
    expect(explainCellError(source, "", { ename: "RangeError", evalue: "boom", traceback })).toEqual({
      message: "RangeError: boom",
      location: { line: 2, column: undefined, text: '  throw new RangeError("boom");' },
    });
    expect(explainCellError(source, "", { ename: "Error", evalue: "x", traceback: ["Error: x"] })).toEqual({ message: "Error: x", location: null });
  });
});

describe("explainCellError from stderr (an unpatched tslab prints errors only there)", () => {
  it("a type error points at its line and column in the cell", () => {
    const source = "const fine: number = 1;\nconst wrong: number = \"x\";";
    const info = explainCellError(source, "2:7 - Type 'string' is not assignable to type 'number'.\n");
    expect(info.message).toBe("2:7 - Type 'string' is not assignable to type 'number'.");
    expect(info.location).toEqual({ line: 2, column: 7, text: "const wrong: number = \"x\";" });
  });

  it("a diagnostic in another file is reported without a cell line", () => {
    const info = explainCellError("import { a } from './mod';", "mod.ts 3:1 - Cannot find name 'b'.\n");
    expect(info.message).toBe("mod.ts:3:1 - Cannot find name 'b'.");
    expect(info.location).toBeNull();
  });

  it("a synchronous throw is traced back through the compiled line Node prints", () => {
    const source = "function f() {\n  // comment\n  const a = 1;\n  throw new Error(\"boom\");\n}\nf();";
    const stderr =
      'evalmachine.<anonymous>:6\n    throw new Error("boom");\n    ^\n\nError: boom\n    at f (evalmachine.<anonymous>:6:11)\n    at evalmachine.<anonymous>:9:22\n';
    const info = explainCellError(source, stderr);
    expect(info.message).toBe("Error: boom");
    expect(info.location).toEqual({ line: 4, text: '  throw new Error("boom");' });
  });

  it("an asynchronous error keeps its message; the line is unknown (the stack refers to compiled code)", () => {
    const stderr = "TypeError: Cannot read properties of null (reading 'foo')\n    at evalmachine.<anonymous>:6:24\n    at async Object.execute (x.js:1:1)\n";
    const info = explainCellError("await 1;\nconst q: any = null;\nq.foo;", stderr);
    expect(info.message).toBe("TypeError: Cannot read properties of null (reading 'foo')");
    expect(info.location).toBeNull();
  });

  it("says so when tslab printed nothing", () => {
    expect(explainCellError("x", "").message).toMatch(/printed nothing/);
  });
});

describe("notebook selection and output paths", () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "select-"));
    for (const name of ["2-b.ipynb", "1-functionally-separate.ipynb", "10-c.ipynb", "notes.txt"]) fs.writeFileSync(path.join(dir, name), "{}");
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("no names → every notebook, sorted", () => {
    expect(selectNotebooks([], dir).map((f) => path.basename(f))).toEqual(["1-functionally-separate.ipynb", "10-c.ipynb", "2-b.ipynb"]);
  });

  it("bare stems, unique prefixes and paths", () => {
    expect(selectNotebooks(["1-functionally-separate"], dir)).toEqual([path.join(dir, "1-functionally-separate.ipynb")]);
    expect(selectNotebooks(["2"], dir)).toEqual([path.join(dir, "2-b.ipynb")]);
    expect(selectNotebooks([path.join(dir, "10-c.ipynb")], dir)).toEqual([path.join(dir, "10-c.ipynb")]);
  });

  it("ambiguous or unknown names fail with the candidates", () => {
    expect(() => selectNotebooks(["1"], dir)).toThrow(/matches several notebooks: 1-functionally-separate.ipynb, 10-c.ipynb/);
    expect(() => selectNotebooks(["9-nothing"], dir)).toThrow(/no notebook matches "9-nothing"/);
  });

  it("full runs write in place, quick runs to data/quick-runs, --out wins", () => {
    const nb = path.join(dir, "2-b.ipynb");
    expect(defaultOutPath(nb, "full", undefined, "/root-x")).toBe(nb);
    expect(defaultOutPath(nb, "quick", undefined, "/root-x")).toBe("/root-x/data/quick-runs/2-b.ipynb");
    expect(defaultOutPath(nb, "full", "/tmp/out", "/root-x")).toBe("/tmp/out/2-b.ipynb");
  });
});

describe("command line", () => {
  it("parses names and options with defaults", () => {
    expect(parseCliArgs([])).toEqual({ names: [], mode: "full", fresh: false, readme: false, outDir: undefined, cellTimeoutMs: undefined, png: true, build: true, help: false });
    expect(kernelEnv(parseCliArgs([]))).toEqual({});
    expect(parseCliArgs(["a", "b", "--mode", "quick", "--fresh", "--out", "x", "--cell-timeout", "2.5", "--no-png", "--no-build"])).toEqual({
      names: ["a", "b"],
      mode: "quick",
      fresh: true,
      readme: false,
      outDir: "x",
      cellTimeoutMs: 2500,
      png: false,
      build: false,
      help: false,
    });
    expect(kernelEnv(parseCliArgs(["--fresh"]))).toEqual({ AE_FRESH: "1" });
    expect(parseCliArgs(["--readme"]).readme).toBe(true);
  });

  it("rejects bad values", () => {
    expect(() => parseCliArgs(["--mode", "fast"])).toThrow(/--mode must be "quick" or "full"/);
    expect(() => parseCliArgs(["--cell-timeout=0"])).toThrow(/--cell-timeout must be a positive number/);
    expect(() => parseCliArgs(["--cell-timeout", "soon"])).toThrow(/--cell-timeout must be a positive number/);
    expect(() => parseCliArgs(["--bogus"])).toThrow();
  });

  it("figure size comes from the layout, else the defaults", () => {
    expect(figureSize({ layout: { width: 400, height: 300 } }, { width: 700, height: 450 })).toEqual({ width: 400, height: 300 });
    expect(figureSize({ data: [] }, { width: 700, height: 450 })).toEqual({ width: 700, height: 450 });
  });
});

describe("reports", () => {
  const failed: NotebookResult = {
    notebook: "/x/notebooks/1-a.ipynb",
    outPath: "/x/data/quick-runs/1-a.ipynb",
    mode: "quick",
    ok: false,
    saved: true,
    kernelStartMs: 2500,
    kernelPid: 1,
    cellCount: 5,
    codeCellCount: 3,
    cells: [
      { cellIndex: 0, codeIndex: 0, ms: 100, status: "ok", executionCount: 1 },
      { cellIndex: 3, codeIndex: 1, ms: 50, status: "error", executionCount: 2 },
    ],
    totalMs: 4000,
    png: null,
    failure: {
      kind: "cell-error",
      message: "2:7 - Type 'string' is not assignable to type 'number'.",
      cellIndex: 3,
      codeIndex: 1,
      codeCellCount: 3,
      location: { line: 2, column: 7, text: 'const wrong: number = "x";' },
      traceback: ["TypeScriptError: 2:7 - Type 'string' is not assignable to type 'number'.", '  line 2 | const wrong: number = "x";', "         |       ^"],
      stderr: "2:7 - Type 'string' is not assignable to type 'number'.\n",
    },
  };

  it("a failure names the notebook, the cell index, the source line, the traceback and tslab's stderr", () => {
    const text = formatFailure(failed);
    expect(text).toContain("/x/notebooks/1-a.ipynb");
    expect(text).toContain("cell index 3 (code cell 2 of 3)");
    expect(text).toContain("at line 2, column 7 of the cell:");
    expect(text).toContain('const wrong: number = "x";');
    expect(text).toContain("  traceback:\n    TypeScriptError: 2:7 - Type 'string'");
    expect(text).toContain("tslab stderr:");
    expect(text).toContain("saved in /x/data/quick-runs/1-a.ipynb");
    expect(formatFailure({ ...failed, ok: true, failure: null })).toBe("");
  });

  it("the summary counts notebooks, cells, time, the slowest and failures", () => {
    const good: NotebookResult = { ...failed, notebook: "/x/notebooks/2-b.ipynb", ok: true, failure: null, totalMs: 9000 };
    const summary = summarize([failed, good], 13_000);
    expect(summary.ok).toBe(false);
    expect(summary.cellsRun).toBe(4);
    expect(summary.slowest?.notebook).toBe("/x/notebooks/2-b.ipynb");
    const text = formatSummary(summary);
    expect(text).toContain("notebooks: 2, cells run: 4, total 13 s");
    expect(text).toContain("slowest: 2-b.ipynb (9.0 s)");
    expect(text).toContain("failures: 1-a.ipynb");
    expect(text).not.toContain("TypeScript:");
    expect(formatSummary(summarize([failed, good], 13_000, { sessions: 0, converters: 2, calls: 4 }))).toContain("  TypeScript: one service answered 4 compile calls from 2 kernel converters (declaration files parsed once)\n  failures:");
    expect(summarize([good], 1).ok).toBe(true);
    expect(summarize([], 1).ok).toBe(false);
  });
});

describe("buildLib (tsc -b tsconfig.build.json) on a small project", () => {
  let root: string;
  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "build-lib-"));
    fs.symlinkSync(path.join(projectRoot(), "node_modules"), path.join(root, "node_modules"));
    fs.mkdirSync(path.join(root, "src"));
    const compilerOptions = { strict: true, lib: ["ES5"], types: [], skipLibCheck: true, rootDir: "src", outDir: "dist", declaration: true, incremental: true, tsBuildInfoFile: "dist/.tsbuildinfo" };
    fs.writeFileSync(path.join(root, "tsconfig.build.json"), JSON.stringify({ compilerOptions, include: ["src/**/*.ts"] }));
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
  const write = (source: string): void => fs.writeFileSync(path.join(root, "src", "a.ts"), source);
  const emitted = (): string => fs.readFileSync(path.join(root, "dist", "a.js"), "utf8");

  it("compiles, skips when nothing changed, and recompiles a changed source: a type error is reported (on every run while it stays) and the JavaScript still emitted", () => {
    write("export const a: number = 1;\n");
    expect(buildLib({ root })).toMatchObject({ ok: true, output: "" });
    expect(emitted()).toContain("exports.a = 1;");
    const info = fs.statSync(path.join(root, "dist", ".tsbuildinfo")).mtimeMs;
    expect(buildLib({ root })).toMatchObject({ ok: true, output: "" });
    expect(fs.statSync(path.join(root, "dist", ".tsbuildinfo")).mtimeMs).toBe(info); // up to date: nothing written
    write('export const a: number = "three";\n');
    const broken = buildLib({ root });
    expect(broken.ok).toBe(false);
    expect(broken.output).toMatch(/src\/a\.ts\(1,14\): error TS2322/);
    expect(emitted()).toContain('exports.a = "three";');
    expect(buildLib({ root }).output).toMatch(/error TS2322/); // reported again until fixed
  }, 60_000);
});

describe("the run's TypeScript service (lib/runner/ts-service.ts)", () => {
  it("a run of two or more notebooks starts one unless the kernels are given one (or told to compile alone: AE_TS_SERVICE empty)", () => {
    expect(wantsTsService(2, {}, {})).toBe(true);
    expect(wantsTsService(5, { env: {} }, {})).toBe(true);
    expect(wantsTsService(1, {}, {})).toBe(false);
    expect(wantsTsService(2, {}, { [TS_SERVICE_ENV]: "/tmp/x.sock" })).toBe(false);
    expect(wantsTsService(2, {}, { [TS_SERVICE_ENV]: "" })).toBe(false);
    expect(wantsTsService(2, { env: { [TS_SERVICE_ENV]: "" } }, {})).toBe(false);
  });

  it("starts, answers /stats, and on close stops and removes its socket and folder", async () => {
    const service = await startTsService();
    expect(path.basename(service.socket)).toBe("service.sock");
    expect(fs.statSync(service.socket).isSocket()).toBe(true);
    expect(await service.stats()).toEqual({ sessions: 0, converters: 0, calls: 0 });
    await service.close();
    expect(fs.existsSync(path.dirname(service.socket))).toBe(false);
    await expect(tsServiceStats(service.socket)).rejects.toThrow(/ENOENT/);
  }, 60_000);

  it("refuses a relative socket path, and says why it did not start", async () => {
    await expect(startTsService({ socket: "service.sock" })).rejects.toThrow(/startTsService: socket must be an absolute path, got "service.sock"/);
    await expect(startTsService({ socket: "/nonexistent-folder/service.sock" })).rejects.toThrow(/^the TypeScript service did not start on \/nonexistent-folder\/service\.sock \(it exited with code 1\)$/);
    // Its script missing: the folder made for its socket is removed again.
    const failed = await startTsService({ root: path.join(os.tmpdir(), "no-such-project") }).catch((error: Error) => error);
    const made = /did not start on (\S+) \(it exited with code 1\)$/.exec(String((failed as Error).message))?.[1];
    expect(made).toMatch(/\/ae-ts-[^/]+\/service\.sock$/);
    expect(fs.existsSync(path.dirname(made as string))).toBe(false);
  }, 60_000);
});
