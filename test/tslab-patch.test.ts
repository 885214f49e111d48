/**
 * The tslab patch (lib/runner/tslab-patch): applied idempotently by `postinstall`, refusing
 * code it does not expect; and, on the real kernel started from a folder outside the
 * repository, failed cells arrive as Jupyter `error` outputs (compile errors with line and
 * column, thrown errors, rejected promises) while the library imports by its package name.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as net from "net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { RunningKernel, startKernel } from "../lib/runner/kernel";
import { JupyterMessage } from "../lib/runner/protocol";
import { startTsService, TsService, TS_SERVICE_ENV } from "../lib/runner/ts-service";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const patch = require("../lib/runner/tslab-patch/apply.js") as {
  applyPatch: (root: string, check?: boolean) => string[];
  EDITS: Record<string, { find: string; replace: string }[]>;
  HELPER_FILES: string[];
};

const ROOT = path.resolve(__dirname, "..");
const DIST = path.join(ROOT, "node_modules", "tslab", "dist");
let tmp: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tslab-patch-"));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A fake project root whose tslab dist holds `files` (name → content). */
function fakeRoot(name: string, files: Record<string, string>): string {
  const root = path.join(tmp, name);
  fs.mkdirSync(path.join(root, "node_modules", "tslab", "dist"), { recursive: true });
  fs.copyFileSync(path.join(ROOT, "node_modules", "tslab", "package.json"), path.join(root, "node_modules", "tslab", "package.json"));
  for (const [file, text] of Object.entries(files)) fs.writeFileSync(path.join(root, "node_modules", "tslab", "dist", file), text);
  return root;
}

/** tslab's files as npm ci leaves them: the installed (patched) files with every edit undone. */
function pristineFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const [name, edits] of Object.entries(patch.EDITS)) {
    let text = fs.readFileSync(path.join(DIST, name), "utf8");
    for (const edit of edits) text = text.replace(edit.replace, () => edit.find);
    files[name] = text;
  }
  return files;
}

describe("applying the patch", () => {
  it("the installed tslab is patched (npm ci ran postinstall)", () => {
    expect(patch.applyPatch(ROOT, true)).toEqual(["executor.js: already patched", "jupyter.js: already patched", "main.js: already patched", "converter.js: already patched", "ae-tslab.js: current", "ae-tslab-service.js: current"]);
  });

  it("patches pristine tslab to exactly the installed files, and a second run changes nothing", () => {
    const root = fakeRoot("pristine", pristineFiles());
    expect(() => patch.applyPatch(root, true)).toThrow(/is not patched/);
    expect(patch.applyPatch(root)).toEqual(["executor.js: patched", "jupyter.js: patched", "main.js: patched", "converter.js: patched", "ae-tslab.js: copied", "ae-tslab-service.js: copied"]);
    for (const name of [...Object.keys(patch.EDITS), ...patch.HELPER_FILES]) {
      expect(fs.readFileSync(path.join(root, "node_modules", "tslab", "dist", name), "utf8"), name).toBe(fs.readFileSync(path.join(DIST, name), "utf8"));
    }
    expect(patch.applyPatch(root)).toEqual(["executor.js: already patched", "jupyter.js: already patched", "main.js: already patched", "converter.js: already patched", "ae-tslab.js: current", "ae-tslab-service.js: current"]);
  });

  it("fails loudly, naming the file, when tslab's code is not what the patch expects", () => {
    const files = pristineFiles();
    files["executor.js"] = files["executor.js"].replace("console.error(e);", "console.warn(e);");
    const root = fakeRoot("changed", files);
    expect(() => patch.applyPatch(root)).toThrow(/executor\.js: expected exactly one occurrence of[\s\S]*found 0/);
  });
});

