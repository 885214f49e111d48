/**
 * Bench results: the machine they came from, console tables, the README section (between
 * `<!-- bench:start -->` and `<!-- bench:end -->`, written only by `npm run bench -- --write-readme`)
 * and atomic file writes.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { BenchArgs } from "./args";
import { BenchRow, BenchSkip, labelThreads, PeakRow } from "./run";
import { BENCH_MODELS, BenchModelId } from "./specs";
import { TorchInfo, TorchRow } from "./torch";

export const README_BENCH_START = "<!-- bench:start -->";
export const README_BENCH_END = "<!-- bench:end -->";

/** Where the numbers were measured. */
export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
}

/** The PyTorch side of a run. */
export interface TorchResults {
  info?: TorchInfo;
  rows: TorchRow[];
  /** Why nothing ran (no torch), if so. */
  skipped?: string;
  failures: Array<{ model: BenchModelId; threads: number; error: string }>;
}

/** Everything one `npm run bench` produced. */
export interface BenchResults {
  /** ISO time the run started. */
  date: string;
  /** The command as typed, e.g. "npm run bench -- --compare-torch". */
  command: string;
  machine: MachineInfo;
  args: BenchArgs;
  rows: BenchRow[];
  skips: BenchSkip[];
  torch?: TorchResults;
  /** Each engine's matrix-product peak, measured in the same run (absent with --no-peak and in results saved before issue 18). */
  peaks?: PeakRow[];
  /** The cores' arithmetic limit per thread count: register-only vector multiply-adds on the native addon (absent without it, with --no-peak, and in results saved before it). */
  arithmeticLimits?: Array<{ threads: number; gflopsPerSecond: number; description: string }>;
  /** Set when the tables were rendered again from saved results (`--from-json`): that command. */
  renderedBy?: string;
  /** 1/5/15-minute load averages before and after (the machine may be shared). */
  loadBefore: number[];
  loadAfter: number[];
  seconds: number;
}

