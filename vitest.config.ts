import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: tensor tests and kernel-driving tests compete for them, so keep workers few.
    maxWorkers: 2,
    // Test workers share the cores, so wasm runs single-threaded here (kernels started by the
    // runner tests inherit this); test/accelerate/wasm-threads.test.ts asks for threads explicitly.
    env: { AE_WASM_THREADS: "1" },
    // lib/dist built once for the whole run (the files that start kernels need it current).
    globalSetup: ["test/setup/build-lib.ts"],
  },
});
