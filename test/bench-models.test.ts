/**
 * The bench's issue-18 models (lib/bench/specs.ts): each with its notebook's optimiser, loss and
 * input shape; weight and FLOP counts against hand counts; a couple of training steps of each on
 * wasm through runBenchCase with no tensor left behind; the PyTorch twins' weight counts against
 * ours (when a Python with torch is present); the matrix-product peak; and the report's batch
 * sweep, "% of peak" and parameter-parity check.
 */
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { benchModel, BENCH_MODELS, BenchModelId } from "../lib/bench/specs";
import { benchTraining, labelThreads, measurePeak, runBenchCase, BenchRow, PeakRow } from "../lib/bench/run";
import { BenchResults, comparisonRows, machinePeak, peakPercent, readmeSection, sweepRows } from "../lib/bench/report";
import { defaultBenchArgs } from "../lib/bench/args";
import { paramMismatch } from "../lib/bench/cli";
import { findTorchPython, torchParamCounts, TorchRow } from "../lib/bench/torch";
import { machineInfo } from "../lib/bench/report";

const NEW_MODELS: BenchModelId[] = ["csae-c", "csae-encoder", "basenet", "cvae", "pool-cae-random", "pool-cae-even", "pool-cae-switches", "concrete"];

/** Multiply-adds of a k×k convolution producing an oh×ow×cout map from cin channels. */
const conv = (oh: number, ow: number, cout: number, k: number, cin: number) => oh * ow * cout * k * k * cin;

/** CSAE-C's forward multiply-adds with Table 2's widths [16, 32, 64, 64] on 32×32 images, layer by layer (lib/pedcc/models.ts). */
const CSAE_ENCODER_MACS = conv(32, 32, 16, 3, 1)
  + conv(16, 16, 32, 3, 16) + conv(16, 16, 32, 3, 32) + conv(16, 16, 32, 1, 16)
  + conv(8, 8, 64, 3, 32) + conv(8, 8, 64, 3, 64) + conv(8, 8, 64, 1, 32)
  + conv(4, 4, 64, 3, 64) + conv(4, 4, 64, 3, 64) + conv(4, 4, 64, 1, 64)
  + 4 * 4 * 64 * 40;
/** Decoder: dense, then per block a 2×2 stride-2 transposed conv (each input pixel scatters 4·cout products) and a 3×3 conv; a 1×1 conv. */
const CSAE_DECODER_MACS = 40 * 4 * 4 * 64
  + 4 * 4 * 64 * 4 * 32 + conv(8, 8, 64, 3, 32)
  + 8 * 8 * 64 * 4 * 32 + conv(16, 16, 32, 3, 32)
  + 16 * 16 * 32 * 4 * 16 + conv(32, 32, 16, 3, 16)
  + conv(32, 32, 1, 1, 16);

