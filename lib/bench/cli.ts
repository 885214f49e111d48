/**
 * `npm run bench [-- options]`: train every reference model through lib/train's trainModel on
 * real MNIST on every available backend (each model × backend in its own child process), print
 * samples/s, achieved GFLOP/s, peak RSS and tensor counts, optionally the same models in PyTorch
 * (--compare-torch) with the ratio ours ÷ PyTorch, and write the table into README.md
 * (--write-readme) and JSON (--json FILE). `--help` lists the options (lib/bench/args.ts).
 */
import { loadNativeKernels, nativeAddon } from "../accelerate/native/addon";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { BenchArgs, BENCH_USAGE, parseBenchArgs } from "./args";
import { BackendName } from "../backend";
import { BenchCaseOptions, BenchOutcome, PEAK_SIZES, PeakOptions, PeakRow, TimedRun } from "./run";
import { defaultCaseKey, mergeRounds } from "./rounds";
import { benchModel, BenchModelId, BENCH_MODELS } from "./specs";
import {
  BenchResults, TorchResults, describeTorch, fmt, fmtRate, formatResults, machineInfo, readmeSection, replaceReadmeSection, writeFileAtomic,
} from "./report";
import { findTorchPython, runTorchCase, torchInfo, torchPeak } from "./torch";
import { BENCH_RESULT_MARKER } from "./worker";

/** How to start the worker: ts-node when running from source, plain node from lib/dist. */
function workerCommand(): string[] {
  if (__filename.endsWith(".ts")) {
    return [process.execPath, "-r", require.resolve("ts-node/register/transpile-only"), path.join(__dirname, "worker.ts")];
  }
  return [process.execPath, path.join(__dirname, "worker.js")];
}

/** Run one case in a child process; its progress lines are passed on to our stderr, indented. */
export function runCaseInChild(options: BenchCaseOptions, timeoutSeconds: number): Promise<BenchOutcome> {
  return runInChild(options, timeoutSeconds, `bench case ${options.model} on ${options.backend}`) as Promise<BenchOutcome>;
}

/** Measure a backend's matrix-product peak in a child process (its own backend state, as the cases). */
export function runPeakInChild(options: PeakOptions, timeoutSeconds: number): Promise<PeakRow> {
  return runInChild({ ...options, peak: true }, timeoutSeconds, `peak on ${options.backend}`) as Promise<PeakRow>;
}