describe("compiling cells (ae-tslab's lightBuilderProgram and cellLocals)", () => {
  type Converted = { output?: string; declOutput?: string; diagnostics: { messageText: string }[]; sideOutputs?: { path: string; data: string }[]; lastExpressionVar?: string; hasToplevelAwait?: boolean };
  type Converter = { convert(prevDecl: string, src: string): Converted; close(): void };
  type ConverterModule = { createConverter(options: { isJS: boolean; isBrowser: boolean }): Converter };

  /** tslab's converter compiled in memory from `text`, as if it sat in tslab's dist (its requires resolve there). */
  function converterFrom(text: string, name: string): ConverterModule {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Module = require("module") as { new (id: string): { filename: string; paths: string[]; exports: unknown; _compile(code: string, filename: string): void }; _nodeModulePaths(dir: string): string[] };
    const file = path.join(DIST, name);
    const mod = new Module(file);
    mod.filename = file;
    mod.paths = Module._nodeModulePaths(DIST);
    mod._compile(text, file);
    return mod.exports as ConverterModule;
  }

  /** Convert `cells` in sequence as tslab's executor does (declarations carried over while cells compile). */
  function convertAll(converters: ConverterModule, cells: string[]): Converted[] {
    const converter = converters.createConverter({ isJS: false, isBrowser: false });
    try {
      let prevDecl = "";
      return cells.map((src) => {
        const converted = converter.convert(prevDecl, src);
        if (converted.diagnostics.length === 0) prevDecl = converted.declOutput ?? "";
        return converted;
      });
    } finally {
      converter.close();
    }
  }

  it("compiles every kind of cell exactly as tslab's own incremental builder does", () => {
    const folder = fs.mkdtempSync(path.join(tmp, "cells-"));
    fs.writeFileSync(path.join(folder, "helper.ts"), "export const twice = (x: number): number => 2 * x;\nexport interface Pair { a: number; b: string }\n");
    const cells = [
      'import { twice, Pair } from "./helper";\nconst pair: Pair = { a: twice(2), b: "x" };\nfunction half(n: number) { return n / 2; }',
      "half(pair.a)",
      'const wrong: number = "not a number";',
      "class Counter { n = 0; add() { return ++this.n; } }\ntype Shape = number[];\nenum Mode { Quick, Full }\nlet shape: Shape = [1, 2];\nconst total = await Promise.resolve(twice(3));",
      'import { twice } from "./helper";\nconsole.log(total, shape, Mode.Full, new Counter().add(), twice(4));',
    ];
    const original = pristineFiles()["converter.js"];
    const withPathsOnly = original.replace(patch.EDITS["converter.js"][0].find, () => patch.EDITS["converter.js"][0].replace);
    const cwd = process.cwd();
    process.chdir(folder);
    try {
      const ours = convertAll(converterFrom(fs.readFileSync(path.join(DIST, "converter.js"), "utf8"), "converter-patched.js"), cells);
      const reference = convertAll(converterFrom(withPathsOnly, "converter-reference.js"), cells);
      expect(reference[2].diagnostics.map((d) => d.messageText)).toEqual(["Type 'string' is not assignable to type 'number'."]);
      expect(reference[0].sideOutputs?.map((o) => path.basename(o.path))).toEqual(["helper.js"]); // the local module is compiled once,
      expect(reference[4].sideOutputs).toBeUndefined(); // not again
      expect(reference[3].hasToplevelAwait).toBe(true);
      expect(reference[1].lastExpressionVar).toBeDefined();
      expect(ours).toEqual(reference);
    } finally {
      process.chdir(cwd);
    }
  }, 60_000);
});

/** Run one cell, collecting its iopub outputs and the execute_reply status. */
async function runCell(kernel: RunningKernel, code: string): Promise<{ status: string; outputs: JupyterMessage[] }> {
  const outputs: JupyterMessage[] = [];
  const outcome = await kernel.client.execute(code, {
    timeoutMs: 60_000,
    onIopub: (message) => {
      if (message.header.msg_type !== "status") outputs.push(message);
    },
  });
  if (outcome.status !== "ok") await new Promise((resolve) => setTimeout(resolve, 300)); // tslab's abort window
  return { status: outcome.status, outputs };
}

/** The single `error` output of a cell's outputs. */
function errorOf(outputs: JupyterMessage[]): { ename: string; evalue: string; traceback: string[] } {
  const errors = outputs.filter((m) => m.header.msg_type === "error");
  expect(errors).toHaveLength(1);
  expect(outputs.filter((m) => m.header.msg_type === "stream")).toEqual([]); // nothing left on stderr
  return errors[0].content as { ename: string; evalue: string; traceback: string[] };
}

