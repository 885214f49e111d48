import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { parseBenchArgs, defaultBenchArgs, parseProfileArgs, defaultProfileArgs, readCommandLine } from "../lib/bench/args";
import { benchBackendLabel, runBenchCase, BenchRow } from "../lib/bench/run";
import type { BackendReport } from "../lib/backend";
import { benchModel, BENCH_MODELS, BENCH_MODEL_IDS } from "../lib/bench/specs";
import {
  BenchResults, comparisonRows, contendedMark, formatResults, machineInfo, readmeSection, replaceReadmeSection, writeFileAtomic,
  README_BENCH_START, README_BENCH_END,
} from "../lib/bench/report";
import { findTorchPython } from "../lib/bench/torch";
import { runBench } from "../lib/bench/cli";
import { defaultCaseKey, medianRound, mergeRounds } from "../lib/bench/rounds";

let tmp: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bench-test-"));
  await tf.setBackend("cpu");
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe("benchBackendLabel", () => {
  it("names wasm's threads and whether the native kernels ran", () => {
    const wasm = (threads: number, native: string, nativeThreads?: number) =>
      ({ name: "wasm", threads, native, ...(nativeThreads !== undefined ? { nativeThreads } : {}) } as unknown as BackendReport);
    expect(benchBackendLabel(wasm(1, "native kernels off (AE_NATIVE=0)"))).toBe("wasm");
    expect(benchBackendLabel(wasm(2, "native kernels not built (…)"))).toBe("wasm×2");
    expect(benchBackendLabel(wasm(1, "native matrix products, convolutions, Adam and element-wise kernels (AVX-512, 8×32 register tile, 1 thread)", 1))).toBe("wasm+native");
    expect(benchBackendLabel(wasm(1, "native matrix products, convolutions, Adam and element-wise kernels (AVX-512, 8×32 register tile, 2 threads)", 2))).toBe("wasm+native×2");
    expect(benchBackendLabel({ name: "cpu" } as unknown as BackendReport)).toBe("cpu");
  });
});

