import * as os from "os";
import * as path from "path";
import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";
import { TS_SERVICE_ENV } from "./lib/runner/ts-service";

/**
 * Seconds each slow file takes on two quiet cores (its hooks included). Two workers finish
 * together only when the long files start first: vitest orders by the durations it cached
 * from the last run, and without that cache (a fresh checkout, after npm ci) by file size,
 * which starts the short notebook test files last. These estimates stand in for a missing
 * cache; a file not listed counts as quick.
 */
const SLOW_FILES: Record<string, number> = {
  "test/4-csae-pedcc.test.ts": 55,
  "test/1-functionally-separate-autoencoder.test.ts": 52,
  "test/3-regularized-autoencoders-survey.test.ts": 49,
  "test/runner.test.ts": 48,
  "test/figure-bundle.test.ts": 46,
  "test/5-autoencoders-lecture-slides.test.ts": 45,
  "test/frontend.test.ts": 42,
  "test/2-autoencoder-learning-process-demo.test.ts": 30,
  "test/accelerate/wasm-overrides-vs-cpu.test.ts": 13,
  "test/tslab-patch.test.ts": 16,
  "test/typecheck.test.ts": 15,
  "test/runner-output.test.ts": 12,
  "test/bench.test.ts": 10,
  "test/accelerate/wasm-threads.test.ts": 9,
  "test/png-service.test.ts": 8,
  "test/tour.test.ts": 8,
  "test/runner-watchdog.test.ts": 7,
  "test/runner-anywhere.test.ts": 6,
  "test/accelerate/native-addon.test.ts": 5,
  "test/bench-models.test.ts": 4,
  "test/api.test.ts": 4,
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

/**
 * Files that need a module graph of their own: they start kernels, browsers or child processes
 * (and share lib/dist and the PNG service from the global setups), or depend on what a fresh
 * process holds (the backend chosen by initBackend, the accelerator's Adam and native addon,
 * modules reset by vi.resetModules). Every other file is a plain library test; those that only
 * call initBackend() to run on wasm and the accelerator, as notebooks do (linalg, metrics,
 * inverse, inverse-concrete, regularizers), are library tests too: initBackend may be called
 * again by any later file, and the setup file puts back the cpu backend and tfjs's optimisers.
 */
const ISOLATED_FILES = [
  // kernels, browsers, child processes
  "test/[1-5]-*.test.ts",
  "test/tour.test.ts",
  "test/figure-bundle.test.ts",
  "test/frontend.test.ts",
  "test/png-service.test.ts",
  "test/runner*.test.ts",
  "test/tslab-patch.test.ts",
  "test/bench.test.ts",
  "test/bench-models.test.ts",
  "test/accelerate/install-script.test.ts",
  "test/accelerate/wasm-threads.test.ts",
  "test/typecheck.test.ts",
  // the first backend choice, setup(), the accelerator's switches and registrations, module resets
  "test/backend.test.ts",
  "test/setup.test.ts",
  "test/run.test.ts",
  "test/api.test.ts",
  "test/optimizer-hooks.test.ts",
  "test/accelerate/fused-adam.test.ts",
  "test/accelerate/fused-momentum.test.ts",
  "test/accelerate/batch-norm.test.ts",
  "test/accelerate/native-addon.test.ts",
  "test/accelerate/wasm-layer-audit.test.ts",
  "test/accelerate/wasm-overrides-vs-cpu.test.ts",
  "test/stacked.test.ts",
];

/**
 * The run's TypeScript service (test/setup/ts-service.ts): every kernel a test starts, whichever
 * way (the runner, startKernel, Jupyter, nbconvert), inherits AE_TS_SERVICE from the workers'
 * environment and compiles its cells there, so the declaration files are parsed once per run
 * instead of once per kernel (about 3 CPU-s each, 25 kernels). The socket's path is fixed here,
 * before the setup starts the service on it, so that it can be part of the workers' environment.
 */
const TS_SERVICE_SOCKET = path.join(os.tmpdir(), `ae-ts-service-${process.pid}.sock`);

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: tensor tests and kernel-driving tests compete for them, so keep workers few.
    maxWorkers: 2,
    // Test workers share the cores, so wasm runs single-threaded here (kernels started by the
    // runner tests inherit this); test/accelerate/wasm-threads.test.ts asks for threads explicitly.
    env: { AE_WASM_THREADS: "1", [TS_SERVICE_ENV]: TS_SERVICE_SOCKET },
    sequence: { sequencer: LongestFirst },
    projects: [
      {
        extends: true,
        test: {
          name: "library",
          include: ["test/**/*.test.ts"],
          exclude: ISOLATED_FILES,
          // One module graph per worker, not per file: tfjs and lib load once per worker instead of
          // once per file. Before each file the setup file restores what a fresh process starts
          // with (cpu backend, tfjs's Adam); each file sets the backend it needs and checks its
          // own tensor counts.
          isolate: false,
          setupFiles: ["test/setup/library-file.ts"],
        },
      },
      {
        extends: true,
        test: {
          name: "isolated",
          include: ISOLATED_FILES,
          // lib/dist built once for the whole run (the files that start kernels need it current).
          // One chromium for the PNGs of every notebook kernel that runQuick starts; one TypeScript service
          // that compiles the cells of every kernel (AE_TS_SERVICE above).
          globalSetup: ["test/setup/build-lib.ts", "test/setup/png-service.ts", "test/setup/ts-service.ts"],
        },
      },
    ],
  },
});