describe("sending (ae-tslab's queueSend and reportUnhandledRejection)", () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const helper = require("../lib/runner/tslab-patch/ae-tslab.js") as {
    queueSend: (sock: { send(frames: string[]): Promise<void> }, frames: string[]) => void;
    reportUnhandledRejection: (reason: unknown, writeError: ((error: unknown) => void) | null) => void;
  };

  /** A socket like zeromq 6's: a second send while one is in progress throws EBUSY. */
  function busySocket() {
    const sent: string[] = [];
    let busy = false;
    return {
      sent,
      send(frames: string[]): Promise<void> {
        if (busy) throw Object.assign(new Error("Socket is busy writing; only one send operation may be in progress at any time"), { code: "EBUSY" });
        busy = true;
        return new Promise<void>((resolve) => setTimeout(() => { busy = false; sent.push(frames[0]); resolve(); }, 2));
      },
    };
  }

  it("a burst of sends on one socket goes out whole and in order, where direct sends throw EBUSY", async () => {
    const direct = busySocket();
    void direct.send(["a"]);
    expect(() => direct.send(["b"])).toThrow(/busy writing/);
    const sock = busySocket();
    for (let i = 0; i < 20; i++) helper.queueSend(sock, [`m${i}`]);
    expect(sock.sent).toEqual([]); // the first is in progress, the rest wait their turn
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(sock.sent).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
  });

  it("a socket that takes sends at once gets them at once (output before a long computation is not held back)", () => {
    const taken: string[] = [];
    const sock = { send(frames: string[]): Promise<void> { taken.push(frames[0]); return Promise.resolve(); } };
    helper.queueSend(sock, ["a"]);
    helper.queueSend(sock, ["b"]);
    expect(taken).toEqual(["a", "b"]);
  });

  it("a rejection reported while sending fails falls back to stderr instead of throwing (a throw there kills the kernel)", () => {
    const failing = () => { throw new Error("Socket is busy writing"); };
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => { errors.push(args); };
    try {
      expect(() => helper.reportUnhandledRejection(new Error("lost"), failing)).not.toThrow();
      expect(() => helper.reportUnhandledRejection(new Error("outside a cell"), null)).not.toThrow();
    } finally {
      console.error = original;
    }
    expect(errors).toHaveLength(2);
  });
});