describe("parseBenchArgs", () => {
  it("defaults: 12,000 samples, batch 128, Adam 1e-3, every model and backend, 2 PyTorch threads", () => {
    const args = parseBenchArgs([]);
    expect(args).toEqual(defaultBenchArgs());
    expect(args).toMatchObject({ samples: 12_000, batchSize: 128, learningRate: 1e-3, compareTorch: false, writeReadme: false, torchThreads: [2], wasmThreads: [1], native: ["off", "on"] });
    expect(args.models).toEqual([...BENCH_MODEL_IDS]);
    expect(args.backends).toEqual(["tensorflow", "wasm", "cpu"]);
  });

  it("reads values in both --flag value and --flag=value form, aliases and lists", () => {
    const args = parseBenchArgs([
      "--samples", "512", "--batch=64", "--models", "mlp,cae,csae,fsae,cnn,mlp", "--backends=wasm,cpu", "--compare-torch",
      "--write-readme", "--json", "/tmp/x.json", "--warmup", "0", "--max-seconds=0", "--cpu-samples", "256", "--torch-threads", "1,2",
      "--wasm-threads", "1,2,2", "--native", "on,on", "--lr", "0.01", "--seed", "4", "--python", "/usr/bin/python3", "--readme", "R.md", "--cpu-max-seconds", "5", "--min-seconds", "0",
    ]);
    expect(args).toMatchObject({
      samples: 512, batchSize: 64, backends: ["wasm", "cpu"], compareTorch: true, writeReadme: true, json: "/tmp/x.json", warmupSteps: 0,
      maxSeconds: 0, cpuSamples: 256, torchThreads: [1, 2], wasmThreads: [1, 2], native: ["on"], learningRate: 0.01, seed: 4, python: "/usr/bin/python3", readme: "R.md", cpuMaxSeconds: 5, minSeconds: 0,
    });
    expect(parseBenchArgs([]).minSeconds).toBe(3);
    expect(parseBenchArgs([])).toMatchObject({ batchSweep: [32, 64, 128, 256], peak: true });
    expect(parseBenchArgs(["--batch-sweep", "256,32,64,32", "--no-peak", "--peak-sizes=512,256,512"])).toMatchObject({ batchSweep: [32, 64, 256], peak: false, peakSizes: [512, 256] });
    expect(parseBenchArgs(["--batch-sweep", "none"]).batchSweep).toEqual([]);
    expect(parseBenchArgs([]).rounds).toBe(1);
    expect(parseBenchArgs(["--rounds", "3"]).rounds).toBe(3);
    expect(args.models).toEqual(["mlp-ae", "conv-dae", "csae-l", "fsae-classifier", "cnn"]);
    expect(parseBenchArgs(["-h"]).help).toBe(true);
  });

  it("fails with the flag's name on bad input", () => {
    expect(() => parseBenchArgs(["--samples", "0"])).toThrow(/--samples must be an integer ≥ 1/);
    expect(() => parseBenchArgs(["--samples", "12k"])).toThrow(/--samples must be an integer/);
    expect(() => parseBenchArgs(["--rounds", "0"])).toThrow(/--rounds must be an integer ≥ 1, got "0"/);
    expect(() => parseBenchArgs(["--rounds", "1.5"])).toThrow(/--rounds must be an integer ≥ 1/);
    expect(() => parseBenchArgs(["--samples", "60001"])).toThrow(/--samples must be at most 60000/);
    expect(() => parseBenchArgs(["--batch"])).toThrow(/--batch needs a value/);
    expect(() => parseBenchArgs(["--models", "resnet"])).toThrow(/--models: unknown model "resnet"/);
    expect(() => parseBenchArgs(["--backends", "webgl"])).toThrow(/--backends: unknown backend "webgl"/);
    expect(() => parseBenchArgs(["--fast"])).toThrow(/unknown option "--fast"/);
    expect(() => parseBenchArgs(["--compare-torch=yes"])).toThrow(/--compare-torch takes no value/);
    expect(() => parseBenchArgs(["--lr", "-1"])).toThrow(/--lr must be a positive number/);
    expect(() => parseBenchArgs(["--native", "yes"])).toThrow(/--native: expected "off" and\/or "on", got "yes"/);
    expect(() => parseBenchArgs(["--seed", "1", "extra"])).toThrow(/unexpected argument "extra"/);
    expect(() => parseBenchArgs(["--json"])).toThrow(/--json needs a value/);
    expect(() => parseBenchArgs(["--batch-sweep", "32,0"])).toThrow(/--batch-sweep must be an integer ≥ 1, got "0"/);
    expect(() => parseBenchArgs(["--peak-sizes", "big"])).toThrow(/--peak-sizes must be an integer ≥ 1/);
    expect(() => parseBenchArgs(["--no-peak=1"])).toThrow(/--no-peak takes no value/);
  });
});

describe("readCommandLine", () => {
  const options = { n: { type: "string" as const }, on: { type: "boolean" as const }, help: { type: "boolean" as const, short: "h" } };

  it("reads both value forms, short aliases and repeats in order, under the long name", () => {
    expect(readCommandLine(["--n", "1", "-h", "--n=-2", "--on"], options)).toEqual([
      { name: "n", flag: "--n", value: "1" }, { name: "help", flag: "-h", value: true }, { name: "n", flag: "--n", value: "-2" }, { name: "on", flag: "--on", value: true },
    ]);
  });

  it("names the flag or argument that is wrong", () => {
    expect(() => readCommandLine(["--m", "1"], options)).toThrow(/unknown option "--m" \(see --help\)/);
    expect(() => readCommandLine(["-x"], options)).toThrow(/unknown option "-x"/);
    expect(() => readCommandLine(["--n"], options)).toThrow(/^--n needs a value$/);
    expect(() => readCommandLine(["--on=1"], options)).toThrow(/^--on takes no value$/);
    expect(() => readCommandLine(["stray"], options)).toThrow(/unexpected argument "stray"/);
    expect(() => readCommandLine(["--", "--n"], options)).toThrow(/unexpected argument "--"/);
  });
});