/** CPU model (from /proc/cpuinfo), cores, memory, Node version. */
export function machineInfo(): MachineInfo {
  let cpuModel = os.cpus()[0]?.model ?? "unknown CPU";
  try {
    const lines = fs.readFileSync("/proc/cpuinfo", "utf8").split("\n");
    const field = (name: string) => lines.find((l) => l.split(":")[0].trim() === name)?.split(":").slice(1).join(":").trim();
    const flags = (field("flags") ?? "").split(/\s+/);
    const details = [
      field("cpu family") !== undefined ? `family ${field("cpu family")}, model ${field("model")}` : "",
      flags.includes("avx512f") ? "AVX-512" : flags.includes("avx2") ? "AVX2" : "",
    ].filter((d) => d !== "");
    cpuModel = (field("model name") ?? cpuModel) + (details.length > 0 ? ` (${details.join(", ")})` : "");
  } catch {
    // not Linux: os.cpus() it is
  }
  return {
    cpuModel,
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
}

/** A number with thousands separators and `digits` decimals. */
export function fmt(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return "—";
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Samples/s with 3 significant digits below 100, whole numbers above. */
export function fmtRate(value: number): string {
  if (!Number.isFinite(value)) return "—";
  return value >= 100 ? fmt(value) : value >= 10 ? fmt(value, 1) : fmt(value, 2);
}

/** A plain-text table with right-aligned numbers. */
export function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const numeric = header.map((_, i) => rows.every((r) => /^[\d,.—×%\s→*†-]*$/.test(r[i] ?? "")));
  const line = (cells: string[]) => cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ").trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** A Markdown table. */
export function markdownTable(header: string[], rows: string[][]): string {
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => /^[\d,.—×%\s→*†-]*$/.test(r[i] ?? "")));
  return [
    `| ${header.join(" | ")} |`,
    `|${header.map((_, i) => (numeric[i] ? "---:" : "---")).join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

/** The torch rows of the thread count the ratio uses: 2 if measured, else the first. */
export function ratioThreads(results: BenchResults): number | undefined {
  const threads = [...new Set((results.torch?.rows ?? []).map((r) => r.threads))];
  if (threads.length === 0) return undefined;
  return threads.includes(2) ? 2 : threads[0];
}

/** The batch size of the main rows (sweep rows have others). */
function mainBatch(results: BenchResults): number {
  return results.args.batchSize;
}

function torchRow(results: BenchResults, model: BenchModelId, threads: number | undefined, batchSize = mainBatch(results)): TorchRow | undefined {
  return results.torch?.rows.find((r) => r.model === model && r.threads === threads && r.batchSize === batchSize);
}

/** The machine's measured peak for `threads` threads: the fastest engine's matrix product with that many threads (none measured: undefined). */
export function machinePeak(results: BenchResults, threads: number): PeakRow | undefined {
  const same = (results.peaks ?? []).filter((p) => p.threads === threads);
  return same.length === 0 ? undefined : same.reduce((a, b) => (b.gflopsPerSecond > a.gflopsPerSecond ? b : a));
}

/** " The cores' arithmetic limit …": each measured limit and the share of it that the fastest product with as many threads reached ("" when none was measured). */
function arithmeticLimitNote(results: BenchResults): string {
  const limits = results.arithmeticLimits ?? [];
  if (limits.length === 0) return "";
  return " The cores' arithmetic limit, for comparison (" + limits[0].description + "): " + limits.map((l) => {
    const peak = machinePeak(results, l.threads);
    return `${fmt(l.gflopsPerSecond, 1)} GFLOP/s on ${l.threads} thread${l.threads === 1 ? "" : "s"}` + (peak ? `, of which the fastest product reaches ${((100 * peak.gflopsPerSecond) / l.gflopsPerSecond).toFixed(0)}%` : "");
  }).join("; ") + ".";
}

/** GFLOP/s as a percentage of the machine's peak with the same thread count, e.g. "23%"; "—" when no peak was measured. */
export function peakPercent(results: BenchResults, gflopsPerSecond: number, threads: number): string {
  const peak = machinePeak(results, threads);
  if (!peak || !Number.isFinite(gflopsPerSecond)) return "—";
  const percent = (100 * gflopsPerSecond) / peak.gflopsPerSecond;
  return `${percent >= 10 ? percent.toFixed(0) : percent.toFixed(1)}%`;
}

/** Training FLOPs per sample of a model (from our rows; PyTorch trains the same network). */
function flopsOf(results: BenchResults, model: BenchModelId): number {
  return results.rows.find((r) => r.model === model)?.trainingFlopsPerSample ?? NaN;
}

/** Backends that produced at least one row, in run order. */
function backendsRun(results: BenchResults): string[] {
  return [...new Set(results.rows.map((r) => r.backend))];
}

/** Console table: one line per model × backend × batch size. */
export function casesTable(results: BenchResults): string {
  const rows = results.rows.map((r) => [
    r.model, r.backend, String(r.batchSize), fmt(r.samples) + (r.samples < r.samplesRequested ? "*" : ""), fmtRate(r.samplesPerSecond), fmt(r.gflopsPerSecond, 2),
    peakPercent(results, r.gflopsPerSecond, labelThreads(r.backend)), fmt(r.cpuUtilization, 2), fmt(r.peakRssMiB), `${r.tensorsBefore}→${r.tensorsAfter}`, `${r.tensorsAtStart}→${r.tensorsAtEnd}`,
  ]);
  return textTable(["model", "backend", "batch", "samples", "samples/s", "GFLOP/s", "% of peak", "CPU util", "peak RSS MiB", "tensors run", "tensors case"], rows);
}

/** The peaks measured, one line each. */
export function peaksTable(results: BenchResults): string {
  return textTable(["peak: engine", "threads", "matrix", "GFLOP/s (fastest product)", "GFLOP/s (mean)"],
    (results.peaks ?? []).map((p) => [p.engine, String(p.threads), `${p.size}²`, fmt(p.gflopsPerSecond, 1), fmt(p.meanGflopsPerSecond ?? NaN, 1)]));
}

/**
 * The batch sweep: per sweep model and batch size, samples/s of each of our fast backends and of
 * PyTorch (ratio thread count), the first backend's GFLOP/s as a share of the peak, and ours ÷ PyTorch.
 */
export function sweepRows(results: BenchResults): { header: string[]; rows: string[][] } {
  const fast = backendsRun(results).filter((b) => b !== "cpu");
  const threads = ratioThreads(results);
  const header = ["model", "batch", ...fast.map((b) => `${b} samples/s`), ...fast.slice(0, 1).map((b) => `${b} % of peak`),
    ...(threads !== undefined ? [`PyTorch ${threads} thr samples/s`, ...fast.map((b) => `${b} ÷ PyTorch`)] : [])];
  const rows: string[][] = [];
  for (const spec of BENCH_MODELS) {
    const batches = [...new Set([...results.rows.filter((r) => r.model === spec.id && r.backend !== "cpu").map((r) => r.batchSize),
      ...(results.torch?.rows ?? []).filter((r) => r.model === spec.id).map((r) => r.batchSize)])].sort((a, b) => a - b);
    if (batches.length < 2) continue;
    for (const batch of batches) {
      const ours = fast.map((b) => results.rows.find((r) => r.model === spec.id && r.backend === b && r.batchSize === batch));
      const theirs = threads !== undefined ? torchRow(results, spec.id, threads, batch) : undefined;
      const mark = (r: { samples: number; samplesRequested: number; cpuUtilization: number }, t: number | undefined) =>
        (r.samples < r.samplesRequested ? "*" : "") + contendedMark(r.cpuUtilization, t);
      rows.push([
        spec.id, String(batch),
        ...ours.map((r) => (r ? fmtRate(r.samplesPerSecond) + mark(r, rowThreads(r)) : "—")),
        ...ours.slice(0, 1).map((r) => (r ? peakPercent(results, r.gflopsPerSecond, labelThreads(r.backend)) : "—")),
        ...(threads !== undefined ? [theirs ? fmtRate(theirs.samplesPerSecond) + mark(theirs, theirs.threads) : "—",
          ...ours.map((r) => (r && theirs ? `${(r.samplesPerSecond / theirs.samplesPerSecond).toFixed(2)}×` : "—"))] : []),
      ]);
    }
  }
  return { header, rows };
}

/** Below this fraction of the CPU a run could use (threads × wall time), it is marked contended (†). */
export const CONTENDED_UTILIZATION = 0.75;

/** "†" when a run got less than CONTENDED_UTILIZATION of the cores it could use; "" otherwise or when unknown. */
export function contendedMark(cpuUtilization: number, threads: number | undefined): string {
  return threads !== undefined && Number.isFinite(cpuUtilization) && cpuUtilization < CONTENDED_UTILIZATION * threads ? "†" : "";
}

/** Threads a row's backend computed on: recorded, else read from its description ("1 thread"), else 1 for cpu. */
function rowThreads(row: BenchRow): number | undefined {
  if (row.threads !== undefined) return row.threads;
  const match = /\b(\d+) threads?\b/.exec(row.backendDescription);
  if (match) return Number(match[1]);
  return row.backend === "cpu" ? 1 : undefined;
}

/**
 * Per model: params, FLOPs, samples/s per backend, GFLOP/s of the first backend, PyTorch per
 * thread count, and ours ÷ PyTorch for every non-cpu backend and thread count (ratio thread count first).
 * `*` marks fewer samples than asked, `†` a contended run (see contendedMark).
 */
export function comparisonRows(results: BenchResults): { header: string[]; rows: string[][] } {
  const batch = mainBatch(results);
  const main = results.rows.filter((r) => r.batchSize === batch);
  const backends = [...new Set(main.map((r) => r.backend))];
  const threads = ratioThreads(results);
  const torchThreads = [...new Set((results.torch?.rows ?? []).map((r) => r.threads))].sort((a, b) => (a === threads ? -1 : b === threads ? 1 : a - b));
  const fast = backends.filter((b) => b !== "cpu");
  const peaks = (results.peaks ?? []).length > 0;
  const header = [
    "model", "params", "train MFLOP/sample", ...backends.map((b) => `${b} samples/s`), ...backends.slice(0, 1).map((b) => `${b} GFLOP/s`),
    ...(peaks ? backends.slice(0, 1).map((b) => `${b} % of peak`) : []), ...backends.slice(0, 1).map((b) => `${b} peak RSS MiB`),
    ...torchThreads.map((t) => `PyTorch ${t} thr samples/s`), ...(peaks ? torchThreads.map((t) => `PyTorch ${t} thr % of peak`) : []),
    ...torchThreads.flatMap((t) => fast.map((b) => `${b} ÷ PyTorch ${t} thr`)),
  ];
  const marks = (r: { samples: number; samplesRequested: number; cpuUtilization: number }, threadCount: number | undefined) =>
    (r.samples < r.samplesRequested ? "*" : "") + contendedMark(r.cpuUtilization, threadCount);
  const rows: string[][] = [];
  for (const spec of BENCH_MODELS) {
    const ours = main.filter((r) => r.model === spec.id);
    const torch = torchRow(results, spec.id, threads);
    if (ours.length === 0 && !torch) continue;
    const any = ours[0];
    const cells = [spec.id, any ? fmt(any.params) : torch ? fmt(torch.params) : "—", any ? fmt(any.trainingFlopsPerSample / 1e6, 1) : "—"];
    for (const b of backends) {
      const r = ours.find((x) => x.backend === b);
      cells.push(r ? fmtRate(r.samplesPerSecond) + marks(r, rowThreads(r)) : "—");
    }
    for (const b of backends.slice(0, 1)) {
      const r = ours.find((x) => x.backend === b);
      cells.push(r ? fmt(r.gflopsPerSecond, 2) : "—");
      if (peaks) cells.push(r ? peakPercent(results, r.gflopsPerSecond, labelThreads(r.backend)) : "—");
      cells.push(r ? fmt(r.peakRssMiB) : "—");
    }
    for (const t of torchThreads) {
      const r = torchRow(results, spec.id, t);
      cells.push(r ? fmtRate(r.samplesPerSecond) + marks(r, r.threads) : "—");
    }
    if (peaks) {
      for (const t of torchThreads) {
        const r = torchRow(results, spec.id, t);
        cells.push(r ? peakPercent(results, (flopsOf(results, spec.id) * r.samplesPerSecond) / 1e9, r.threads) : "—");
      }
    }
    for (const t of torchThreads) {
      const theirs = torchRow(results, spec.id, t);
      for (const b of fast) {
        const r = ours.find((x) => x.backend === b);
        cells.push(r && theirs ? `${(r.samplesPerSecond / theirs.samplesPerSecond).toFixed(2)}×` : "—");
      }
    }
    rows.push(cells);
  }
  return { header, rows };
}

/** PyTorch's build and the BLAS/oneDNN libraries actually mapped, in one line. */
export function describeTorch(info: TorchInfo): string {
  const libs = info.blas.mappedLibraries.map((l) => l.split(" -> ").pop()!).filter((l) => /blas|lapack|dnnl|mkl/i.test(l));
  const blas = libs.filter((l) => /openblas|libblas|mkl/i.test(l)).map((l) => path.relative("/usr/lib/x86_64-linux-gnu", l).startsWith("..") ? l : path.relative("/usr/lib/x86_64-linux-gnu", l));
  const dnn = info.blas.dnn.length > 0 ? info.blas.dnn.join(", ") : info.blas.mkldnnAvailable ? "oneDNN (mkldnn)" : "none";
  const build = Object.entries(info.blas.build).map(([k, v]) => `${k}=${v}`).join(" ");
  return `PyTorch ${info.torchVersion} (${info.python}), ${info.threads} threads; build ${build || "?"}; ` +
    `BLAS mapped: ${blas.length > 0 ? blas.join(", ") : "none seen"}; convolutions: ${dnn}`;
}

/** One line per case that ran more than one round: the range of its rates and, beside PyTorch at the ratio's thread count, of the ratio round by round. */
function roundNotes(results: BenchResults): string[] {
  const range = (values: ReadonlyArray<number | null>, f: (v: number) => string, unit = "") => {
    const ran = values.filter((v): v is number => v !== null);
    return `${f(Math.min(...ran))}–${f(Math.max(...ran))}${unit}` + (ran.length < values.length ? ` (${ran.length} of ${values.length} rounds ran)` : "");
  };
  const threads = ratioThreads(results);
  const twins = new Set<TorchRow>();
  const notes: string[] = [];
  const caseName = (model: BenchModelId, batchSize: number) => `${model}${batchSize !== mainBatch(results) ? ` (batch ${batchSize})` : ""}`;
  for (const r of results.rows) {
    if (!r.rounds) continue;
    const twin = r.backend === "cpu" ? undefined : torchRow(results, r.model, threads, r.batchSize);
    const paired = twin?.rounds?.length === r.rounds.length ? r.rounds.map((v, i) => (v !== null && twin.rounds![i] !== null ? v / twin.rounds![i]! : null)) : [];
    if (twin) twins.add(twin);
    notes.push(`${caseName(r.model, r.batchSize)}: median of ${r.rounds.length} rounds; ${r.backend} ${range(r.rounds, fmtRate, " samples/s")}` +
      (twin?.rounds ? `, PyTorch ${twin.threads} thr ${range(twin.rounds, fmtRate)}` : "") +
      (paired.some((v) => v !== null) ? `; ratio by round ${range(paired, (v) => v.toFixed(2), "×")}` : ""));
  }
  for (const t of results.torch?.rows ?? []) {
    if (t.rounds && !twins.has(t)) notes.push(`${caseName(t.model, t.batchSize)}: median of ${t.rounds.length} rounds; PyTorch ${t.threads} thr ${range(t.rounds, fmtRate, " samples/s")}`);
  }
  return notes;
}

/** Notes that qualify the numbers: caps, skips, failures, load. */
export function resultNotes(results: BenchResults): string[] {
  const notes: string[] = [];
  for (const r of results.rows) for (const n of r.notes) notes.push(`${r.model} on ${r.backend}: ${n}`);
  const unavailable = new Map<string, string>();
  for (const s of results.skips) {
    if (s.backendUnavailable) unavailable.set(s.backend, s.reason);
    else notes.push(`${s.model} on ${s.backend}: skipped — ${s.reason}`);
  }
  for (const [backend, reason] of unavailable) notes.unshift(`${backend}: not run — ${reason}`);
  if (results.torch?.skipped) notes.push(`PyTorch: skipped — ${results.torch.skipped}`);
  const thr = (t: number) => `${t} thread${t === 1 ? "" : "s"}`;
  for (const r of results.torch?.rows ?? []) for (const n of r.notes) notes.push(`${r.model} in PyTorch (${thr(r.threads)}): ${n}`);
  for (const f of results.torch?.failures ?? []) notes.push(`${f.model} in PyTorch (${thr(f.threads)}): failed — ${f.error}`);
  notes.push(...roundNotes(results));
  return notes;
}

function loadText(load: number[]): string {
  return load.map((l) => l.toFixed(2)).join(" / ");
}

/** The whole result as console text. */
export function formatResults(results: BenchResults): string {
  const parts: string[] = [];
  parts.push(casesTable(results));
  const torchRows = results.torch?.rows ?? [];
  if (torchRows.length > 0) {
    parts.push(textTable(
      ["model", "PyTorch threads", "batch", "samples", "samples/s", "GFLOP/s", "% of peak", "CPU util", "peak RSS MiB", "params"],
      torchRows.map((r) => {
        const gflops = (flopsOf(results, r.model) * r.samplesPerSecond) / 1e9;
        return [r.model, String(r.threads), String(r.batchSize), fmt(r.samples) + (r.samples < r.samplesRequested ? "*" : ""), fmtRate(r.samplesPerSecond), fmt(gflops, 2),
          peakPercent(results, gflops, r.threads), fmt(r.cpuUtilization, 2), fmt(r.peakRssMiB), fmt(r.params)];
      }),
    ));
  }
  const { header, rows } = comparisonRows(results);
  parts.push(textTable(header, rows));
  const sweep = sweepRows(results);
  if (sweep.rows.length > 0) parts.push(`Batch sweep:\n${textTable(sweep.header, sweep.rows)}`);
  if ((results.peaks ?? []).length > 0) parts.push(`Peaks (% of peak: GFLOP/s ÷ the fastest engine's matrix product with the same threads):\n${peaksTable(results)}`);
  const backendLines = [...new Map(results.rows.map((r) => [r.backend, r.backendDescription])).values()];
  parts.push(["Backends that ran:", ...backendLines.map((l) => `  ${l}`)].join("\n"));
  if (results.torch?.info) parts.push(describeTorch(results.torch.info));
  const notes = resultNotes(results);
  if (notes.length > 0) parts.push(["Notes (* = fewer samples than asked; † = contended: CPU util < 0.75 × threads):", ...notes.map((n) => `  - ${n}`)].join("\n"));
  parts.push(`Load average (1/5/15 min) before: ${loadText(results.loadBefore)}; after: ${loadText(results.loadAfter)} on ${results.machine.cores} cores.`);
  return parts.join("\n\n");
}

/** The README section (Markdown, without the markers). */
export function readmeSection(results: BenchResults): string {
  const m = results.machine;
  const a = results.args;
  const lines: string[] = [];
  lines.push(
    `Written by \`${results.command}\` on ${results.date.slice(0, 16).replace("T", " ")} UTC — ${m.cpuModel}, ${m.cores} cores, ` +
      `${m.memoryGiB} GiB, Node ${m.node}. Each model trains through \`trainModel\` on the first ${fmt(a.samples)} MNIST ` +
      `training images (batch ${a.batchSize}, Adam ${a.learningRate} or the notebook's own optimiser, after ${a.warmupSteps} warm-up steps; the epoch is repeated ` +
      `until ${a.minSeconds ?? 0} s have passed, on both sides, so that neither is timed at a short burst's clock), ` +
      `each model × backend in its own process, model by model (ours, then PyTorch's)` +
      ((a.rounds ?? 1) > 1 ? `, ${a.rounds} such rounds per model: each rate is its case's median round, each ratio divides two medians, ` +
        "and the notes give each case's range over its rounds and the range of its ratio round by round" : "") +
      `. GFLOP/s counts 3 × 2 × the multiply-adds of the dense and convolution layers.` +
      (results.renderedBy ? ` (Table rendered again from that run's saved results by \`${results.renderedBy}\`.)` : ""),
  );
  lines.push("");
  const { header, rows } = comparisonRows(results);
  lines.push(markdownTable(header, rows));
  lines.push("");
  const sweep = sweepRows(results);
  if (sweep.rows.length > 0) {
    lines.push(`Batch sweep (${[...new Set(results.rows.filter((r) => r.batchSize !== results.args.batchSize).map((r) => r.model))].join(", ") || "—"}):`);
    lines.push("");
    lines.push(markdownTable(sweep.header, sweep.rows));
    lines.push("");
  }
  if ((results.peaks ?? []).length > 0) {
    lines.push(`Peak of each engine, measured in the same run (the fastest of repeated square float32 matrix products, best size); "% of peak" divides a model's GFLOP/s by the fastest of them with the same thread count: ` +
      results.peaks!.map((p) => `${p.engine} ×${p.threads} ${fmt(p.gflopsPerSecond, 1)} GFLOP/s (${p.size}²)`).join(", ") + "." + arithmeticLimitNote(results));
    lines.push("");
  }
  const byOptimizer = new Map<string, string[]>();
  for (const r of results.rows) {
    if (!r.optimizer) continue;
    const models = byOptimizer.get(r.optimizer) ?? [];
    if (!models.includes(r.model)) models.push(r.model);
    byOptimizer.set(r.optimizer, models);
  }
  if (byOptimizer.size > 0) lines.push(`- Optimisers (the notebook's own; PyTorch the same): ${[...byOptimizer].map(([o, m]) => `${m.join(", ")}: ${o}`).join("; ")}.`);
  const backendLines = [...new Map(results.rows.map((r) => [r.backend, r.backendDescription])).values()];
  for (const l of backendLines) lines.push(`- ${l.replace(/^backend: /, "Backend ")}`);
  if (results.torch?.info) lines.push(`- ${describeTorch(results.torch.info)}`);
  for (const n of resultNotes(results)) lines.push(`- ${n}`);
  lines.push(`- Load average (1/5/15 min) before: ${loadText(results.loadBefore)}; after: ${loadText(results.loadAfter)} on ${m.cores} cores.` +
    " CPU util (CPU seconds ÷ wall seconds of each timed run) is in the JSON and the console output.");
  lines.push(`- \`*\`: fewer samples than asked (see the notes above); \`†\`: the run got less than ${CONTENDED_UTILIZATION * 100}% of the CPU ` +
    "it could use (CPU util below 0.75 × its threads), so the machine was busy and that rate is too low. Options: `npm run bench -- --help`.");
  return lines.join("\n");
}

/** Put `section` between the bench markers; the first time, add "## Performance" and the markers before "## Data". */
export function replaceReadmeSection(readme: string, section: string): string {
  const start = readme.indexOf(README_BENCH_START);
  const end = readme.indexOf(README_BENCH_END);
  const block = `${README_BENCH_START}\n${section.trim()}\n${README_BENCH_END}`;
  if (start >= 0 || end >= 0) {
    if (start < 0 || end < start) throw new Error(`README: found only one of ${README_BENCH_START} and ${README_BENCH_END}, or in the wrong order; fix them by hand`);
    return readme.slice(0, start) + block + readme.slice(end + README_BENCH_END.length);
  }
  const data = readme.search(/^## Data\s*$/m);
  if (data < 0) throw new Error(`README: no "## Data" heading to put the "## Performance" section before`);
  return `${readme.slice(0, data)}## Performance\n\n${block}\n\n${readme.slice(data)}`;
}

/** Write a file atomically (temp file in the same folder, then rename). */
export function writeFileAtomic(file: string, text: string): void {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(temp, text);
  try {
    fs.renameSync(temp, file);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
}