function runInChild(options: object, timeoutSeconds: number, what: string): Promise<unknown> {
  const [command, ...prefix] = workerCommand();
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...prefix, JSON.stringify(options)], { stdio: ["ignore", "pipe", "pipe"], env: process.env });
    let stdout = "";
    let stderrTail = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => { stdout += chunk; });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderrTail = (stderrTail + chunk).slice(-4000);
      for (const line of chunk.split("\n")) if (line.trim() !== "") process.stderr.write(`    ${line}\n`);
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${what} took longer than ${timeoutSeconds} s; killed`));
    }, timeoutSeconds * 1000);
    child.on("error", (error) => { clearTimeout(timer); reject(error); });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split("\n").find((l) => l.startsWith(BENCH_RESULT_MARKER));
      if (code === 0 && line) {
        resolve(JSON.parse(line.slice(BENCH_RESULT_MARKER.length)));
        return;
      }
      const tail = stderrTail.trim().split("\n").slice(-3).join(" | ");
      reject(new Error(`${what} failed (exit ${code ?? signal}): ${tail || "no output"}`));
    });
  });
}

/** The project root: the nearest folder above this file whose package.json is this project's. */
export function projectRoot(): string {
  let dir = __dirname;
  for (;;) {
    const pkg = path.join(dir, "package.json");
    if (fs.existsSync(pkg)) {
      try {
        if ((JSON.parse(fs.readFileSync(pkg, "utf8")) as { name?: string }).name === "autoencoder-notebooks") return dir;
      } catch {
        // keep looking
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("bench: cannot find the project root (package.json named autoencoder-notebooks) above " + __dirname);
    dir = parent;
  }
}

/** One of our engines: a backend, and for wasm a native mode and thread count. */
type OurVariant = { backend: BackendName; threads?: number; native?: boolean };

/** Our variants: each backend, and for wasm each native mode × thread count. */
function ourVariants(args: BenchArgs): OurVariant[] {
  const nativeStatus = loadNativeKernels();
  const nativeModes = args.native.filter((mode) => mode === "off" || nativeStatus.loaded);
  if (args.native.includes("on") && !nativeStatus.loaded) console.log(`wasm+native: not run — ${nativeStatus.summary}`);
  return args.backends.flatMap((backend): OurVariant[] =>
    backend === "wasm" ? nativeModes.flatMap((mode) => args.wasmThreads.map((threads) => ({ backend, threads, native: mode === "on" }))) : [{ backend }]);
}

/** One model on one of our variants, in a child; its row or skip goes into `results`; returns a backend-unavailable reason, if any. */
async function runOurCase(args: BenchArgs, model: BenchModelId, variant: { backend: BackendName; threads?: number; native?: boolean }, results: BenchResults, batchSize = args.batchSize): Promise<string | null> {
  const { backend, threads, native } = variant;
  const spec = benchModel(model);
  console.log(`▶ ${model} on ${backend}${native ? "+native" : ""}${threads !== undefined && threads > 1 ? ` (${threads} threads)` : ""}${batchSize !== args.batchSize ? `, batch ${batchSize} (sweep)` : ""}`);
  const options: BenchCaseOptions = {
    model, backend, samples: args.samples, batchSize, learningRate: args.learningRate, warmupSteps: args.warmupSteps,
    maxSeconds: args.maxSeconds, minSeconds: args.minSeconds, cpuSamples: args.cpuSamples, cpuMaxSeconds: args.cpuMaxSeconds, seed: args.seed,
    ...(threads !== undefined ? { threads } : {}),
    ...(native !== undefined ? { native } : {}),
  };
  const timeout = args.maxSeconds > 0 ? 6 * args.maxSeconds + args.minSeconds + 300 : 24 * 3600;
  let outcome: BenchOutcome;
  try {
    outcome = await runCaseInChild(options, timeout);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    results.skips.push({ model, title: spec.title, backend, reason, backendUnavailable: false });
    console.log(`  failed: ${reason}`);
    return null;
  }
  if (outcome.status === "skipped") {
    results.skips.push(outcome.skip);
    console.log(`  skipped: ${outcome.skip.reason}`);
    return outcome.skip.backendUnavailable ? outcome.skip.reason : null;
  }
  const r = outcome.row;
  results.rows.push(r);
  console.log(
    `  ran on ${r.backend} (${r.optimizer}): ${fmtRate(r.samplesPerSecond)} samples/s over ${r.epochs} × ${fmt(r.samples)} samples (${r.seconds.toFixed(1)} s), ` +
      `${fmt(r.gflopsPerSecond, 2)} GFLOP/s, CPU util ${fmt(r.cpuUtilization, 2)}, peak RSS ${fmt(r.peakRssMiB)} MiB, tensors ${r.tensorsBefore}→${r.tensorsAfter}` +
      (r.notes.length > 0 ? `\n  note: ${r.notes.join("; ")}` : ""),
  );
  console.log(`  ${r.backendDescription}`);
  return null;
}

/** The interpreter and build facts of the PyTorch side, or why it is skipped (recorded in `torch`). */
function startTorch(args: BenchArgs, torch: TorchResults): string | null {
  const found = findTorchPython(args.python);
  if (!found.ok) {
    torch.skipped = found.reason;
    console.log(`PyTorch: skipped — ${found.reason}`);
    return null;
  }
  try {
    torch.info = torchInfo(found.python, args.torchThreads[0]);
    console.log(describeTorch(torch.info));
    return found.python;
  } catch (error) {
    torch.skipped = error instanceof Error ? error.message : String(error);
    console.log(`PyTorch: skipped — ${torch.skipped}`);
    return null;
  }
}

/** One model in PyTorch (a fresh Python process) for one thread count, recorded in `torch`. */
function runTorchCaseLogged(args: BenchArgs, python: string, model: BenchModelId, threads: number, results: BenchResults, batchSize = args.batchSize): void {
  const torch = results.torch!;
  console.log(`▶ ${model} in PyTorch (${threads} thread${threads === 1 ? "" : "s"})${batchSize !== args.batchSize ? `, batch ${batchSize} (sweep)` : ""}`);
  try {
    const row = runTorchCase(python, {
      model, samples: args.samples, batchSize, learningRate: args.learningRate, warmupSteps: args.warmupSteps,
      maxSeconds: args.maxSeconds, minSeconds: args.minSeconds, threads, seed: args.seed,
    });
    torch.rows.push(row);
    const mismatch = paramMismatch(results, row);
    if (mismatch) {
      torch.failures.push({ model, threads, error: mismatch });
      console.log(`  ✗ ${mismatch}`);
    }
    console.log(`  ${row.optimizer ?? ""}: ${fmtRate(row.samplesPerSecond)} samples/s over ${row.epochs} × ${fmt(row.samples)} samples (${row.seconds.toFixed(1)} s), CPU util ${fmt(row.cpuUtilization, 2)}, peak RSS ${fmt(row.peakRssMiB)} MiB` +
      (row.notes.length > 0 ? `\n  note: ${row.notes.join("; ")}` : ""));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    torch.failures.push({ model, threads, error: message });
    console.log(`  failed: ${message}`);
  }
}

/** An error text when a PyTorch twin's weight count differs from ours (the twins must be the same network), else null. */
export function paramMismatch(results: BenchResults, row: { model: BenchModelId; params: number }): string | null {
  const ours = results.rows.find((r) => r.model === row.model);
  if (!ours || ours.params === row.params) return null;
  return `parameter counts differ: ours ${ours.params.toLocaleString("en-US")}, PyTorch ${row.params.toLocaleString("en-US")} — the twins are not the same network`;
}

/** Each engine's matrix-product peak (ours per variant, PyTorch per thread count), into results.peaks. */
async function measurePeaks(args: BenchArgs, variants: Array<{ backend: BackendName; threads?: number; native?: boolean }>, python: string | null, results: BenchResults): Promise<void> {
  const peaks: PeakRow[] = [];
  results.peaks = peaks;
  const minSeconds = Math.max(1.5, Math.min(args.minSeconds, 3));
  for (const variant of variants) {
    console.log(`▶ peak: matrix product on ${variant.backend}${variant.native ? "+native" : ""}${(variant.threads ?? 1) > 1 ? ` (${variant.threads} threads)` : ""}`);
    try {
      const peak = await runPeakInChild({ ...variant, ...(args.peakSizes !== undefined ? { sizes: args.peakSizes } : {}), minSeconds }, 600);
      peaks.push(peak);
      console.log(`  ${peak.engine}: ${fmt(peak.gflopsPerSecond, 1)} GFLOP/s at best, ${fmt(peak.meanGflopsPerSecond ?? NaN, 1)} on average (${peak.size}² × ${peak.size}², ${peak.reps} products in ${peak.seconds.toFixed(1)} s)`);
    } catch (error) {
      console.log(`  failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const addon = nativeAddon();
  const nativeThreads = [...new Set(variants.filter((v) => v.native).map((v) => v.threads ?? 1))];
  if (addon && nativeThreads.length > 0) {
    results.arithmeticLimits = nativeThreads.map((threads) => {
      const gflopsPerSecond = addon.fmaThroughput(threads, 1);
      const description = `register-only vector multiply-adds, ${addon.describe().split(",")[0]}, ${addon.vectorFloats()} floats a vector`;
      console.log(`▶ arithmetic limit: ${fmt(gflopsPerSecond, 1)} GFLOP/s on ${threads} thread${threads === 1 ? "" : "s"} (${description})`);
      return { threads, gflopsPerSecond, description };
    });
  }
  if (python === null) return;
  for (const threads of args.torchThreads) {
    console.log(`▶ peak: torch.mm in PyTorch (${threads} thread${threads === 1 ? "" : "s"})`);
    try {
      const p = torchPeak(python, threads, args.peakSizes ?? PEAK_SIZES, minSeconds);
      const peak: PeakRow = {
        engine: "PyTorch", threads: p.threads, size: p.size, reps: p.reps, seconds: p.seconds, gflopsPerSecond: p.gflopsPerSecond, meanGflopsPerSecond: p.meanGflopsPerSecond,
        description: "torch.mm (its BLAS)",
      };
      peaks.push(peak);
      console.log(`  PyTorch: ${fmt(peak.gflopsPerSecond, 1)} GFLOP/s at best, ${fmt(peak.meanGflopsPerSecond ?? NaN, 1)} on average (${peak.size}² × ${peak.size}², ${peak.reps} products in ${peak.seconds.toFixed(1)} s)`);
    } catch (error) {
      console.log(`  failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

/** Which case each run of a round was (what was asked for: our variant or PyTorch's thread count, and the batch), for mergeRounds. */
type CaseKeys = WeakMap<TimedRun, string>;

/** Runs `measure`, names the run it adds to `runs` (if any) as case `key`, and returns what `measure` returned. */
async function keyed<T extends TimedRun, R>(runs: readonly T[], keys: CaseKeys, key: string, measure: () => R | Promise<R>): Promise<R> {
  const before = runs.length;
  const result = await measure();
  if (runs.length > before) keys.set(runs[before], key);
  return result;
}

/** One round of one model: every variant of ours (main batch, then the sweep), then PyTorch's; results go into `sink`. */
async function runModelRound(args: BenchArgs, model: BenchModelId, variants: OurVariant[], unavailable: Map<number, string>, python: string | null, sink: BenchResults, keys: CaseKeys): Promise<void> {
  // The sweep's other batch sizes (the main one is the main row) on every variant but the slow cpu backend, and in PyTorch.
  const sweep = benchModel(model).batchSweep ? args.batchSweep.filter((b) => b !== args.batchSize) : [];
  for (const [index, variant] of variants.entries()) {
    const reason = unavailable.get(index);
    if (reason !== undefined) {
      sink.skips.push({ model, title: benchModel(model).title, backend: variant.backend, reason, backendUnavailable: true });
      continue;
    }
    const failed = await keyed(sink.rows, keys, `ours ${index}|${model}|${args.batchSize}`, () => runOurCase(args, model, variant, sink));
    if (failed !== null) {
      unavailable.set(index, failed);
      continue;
    }
    if (variant.backend === "cpu") continue;
    for (const batchSize of sweep) await keyed(sink.rows, keys, `ours ${index}|${model}|${batchSize}`, () => runOurCase(args, model, variant, sink, batchSize));
  }
  if (python !== null && sink.torch) {
    const rows = sink.torch.rows;
    for (const threads of args.torchThreads) {
      for (const batchSize of [args.batchSize, ...sweep]) {
        await keyed(rows, keys, `torch ${threads}|${model}|${batchSize}`, () => runTorchCaseLogged(args, python, model, threads, sink, batchSize));
      }
    }
  }
}

/**
 * Every model on every variant of ours and, with --compare-torch, in PyTorch: model by model, so
 * that the two sides of each ratio are measured minutes apart at most (this machine's speed
 * drifts over a longer bench); with --rounds N, N alternating rounds per model and each case's
 * median round (lib/bench/rounds.ts). A backend that cannot start skips its other models.
 */
async function runAll(args: BenchArgs, results: BenchResults): Promise<void> {
  const variants = ourVariants(args);
  const unavailable = new Map<number, string>();
  let python: string | null = null;
  if (args.compareTorch) {
    results.torch = { rows: [], failures: [] };
    python = startTorch(args, results.torch);
  }
  if (args.peak) await measurePeaks(args, variants, python, results);
  const keys: CaseKeys = new WeakMap();
  for (const model of args.models) {
    const rounds: BenchResults[] = [];
    for (let round = 1; round <= args.rounds; round++) {
      if (args.rounds > 1) console.log(`— ${model}: round ${round} of ${args.rounds}`);
      const sink: BenchResults = { ...results, rows: [], skips: [], ...(results.torch ? { torch: { ...results.torch, rows: [], failures: [] } } : {}) };
      await runModelRound(args, model, variants, unavailable, python, sink, keys);
      rounds.push(sink);
    }
    mergeRounds(results, rounds, (run) => keys.get(run) ?? defaultCaseKey(run));
  }
}

/** Results saved by an earlier `--json`, checked to look like them. */
export function loadSavedResults(file: string): BenchResults {
  let parsed: BenchResults;
  try {
    parsed = JSON.parse(fs.readFileSync(file, "utf8")) as BenchResults;
  } catch (error) {
    throw new Error(`--from-json: cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!parsed || !Array.isArray(parsed.rows) || typeof parsed.command !== "string" || typeof parsed.date !== "string" || !parsed.machine) {
    throw new Error(`--from-json: ${file} is not a results file written by npm run bench -- --json`);
  }
  return parsed;
}

/** The whole bench; returns the results (and writes JSON / README when asked). */
export async function runBench(argv: readonly string[]): Promise<BenchResults | null> {
  const args = parseBenchArgs(argv);
  if (args.help) {
    console.log(BENCH_USAGE);
    return null;
  }
  const command = `npm run bench${argv.length > 0 ? ` -- ${argv.join(" ")}` : ""}`;
  let results: BenchResults;
  if (args.fromJson) {
    results = loadSavedResults(args.fromJson);
    results.renderedBy = command;
    console.log(`Results of \`${results.command}\` (${results.date}), read from ${path.resolve(args.fromJson)}; nothing measured.`);
  } else {
    const started = performance.now();
    results = {
      date: new Date().toISOString(),
      command,
      machine: machineInfo(),
      args,
      rows: [],
      skips: [],
      loadBefore: os.loadavg(),
      loadAfter: [],
      seconds: 0,
    };
    const m = results.machine;
    console.log(`${m.cpuModel} · ${m.cores} cores · ${m.memoryGiB} GiB · Node ${m.node} · load ${results.loadBefore.map((l) => l.toFixed(2)).join(" ")}`);
    console.log(`${fmt(args.samples)} samples, batch ${args.batchSize} (sweep ${args.batchSweep.join(", ") || "none"} for ${BENCH_MODELS.filter((m) => m.batchSweep).map((m) => m.id).join(", ")}), ` +
      `Adam ${args.learningRate} unless the notebook trains with another optimiser; models ${args.models.join(", ")}; backends ${args.backends.join(", ")}`);
    await runAll(args, results);
    results.loadAfter = os.loadavg();
    results.seconds = (performance.now() - started) / 1000;
  }
  console.log("\n" + formatResults(results));
  if (args.json) {
    writeFileAtomic(path.resolve(args.json), JSON.stringify(results, null, 2) + "\n");
    console.log(`\nJSON: ${path.resolve(args.json)}`);
  }
  if (args.writeReadme) {
    const readme = args.readme ? path.resolve(args.readme) : path.join(projectRoot(), "README.md");
    const text = fs.readFileSync(readme, "utf8");
    writeFileAtomic(readme, replaceReadmeSection(text, readmeSection(results)));
    console.log(`README: the Performance section of ${readme} now holds these results`);
  }
  // One line per model: a twin is compared at every thread count, batch size and round.
  const mismatches = [...new Map((results.torch?.failures ?? []).filter((f) => /parameter counts differ/.test(f.error)).map((f) => [f.model, f])).values()];
  if (mismatches.length > 0) {
    console.error(`bench: ${mismatches.length} PyTorch twin(s) are not the same network as ours: ${mismatches.map((f) => `${f.model} (${f.error})`).join("; ")}`);
    process.exitCode = 1;
  }
  return results;
}

if (require.main === module) {
  runBench(process.argv.slice(2)).then(
    () => process.exit(0),
    (error) => {
      console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