describe("issue 18's bench models: what they train", () => {
  it("use their notebook's optimiser, loss terms and input shape, with hand-counted weights and FLOPs", () => {
    const expected: Record<string, { optimizer: string; shapes: Record<string, number[]>; params: number; trainMacs?: number }> = {
      "csae-c": { optimizer: "SGD momentum 0.9, lr 0.1, weight decay 0.0005", shapes: { xs: [4, 32, 32, 1], labels: [4] }, params: 283_065, trainMacs: CSAE_ENCODER_MACS + CSAE_DECODER_MACS },
      "csae-encoder": { optimizer: "SGD momentum 0.9, lr 0.1, weight decay 0.0005", shapes: { xs: [4, 32, 32, 1], labels: [4] }, params: 192_152, trainMacs: CSAE_ENCODER_MACS },
      basenet: { optimizer: "SGD momentum 0.9, lr 0.1, weight decay 0.0005", shapes: { xs: [4, 32, 32, 1], oneHot: [4, 10] }, params: 151_802, trainMacs: CSAE_ENCODER_MACS - 4 * 4 * 64 * 40 + 64 * 10 },
      // (784 + 10)·400 + 400, 2·(400·40 + 40), (40 + 10)·400 + 400, 400·784 + 784
      cvae: { optimizer: "Adam 0.001", shapes: { xs: [4, 784], oneHot: [4, 10] }, params: 794 * 400 + 400 + 2 * (400 * 40 + 40) + 50 * 400 + 400 + 400 * 784 + 784, trainMacs: 794 * 400 + 400 * 80 + 50 * 400 + 400 * 784 },
      // tanh convs 1→16, 16→8 (encoder), 8→16, 16→1 (decoder), 3×3 with biases
      ...Object.fromEntries((["random", "even", "switches"] as const).map((k) => [`pool-cae-${k}`, {
        optimizer: "Adam 0.002", shapes: { xs: [4, 28, 28, 1] }, params: (9 * 16 + 16) + (9 * 16 * 8 + 8) + (9 * 8 * 16 + 16) + (9 * 16 + 1),
        trainMacs: conv(28, 28, 16, 3, 1) + conv(14, 14, 8, 3, 16) + conv(14, 14, 16, 3, 8) + conv(28, 28, 1, 3, 16),
      }])),
      // dense 10→128, 128→22·22·32, transposed 3×3 convs 32→32, 32→16, 16→1 (the mirror of the abstract net 16/32/32)
      concrete: { optimizer: "Adam 0.001", shapes: { top: [4, 10], target: [4, 28, 28, 1] }, params: (10 * 128 + 128) + (128 * 15488 + 15488) + (9 * 32 * 32 + 32) + (9 * 32 * 16 + 16) + (9 * 16 + 1),
        trainMacs: 10 * 128 + 128 * 15488 + 22 * 22 * 32 * 9 * 32 + 24 * 24 * 32 * 9 * 16 + 26 * 26 * 16 * 9 * 1 },
    };
    expect(BENCH_MODELS.map((m) => m.id).slice(5)).toEqual(NEW_MODELS);
    for (const id of NEW_MODELS) {
      const spec = benchModel(id);
      const want = expected[id];
      expect(benchTraining(spec, 1e-3).description, id).toBe(want.optimizer);
      const before = tf.memory().numTensors;
      const prepared = spec.prepare(4, 0);
      try {
        expect(Object.fromEntries(Object.entries(prepared.data).map(([k, t]) => [k, t.shape])), id).toEqual(want.shapes);
        expect(prepared.params, id).toBe(want.params);
        if (want.trainMacs !== undefined) expect(prepared.trainingFlopsPerSample, id).toBe(3 * 2 * want.trainMacs);
      } finally {
        prepared.dispose();
      }
      expect(tf.memory().numTensors, `${id} leaked`).toBe(before);
    }
    // The sweep models of issue 18 and only those; issue 3's five keep Adam at --lr.
    expect(BENCH_MODELS.filter((m) => m.batchSweep).map((m) => m.id)).toEqual(["cnn", "csae-c"]);
    expect(benchTraining(benchModel("mlp-ae"), 0.01).description).toBe("Adam 0.01");
  });
});

describe("issue 18's bench models: a couple of training steps each on wasm", () => {
  it("train 2 steps of batch 8 after one warm-up step through trainModel, with finite losses and no tensor left behind", async () => {
    const terms: Record<string, string[]> = {
      "csae-c": ["centroid", "laplacian", "pixel", "total", "weightDecay"],
      "csae-encoder": ["centroid", "total", "weightDecay"],
      basenet: ["crossEntropy", "total", "weightDecay"],
      cvae: ["kl", "reconstruction", "total"],
      concrete: ["mse", "total"],
    };
    for (const id of NEW_MODELS) {
      const outcome = await runBenchCase({ model: id, backend: "wasm", samples: 16, batchSize: 8, warmupSteps: 1, maxSeconds: 0, minSeconds: 0 });
      expect(outcome.status, id).toBe("ok");
      const row = (outcome as { row: BenchRow }).row;
      expect(row.backend, id).toMatch(/^wasm/);
      expect([row.samples, row.epochs, row.batchSize], id).toEqual([16, 1, 8]);
      expect(row.samplesPerSecond, id).toBeGreaterThan(0);
      expect(row.tensorsAfter, `${id}: tensors grew during the timed epoch`).toBe(row.tensorsBefore);
      expect(row.tensorsAtEnd, `${id}: tensors left after the case`).toBe(row.tensorsAtStart);
      expect(Object.keys(row.loss).sort(), id).toEqual(terms[id] ?? ["mse", "total"]);
      for (const [name, value] of Object.entries(row.loss)) expect(Number.isFinite(value), `${id} ${name} = ${value}`).toBe(true);
      expect(row.optimizer, id).toBe(benchTraining(benchModel(id), 1e-3).description);
    }
  }, 120_000);
});

