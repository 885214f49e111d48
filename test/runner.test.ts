/**
 * The notebook runner against the real tslab kernel, on the fixture notebooks in
 * test/fixtures. Fixtures run in place (the kernel's cwd is their folder, so
 * `import * as ae from "../../lib"` resolves through lib/package.json to lib/dist) and
 * write their outputs into a temp dir, so the repository's fixtures are never modified.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { libBuild, libScriptArgs } from "./helpers/build";
import { CodeCell, Notebook, readNotebook } from "../lib/runner/notebook";
import { findChromium, PLOTLY_MIME } from "../lib/runner/plot-png";
import { NotebookResult, runNotebook, runNotebooks, RunSummary } from "../lib/runner/runner";
import { exists, firstStdoutLine } from "./helpers/processes";
import { TS_SERVICE_ENV } from "../lib/runner/ts-service";

const ROOT = path.resolve(__dirname, "..");
const FIXTURES = path.join(__dirname, "fixtures");
const fixture = (name: string): string => path.join(FIXTURES, name);
const HAVE_CHROMIUM = findChromium() !== null;

let tmp: string;
const fixtureBytes = new Map<string, Buffer>();

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "runner-test-"));
  for (const name of fs.readdirSync(FIXTURES)) fixtureBytes.set(name, fs.readFileSync(fixture(name)));
  // The fixtures import ../../lib, i.e. lib/dist: make it current. Type errors elsewhere in lib
  // (work in progress) still emit JavaScript, so only a missing build is fatal here.
  const build = await libBuild();
  if (!build.ok) console.warn(`tsc -b tsconfig.build.json reported problems:\n${build.output}`);
  expect(fs.existsSync(path.join(ROOT, "lib", "dist", "index.js"))).toBe(true);
}, 300_000);

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
  // No test may modify the repository's fixtures.
  for (const [name, bytes] of fixtureBytes) expect(fs.readFileSync(fixture(name)).equals(bytes), `${name} was modified`).toBe(true);
});

/** The kernel and its whole process group are gone. */
function expectKernelGone(result: NotebookResult): void {
  expect(result.kernelPid).toBeGreaterThan(0);
  expect(exists(result.kernelPid as number)).toBe(false);
  expect(exists(-(result.kernelPid as number))).toBe(false);
}

/**
 * Marks the CLI runs this file starts (and so the kernels they start): other test files run
 * kernels in the fixtures folder at the same time (test/tour.test.ts), which must not count.
 */
const CLI_RUN_TAG = `AE_RUNNER_TEST_TAG=${process.pid}-${Date.now()}`;

/** tslab kernel processes started by this file's CLI runs and still alive (left behind). */
function fixtureKernels(): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (!cmdline.includes("tslab") || !cmdline.includes("kernel")) continue;
      if (fs.realpathSync(`/proc/${entry}/cwd`) !== fs.realpathSync(FIXTURES)) continue;
      if (fs.readFileSync(`/proc/${entry}/environ`, "utf8").split("\0").includes(CLI_RUN_TAG)) found.push(Number(entry));
    } catch {
      // the process ended meanwhile, or is not ours to read
    }
  }
  return found;
}

