/**
 * `npm run bench [-- options]`: train every reference model through lib/train's trainModel on
 * real MNIST on every available backend (each model × backend in its own child process), print
 * samples/s, achieved GFLOP/s, peak RSS and tensor counts, optionally the same models in PyTorch
 * (--compare-torch) with the ratio ours ÷ PyTorch, and write the table into README.md
 * (--write-readme) and JSON (--json FILE). `--help` lists the options (lib/bench/args.ts).
 */
import { loadNativeKernels } from "../native";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { BenchArgs, BENCH_USAGE, parseBenchArgs } from "./args";
import { BackendName } from "../backend";
import { BenchCaseOptions, BenchOutcome } from "./run";
import { benchModel } from "./specs";
import {
  BenchResults, TorchResults, describeTorch, fmt, fmtRate, formatResults, machineInfo, readmeSection, replaceReadmeSection, writeFileAtomic,
} from "./report";
import { findTorchPython, runTorchCase, torchInfo } from "./torch";
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
      reject(new Error(`bench case ${options.model} on ${options.backend} took longer than ${timeoutSeconds} s; killed`));
    }, timeoutSeconds * 1000);
    child.on("error", (error) => { clearTimeout(timer); reject(error); });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split("\n").find((l) => l.startsWith(BENCH_RESULT_MARKER));
      if (code === 0 && line) {
        resolve(JSON.parse(line.slice(BENCH_RESULT_MARKER.length)) as BenchOutcome);
        return;
      }
      const tail = stderrTail.trim().split("\n").slice(-3).join(" | ");
      reject(new Error(`bench case ${options.model} on ${options.backend} failed (exit ${code ?? signal}): ${tail || "no output"}`));
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

/** Our side: every model × backend, each in a child; a backend that cannot start skips its other models. */
async function runOurs(args: BenchArgs, results: BenchResults): Promise<void> {
  const nativeStatus = loadNativeKernels();
  const nativeModes = args.native.filter((mode) => mode === "off" || nativeStatus.loaded);
  if (args.native.includes("on") && !nativeStatus.loaded) console.log(`wasm+native: not run — ${nativeStatus.summary}`);
  const variants = args.backends.flatMap((backend): Array<{ backend: BackendName; threads?: number; native?: boolean }> =>
    backend === "wasm" ? nativeModes.flatMap((mode) => args.wasmThreads.map((threads) => ({ backend, threads, native: mode === "on" }))) : [{ backend }]);
  for (const { backend, threads, native } of variants) {
    let unavailable: string | null = null;
    for (const model of args.models) {
      const spec = benchModel(model);
      if (unavailable !== null) {
        results.skips.push({ model, title: spec.title, backend, reason: unavailable, backendUnavailable: true });
        continue;
      }
      console.log(`▶ ${model} on ${backend}${native ? "+native" : ""}${threads !== undefined && threads > 1 ? ` (${threads} threads)` : ""}`);
      const options: BenchCaseOptions = {
        model, backend, samples: args.samples, batchSize: args.batchSize, learningRate: args.learningRate, warmupSteps: args.warmupSteps,
        maxSeconds: args.maxSeconds, cpuSamples: args.cpuSamples, cpuMaxSeconds: args.cpuMaxSeconds, seed: args.seed,
        ...(threads !== undefined ? { threads } : {}),
        ...(native !== undefined ? { native } : {}),
      };
      const timeout = args.maxSeconds > 0 ? 6 * args.maxSeconds + 300 : 24 * 3600;
      let outcome: BenchOutcome;
      try {
        outcome = await runCaseInChild(options, timeout);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        results.skips.push({ model, title: spec.title, backend, reason, backendUnavailable: false });
        console.log(`  failed: ${reason}`);
        continue;
      }
      if (outcome.status === "skipped") {
        results.skips.push(outcome.skip);
        console.log(`  skipped: ${outcome.skip.reason}`);
        if (outcome.skip.backendUnavailable) unavailable = outcome.skip.reason;
        continue;
      }
      const r = outcome.row;
      results.rows.push(r);
      console.log(
        `  ran on ${r.backend}: ${fmtRate(r.samplesPerSecond)} samples/s over ${fmt(r.samples)} samples (${r.seconds.toFixed(1)} s), ` +
          `${fmt(r.gflopsPerSecond, 2)} GFLOP/s, CPU util ${fmt(r.cpuUtilization, 2)}, peak RSS ${fmt(r.peakRssMiB)} MiB, tensors ${r.tensorsBefore}→${r.tensorsAfter}` +
          (r.notes.length > 0 ? `\n  note: ${r.notes.join("; ")}` : ""),
      );
      console.log(`  ${r.backendDescription}`);
    }
  }
}

/** PyTorch side: the same models in fresh Python processes, for each thread count. */
function runTorch(args: BenchArgs): TorchResults {
  const torch: TorchResults = { rows: [], failures: [] };
  const found = findTorchPython(args.python);
  if (!found.ok) {
    torch.skipped = found.reason;
    console.log(`PyTorch: skipped — ${found.reason}`);
    return torch;
  }
  try {
    torch.info = torchInfo(found.python, args.torchThreads[0]);
    console.log(describeTorch(torch.info));
  } catch (error) {
    torch.skipped = error instanceof Error ? error.message : String(error);
    console.log(`PyTorch: skipped — ${torch.skipped}`);
    return torch;
  }
  for (const threads of args.torchThreads) {
    for (const model of args.models) {
      console.log(`▶ ${model} in PyTorch (${threads} thread${threads === 1 ? "" : "s"})`);
      try {
        const row = runTorchCase(found.python, {
          model, samples: args.samples, batchSize: args.batchSize, learningRate: args.learningRate, warmupSteps: args.warmupSteps,
          maxSeconds: args.maxSeconds, threads, seed: args.seed,
        });
        torch.rows.push(row);
        console.log(`  ${fmtRate(row.samplesPerSecond)} samples/s over ${fmt(row.samples)} samples (${row.seconds.toFixed(1)} s), CPU util ${fmt(row.cpuUtilization, 2)}, peak RSS ${fmt(row.peakRssMiB)} MiB` +
          (row.notes.length > 0 ? `\n  note: ${row.notes.join("; ")}` : ""));
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        torch.failures.push({ model, threads, error: message });
        console.log(`  failed: ${message}`);
      }
    }
  }
  return torch;
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
    console.log(`${fmt(args.samples)} samples, batch ${args.batchSize}, Adam ${args.learningRate}; models ${args.models.join(", ")}; backends ${args.backends.join(", ")}`);
    await runOurs(args, results);
    if (args.compareTorch) results.torch = runTorch(args);
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