const torch = findTorchPython();

describe("the PyTorch twins", () => {
  it.skipIf(!torch.ok)("have exactly our weight counts (parameters plus batch norm's running statistics), every model", () => {
    if (!torch.ok) return;
    const ids = BENCH_MODELS.map((m) => m.id);
    const theirs = torchParamCounts(torch.python, ids);
    const ours: Record<string, number> = {};
    for (const spec of BENCH_MODELS) {
      const prepared = spec.prepare(4, 0);
      ours[spec.id] = prepared.params;
      prepared.dispose();
    }
    expect(theirs).toEqual(ours);
  }, 120_000);
});

describe("measurePeak", () => {
  it("times square matrix products on the backend and reports the fastest one's GFLOP/s, of the best size", async () => {
    const peak = await measurePeak({ backend: "cpu", sizes: [16, 64], minSeconds: 0.1 });
    expect(peak).toMatchObject({ engine: "cpu", threads: 1 });
    expect([16, 64]).toContain(peak.size);
    expect(peak.reps).toBeGreaterThanOrEqual(1);
    expect(peak.seconds).toBeGreaterThanOrEqual(0.05);
    // the fastest product is at least as fast as the mean
    expect(peak.gflopsPerSecond).toBeGreaterThanOrEqual(peak.meanGflopsPerSecond!);
    expect(peak.meanGflopsPerSecond).toBeCloseTo((2 * peak.size ** 3 * peak.reps) / peak.seconds / 1e9, 9);
    await expect(measurePeak({ backend: "cpu", sizes: [] })).rejects.toThrow(/sizes must list at least one/);
    expect(peak.description).toMatch(/^backend: cpu/);
    expect(labelThreads("wasm+native×2")).toBe(2);
    expect(labelThreads("wasm")).toBe(1);
  });
});

/** Hand-made results with a batch sweep and peaks. */
function sweepResults(): BenchResults {
  const row = (model: BenchModelId, batchSize: number, samplesPerSecond: number): BenchRow => ({
    model, title: model, backend: "wasm+native×2", backendDescription: "backend: wasm", samples: 1024, epochs: 1, samplesRequested: 1024, batchSize, seconds: 1,
    cpuSeconds: 2, cpuUtilization: 2, samplesPerSecond, gflopsPerSecond: (samplesPerSecond * 1e8) / 1e9, params: 5, trainingFlopsPerSample: 1e8, optimizer: "Adam 0.001",
    peakRssMiB: 400, tensorsBefore: 1, tensorsAfter: 1, tensorsAtStart: 0, tensorsAtEnd: 0, warmupSteps: 1, warmupSeconds: 0.1, loss: {}, notes: [],
  });
  const torchRow = (model: BenchModelId, batchSize: number, samplesPerSecond: number, params = 5): TorchRow => ({
    model, samples: 1024, epochs: 1, samplesRequested: 1024, batchSize, seconds: 1, cpuSeconds: 2, cpuUtilization: 2, samplesPerSecond, params, threads: 2,
    warmupSteps: 1, warmupSeconds: 0.1, loss: 0.1, peakRssMiB: 300, torchVersion: "1.13", python: "python3", notes: [],
  });
  const peak = (engine: string, threads: number, gflopsPerSecond: number): PeakRow => ({ engine, threads, size: 2048, reps: 5, seconds: 1, gflopsPerSecond, description: engine });
  return {
    date: "2026-01-02T03:04:05.000Z", command: "npm run bench", machine: machineInfo(), args: defaultBenchArgs(),
    rows: [row("csae-c", 128, 500), row("csae-c", 32, 400), row("csae-c", 256, 100), row("mlp-ae", 128, 1000)],
    skips: [],
    torch: { rows: [torchRow("csae-c", 128, 250), torchRow("csae-c", 32, 200), torchRow("csae-c", 256, 400), torchRow("mlp-ae", 128, 500)], failures: [] },
    peaks: [peak("wasm+native×2", 2, 100), peak("PyTorch", 2, 80), peak("wasm", 1, 400)],
    loadBefore: [0, 0, 0], loadAfter: [0, 0, 0], seconds: 1,
  };
}