describe("the patched kernel, started in a folder outside the repository", () => {
  let kernel: RunningKernel;
  let outside: string;

  let service: TsService;
  let cellsRun = 0;

  beforeAll(async () => {
    outside = fs.mkdtempSync(path.join(os.tmpdir(), "my-notebooks-"));
    // A service of its own, so that its counts are this kernel's alone.
    service = await startTsService();
    kernel = await startKernel({ cwd: outside, env: { [TS_SERVICE_ENV]: service.socket } });
  }, 120_000);
  afterAll(async () => {
    await kernel?.shutdown();
    await service?.close();
    fs.rmSync(outside, { recursive: true, force: true });
  });
  const run = (k: RunningKernel, code: string) => {
    cellsRun += 1;
    return runCell(k, code);
  };

  it("imports the library by its package name, and @tensorflow/tfjs from the project", async () => {
    const { status, outputs } = await run(
      kernel,
      'import * as ae from "autoencoder-notebooks";\nimport * as tf from "@tensorflow/tfjs";\nconst answer: number = 41;\nconsole.log(typeof ae.setup, typeof tf.tensor, tf.scalar(answer).dataSync()[0]);',
    );
    // (tfjs may add its "use tfjs-node" hint on stderr)
    expect(outputs.filter((m) => m.header.msg_type !== "stream" || (m.content as { name: string }).name !== "stderr").map((m) => m.content)).toEqual([
      { name: "stdout", text: "function function 41\n" },
    ]);
    expect(status).toBe("ok");
  });

  it("a compile error is an error output with line and column and a caret under the column", async () => {
    const { status, outputs } = await run(kernel, 'const fine = 1;\nconst wrong: number = "not a number";');
    expect(status).toBe("error");
    expect(errorOf(outputs)).toEqual({
      ename: "TypeScriptError",
      evalue: "2:7 - Type 'string' is not assignable to type 'number'.",
      traceback: ["TypeScriptError: 2:7 - Type 'string' is not assignable to type 'number'.", '  line 2 | const wrong: number = "not a number";', "         |       ^"],
    });
  });

  it("a thrown error keeps its name and message; the traceback holds the cell's frames only, mapped to cell lines", async () => {
    const { status, outputs } = await run(kernel, 'function check(x: number): number {\n  if (x > 1) throw new RangeError(`too big: ${x}`);\n  return x;\n}\ncheck(3);');
    expect(status).toBe("error");
    const error = errorOf(outputs);
    expect(error.ename).toBe("RangeError");
    expect(error.evalue).toBe("too big: 3");
    expect(error.traceback[0]).toBe("RangeError: too big: 3");
    expect(error.traceback).toContain("    at check (cell line 2)");
    expect(error.traceback.at(-1)).toBe("  line 2 |   if (x > 1) throw new RangeError(`too big: ${x}`);");
    expect(error.traceback.join("\n")).not.toMatch(/tslab|node:|evalmachine/);
  });

  it("a rejected awaited promise is an error output too", async () => {
    const { status, outputs } = await run(kernel, 'await Promise.reject(new TypeError("no data"));');
    expect(status).toBe("error");
    expect(errorOf(outputs)).toMatchObject({ ename: "TypeError", evalue: "no data" });
  });

  it("a rejection nothing awaits is an error output of the running cell", async () => {
    const { status, outputs } = await run(kernel, 'void Promise.reject(new Error("ignored"));\nawait new Promise((resolve) => setTimeout(resolve, 50));');
    expect(status).toBe("ok"); // the cell itself finished
    expect(errorOf(outputs)).toMatchObject({ ename: "Error", evalue: "ignored (a promise rejected and nothing awaited it)" });
  });

  it("a thrown non-Error value is described", async () => {
    const { status, outputs } = await run(kernel, 'throw "plain string";');
    expect(status).toBe("error");
    expect(errorOf(outputs)).toMatchObject({ ename: "Error", evalue: "a non-Error value was thrown: plain string" });
  });

  it("the execute_reply carries the error too, with status \"error\"", async () => {
    const content = { code: 'throw new SyntaxError("bad input");', silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true };
    cellsRun += 1;
    const reply = await kernel.client.request("shell", "execute_request", content, 60_000);
    await new Promise((resolve) => setTimeout(resolve, 300)); // tslab's abort window
    expect(reply.content).toMatchObject({ status: "error", ename: "SyntaxError", evalue: "bad input" });
    expect((reply.content.traceback as string[])[0]).toBe("SyntaxError: bad input");
    expect(reply.content.execution_count).toEqual(expect.any(Number));
  });

  it("a burst of large outputs arrives whole and in order (zeromq allows one send at a time per socket)", async () => {
    const code = 'import * as tslab from "tslab";\nconst big = "x".repeat(1_000_000);\nfor (let i = 0; i < 12; i++) tslab.display.text(`${i}:${big}`);\nconsole.log("sent");';
    const { status, outputs } = await run(kernel, code);
    expect(outputs.filter((m) => m.header.msg_type === "error")).toEqual([]);
    expect(status).toBe("ok");
    const texts = outputs.filter((m) => m.header.msg_type === "display_data").map((m) => String((m.content.data as Record<string, string>)["text/plain"]));
    expect(texts.map((t) => t.slice(0, t.indexOf(":")))).toEqual(Array.from({ length: 12 }, (_, i) => String(i)));
    expect(texts.every((t) => t.length === t.indexOf(":") + 1 + 1_000_000)).toBe(true);
    expect(outputs.filter((m) => m.header.msg_type === "stream").map((m) => m.content)).toContainEqual({ name: "stdout", text: "sent\n" });
  });

  it("requests sent while it publishes a burst, and the next cell sent the moment the burst ends (the runner does not wait for iopub to go quiet), all get replies; the outputs arrive whole", async () => {
    const code = 'import * as tslab from "tslab";\nconst chunk = "y".repeat(1_000_000);\nfor (let i = 0; i < 12; i++) tslab.display.text(`${i}:${chunk}`);';
    const burst = run(kernel, code);
    // Each kernel_info request makes tslab publish busy and idle on iopub, behind the burst's 12 MB still going out.
    const infos = Array.from({ length: 6 }, (_, i) => new Promise((resolve) => setTimeout(resolve, 10 * i))
      .then(() => kernel.client.request("shell", "kernel_info_request", {}, 60_000)));
    const { status, outputs } = await burst;
    const next = await run(kernel, "console.log(40 + 3);"); // sent the moment the burst's cell finished
    expect((await Promise.all(infos)).map((reply) => reply.header.msg_type)).toEqual(Array(6).fill("kernel_info_reply"));
    expect(status).toBe("ok");
    const texts = outputs.filter((m) => m.header.msg_type === "display_data").map((m) => String((m.content.data as Record<string, string>)["text/plain"]));
    expect(texts.map((t) => t.length)).toEqual(Array.from({ length: 12 }, (_, i) => String(i).length + 1 + 1_000_000));
    expect(next.status).toBe("ok");
    expect(next.outputs.map((m) => m.content)).toEqual([{ name: "stdout", text: "43\n" }]);
    expect(kernel.isAlive()).toBe(true);
  });

  it("a later cell runs normally again", async () => {
    const { status, outputs } = await run(kernel, "console.log(answer + 1);");
    expect(status).toBe("ok");
    expect(outputs.map((m) => m.content)).toEqual([{ name: "stdout", text: "42\n" }]);
  });

  it("compiled every cell in the TypeScript service it was given (AE_TS_SERVICE), with one converter", async () => {
    expect(cellsRun).toBeGreaterThanOrEqual(8);
    expect(await service.stats()).toEqual({ sessions: 1, converters: 1, calls: cellsRun });
  });
});