describe("parseProfileArgs", () => {
  it("defaults: mlp, cae, cnn for 5 steps of batch 128 on wasm with our kernels", () => {
    expect(parseProfileArgs([])).toEqual(defaultProfileArgs());
    expect(parseProfileArgs([])).toEqual({ models: ["mlp", "cae", "cnn"], steps: 5, batchSize: 128, backend: "wasm", stock: false, profileTrain: false, shapes: false, help: false });
  });

  it("reads every option", () => {
    expect(parseProfileArgs(["--models", "cnn,cnn", "--steps=0", "--batch", "32", "--backend", "cpu", "--stock", "--train", "512", "--profile-train", "--shapes", "--bench", "mlp,csae", "-h"])).toEqual({
      models: ["cnn"], steps: 0, batchSize: 32, backend: "cpu", stock: true, train: 512, profileTrain: true, shapes: true, bench: ["mlp-ae", "csae-l"], help: true,
    });
  });

  it("fails with the flag's name on bad input", () => {
    expect(() => parseProfileArgs(["--steps", "-1"])).toThrow(/--steps must be an integer ≥ 0, got "-1"/);
    expect(() => parseProfileArgs(["--batch", "x"])).toThrow(/--batch must be an integer ≥ 1, got "x"/);
    expect(() => parseProfileArgs(["--train"])).toThrow(/--train needs a value/);
    expect(() => parseProfileArgs(["--train", "70000"])).toThrow(/--train must be at most 60000/);
    expect(() => parseProfileArgs(["--backend", "webgl"])).toThrow(/--backend: unknown backend "webgl"/);
    expect(() => parseProfileArgs(["--bench", "resnet"])).toThrow(/--bench: unknown model "resnet"/);
    expect(() => parseProfileArgs(["--stock=yes"])).toThrow(/--stock takes no value/);
    expect(() => parseProfileArgs(["--warmup", "3"])).toThrow(/unknown option "--warmup"/);
  });
});

describe("bench model specs", () => {
  it("lists issue 3's five reference models and issue 18's eight with their parameter counts", () => {
    expect(BENCH_MODELS.map((m) => m.id)).toEqual([...BENCH_MODEL_IDS]);
    const counts: Record<string, number> = {};
    for (const spec of BENCH_MODELS) {
      const before = tf.memory().numTensors;
      const prepared = spec.prepare(8, 0);
      counts[spec.id] = prepared.params;
      expect(prepared.trainingFlopsPerSample).toBeGreaterThan(0);
      for (const t of Object.values(prepared.data)) expect(t.shape[0]).toBe(8);
      prepared.dispose();
      expect(tf.memory().numTensors).toBe(before);
    }
    expect(counts).toEqual({
      "mlp-ae": 660_824, "conv-dae": 2_561, cnn: 4_022_090, "csae-l": 660_824, "fsae-classifier": 4_022_090,
      "csae-c": 283_065, "csae-encoder": 192_152, basenet: 151_802, cvae: 684_864,
      "pool-cae-random": 2_633, "pool-cae-even": 2_633, "pool-cae-switches": 2_633, concrete: 2_013_377,
    });
    expect(benchModel("CAE").id).toBe("conv-dae");
  });
});