describe("bench report: batch sweep, % of peak, parameter parity", () => {
  it("takes the peak of the fastest engine with the same thread count", () => {
    const results = sweepResults();
    expect(machinePeak(results, 2)?.engine).toBe("wasm+native×2");
    expect(machinePeak(results, 4)).toBeUndefined();
    expect(peakPercent(results, 50, 2)).toBe("50%");
    expect(peakPercent(results, 5, 2)).toBe("5.0%");
    expect(peakPercent(results, 50, 4)).toBe("—");
  });

  it("lists every batch of a swept model with ours ÷ PyTorch, and keeps the main table at the main batch", () => {
    const results = sweepResults();
    const sweep = sweepRows(results);
    expect(sweep.header).toEqual(["model", "batch", "wasm+native×2 samples/s", "wasm+native×2 % of peak", "PyTorch 2 thr samples/s", "wasm+native×2 ÷ PyTorch"]);
    expect(sweep.rows).toEqual([
      ["csae-c", "32", "400", "40%", "200", "2.00×"],
      ["csae-c", "128", "500", "50%", "250", "2.00×"],
      ["csae-c", "256", "100", "10%", "400", "0.25×"],
    ]);
    const main = comparisonRows(results);
    expect(main.header).toContain("wasm+native×2 % of peak");
    expect(main.header).toContain("PyTorch 2 thr % of peak");
    const csae = main.rows.find((r) => r[0] === "csae-c")!;
    // batch 128 only: 500 samples/s, 50 GFLOP/s = 50% of 100; PyTorch 250 samples/s × 0.1 GFLOP = 25 GFLOP/s = 25%; 2.00×
    expect(csae).toEqual(["csae-c", "5", "100.0", "500", "50.00", "50%", "400", "250", "25%", "2.00×"]);
    expect(main.rows.map((r) => r[0])).toEqual(["mlp-ae", "csae-c"]);
  });

  it("the README names the cores' arithmetic limit beside the peaks, and the share of it that the fastest product reaches", () => {
    const results = { ...sweepResults(), arithmeticLimits: [{ threads: 2, gflopsPerSecond: 400, description: "register-only vector multiply-adds, AVX-512, 16 floats a vector" }] };
    // the fastest 2-thread product is wasm+native×2 at 100 GFLOP/s: 25% of 400
    expect(readmeSection(results)).toContain("The cores' arithmetic limit, for comparison (register-only vector multiply-adds, AVX-512, 16 floats a vector): 400.0 GFLOP/s on 2 threads, of which the fastest product reaches 25%.");
    expect(readmeSection(sweepResults())).not.toContain("arithmetic limit");
  });

  it("flags a PyTorch twin whose weight count differs from ours", () => {
    const results = sweepResults();
    expect(paramMismatch(results, { model: "csae-c", params: 5 })).toBeNull();
    expect(paramMismatch(results, { model: "csae-c", params: 6 })).toMatch(/parameter counts differ: ours 5, PyTorch 6/);
    expect(paramMismatch(results, { model: "cvae", params: 6 })).toBeNull(); // ours did not run: nothing to compare
  });
});