describe("the committed notebooks' import line", () => {
  it("compiles and runs in the kernel started in notebooks/, which compiles on its own when its TypeScript service is gone (and says so once)", async () => {
    const gone = path.join(tmp, "no-service.sock");
    const kernel = await startKernel({ cwd: path.join(ROOT, "notebooks"), env: { [TS_SERVICE_ENV]: gone } });
    try {
      const first = await runCell(kernel, 'import * as ae from "autoencoder-notebooks";\nconst f: typeof ae.setup = ae.setup;\nconsole.log(typeof f);');
      const second = await runCell(kernel, "console.log(typeof f);");
      const streams = (outputs: JupyterMessage[], name: string) =>
        outputs.filter((m) => m.header.msg_type === "stream" && (m.content as { name: string }).name === name).map((m) => (m.content as { text: string }).text).join("");
      expect([first.status, second.status]).toEqual(["ok", "ok"]);
      expect([streams(first.outputs, "stdout"), streams(second.outputs, "stdout")]).toEqual(["function\n", "function\n"]);
      const notes = (streams(first.outputs, "stderr") + streams(second.outputs, "stderr")).split("\n").filter((line) => line.startsWith("tslab:"));
      expect(notes).toEqual([expect.stringMatching(new RegExp(`^tslab: compiling in this kernel from now on: the run's TypeScript service \\(${TS_SERVICE_ENV}=${gone}\\) failed: connect ENOENT`))]);
    } finally {
      await kernel.shutdown();
    }
  }, 120_000);
});

