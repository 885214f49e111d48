/**
 * Preloaded (`node --require`) into kernels that the headless runner starts: when the
 * runner disappears without cleaning up (SIGKILL, OOM killer), the kernel's parent
 * changes; the kernel then removes its private connection-file folder and kills its
 * own process group (itself and whatever a cell started), so nothing outlives a crashed
 * run. Plain JavaScript because it runs before tslab, outside any TypeScript tooling.
 * Jupyter's kernelspec does not use it.
 */
"use strict";
(function watchParent() {
  const fs = require("fs");
  const path = require("path");
  const runnerPid = process.ppid;
  const configAt = process.argv.indexOf("--config-path");
  const connectionDir = configAt > 0 ? path.dirname(process.argv[configAt + 1] || "") : "";

  function cleanUpAndDie() {
    try {
      if (path.basename(connectionDir).startsWith("ae-kernel-")) fs.rmSync(connectionDir, { recursive: true, force: true });
    } catch {
      // best effort
    }
    try {
      process.kill(-process.pid, "SIGKILL"); // the kernel leads its own process group
    } catch {
      process.exit(1);
    }
  }

  const timer = setInterval(() => {
    if (process.ppid !== runnerPid) cleanUpAndDie();
  }, 500);
  timer.unref();
})();
