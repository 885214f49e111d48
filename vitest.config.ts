import * as path from "path";
import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * Seconds each slow file takes on two quiet cores (its hooks included). Two workers finish
 * together only when the long files start first: vitest orders by the durations it cached
 * from the last run, and without that cache (a fresh checkout, after npm ci) by file size,
 * which starts the short notebook test files last. These estimates stand in for a missing
 * cache; a file not listed counts as quick.
 */
const SLOW_FILES: Record<string, number> = {
  "test/1-functionally-separate-autoencoder.test.ts": 70,
  "test/4-csae-pedcc.test.ts": 70,
  "test/frontend.test.ts": 60,
  "test/5-autoencoders-lecture-slides.test.ts": 55,
  "test/figure-bundle.test.ts": 50,
  "test/runner.test.ts": 50,
  "test/3-regularized-autoencoders-survey.test.ts": 45,
  "test/2-autoencoder-learning-process-demo.test.ts": 45,
  "test/tour.test.ts": 20,
  "test/accelerate/wasm-overrides-vs-cpu.test.ts": 15,
  "test/tslab-patch.test.ts": 10,
  "test/runner-output.test.ts": 8,
  "test/bench.test.ts": 8,
  "test/runner-watchdog.test.ts": 8,
  "test/png-service.test.ts": 8,
  "test/runner-anywhere.test.ts": 6,
  "test/accelerate/wasm-threads.test.ts": 5,
};

/** Longest first: the last run's cached duration where vitest has one, else the estimate above. */
class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    const key = (f: TestSpecification): string => path.relative(root, f.moduleId).split(path.sep).join("/");
    const ms = (f: TestSpecification): number => this.ctx.cache.getFileTestResults(`${f.project.name}:${key(f)}`)?.duration ?? (SLOW_FILES[key(f)] ?? 0) * 1000;
    const failed = (f: TestSpecification): boolean => this.ctx.cache.getFileTestResults(`${f.project.name}:${key(f)}`)?.failed ?? false;
    const bySize = await super.sort(files); // ties (quick files without a cache entry) keep vitest's order
    return bySize
      .map((f, i) => ({ f, i }))
      .sort((a, b) => Number(failed(b.f)) - Number(failed(a.f)) || ms(b.f) - ms(a.f) || a.i - b.i)
      .map(({ f }) => f);
  }
}

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
    // One chromium for the PNGs of every notebook kernel that runQuick starts.
    globalSetup: ["test/setup/build-lib.ts", "test/setup/png-service.ts"],
    sequence: { sequencer: LongestFirst },
  },
});