describe("runBenchCase (in-process, cpu backend)", () => {
  it("trains a few samples through trainModel and reports a row with positive samples/s and no leaked tensors", async () => {
    // minSeconds 0 times exactly one epoch; then epochs repeat until minSeconds has passed. minSeconds is 3 one-epoch
    // times (at least 1 s), so that more than one epoch runs however loaded the machine is (a fixed 1 s was less than
    // one epoch under a load of 11 on 2 cores).
    const base = { model: "mlp-ae" as const, backend: "cpu" as const, samples: 16, batchSize: 16, warmupSteps: 1, maxSeconds: 0 };
    const single = await runBenchCase({ ...base, minSeconds: 0 });
    expect(single.status).toBe("ok");
    const one = (single as { row: BenchRow }).row;
    expect(one.epochs).toBe(1);
    const minSeconds = Math.max(1, 3 * one.seconds);
    const outcome = await runBenchCase({ ...base, minSeconds });
    expect(outcome.status).toBe("ok");
    const row = (outcome as { row: BenchRow }).row;
    expect(row.backend).toBe("cpu");
    expect(row.backendDescription).toMatch(/^backend: cpu/);
    expect(row.samples).toBe(16);
    expect(row.epochs).toBeGreaterThan(1);
    expect(row.seconds).toBeGreaterThanOrEqual(minSeconds);
    expect(row.samplesPerSecond).toBeCloseTo((16 * row.epochs) / row.seconds, 6);
    expect(row.cpuSeconds).toBeGreaterThan(0);
    expect(row.cpuUtilization).toBeCloseTo(row.cpuSeconds / row.seconds, 9);
    expect(row.gflopsPerSecond).toBeCloseTo((row.samplesPerSecond * 3 * 2 * 659_200) / 1e9, 9);
    expect(row.peakRssMiB).toBeGreaterThan(10);
    expect(row.tensorsAfter).toBe(row.tensorsBefore);
    expect(row.tensorsAtEnd).toBe(row.tensorsAtStart);
    expect(Object.keys(row.loss)).toEqual(["reconstruction", "total"]);
    expect(Number.isFinite(row.loss.total)).toBe(true);
  });

  it("caps the cpu backend's samples and says so", async () => {
    const outcome = await runBenchCase({ model: "csae-l", backend: "cpu", samples: 256, cpuSamples: 64, batchSize: 32, warmupSteps: 0, maxSeconds: 0, minSeconds: 0 });
    expect(outcome.status).toBe("ok");
    const row = (outcome as { row: BenchRow }).row;
    expect(row.samples).toBe(64);
    expect(row.epochs).toBe(1);
    expect(row.samplesRequested).toBe(256);
    expect(row.notes.join(" ")).toMatch(/capped at 64 \(--cpu-samples\)/);
    expect(Object.keys(row.loss).sort()).toEqual(["centroid", "laplacian", "pixel", "total"]);
  });

  it("skips a convolutional model on cpu when it would take too long, with the estimate", async () => {
    const before = tf.memory().numTensors;
    const outcome = await runBenchCase({ model: "cnn", backend: "cpu", samples: 1024 });
    expect(outcome.status).toBe("skipped");
    if (outcome.status === "skipped") {
      expect(outcome.skip.reason).toMatch(/cpu backend would take ≈ \d+ s .* > 60 s \(--cpu-max-seconds\)/);
      expect(outcome.skip.backendUnavailable).toBe(false);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

/** A hand-made result for the formatting tests. */
function fakeResults(): BenchResults {
  const row = (model: "mlp-ae" | "conv-dae", backend: string, samplesPerSecond: number): BenchRow => ({
    model, title: model, backend, backendDescription: `backend: ${backend} · tfjs 4.22.0`, samples: 1024, epochs: 1, samplesRequested: model === "conv-dae" ? 2048 : 1024,
    batchSize: 128, seconds: 1, cpuSeconds: 0.9, cpuUtilization: 0.9, samplesPerSecond, gflopsPerSecond: 1, params: 10, trainingFlopsPerSample: 2e6, peakRssMiB: 300,
    tensorsBefore: 20, tensorsAfter: 20, tensorsAtStart: 0, tensorsAtEnd: 0, warmupSteps: 3, warmupSeconds: 0.1, loss: {}, notes: [],
  });
  const torchRow = (model: "mlp-ae" | "conv-dae", threads: number, samplesPerSecond: number) => ({
    model, samples: 1024, epochs: 1, samplesRequested: 1024, batchSize: 128, seconds: 1, cpuSeconds: 1.5, cpuUtilization: 1.5, samplesPerSecond, params: 10, threads, warmupSteps: 3,
    warmupSeconds: 0.1, loss: 0.1, peakRssMiB: 300, torchVersion: "1.13", python: "/usr/bin/python3", notes: [],
  });
  return {
    date: "2026-01-02T03:04:05.000Z", command: "npm run bench -- --compare-torch", machine: machineInfo(), args: defaultBenchArgs(),
    rows: [row("mlp-ae", "wasm", 500), row("conv-dae", "wasm", 300), row("mlp-ae", "cpu", 100)],
    skips: [{ model: "mlp-ae", title: "", backend: "tensorflow", reason: "tfjs-node not installed", backendUnavailable: true },
      { model: "conv-dae", title: "", backend: "tensorflow", reason: "tfjs-node not installed", backendUnavailable: true }],
    torch: {
      rows: [torchRow("mlp-ae", 1, 4000), torchRow("mlp-ae", 2, 1000), torchRow("conv-dae", 2, 600)].map((r) => (r.threads === 2 ? { ...r, cpuUtilization: 1.2 } : r)),
      failures: [],
      info: { python: "/usr/bin/python3", torchVersion: "1.13", threads: 2, blas: { build: { BLAS_INFO: "generic" }, dnn: ["MKL-DNN v2.6.3"], mkldnnAvailable: true, mappedLibraries: ["/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3"], parallel: [] } },
    },
    loadBefore: [1, 1, 1], loadAfter: [2, 2, 2], seconds: 10,
  };
}

describe("bench report", () => {
  it("computes ours ÷ PyTorch per model and thread count (2 threads first), marks caps (*) and contended runs (†)", () => {
    const { header, rows } = comparisonRows(fakeResults());
    expect(header).toEqual([
      "model", "params", "train MFLOP/sample", "wasm samples/s", "cpu samples/s", "wasm GFLOP/s", "wasm peak RSS MiB",
      "PyTorch 2 thr samples/s", "PyTorch 1 thr samples/s", "wasm ÷ PyTorch 2 thr", "wasm ÷ PyTorch 1 thr",
    ]);
    // PyTorch with 2 threads used 1.2 CPU s per s < 0.75 × 2: contended (†)
    expect(rows[0]).toEqual(["mlp-ae", "10", "2.0", "500", "100", "1.00", "300", "1,000†", "4,000", "0.50×", "0.13×"]);
    expect(rows[1]).toEqual(["conv-dae", "10", "2.0", "300*", "—", "1.00", "300", "600†", "—", "0.50×", "—"]);
  });

  it("contendedMark: below 0.75 × threads, only when the thread count is known", () => {
    expect(contendedMark(0.74, 1)).toBe("†");
    expect(contendedMark(0.75, 1)).toBe("");
    expect(contendedMark(1.4, 2)).toBe("†");
    expect(contendedMark(0.1, undefined)).toBe("");
  });

  it("prints which backend ran, the BLAS, the notes and groups an unavailable backend into one note", () => {
    const text = formatResults(fakeResults());
    expect(text).toContain("backend: wasm · tfjs 4.22.0");
    expect(text).toContain("openblas-openmp/libblas.so.3");
    expect(text.match(/tensorflow: not run — tfjs-node not installed/g)).toHaveLength(1);
    expect(text).toMatch(/Load average .* before: 1\.00 \/ 1\.00 \/ 1\.00; after: 2\.00/);
  });

  it("puts the section under '## Performance' before '## Data' once, then replaces it between the markers", () => {
    const readme = "# T\n\nintro\n\n## Backends\n\ntext\n\n## Data\n\ndata text\n";
    const section = readmeSection(fakeResults());
    expect(section).toContain("`npm run bench -- --compare-torch`");
    expect(section).toContain("| mlp-ae |");
    const once = replaceReadmeSection(readme, section);
    expect(once.indexOf("## Performance")).toBeLessThan(once.indexOf("## Data"));
    expect(once.indexOf("## Backends")).toBeLessThan(once.indexOf("## Performance"));
    const twice = replaceReadmeSection(once, "new table");
    expect(twice.split(README_BENCH_START)).toHaveLength(2);
    expect(twice.split("## Performance")).toHaveLength(2);
    expect(twice).toContain(`${README_BENCH_START}\nnew table\n${README_BENCH_END}`);
    expect(twice).not.toContain("| mlp-ae |");
    expect(twice.endsWith("## Data\n\ndata text\n")).toBe(true);
    expect(() => replaceReadmeSection("# no data heading\n", "x")).toThrow(/no "## Data" heading/);
    expect(() => replaceReadmeSection(`${README_BENCH_END}\n${README_BENCH_START}`, "x")).toThrow(/wrong order/);
  });

  it("writes files atomically (no temp file left)", () => {
    const file = path.join(tmp, "out.json");
    writeFileAtomic(file, "{}\n");
    writeFileAtomic(file, "[1]\n");
    expect(fs.readFileSync(file, "utf8")).toBe("[1]\n");
    expect(fs.readdirSync(tmp).filter((f) => f.includes(".tmp"))).toEqual([]);
  });

  it("names the interpreters it tried when no Python with torch is found", () => {
    const found = findTorchPython(path.join(tmp, "no-such-python"));
    expect(found.ok).toBe(false);
    if (!found.ok) expect(found.reason).toMatch(/no-such-python: not found/);
  });
});

describe("bench rounds (--rounds N)", () => {
  /** fakeResults' cases with every rate scaled (one round of them), and one PyTorch failure. */
  function round(oursScale: number, torchScale: number): BenchResults {
    const r = fakeResults();
    r.rows = r.rows.map((row) => ({ ...row, samplesPerSecond: row.samplesPerSecond * oursScale }));
    r.torch!.rows = r.torch!.rows.map((row) => ({ ...row, samplesPerSecond: row.samplesPerSecond * torchScale }));
    r.torch!.failures = [{ model: "conv-dae", threads: 1, error: "boom" }];
    return r;
  }

  /** An empty result to merge N rounds into. */
  function emptyInto(rounds: number): BenchResults {
    const into = { ...fakeResults(), args: { ...defaultBenchArgs(), rounds }, rows: [], skips: [] } as BenchResults;
    into.torch = { ...into.torch!, rows: [], failures: [] };
    return into;
  }

  it("medianRound: the middle rate of the rounds that ran (the lower middle for an even count), carrying each round's rate by round", () => {
    const runs = [3, 1, 2].map((v) => ({ ...fakeResults().rows[0], samplesPerSecond: v, seconds: v }));
    expect(medianRound(runs)).toMatchObject({ samplesPerSecond: 2, seconds: 2, rounds: [3, 1, 2] });
    expect(medianRound(runs.slice(0, 2))).toMatchObject({ samplesPerSecond: 1, rounds: [3, 1] });
    expect(medianRound([null, runs[0], runs[1]])).toMatchObject({ samplesPerSecond: 1, rounds: [null, 3, 1] });
    expect(() => medianRound([null, null])).toThrow(/no run succeeded/);
  });

  it("one round: rows, skips and failures pass through as they are, with no rounds and no round notes", () => {
    const into = emptyInto(1);
    mergeRounds(into, [fakeResults()]);
    expect(into.rows).toEqual(fakeResults().rows);
    expect(into.skips).toEqual(fakeResults().skips);
    expect(into.torch!.rows).toEqual(fakeResults().torch!.rows);
    expect(formatResults(into)).not.toMatch(/\brounds?\b/);
    expect(readmeSection(into)).not.toMatch(/\brounds?\b/);
  });

  it("N rounds: one median row per case on each side, an unavailable backend once, each failure with its round; notes give each case's range and ratio by round", () => {
    const into = emptyInto(3);
    mergeRounds(into, [round(1, 1), round(1.5, 0.5), round(0.5, 2)]);
    expect(into.rows.map((r) => [r.model, r.backend, r.samplesPerSecond, r.rounds])).toEqual([
      ["mlp-ae", "wasm", 500, [500, 750, 250]], ["conv-dae", "wasm", 300, [300, 450, 150]], ["mlp-ae", "cpu", 100, [100, 150, 50]],
    ]);
    expect(into.torch!.rows.map((r) => [r.model, r.threads, r.samplesPerSecond])).toEqual([["mlp-ae", 1, 4000], ["mlp-ae", 2, 1000], ["conv-dae", 2, 600]]);
    expect(into.skips).toEqual(fakeResults().skips);
    expect(into.torch!.failures.map((f) => f.error)).toEqual(["boom (round 1 of 3)", "boom (round 2 of 3)", "boom (round 3 of 3)"]);
    const text = formatResults(into);
    expect(text).toContain("mlp-ae: median of 3 rounds; wasm 250–750 samples/s, PyTorch 2 thr 500–2,000; ratio by round 0.13–1.50×");
    // cpu has no ratio in the tables, so none in the notes; PyTorch's 1-thread rows get a range of their own.
    expect(text).toContain("mlp-ae: median of 3 rounds; cpu 50.0–150 samples/s\n");
    expect(text).toContain("mlp-ae: median of 3 rounds; PyTorch 1 thr 2,000–8,000 samples/s");
    expect(readmeSection(into)).toContain("model by model (ours, then PyTorch's), 3 such rounds per model: each rate is its case's median round, each ratio divides two medians");
  });

  it("pairs rounds by their number when a round failed on one side, and a sweep row with PyTorch's at its batch", () => {
    const into = emptyInto(3);
    const sweep = (r: BenchResults, ours: number, theirs: number) => {
      r.rows.push({ ...r.rows[0], batchSize: 32, samplesPerSecond: ours });
      r.torch!.rows.push({ ...r.torch!.rows[1], batchSize: 32, samplesPerSecond: theirs });
      return r;
    };
    const [a, b, c] = [sweep(round(1, 1), 40, 20), sweep(round(1.5, 0.5), 60, 20), sweep(round(0.5, 2), 80, 20)];
    b.rows = b.rows.filter((r) => !(r.model === "mlp-ae" && r.backend === "wasm" && r.batchSize === 128)); // ours failed in round 2
    c.torch!.rows = c.torch!.rows.filter((r) => !(r.model === "mlp-ae" && r.threads === 2 && r.batchSize === 128)); // PyTorch's in round 3
    mergeRounds(into, [a, b, c]);
    const text = formatResults(into);
    expect(text).toContain("mlp-ae: median of 3 rounds; wasm 250–500 samples/s (2 of 3 rounds ran), PyTorch 2 thr 500–1,000 (2 of 3 rounds ran); ratio by round 0.50–0.50× (1 of 3 rounds ran)");
    expect(text).toContain("mlp-ae (batch 32): median of 3 rounds; wasm 40.0–80.0 samples/s, PyTorch 2 thr 20.0–20.0; ratio by round 2.00–4.00×");
    expect(into.rows.find((r) => r.batchSize === 32)).toMatchObject({ samplesPerSecond: 60, rounds: [40, 60, 80] });
  });

  it("keys cases by what was asked for: two engines that report the same label stay two rows", () => {
    const asked = new Map<object, string>();
    const rounds = [round(1, 1), round(2, 1)].map((r) => {
      r.rows = [{ ...r.rows[0] }, { ...r.rows[0], samplesPerSecond: r.rows[0].samplesPerSecond / 10 }]; // wasm×1 and wasm×2, both labelled "wasm"
      r.rows.forEach((row, i) => asked.set(row, `wasm×${i + 1}`));
      return r;
    });
    const into = emptyInto(2);
    mergeRounds(into, rounds, (run) => asked.get(run) ?? defaultCaseKey(run));
    expect(into.rows.map((r) => r.rounds)).toEqual([[500, 1000], [50, 100]]);
    expect(() => mergeRounds(emptyInto(2), rounds)).toThrow(/two runs of case mlp-ae\|wasm\|128 in round 1/);
  });
});

describe("npm run bench -- --from-json", () => {
  it("renders saved results without measuring, naming both commands", async () => {
    const saved = path.join(tmp, "saved.json");
    const readme = path.join(tmp, "README-from-json.md");
    const old = fakeResults();
    delete (old.args as Partial<BenchResults["args"]>).rounds; // results saved before --rounds existed
    fs.writeFileSync(saved, JSON.stringify(old));
    fs.writeFileSync(readme, "# X\n\n## Data\n");
    const results = await runBench(["--from-json", saved, "--write-readme", "--readme", readme]);
    expect(results?.rows).toHaveLength(3);
    const text = fs.readFileSync(readme, "utf8");
    expect(text).toContain("Written by `npm run bench -- --compare-torch` on 2026-01-02 03:04 UTC");
    expect(text).toContain(`rendered again from that run's saved results by \`npm run bench -- --from-json ${saved}`);
    expect(text).not.toMatch(/\brounds?\b/);
    fs.writeFileSync(saved, "{}");
    await expect(runBench(["--from-json", saved])).rejects.toThrow(/not a results file/);
  });
});

describe("npm run bench (child process)", () => {
  it("runs a tiny case in a child, writes JSON and the README section", async () => {
    const json = path.join(tmp, "bench.json");
    const readme = path.join(tmp, "README.md");
    fs.writeFileSync(readme, "# X\n\n## Data\n\nd\n");
    const results = await runBench([
      "--samples", "64", "--batch", "64", "--models", "mlp", "--backends", "cpu", "--warmup", "1", "--min-seconds", "0", "--no-peak", "--rounds", "2", "--json", json,
      "--write-readme", "--readme", readme,
    ]);
    expect(results).not.toBeNull();
    const saved = JSON.parse(fs.readFileSync(json, "utf8")) as BenchResults;
    expect(saved.rows).toHaveLength(1);
    expect(saved.rows[0]).toMatchObject({ model: "mlp-ae", backend: "cpu", samples: 64 });
    expect(saved.rows[0].samplesPerSecond).toBeGreaterThan(0);
    // Two rounds, each case in a child of its own: the row is the slower one and carries both rates.
    expect(saved.rows[0].rounds).toHaveLength(2);
    expect(saved.rows[0].samplesPerSecond).toBe(Math.min(...(saved.rows[0].rounds as number[])));
    const text = fs.readFileSync(readme, "utf8");
    expect(text).toMatch(/- mlp-ae: median of 2 rounds; cpu [\d,.]+–[\d,.]+ samples\/s\n/);
    expect(text).toMatch(/## Performance\n\n<!-- bench:start -->\nWritten by `npm run bench -- --samples 64/);
    expect(text).toContain("| mlp-ae | 660,824 | 4.0 |");
  });
});
