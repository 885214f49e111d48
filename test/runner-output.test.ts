/**
 * The runner checks its output location before the first cell: an unwritable place fails
 * at once with the path named, nothing under /proc hangs (Node's recursive mkdir spins
 * there), SIGTERM stops a run, and a failing cell whose save fails too reports both.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CodeCell, readNotebook, writeNotebook } from "../lib/runner/notebook";
import { checkOutputLocation, makeDirectory } from "../lib/runner/output-check";
import { formatFailure } from "../lib/runner/report";
import { runNotebook } from "../lib/runner/runner";
import { libScriptArgs } from "./helpers/build";

const ROOT = path.resolve(__dirname, "..");
const FIXTURES = path.join(__dirname, "fixtures");
let tmp: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "runner-output-"));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Start the CLI (compiled, or with tsNode exactly as `npm run notebooks` does); resolves with its exit code and output. */
async function cli(args: string[], onStderr?: (text: string, kill: (signal: NodeJS.Signals) => void) => void, tsNode = false): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const script = await libScriptArgs("lib/runner/cli.ts", { tsNode });
  const started = Date.now();
  const child = spawn(process.execPath, [...script, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk) => (stdout += chunk));
  child.stderr?.on("data", (chunk) => {
    stderr += chunk;
    onStderr?.(stderr, (signal) => child.kill(signal));
  });
  const killer = setTimeout(() => child.kill("SIGKILL"), 90_000);
  return new Promise((resolve) =>
    child.on("close", (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    }),
  );
}

describe("makeDirectory and checkOutputLocation", () => {
  it("creates nested folders, and fails at once under /proc naming the level (no endless retry)", () => {
    const nested = path.join(tmp, "a", "b", "c");
    makeDirectory(nested);
    expect(fs.statSync(nested).isDirectory()).toBe(true);
    makeDirectory(nested); // again: nothing to do
    const started = Date.now();
    expect(() => makeDirectory("/proc/ae-no-such/out")).toThrow("cannot create the folder /proc/ae-no-such: ");
    expect(Date.now() - started).toBeLessThan(1000);
    fs.writeFileSync(path.join(tmp, "file"), "");
    expect(() => makeDirectory(path.join(tmp, "file", "sub"))).toThrow(path.join(tmp, "file", "sub"));
  });

  it("accepts a writable place (creating its folder), names the path and the reason otherwise", async () => {
    expect(await checkOutputLocation(path.join(tmp, "new", "dir", "x.ipynb"))).toBeNull();
    expect(fs.readdirSync(path.join(tmp, "new", "dir"))).toEqual([]); // the probe file is gone
    expect(await checkOutputLocation("/proc/ae-out/x.ipynb")).toBe("cannot write the executed notebook to /proc/ae-out/x.ipynb: cannot create the folder /proc/ae-out: ENOENT: no such file or directory, mkdir '/proc/ae-out'");
    expect(await checkOutputLocation(path.join(tmp, "file", "x.ipynb"))).toBe(`cannot write the executed notebook to ${path.join(tmp, "file", "x.ipynb")}: ${path.join(tmp, "file")} is not a folder`);
    expect(await checkOutputLocation(tmp)).toBe(`cannot write the executed notebook to ${tmp}: it is a folder`);
  });

  it("gives up after its time limit", async () => {
    // No check finishes in 1 ms (it starts a process): the probe is killed and the message says so.
    const file = path.join(tmp, "x.ipynb");
    expect(await checkOutputLocation(file, { timeoutMs: 1 })).toBe(`cannot write the executed notebook to ${file}: checking the folder did not finish within 0.001 s (a hung file system?)`);
  });
});

describe("the runner", () => {
  it("fails before starting a kernel when the output location is unwritable", async () => {
    const result = await runNotebook(path.join(FIXTURES, "runner-ok.ipynb"), { mode: "quick", outPath: "/proc/ae-out/runner-ok.ipynb", png: false });
    expect(result.failure).toEqual({ kind: "output", message: expect.stringContaining("cannot write the executed notebook to /proc/ae-out/runner-ok.ipynb") });
    expect(result.kernelPid).toBeNull();
    expect(result.cells).toEqual([]);
    expect(result.totalMs).toBeLessThan(10_000);
  });

  it("--out under /proc ends quickly with a clear error and a non-zero exit", async () => {
    // Through ts-node, as `npm run notebooks` starts it.
    const run = await cli([path.join(FIXTURES, "runner-ok.ipynb"), "--mode", "quick", "--out", "/proc/ae-out", "--no-build", "--no-png"], undefined, true);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("cannot write the executed notebook to /proc/ae-out/runner-ok.ipynb");
    expect(run.stderr).not.toContain("cell 1/");
    expect(run.ms).toBeLessThan(30_000);
  }, 60_000);

  it("SIGTERM stops a running cell, saves what ran and exits 130", async () => {
    const outDir = path.join(tmp, "sigterm");
    let sent = false;
    const run = await cli([path.join(FIXTURES, "runner-timeout.ipynb"), "--mode", "quick", "--out", outDir, "--no-build", "--no-png"], (stderr, kill) => {
      if (!sent && stderr.includes("cell 2/3 (code 2/3)")) {
        sent = true;
        setTimeout(() => kill("SIGTERM"), 1000);
      }
    });
    expect(run.code).toBe(130);
    expect(run.stderr).toContain("SIGTERM: stopping");
    expect(readNotebook(path.join(outDir, "runner-timeout.ipynb")).cells.length).toBeGreaterThan(0);
  }, 120_000);

  it("reports both a failing cell and a failed save", async () => {
    const outPath = path.join(tmp, "both", "nb.ipynb");
    const file = path.join(tmp, "both-source.ipynb");
    const cell: CodeCell = {
      cell_type: "code",
      id: "break-save",
      metadata: {},
      outputs: [],
      execution_count: null,
      // Turn the output path into a non-empty folder (the save's rename then fails, even for root), then fail.
      source: `import * as fs from "fs";\nfs.mkdirSync(${JSON.stringify(outPath)});\nfs.writeFileSync(${JSON.stringify(path.join(outPath, "x"))}, "");\nthrow new Error("the cell fails");`,
    };
    writeNotebook(file, { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [cell] });
    const result = await runNotebook(file, { mode: "quick", outPath, png: false, cellTimeoutMs: 60_000 });
    expect(result.failure).toMatchObject({ kind: "cell-error", message: "Error: the cell fails" });
    expect(result.saved).toBe(false);
    expect(result.saveError).toMatch(new RegExp(`^could not write ${outPath}: `));
    const report = formatFailure(result);
    expect(report).toContain("Error: the cell fails");
    expect(report).toContain(`and saving failed too: could not write ${outPath}: `);
  }, 120_000);
});