function codeCell(nb: Notebook, id: string): CodeCell {
  const cell = nb.cells.find((c) => c.id === id);
  if (!cell || cell.cell_type !== "code") throw new Error(`no code cell ${id}`);
  return cell;
}

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Start the CLI (its compiled copy; the ts-node way of `npm run notebooks` is test/runner-output.test.ts's). */
async function startCli(args: string[]): Promise<{ child: ChildProcess; done: Promise<CliRun> }> {
  const child = spawn(process.execPath, [...(await libScriptArgs("lib/runner/cli.ts")), ...args], {
    cwd: ROOT,
    env: { ...process.env, [CLI_RUN_TAG.split("=")[0]]: CLI_RUN_TAG.split("=")[1] },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk) => (stdout += chunk));
  child.stderr?.on("data", (chunk) => (stderr += chunk));
  const done = new Promise<CliRun>((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

describe("a successful run (two notebooks, one warm browser)", () => {
  let summary: RunSummary;
  let ok: Notebook;
  let plot: Notebook;

  const warnings: string[] = [];

  beforeAll(async () => {
    // Without the test run's TypeScript service in the environment, the runner starts its own for the two kernels.
    const runService = process.env[TS_SERVICE_ENV];
    delete process.env[TS_SERVICE_ENV];
    try {
      summary = await runNotebooks([fixture("runner-ok.ipynb"), fixture("runner-plotly.ipynb")], { mode: "quick", outDir: tmp, cellTimeoutMs: 120_000, warn: (m) => warnings.push(m) });
    } finally {
      if (runService !== undefined) process.env[TS_SERVICE_ENV] = runService;
    }
    ok = readNotebook(path.join(tmp, "runner-ok.ipynb"));
    plot = readNotebook(path.join(tmp, "runner-plotly.ipynb"));
  }, 180_000);

  it("succeeds, reports kernel start and per-cell times, and kills every kernel", () => {
    expect(summary.failures.map((r) => r.failure)).toEqual([]);
    expect(summary.ok).toBe(true);
    const [first] = summary.results;
    expect(first.kernelStartMs).toBeGreaterThan(0);
    expect(first.cells.map((c) => c.status)).toEqual(["ok", "ok", "ok", "ok", "ok"]);
    expect(first.cells.map((c) => c.executionCount)).toEqual([1, 2, 3, 4, 5]);
    for (const result of summary.results) expectKernelGone(result);
  });

  it("compiles both kernels' cells in one TypeScript service of its own, one converter per kernel, closed as each kernel ends", () => {
    expect(warnings).toEqual([]);
    expect(summary.tsService).toEqual({ sessions: 0, converters: 2, calls: summary.cellsRun }); // each kernel closed its converter as it shut down
    expect(summary.cellsRun).toBe(6); // runner-ok 5, runner-plotly 1
  });

  it("records streams, AE_MODE, counts, timing and keeps ids and metadata", () => {
    const first = codeCell(ok, "import-lib");
    expect(first.execution_count).toBe(1);
    expect(first.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "hello from the kernel\nmode: quick\n" }]);
    expect(first.metadata.tags).toEqual(["keep-me"]);
    const timing = first.metadata.execution as Record<string, string>;
    for (const key of ["iopub.execute_input", "shell.execute_reply", "iopub.status.busy", "iopub.status.idle"]) {
      expect(Date.parse(timing[key]), key).not.toBeNaN();
    }
    expect(Date.parse(timing["shell.execute_reply"])).toBeGreaterThanOrEqual(Date.parse(timing["iopub.execute_input"]));
    const source = readNotebook(fixture("runner-ok.ipynb"));
    // Ids present in the fixture are kept; the one cell without an id got a fresh one.
    expect(ok.cells.map((c) => c.id)).toEqual(["intro", "import-lib", "bundle", "raw-cell", "progress", "update", expect.stringMatching(/^[0-9a-f]{8}$/), "empty"]);
    expect(ok.cells.map((c) => c.cell_type)).toEqual(["markdown", "code", "code", "raw", "code", "code", "code", "code"]);
    expect(ok.cells[3]).toEqual(source.cells[3]);
    expect(codeCell(ok, ok.cells[6].id).outputs).toEqual([{ output_type: "stream", name: "stdout", text: "42\n" }]);
    expect(codeCell(ok, "empty").execution_count).toBeNull();
    expect(ok.metadata.kernelspec).toEqual({ name: "autoencoder-notebooks", display_name: "TypeScript (autoencoder-notebooks)", language: "typescript" });
  });

  it("keeps a multi-MIME bundle from lib's displayBundle as one output, JSON as an object", () => {
    expect(codeCell(ok, "bundle").outputs).toEqual([
      {
        output_type: "display_data",
        data: { "text/plain": "plain fallback", "text/markdown": "**bold**\nsecond line", "application/json": { answer: 42, nested: { list: [1, 2, 3] } } },
        metadata: {},
      },
    ]);
    const disk = JSON.parse(fs.readFileSync(path.join(tmp, "runner-ok.ipynb"), "utf8"));
    const bundle = disk.cells.find((c: { id: string }) => c.id === "bundle").outputs[0].data;
    expect(bundle["text/markdown"]).toEqual(["**bold**\n", "second line"]);
    expect(bundle["application/json"]).toEqual({ answer: 42, nested: { list: [1, 2, 3] } });
  });

  it("update_display_data from a later cell replaces the earlier output in place", () => {
    expect(codeCell(ok, "progress").outputs).toEqual([
      { output_type: "display_data", data: { "text/plain": "step 2 of 2", "text/markdown": "step **2** of 2" }, metadata: {} },
      { output_type: "stream", name: "stdout", text: "after the display\n" },
    ]);
    expect(codeCell(ok, "update").outputs).toEqual([
      { output_type: "stream", name: "stdout", text: "b\n" },
      { output_type: "stream", name: "stderr", text: "to stderr\n" },
    ]);
    expect(fs.readFileSync(path.join(tmp, "runner-ok.ipynb"), "utf8")).not.toContain("transient");
  });

  it.skipIf(!HAVE_CHROMIUM && process.env.CI !== "true")("a Plotly output gets an image/png rendered by chromium (never text/html)", () => {
    expect(HAVE_CHROMIUM, "chromium is required when CI=true (apt-get install chromium)").toBe(true);
    const [output] = codeCell(plot, "plot").outputs;
    const data = output.data as Record<string, unknown>;
    expect(Object.keys(data).sort()).toEqual([PLOTLY_MIME, "image/png", "text/plain"]);
    const png = Buffer.from(data["image/png"] as string, "base64");
    expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
    expect(png.readUInt32BE(16)).toBe(400); // IHDR width from layout.width
    expect(png.readUInt32BE(20)).toBe(300);
    expect(summary.results[1].png).toEqual({ rendered: 1, errors: [], skipped: false });
  });
});

describe("a cell that runs too long", () => {
  it("is stopped by the per-cell timeout; what ran is saved and the kernel is killed", async () => {
    const outPath = path.join(tmp, "timeout.ipynb");
    const started = Date.now();
    const result = await runNotebook(fixture("runner-timeout.ipynb"), { mode: "quick", outPath, cellTimeoutMs: 4000, png: false });
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(result.ok).toBe(false);
    expect(result.failure).toMatchObject({ kind: "timeout", cellIndex: 1, codeIndex: 1 });
    expect(result.saved).toBe(true);
    expectKernelGone(result);
    const nb = readNotebook(outPath);
    expect(codeCell(nb, "quick").outputs).toEqual([{ output_type: "stream", name: "stdout", text: "started\n" }]);
    expect(codeCell(nb, "slow").outputs).toEqual([{ output_type: "stream", name: "stdout", text: "waiting\n" }]);
    expect(codeCell(nb, "slow").execution_count).toBeNull();
    expect(codeCell(nb, "never").outputs).toEqual([]);
  }, 90_000);
});

describe("a kernel that dies in a cell", () => {
  it("is reported with its exit code; processes it started are killed with its process group", async () => {
    const outPath = path.join(tmp, "crash.ipynb");
    const result = await runNotebook(fixture("runner-crash.ipynb"), { mode: "quick", outPath, cellTimeoutMs: 60_000, png: false });
    expect(result.failure).toMatchObject({ kind: "kernel-died", cellIndex: 1, message: expect.stringContaining("exit code 3") });
    expect(result.cells.map((c) => c.status)).toEqual(["ok", "died"]);
    expectKernelGone(result);
    const nb = readNotebook(outPath);
    const text = String(codeCell(nb, "spawn").outputs[0].text);
    const sleeperPid = Number(/child (\d+)/.exec(text)?.[1]);
    expect(sleeperPid).toBeGreaterThan(0);
    expect(exists(sleeperPid)).toBe(false);
    expect(codeCell(nb, "crash").outputs).toEqual([{ output_type: "stream", name: "stdout", text: "exiting\n" }]);
    expect(codeCell(nb, "never").execution_count).toBeNull();
  }, 90_000);
});

describe("a runner that is killed without cleaning up", () => {
  it("takes its kernel and the kernel's process group with it (the preloaded parent watchdog)", async () => {
    const tsNode = path.join(ROOT, "node_modules", "ts-node", "dist", "bin.js");
    const helper = spawn(process.execPath, [tsNode, "--transpile-only", fixture("kernel-orphan-helper.ts")], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
    let kernelPid = 0;
    try {
      const line = await firstStdoutLine(helper, "the helper (its kernel's pid and connection file)", 60_000);
      const reported = JSON.parse(line) as { kernelPid: number; sleeperPid: number; connectionFile: string };
      kernelPid = reported.kernelPid;
      expect(fs.existsSync(reported.connectionFile)).toBe(true);
      expect(exists(kernelPid)).toBe(true);
      expect(exists(reported.sleeperPid)).toBe(true);
      helper.kill("SIGKILL");
      const deadline = Date.now() + 10_000;
      while ((exists(kernelPid) || exists(-kernelPid)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(exists(kernelPid)).toBe(false);
      expect(exists(-kernelPid)).toBe(false);
      expect(exists(reported.sleeperPid)).toBe(false);
      expect(fs.existsSync(path.dirname(reported.connectionFile))).toBe(false);
    } finally {
      helper.kill("SIGKILL"); // also when the helper never reported
      try {
        if (kernelPid) process.kill(-kernelPid, "SIGKILL"); // nothing left behind when the test fails
      } catch {
        // gone, as it should be
      }
    }
  }, 90_000);
});

describe("notebooks that cannot be run", () => {
  it("a malformed notebook gets a clear error; no kernel starts and nothing is written", async () => {
    const outPath = path.join(tmp, "malformed-out.ipynb");
    const result = await runNotebook(fixture("runner-malformed.ipynb"), { outPath, png: false });
    expect(result.failure?.kind).toBe("invalid-notebook");
    expect(result.failure?.message).toContain(fixture("runner-malformed.ipynb"));
    expect(result.failure?.message).toMatch(/not valid JSON/);
    expect(result.kernelPid).toBeNull();
    expect(result.saved).toBe(false);
    expect(fs.existsSync(outPath)).toBe(false);
  });

  it("a missing notebook says so and creates nothing", async () => {
    const missing = path.join(tmp, "missing.ipynb");
    const result = await runNotebook(missing, { png: false });
    expect(result.failure).toEqual({ kind: "invalid-notebook", message: `${missing}: no such file` });
    expect(fs.existsSync(missing)).toBe(false);
  });
});

describe("the CLI", () => {
  it("names the failing cell and its line, does not run the next cell, saves what ran and exits non-zero", async () => {
    const { done } = await startCli([fixture("runner-fail.ipynb"), fixture("runner-malformed.ipynb"), "--mode", "quick", "--out", tmp, "--no-build", "--no-png"]);
    const run = await done;
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`✗ ${fixture("runner-fail.ipynb")}`);
    expect(run.stderr).toContain("failed at cell index 2 (code cell 2 of 3): cell-error");
    expect(run.stderr).toContain("at line 2, column 7 of the cell:");
    expect(run.stderr).toContain('const wrong: number = "not a number";');
    expect(run.stderr).toContain("TypeScriptError: 2:7 - Type 'string' is not assignable to type 'number'.");
    expect(run.stderr).toContain("  traceback:\n");
    expect(run.stderr).toContain(`${fixture("runner-malformed.ipynb")}: not valid JSON`);
    expect(run.stdout).toContain("failures: runner-fail.ipynb, runner-malformed.ipynb");
    const nb = readNotebook(path.join(tmp, "runner-fail.ipynb"));
    expect(codeCell(nb, "before").outputs).toEqual([{ output_type: "stream", name: "stdout", text: "before the error\n" }]);
    expect(codeCell(nb, "bad").execution_count).toBe(2);
    // A Jupyter error output (the patched tslab), not stderr text.
    expect(codeCell(nb, "bad").outputs).toEqual([
      {
        output_type: "error",
        ename: "TypeScriptError",
        evalue: "2:7 - Type 'string' is not assignable to type 'number'.",
        traceback: ["TypeScriptError: 2:7 - Type 'string' is not assignable to type 'number'.", '  line 2 | const wrong: number = "not a number";', "         |       ^"],
      },
    ]);
    // The cell after the error did not run, and its stale output from an earlier run is gone.
    expect(codeCell(nb, "after").outputs).toEqual([]);
    expect(codeCell(nb, "after").execution_count).toBeNull();
    expect(fixtureKernels()).toEqual([]);
  }, 120_000);

  it("Ctrl-C stops the running cell, saves what ran, kills the kernel and exits 130", async () => {
    const outDir = path.join(tmp, "interrupted");
    const { child, done } = await startCli([fixture("runner-timeout.ipynb"), "--mode", "quick", "--out", outDir, "--no-build", "--no-png"]);
    let stderr = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the slow cell never started:\n${stderr}`)), 60_000);
      child.stderr?.on("data", (chunk) => {
        stderr += chunk;
        if (stderr.includes("cell 2/3 (code 2/3)")) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    await new Promise((resolve) => setTimeout(resolve, 1500)); // let "waiting" reach the runner
    child.kill("SIGINT");
    const run = await done;
    expect(run.code).toBe(130);
    expect(run.stderr).toContain("failed at cell index 1 (code cell 2 of 3): interrupted");
    const nb = readNotebook(path.join(outDir, "runner-timeout.ipynb"));
    expect(codeCell(nb, "quick").execution_count).toBe(1);
    expect(codeCell(nb, "slow").outputs).toEqual([{ output_type: "stream", name: "stdout", text: "waiting\n" }]);
    expect(codeCell(nb, "never").outputs).toEqual([]);
    expect(fixtureKernels()).toEqual([]);
  }, 120_000);
});
