/**
 * Preloaded (`node --require`) into kernels that the headless runner starts: when the
 * runner disappears without cleaning up (SIGKILL, OOM killer), the kernel's parent
 * changes; the kernel then removes its private connection-file folder and kills its
 * own process group (itself and whatever a cell started), so nothing outlives a crashed
 * run.
 *
 * The check runs in a worker thread with its own event loop, so it keeps working while
 * the kernel's main thread is blocked (a cell running `while (true) {}`, a long
 * synchronous tensor op): a timer on the main thread would never fire then. The worker is
 * unref'd, so it never keeps a finished kernel alive. Plain JavaScript because it runs
 * before tslab, outside any TypeScript tooling. Jupyter's kernelspec does not use it.
 */
"use strict";
(function watchParent() {
  const path = require("path");
  const { isMainThread, Worker } = require("worker_threads");
  // `--require` also preloads into worker threads (the watchdog's own and any a cell starts): watch once.
  if (!isMainThread) return;
  const configAt = process.argv.indexOf("--config-path");
  const connectionDir = configAt > 0 ? path.dirname(process.argv[configAt + 1] || "") : "";
  const workerSource = `
    const fs = require("fs");
    const path = require("path");
    const { workerData } = require("worker_threads");
    const { runnerPid, kernelPid, connectionDir, intervalMs } = workerData;
    function cleanUpAndDie() {
      try {
        if (path.basename(connectionDir).startsWith("ae-kernel-")) fs.rmSync(connectionDir, { recursive: true, force: true });
      } catch {
        // best effort
      }
      try {
        process.kill(-kernelPid, "SIGKILL"); // the kernel leads its own process group
      } catch {
        process.kill(kernelPid, "SIGKILL");
      }
    }
    setInterval(() => {
      if (process.ppid !== runnerPid) cleanUpAndDie();
    }, intervalMs);
  `;
  const worker = new Worker(workerSource, {
    eval: true,
    execArgv: [], // do not preload this file into the watchdog itself
    workerData: { runnerPid: process.ppid, kernelPid: process.pid, connectionDir, intervalMs: 250 },
    // A tiny heap: the watchdog holds nothing.
    resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 2 },
    stdout: false,
    stderr: false,
  });
  worker.unref();
  worker.on("error", (error) => process.stderr.write(`parent watchdog stopped: ${error && error.message}\n`));
})();
