/**
 * Make sure the runner can write its output before it runs a single cell: the folder is
 * created and a probe file written and removed, in a child process that is killed after a
 * bounded time (a hung network file system cannot stall the runner, and Ctrl-C/SIGTERM stay
 * responsive meanwhile). Folders are created level by level: Node's `mkdirSync(…, {recursive:
 * true})` retries forever where mkdir keeps failing with ENOENT (anywhere under /proc).
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";

export interface OutputCheckOptions {
  /** Give up (and kill the probe) after this long (default 10 s). */
  timeoutMs?: number;
  /** Stops the check (Ctrl-C). */
  signal?: AbortSignal;
}

/**
 * `mkdir -p` that always ends: creates each missing level of `dir` once, parents first, and
 * throws an error naming the level that could not be created.
 */
export function makeDirectory(dir: string): void {
  const missing: string[] = [];
  let current = path.resolve(dir);
  while (!fs.existsSync(current)) {
    missing.unshift(current);
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  if (missing.length === 0 && !fs.statSync(current).isDirectory()) throw new Error(`${current} exists and is not a folder`);
  for (const level of missing) {
    try {
      fs.mkdirSync(level);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST" && fs.statSync(level).isDirectory()) continue;
      throw new Error(`cannot create the folder ${level}: ${(error as Error).message}`);
    }
  }
}

/** The probe the child process runs: the same level-by-level mkdir, then create, write and remove a file. */
const PROBE = `
const fs = require("fs");
const path = require("path");
const dir = process.argv[1];
const missing = [];
let current = dir;
while (!fs.existsSync(current)) {
  missing.unshift(current);
  const parent = path.dirname(current);
  if (parent === current) break;
  current = parent;
}
try {
  for (const level of missing) {
    try { fs.mkdirSync(level); } catch (error) { if (error.code !== "EEXIST") throw new Error("cannot create the folder " + level + ": " + error.message); }
  }
  if (!fs.statSync(dir).isDirectory()) throw new Error(dir + " is not a folder");
  const probe = path.join(dir, ".ae-write-probe-" + process.pid);
  fs.writeFileSync(probe, "probe", { flag: "wx" });
  fs.rmSync(probe, { force: true });
} catch (error) {
  process.stderr.write(error.message);
  process.exit(1);
}
`;

/**
 * Check that `file` can be written (its folder created if needed, a probe file written there);
 * resolves to null when it can, else to an error message naming the file and the reason.
 */
export function checkOutputLocation(file: string, options: OutputCheckOptions = {}): Promise<string | null> {
  const target = path.resolve(file);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const prefix = `cannot write the executed notebook to ${target}`;
  if (fs.existsSync(target) && fs.statSync(target).isDirectory()) return Promise.resolve(`${prefix}: it is a folder`);
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["-e", PROBE, path.dirname(target)],
      { timeout: timeoutMs, killSignal: "SIGKILL", signal: options.signal, encoding: "utf8" },
      (error, _stdout, stderr) => {
        if (!error) resolve(null);
        else if (options.signal?.aborted) resolve(`${prefix}: the check was interrupted`);
        else if (error.killed || error.signal) resolve(`${prefix}: checking the folder did not finish within ${timeoutMs / 1000} s (a hung file system?)`);
        else resolve(`${prefix}: ${stderr.trim() || error.message}`);
      },
    );
  });
}