describe("the run's TypeScript service (ts-service.js) and its shared declarations", () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const helper = require("../lib/runner/tslab-patch/ae-tslab-service.js") as {
    serviceClient(socket: string, timeoutMs?: number): { call(request: unknown): unknown; close(): void };
    converterFor(createConverter: (options: object) => unknown, options: object, env: Record<string, string>): unknown;
    shareDeclarations(): void;
    withSharedDeclarations<H>(host: H, options: Record<string, unknown>, recheckMs?: number): H;
  };
  type Converted = { output?: string; declOutput?: string; diagnostics: unknown[] };

  it("compiles a kernel's cells exactly as the kernel's own converter does: outputs, declarations, errors", () => {
    // The run's service (test/setup/ts-service.ts), which every kernel of this test run uses.
    const socket = process.env[TS_SERVICE_ENV] as string;
    const cwd = path.join(ROOT, "notebooks");
    const cells = [
      'import * as ae from "autoencoder-notebooks";\nimport * as tf from "@tensorflow/tfjs";\nconst x = tf.scalar(2);\nfunction half(n: number) { return n / 2; }',
      "half(x.dataSync()[0])",
      'const wrong: number = "not a number";',
      "const total = await Promise.resolve(half(8));\nconsole.log(typeof ae.setup, total);",
    ];
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { createConverter } = require(path.join(DIST, "converter.js")) as { createConverter(o: object): { convert(p: string, s: string): Converted; close(): void } };
    const local = createConverter({ isJS: false, isBrowser: false, cwd });
    const client = helper.serviceClient(socket);
    const session = `tslab-patch-test-${process.pid}`;
    try {
      let prevLocal = "";
      let prevRemote = "";
      for (const src of cells) {
        const mine = JSON.parse(JSON.stringify(local.convert(prevLocal, src))) as Converted;
        const theirs = client.call({ session, spec: { cwd, isJS: false, isBrowser: false }, op: "convert", args: [prevRemote, src] }) as Converted;
        expect(theirs).toEqual(mine);
        if (mine.diagnostics.length === 0) prevLocal = mine.declOutput ?? "";
        if (theirs.diagnostics.length === 0) prevRemote = theirs.declOutput ?? "";
      }
      expect(prevRemote).toMatch(/declare const total: number/);
      expect(() => client.call({ session, op: "compile", args: [] })).toThrow(/op must be one of close, convert, inspect, complete, addModule; got "compile"/);
      expect(() => client.call({ session: "other", spec: { cwd: "notebooks" }, op: "convert", args: ["", "1"] })).toThrow(/spec.cwd must be an absolute folder, got "notebooks"/);
      expect(client.call({ session, op: "close" })).toBeNull();
    } finally {
      client.close();
      local.close();
    }
  }, 120_000);

  it("a client's call fails at once with the reason where there is no service or the socket path is not a string", () => {
    const missing = helper.serviceClient(path.join(tmp, "nobody-listens.sock"));
    const wrong = helper.serviceClient(42 as unknown as string);
    try {
      expect(() => missing.call({ session: "s", op: "convert", args: ["", "1"] })).toThrow(/^connect ENOENT .*nobody-listens\.sock$/);
      expect(() => wrong.call({ session: "s", op: "convert", args: ["", "1"] })).toThrow(/"options\.path" property must be of type string/);
    } finally {
      missing.close();
      wrong.close();
    }
  });

  it("a declaration file is parsed once and shared while its size and time are unchanged (looked at again at most once a second); a changed one is parsed again; cells are never shared", async () => {
    const file = path.join(tmp, "shared.d.ts");
    fs.writeFileSync(file, "declare const a: number;\n");
    let parses = 0;
    const fresh: boolean[] = [];
    const host = { getSourceFile: (fileName: string, _version?: unknown, _onError?: unknown, shouldCreateNew?: boolean) => (fresh.push(Boolean(shouldCreateNew)), { fileName, parse: ++parses }) };
    helper.shareDeclarations();
    const options = { target: 9, typeRoots: ["/t"], paths: {} };
    const first = helper.withSharedDeclarations(host, options, 60_000); // looks at the file again after a minute
    const second = helper.withSharedDeclarations(host, options, 0); // looks at the file each time
    const a = first.getSourceFile(file);
    expect(second.getSourceFile(file)).toBe(a);
    expect(parses).toBe(1);
    expect(helper.withSharedDeclarations(host, { ...options, typeRoots: ["/other"] }).getSourceFile(file)).not.toBe(a); // other type roots: its own
    fs.writeFileSync(file, "declare const a: string;\n");
    fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));
    expect(first.getSourceFile(file)).toBe(a); // looked at less than its minute ago: not again yet
    expect(second.getSourceFile(file)).not.toBe(a);
    const cell = path.join(tmp, "__prev__.d.ts");
    fs.writeFileSync(cell, "export {};\n");
    expect(first.getSourceFile(cell)).not.toBe(first.getSourceFile(cell));
    expect(parses).toBe(5);
    // Parsed for sharing: always a new parse, never the watch host's cached copy; the converter's own files as asked.
    expect(fresh).toEqual([true, true, true, false, false]);
  });

  it("a converter the service makes for a session (its first call, or again after dropping it) gets the kernel's modules first", () => {
    const client = helper.serviceClient(process.env[TS_SERVICE_ENV] as string);
    const session = `modules-${process.pid}`;
    const spec = { cwd: fs.mkdtempSync(path.join(tmp, "modules-")), isJS: false, isBrowser: false, modules: [["helper", "export const k: number = 3;"]] };
    try {
      const converted = client.call({ session, spec, op: "convert", args: ["", 'import { k } from "./helper";\nconst twice: string = 2 * k;'] }) as Converted;
      expect(converted.diagnostics.map((d) => (d as { messageText: string }).messageText)).toEqual(["Type 'number' is not assignable to type 'string'."]);
      client.call({ session, op: "close" });
      const without = client.call({ session, spec: { ...spec, modules: [] }, op: "convert", args: ["", 'import { k } from "./helper";'] }) as Converted;
      expect(without.diagnostics.map((d) => (d as { messageText: string }).messageText)).toEqual(["Cannot find module './helper' or its corresponding type declarations."]);
      expect(() => client.call({ session: "bad-modules", spec: { ...spec, modules: ["helper"] }, op: "convert", args: ["", "1"] })).toThrow(/spec\.modules must be a list of addModule argument lists/);
    } finally {
      client.call({ session, op: "close" });
      client.close();
    }
  });

  it("a call to a service that never answers fails after the client's limit, naming it", async () => {
    const socket = path.join(tmp, "silent.sock");
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(socket, resolve));
    const client = helper.serviceClient(socket, 300);
    try {
      expect(() => client.call({ session: "s", op: "convert", args: ["", "1"] })).toThrow(/^no answer within 300 ms$/);
    } finally {
      client.close();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it("a kernel's converter: the converter's own errors come through as they are; when its service dies it compiles on its own from then on, modules included, and says so once", async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { createConverter } = require(path.join(DIST, "converter.js")) as { createConverter(o: object): Converter };
    type Converter = { convert(p: string, s: string): Converted; addModule(name: string, src: string, meta?: object): unknown[]; close(): void };
    const folder = fs.mkdtempSync(path.join(tmp, "converter-"));
    const service = await startTsService();
    const notes: string[] = [];
    const write = vi.spyOn(process.stderr, "write").mockImplementation((text: string | Uint8Array) => (notes.push(String(text)), true));
    const cwd = process.cwd();
    process.chdir(folder);
    let converter: Converter | undefined;
    try {
      converter = helper.converterFor(createConverter, { isJS: false, isBrowser: false }, { [TS_SERVICE_ENV]: service.socket }) as Converter;
      expect(() => converter!.addModule("not a module name!", "export const k = 1;")).toThrow(/^invalid module name: "not a module name!"$/);
      expect(converter.addModule("helper", "export const k: number = 3;")).toEqual([]);
      const first = converter.convert("", 'import { k } from "./helper";\nconst twice = 2 * k;');
      expect(first.diagnostics).toEqual([]);
      expect((await service.stats()).converters).toBe(1);
      await service.close();
      const second = converter.convert(first.declOutput ?? "", 'import { k } from "./helper";\nconst thrice: number = 3 * k + twice;');
      expect(second.diagnostics).toEqual([]);
      expect(second.output).toContain("const thrice = 3 * helper_1.k + exports.twice;");
      const third = converter.convert(second.declOutput ?? "", "const wrong: string = thrice;");
      expect(third.diagnostics.map((d) => (d as { messageText: string }).messageText)).toEqual(["Type 'number' is not assignable to type 'string'."]);
      expect(notes.filter((n) => n.startsWith("tslab:"))).toEqual([expect.stringMatching(/^tslab: compiling in this kernel from now on: the run's TypeScript service \(AE_TS_SERVICE=.*\) failed: connect ENOENT/)]);
    } finally {
      write.mockRestore();
      process.chdir(cwd);
      converter?.close();
      await service.close();
    }
  }, 120_000);
});
