/**
 * A kernel never outlives its runner: SIGKILL the runner while a cell blocks the kernel's
 * main thread (`while (true) {}`), and the preloaded watchdog (a worker thread in the
 * kernel) still kills the kernel's process group and removes its connection folder.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { exists, firstStdoutLine } from "./helpers/processes";

const ROOT = path.resolve(__dirname, "..");

/** The process's state letter from /proc (R running, S sleeping, Z zombie), or null when gone. */
function procState(pid: number): string | null {
  try {
    return /\) (\S)/.exec(fs.readFileSync(`/proc/${pid}/stat`, "utf8"))?.[1] ?? null;
  } catch {
    return null;
  }
}

describe("a runner killed while a cell spins", () => {
  it("takes the busy kernel with it within a few seconds and removes the connection folder", async () => {
    const tsNode = path.join(ROOT, "node_modules", "ts-node", "dist", "bin.js");
    const helper = spawn(process.execPath, [tsNode, "--transpile-only", path.join(ROOT, "test", "fixtures", "kernel-spin-helper.ts")], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let kernelPid = 0;
    try {
      const line = await firstStdoutLine(helper, "the helper (its kernel's pid and connection file)", 90_000);
      const reported = JSON.parse(line) as { kernelPid: number; connectionFile: string };
      kernelPid = reported.kernelPid;
      const connectionFile = reported.connectionFile;
      expect(fs.existsSync(connectionFile)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(procState(kernelPid), "the kernel should be spinning in the cell").toBe("R");
      helper.kill("SIGKILL");
      const killedAt = Date.now();
      while ((exists(kernelPid) || exists(-kernelPid)) && Date.now() - killedAt < 5_000) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(exists(kernelPid), "kernel alive 5 s after its runner died").toBe(false);
      expect(exists(-kernelPid)).toBe(false);
      expect(fs.existsSync(path.dirname(connectionFile))).toBe(false);
    } finally {
      helper.kill("SIGKILL"); // also when the helper never reported: its kernel's watchdog then ends the kernel
      try {
        if (kernelPid) process.kill(-kernelPid, "SIGKILL"); // never leave a spinning kernel behind, even when the test fails
      } catch {
        // gone, as it should be
      }
    }
  }, 120_000);
});
