import { describe, it, expect, beforeAll, beforeEach } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { collectedOutputs, newDisplayId } from "../lib/display";
import { readPngInfo } from "../lib/png";
import {
  CATEGORY_COLORS,
  NEGATIVE_COLOR,
  POSITIVE_COLOR,
  PlotlyFigure,
  PlotlyTrace,
  PLOTLY_MIME_TYPE,
  linePlot,
  scatter2d,
  scatter3d,
  scatterTraces,
  heatmap,
  barChart,
  metricPanels,
  animation,
  scatterAnimation,
  networkDiagram,
  showFigure,
  describeFigure,
  figureJson,
  imageGrid,
  showImageGrid,
  formatTable,
  showTable,
  notRun,
  isNotRun,
  formatTableNumber,
} from "../lib/plots";

beforeAll(async () => {
  await tf.setBackend("cpu");
  tf.tensor([1]).dispose(); // prime the backend before counting tensors
});

beforeEach(() => {
  collectedOutputs(true);
});

/** Every figure: explicit size, JSON-safe after figureJson, a description. */
function expectWellFormed(figure: PlotlyFigure): void {
  expect(figure.layout.width).toBeGreaterThanOrEqual(300);
  expect(figure.layout.height).toBeGreaterThanOrEqual(300);
  expect(typeof figure.description).toBe("string");
  expect(figure.description!.length).toBeGreaterThan(10);
  expect(figure.description).not.toContain("\n");
  const json = JSON.stringify(figureJson(figure));
  expect(json).not.toMatch(/NaN|Infinity/);
  expect(JSON.parse(json)).not.toHaveProperty("description");
}

describe("linePlot", () => {
  it("makes one line trace per series with default x = 1…n, palette colours and axis titles", () => {
    const figure = linePlot({ train: [3, 2, 1.5], validation: [3.5, 2.5, 2] }, { title: "Training loss", xTitle: "epoch", yTitle: "loss" });
    expectWellFormed(figure);
    expect(figure.data.map((t) => [t.type, t.name])).toEqual([["scatter", "train"], ["scatter", "validation"]]);
    expect(figure.data[0].x).toEqual([1, 2, 3]);
    expect(figure.data[1].y).toEqual([3.5, 2.5, 2]);
    expect(figure.data.map((t) => (t.line as { color: string }).color)).toEqual([CATEGORY_COLORS[0], CATEGORY_COLORS[1]]);
    expect(figure.layout.title?.text).toBe("Training loss");
    expect((figure.layout.xaxis as { title: { text: string } }).title.text).toBe("epoch");
    expect({ width: figure.layout.width, height: figure.layout.height }).toEqual({ width: 700, height: 450 });
    expect(figure.description).toMatch(/^Line plot 'Training loss': 2 series × 3 points/);
  });

  it("takes explicit x, tensors, a log y axis (non-positive → gap) and non-finite values as gaps", () => {
    const y = tf.tensor1d([1, 0.1, 0, 0.01]);
    const before = tf.memory().numTensors;
    const figure = linePlot([{ name: "kl", y, x: [0, 5, 10, 15], dash: "dash" }, { name: "rec", y: [NaN, 2, Infinity, 1] }], { logY: true });
    expect(tf.memory().numTensors).toBe(before);
    y.dispose();
    expectWellFormed(figure);
    expect(figure.data[0].x).toEqual([0, 5, 10, 15]);
    expect((figure.data[0].y as unknown[]).map((v) => (v === null ? null : +(v as number).toFixed(6)))).toEqual([1, 0.1, null, 0.01]);
    expect(figure.data[1].y).toEqual([null, 2, null, 1]);
    expect((figure.layout.yaxis as { type: string }).type).toBe("log");
    expect((figure.data[0].line as { dash: string }).dash).toBe("dash");
  });

  it("rejects mismatched x and y and empty input", () => {
    expect(() => linePlot([{ name: "a", y: [1, 2], x: [1] }])).toThrow(/series 'a' has 1 x values and 2 y values/);
    expect(() => linePlot({})).toThrow(/series is empty/);
  });
});

describe("scatter2d / scatter3d", () => {
  const points = [[0, 0], [1, 1], [2, 2], [3, 3], [4, 4], [5, 5]];
  const labels = [2, 0, 2, 7, 0, 2];

  it("makes one trace per class, ordered by class, coloured by the fixed palette, with the right points", () => {
    const figure = scatter2d(points, labels, { title: "Latent", xTitle: "z1", yTitle: "z2" });
    expectWellFormed(figure);
    expect(figure.data.map((t) => t.name)).toEqual(["0", "2", "7"]);
    expect(figure.data.every((t) => t.type === "scatter" && t.mode === "markers")).toBe(true);
    expect(figure.data.map((t) => (t.marker as { color: string }).color)).toEqual([CATEGORY_COLORS[0], CATEGORY_COLORS[2], CATEGORY_COLORS[7]]);
    expect(figure.data[1].x).toEqual([0, 2, 5]);
    expect(figure.data[1].y).toEqual([0, 2, 5]);
    expect(figure.layout.showlegend).toBe(true);
    expect(figure.description).toBe("2-D scatter plot 'Latent': 6 points in 3 classes (0: 2, 2: 3, 7: 1)");
  });

  it("names classes, reads one-hot tensor labels and tensor points, and adds highlighted points coloured by class", () => {
    const pointTensor = tf.tensor2d(points);
    const oneHot = tf.oneHot(tf.tensor1d(labels, "int32"), 10);
    const centroids = tf.tensor2d([[0.5, 0.5], [3, 3]]);
    const before = tf.memory().numTensors;
    const names = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];
    const figure = scatter2d(pointTensor, oneHot, { classNames: names, highlight: { points: centroids, labels: [0, 2], name: "centroids" } });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([pointTensor, oneHot, centroids]);
    expectWellFormed(figure);
    expect(figure.data.map((t) => t.name)).toEqual(["zero", "two", "seven", "centroids"]);
    const highlight = figure.data[3];
    expect(highlight.x).toEqual([0.5, 3]);
    expect((highlight.marker as { color: string[]; size: number }).color).toEqual([CATEGORY_COLORS[0], CATEGORY_COLORS[2]]);
    expect((highlight.marker as { size: number }).size).toBeGreaterThan((figure.data[0].marker as { size: number }).size);
    expect(figure.description).toContain("+ 2 centroids");
  });

  it("colours string classes by order of appearance and keeps a fixed class list (empty traces) when asked", () => {
    const traces = scatterTraces(points, ["cat", "dog", "cat", "cat", "dog", "cat"], { classes: ["cat", "dog", "bird"] });
    expect(traces.map((t) => [t.name, (t.x as unknown[]).length, (t.marker as { color: string }).color])).toEqual([
      ["cat", 4, CATEGORY_COLORS[0]],
      ["dog", 2, CATEGORY_COLORS[1]],
      ["bird", 0, CATEGORY_COLORS[2]],
    ]);
    expect(() => scatterTraces(points, labels, { classes: [0, 2] })).toThrow(/labels 7 are not in options.classes/);
  });

  it("draws unlabelled points as one trace and rejects wrong shapes", () => {
    const figure = scatter2d(new Float32Array([0, 1, 2, 3]), null);
    expect(figure.data).toHaveLength(1);
    expect(figure.data[0].x).toEqual([0, 2]);
    expect(() => scatter2d([[1, 2, 3]], [0])).toThrow(/expected points with 2 coordinates, got 3/);
    expect(() => scatter2d(points, [0, 1])).toThrow(/6 points but 2 labels/);
    const bad = tf.zeros([4, 3]);
    expect(() => scatter2d(bad, null)).toThrow(/shape \[n, 2\], got \[4, 3\]/);
    bad.dispose();
  });

  it("scatter3d makes scatter3d traces with z and a scene", () => {
    const figure = scatter3d([[0, 0, 0], [1, 2, 3], [4, 5, 6]], [1, 1, 3], { xTitle: "a", zTitle: "c", highlight: { points: [[1, 1, 1]] } });
    expectWellFormed(figure);
    expect(figure.data.map((t) => t.type)).toEqual(["scatter3d", "scatter3d", "scatter3d"]);
    expect(figure.data[0].z).toEqual([0, 3]);
    expect((figure.layout.scene as { zaxis: { title: { text: string } } }).zaxis.title.text).toBe("c");
    expect((figure.data[2].marker as { color: string }).color).toBe("#000000");
  });
});

describe("heatmap", () => {
  it("writes every value as cell text through texttemplate, with labels and matrix orientation", () => {
    const figure = heatmap([[50, 2], [3, 45]], { xLabels: ["cat", "dog"], yLabels: ["cat", "dog"], xTitle: "predicted", yTitle: "true", title: "Confusion" });
    expectWellFormed(figure);
    expect(figure.data).toHaveLength(1);
    const trace = figure.data[0];
    expect(trace.type).toBe("heatmap");
    expect(trace.z).toEqual([[50, 2], [3, 45]]);
    expect(trace.text).toEqual([["50", "2"], ["3", "45"]]);
    expect(trace.texttemplate).toBe("%{text}");
    expect(trace.x).toEqual(["cat", "dog"]);
    expect((figure.layout.yaxis as { autorange: string }).autorange).toBe("reversed");
    expect(figure.description).toBe("Heatmap 'Confusion': 2 × 2, values 2 … 50");
  });

  it("formats fractional values with the given precision, accepts tensors, and can hide values", () => {
    const matrix = tf.tensor2d([[0, 0.123456], [1.5, NaN]]);
    const before = tf.memory().numTensors;
    const figure = heatmap(matrix, { precision: 3, colorscale: "Blues", zmin: 0 });
    expect(tf.memory().numTensors).toBe(before);
    matrix.dispose();
    expect(figure.data[0].text).toEqual([["0.000", "0.123"], ["1.500", "NaN"]]);
    expect(figure.data[0].colorscale).toBe("Blues");
    expect(figure.data[0].zmin).toBe(0);
    expect((figure.data[0].z as unknown[][])[1][1]).toBeNull();
    expect(heatmap([[1.25]], {}).data[0].text).toEqual([["1.25"]]);
    expect(heatmap([[1, 2]], { showValues: false }).data[0]).not.toHaveProperty("texttemplate");
    expect(() => heatmap([[1, 2]], { xLabels: ["a"] })).toThrow(/1 xLabels for 2 columns/);
    expect(() => heatmap([[1, 2], [3]])).toThrow(/row 1 has 1 values, row 0 has 2/);
  });
});

describe("barChart", () => {
  it("makes grouped bars per series with values written above them", () => {
    const figure = barChart(["MNIST", "Fashion"], [{ name: "paper", values: [0.012, 0.09] }, { name: "ours", values: [0.015, 0.1] }], { title: "Test error" });
    expectWellFormed(figure);
    expect(figure.data.map((t) => [t.type, t.name])).toEqual([["bar", "paper"], ["bar", "ours"]]);
    expect(figure.data[0].x).toEqual(["MNIST", "Fashion"]);
    expect(figure.data[1].text).toEqual(["0.015", "0.100"]);
    expect(figure.layout.barmode).toBe("group");
    expect(barChart(["a", "b"], [3, 4]).data).toHaveLength(1);
    expect(barChart(["a", "b"], { x: [3, 4], y: [1, 2] }, { barmode: "stack" }).data.map((t) => t.name)).toEqual(["x", "y"]);
    expect(() => barChart(["a", "b"], { x: [1] })).toThrow(/series 'x' has 1 values for 2 categories/);
  });
});

describe("metricPanels", () => {
  const bars = (means: number[]) => means.map((m) => ({ mean: m, lower: m - 0.1, upper: m + 0.2 }));

  it("gives each metric its own axis, its direction in the title and asymmetric interval whiskers", () => {
    const figure = metricPanels(["plain", "l1"], [
      { metric: "test MSE", better: "lower", bars: bars([1, 2]) },
      { metric: "probe accuracy", better: "higher", bars: bars([0.5, 0.7]) },
      { metric: "‖J‖", better: "lower", bars: bars([3, 4]), logY: true },
      { metric: "sparsity", better: "neither", bars: bars([5, 6]) },
    ], { title: "Five regularisers", columns: 2 });
    expectWellFormed(figure);
    expect(figure.data.map((t) => [t.xaxis, t.yaxis])).toEqual([["x", "y"], ["x2", "y2"], ["x3", "y3"], ["x4", "y4"]]);
    const titles = (figure.layout.annotations as Array<{ text: string }>).map((a) => a.text);
    expect(titles).toEqual(["test MSE (↓ lower is better)", "probe accuracy (↑ higher is better)", "‖J‖ (↓ lower is better)", "sparsity (descriptive)"]);
    const err = figure.data[1].error_y as { array: number[]; arrayminus: number[] };
    expect(err.array.map((v) => +v.toFixed(6))).toEqual([0.2, 0.2]);
    expect(err.arrayminus.map((v) => +v.toFixed(6))).toEqual([0.1, 0.1]);
    expect((figure.layout.yaxis3 as { type?: string }).type).toBe("log");
    expect((figure.layout.yaxis as { type?: string }).type).toBeUndefined();
    const [a, b, c] = ["yaxis", "yaxis2", "yaxis3"].map((k) => (figure.layout[k] as { domain: number[] }).domain);
    expect(a).toEqual(b); // one row, two columns
    expect(c[1]).toBeLessThan(a[0]); // the second row sits below the first
    expect(figure.description).toMatch(/4 metrics × 2 categories .*test MSE \(lower is better\): plain 1, l1 2/);
  });

  it("names bad input", () => {
    expect(() => metricPanels([], [{ metric: "m", better: "lower", bars: [] }])).toThrow(/categories is empty/);
    expect(() => metricPanels(["a"], [{ metric: "m", better: "up" as "higher", bars: bars([1]) }])).toThrow(/panel 'm' must say better: "higher", "lower" or "neither", got "up"/);
    expect(() => metricPanels(["a", "b"], [{ metric: "m", better: "lower", bars: bars([1]) }])).toThrow(/panel 'm' has 1 bars for 2 categories/);
    expect(() => metricPanels(["a"], [{ metric: "m", better: "lower", bars: [{ mean: 1, lower: 2, upper: 3 }] }])).toThrow(/bar 'a' must have finite lower ≤ mean ≤ upper, got 2, 1, 3/);
  });
});

describe("animation", () => {
  const frame = (k: number) => ({ name: `epoch ${k}`, data: [{ type: "scatter", mode: "markers", x: [k, k + 1], y: [0, -k] } as PlotlyTrace] });

  it("has one frame per input, the first as initial data, a slider step per frame and play/pause buttons", () => {
    const figure = animation([frame(1), frame(2), frame(3), frame(4)], { title: "Latent", frameDuration: 300 });
    expectWellFormed(figure);
    expect(figure.frames).toHaveLength(4);
    expect(figure.frames!.map((f) => f.name)).toEqual(["epoch 1", "epoch 2", "epoch 3", "epoch 4"]);
    expect(figure.data).toEqual(frame(1).data);
    const slider = (figure.layout.sliders as Array<{ steps: Array<{ label: string; method: string; args: unknown[] }> }>)[0];
    expect(slider.steps).toHaveLength(4);
    expect(slider.steps.map((s) => s.label)).toEqual(figure.frames!.map((f) => f.name));
    expect(slider.steps.every((s, k) => s.method === "animate" && (s.args[0] as string[])[0] === `epoch ${k + 1}`)).toBe(true);
    const buttons = (figure.layout.updatemenus as Array<{ buttons: Array<{ label: string; args: unknown[] }> }>)[0].buttons;
    expect(buttons.map((b) => b.label)).toEqual(["▶ Play", "❚❚ Pause"]);
    expect(buttons[0].args[0]).toBeNull();
    expect((buttons[0].args[1] as { frame: { duration: number } }).frame.duration).toBe(300);
    // Axis ranges are fixed and cover every frame: x from 1 to 5, y from -4 to 0.
    const xRange = (figure.layout.xaxis as { range: [number, number] }).range;
    const yRange = (figure.layout.yaxis as { range: [number, number] }).range;
    expect(xRange[0]).toBeLessThan(1);
    expect(xRange[1]).toBeGreaterThan(5);
    expect(yRange[0]).toBeLessThan(-4);
    expect(yRange[1]).toBeGreaterThan(0);
    expect(figure.description).toContain("4 frames (epoch 1 … epoch 4)");
  });

  it("rejects frames of different shapes and duplicate names", () => {
    const odd = { name: "x", data: [frame(1).data[0], frame(1).data[0]] };
    expect(() => animation([frame(1), odd])).toThrow(/frame 1 \('x'\) has traces \[scatter, scatter\], frame 0 has \[scatter\]/);
    expect(() => animation([frame(1), frame(1)])).toThrow(/used twice/);
    expect(() => animation([])).toThrow(/frames is empty/);
  });

  it("scatterAnimation gives every frame the same class traces even when a class is missing from one", () => {
    const figure = scatterAnimation(
      [
        { name: 1, points: [[0, 0], [1, 1], [2, 2]] },
        { name: 2, points: [[0, 1], [1, 2]], labels: [0, 0] },
      ],
      [0, 1, 1],
      { title: "codes" },
    );
    expect(figure.frames).toHaveLength(2);
    expect(figure.frames!.map((f) => f.data.map((t) => t.name))).toEqual([["0", "1"], ["0", "1"]]);
    expect((figure.frames![1].data[1].x as unknown[]).length).toBe(0);
    expect(figure.data.map((t) => (t.marker as { color: string }).color)).toEqual([CATEGORY_COLORS[0], CATEGORY_COLORS[1]]);
  });
});

describe("networkDiagram", () => {
  /** Map every drawn edge (by its endpoints) to the colour and width of the trace that draws it. */
  function edgeStyles(figure: PlotlyFigure): Map<string, { color: string; width: number }> {
    const out = new Map<string, { color: string; width: number }>();
    for (const trace of figure.data) {
      if ((trace.meta as { role?: string } | undefined)?.role !== "edges") continue;
      const x = trace.x as Array<number | null>, y = trace.y as Array<number | null>;
      const line = trace.line as { color: string; width: number };
      for (let k = 0; k < x.length; k += 3) {
        expect(x[k + 2]).toBeNull();
        out.set(`${x[k]},${y[k]}→${x[k + 1]},${y[k + 1]}`, line);
      }
    }
    return out;
  }
  const weights1 = [[1.2, -0.8, 0.3], [-0.1, 0.9, -1.5]]; // 2 inputs × 3 outputs
  const weights2 = [[1.0], [-0.6], [0.05]];
  const key = (layer: number, from: number, fromSize: number, to: number, toSize: number) =>
    `${layer},${(fromSize - 1) / 2 - from}→${layer + 1},${(toSize - 1) / 2 - to}`;

  it("colours edges by sign and makes width non-decreasing in |w|, in few traces", () => {
    const figure = networkDiagram([{ weights: weights1, biases: [0.1, -0.4, 0.6] }, { weights: weights2, biases: [-0.2] }], { title: "XOR" });
    expectWellFormed(figure);
    const styles = edgeStyles(figure);
    expect(styles.size).toBe(9);
    const edges: Array<{ w: number; style: { color: string; width: number } }> = [];
    weights1.forEach((row, i) => row.forEach((w, j) => edges.push({ w, style: styles.get(key(0, i, 2, j, 3))! })));
    weights2.forEach((row, i) => row.forEach((w, j) => edges.push({ w, style: styles.get(key(1, i, 3, j, 1))! })));
    for (const { w, style } of edges) {
      expect(style, `edge with w=${w}`).toBeDefined();
      expect(style.color).toBe(w > 0 ? POSITIVE_COLOR : NEGATIVE_COLOR);
    }
    edges.sort((a, b) => Math.abs(a.w) - Math.abs(b.w));
    for (let k = 1; k < edges.length; k++) expect(edges[k].style.width).toBeGreaterThanOrEqual(edges[k - 1].style.width);
    expect(edges[edges.length - 1].style.width).toBeGreaterThan(edges[0].style.width);
    const edgeTraces = figure.data.filter((t) => (t.meta as { role: string }).role === "edges");
    expect(edgeTraces.length).toBeLessThanOrEqual(12);
    expect(figure.description).toBe("Network diagram 'XOR': 2-3-1 units, 9 of 9 edges drawn (5 positive, 4 negative), max |w| 1.5, biases -0.4 … 0.6");
  });

  it("colours nodes by bias on a symmetric diverging scale with a colourbar; inputs are plain", () => {
    const figure = networkDiagram([{ weights: weights1, biases: [0.1, -0.4, 0.6] }, { weights: weights2, biases: [-0.2] }]);
    const nodes = figure.data.filter((t) => (t.meta as { role: string }).role === "nodes");
    expect(nodes).toHaveLength(2);
    expect(nodes[0].x).toEqual([0, 0]);
    const marker = nodes[1].marker as { color: number[]; showscale: boolean; cmin: number; cmax: number; colorbar: { title: { text: string } } };
    expect(marker.color).toEqual([0.1, -0.4, 0.6, -0.2]);
    expect(marker.showscale).toBe(true);
    expect([marker.cmin, marker.cmax]).toEqual([-0.6, 0.6]);
    expect(marker.colorbar.title.text).toBe("bias");
    expect((figure.layout.annotations as Array<{ text: string }>).map((a) => a.text)).toEqual(["<b>input</b> (2)", "<b>hidden 1</b> (3)", "<b>output</b> (1)"]);
  });

  it("reads outputs × inputs when told, takes tensors without leaking, and explains a layout mismatch", () => {
    const transposed = [{ weights: weights1[0].map((_, j) => weights1.map((row) => row[j])), biases: [0.1, -0.4, 0.6] }];
    const a = networkDiagram([{ weights: weights1, biases: [0.1, -0.4, 0.6] }]);
    const b = networkDiagram(transposed, { weightsLayout: "outIn" });
    expect(b.data).toEqual(a.data);
    const w = tf.tensor2d(weights1), bias = tf.tensor1d([0.1, -0.4, 0.6]);
    const before = tf.memory().numTensors;
    const c = networkDiagram([{ weights: w, biases: bias }]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([w, bias]);
    expect(edgeStyles(c).size).toBe(6);
    expect(() => networkDiagram([{ weights: weights1 }, { weights: [[1, 2]] }])).toThrow(/layer 1 has 1 inputs but layer 0 has 3 outputs .*is the layout outIn\?/);
    expect(() => networkDiagram([{ weights: weights1, biases: [1, 2] }])).toThrow(/3 output units .* but 2 biases/);
  });

  it("hides weak edges on request and skips exact zeros", () => {
    const figure = networkDiagram([{ weights: [[1, 0.05], [0, -0.5]] }], { hideBelow: 0.1 });
    expect(edgeStyles(figure).size).toBe(2);
    expect(figure.description).toContain("2 of 4 edges drawn (1 positive, 1 negative)");
    // maxEdges keeps the strongest: of |w| = 1, 2, 0.5, 3, 0.1, 0.2 the edges 3, 2 and 1 remain.
    const strongest = networkDiagram([{ weights: [[1, -2, 0.5], [3, -0.1, 0.2]] }], { maxEdges: 3 });
    expect([...edgeStyles(strongest).keys()].sort()).toEqual([key(0, 0, 2, 0, 3), key(0, 0, 2, 1, 3), key(0, 1, 2, 0, 3)].sort());
  });
});

describe("showFigure", () => {
  it("sends exactly one bundle: the Plotly JSON and a one-line text/plain, never text/html", () => {
    const figure = linePlot({ loss: [3, 2, 1] }, { title: "Loss" });
    expect(showFigure(figure)).toBeUndefined(); // a notebook cell ending with it prints nothing more
    const outputs = collectedOutputs(true);
    expect(outputs).toHaveLength(1);
    expect(Object.keys(outputs[0].data).sort()).toEqual([PLOTLY_MIME_TYPE, "text/plain"].sort());
    expect(outputs[0].data).not.toHaveProperty("text/html");
    expect(outputs[0].displayId).toMatch(/^[0-9a-f]{16}$/);
    const json = outputs[0].data[PLOTLY_MIME_TYPE] as { data: unknown[]; layout: { width: number; height: number }; config: object };
    expect(Object.keys(json).sort()).toEqual(["config", "data", "layout"]);
    expect(json.data).toHaveLength(1);
    expect(json.layout.width).toBe(700);
    expect(outputs[0].data["text/plain"]).toBe(figure.description);
    expect(outputs[0].data["text/plain"]).toMatch(/^Line plot 'Loss': 1 series × 3 points/);
  });

  it("makes hand-written figures JSON-safe, describes them, and updates in place", () => {
    const figure: PlotlyFigure = {
      data: [{ type: "scatter", x: new Float32Array([1, 2]), y: [NaN, Infinity] }],
      layout: { width: 400, height: 300, title: { text: "Raw" } },
    };
    const id = newDisplayId();
    showFigure(figure, { displayId: id });
    showFigure(figure, { displayId: id, update: true, description: "updated" });
    const [first, second] = collectedOutputs(true);
    const json = first.data[PLOTLY_MIME_TYPE] as { data: Array<{ x: unknown; y: unknown }> };
    expect(json.data[0].x).toEqual([1, 2]);
    expect(json.data[0].y).toEqual([null, null]);
    expect(first.data["text/plain"]).toBe("Plotly figure 'Raw': 1 traces (1 scatter)");
    expect(describeFigure(figure)).toBe(first.data["text/plain"]);
    expect(second).toMatchObject({ displayId: id, update: true, data: { "text/plain": "updated" } });
    expect(() => showFigure({ data: [], layout: {} } as unknown as PlotlyFigure)).toThrow(/width and layout.height must be set/);
  });

  it("carries frames of an animation into the bundle", () => {
    showFigure(animation([{ name: "a", data: [{ type: "scatter", x: [1], y: [1] }] }, { name: "b", data: [{ type: "scatter", x: [2], y: [2] }] }]));
    const json = collectedOutputs(true)[0].data[PLOTLY_MIME_TYPE] as { frames: unknown[] };
    expect(json.frames).toHaveLength(2);
  });
});

describe("imageGrid / showImageGrid", () => {
  it("encodes a PNG, lists captions in the description, and shows image/png + text/plain only", () => {
    const images = tf.randomUniform([3, 28, 28]);
    const recon = tf.randomUniform([3, 28, 28, 1]);
    const before = tf.memory().numTensors;
    const rows = [{ images, title: "input", captions: [7, 2, 1] }, { images: recon, title: "reconstruction" }];
    const grid = imageGrid(rows, { title: "AE" });
    expect(readPngInfo(grid.png)).toMatchObject({ width: grid.width, height: grid.height, colorType: 0 });
    expect(grid.description).toBe(`Image grid 'AE': 2 rows, 6 images of 28×28 (${grid.width}×${grid.height} px) — input: 7, 2, 1`);
    showImageGrid(rows, { title: "AE" });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([images, recon]);
    const [output] = collectedOutputs(true);
    expect(Object.keys(output.data).sort()).toEqual(["image/png", "text/plain"]);
    expect(Buffer.from(output.data["image/png"] as string, "base64").equals(Buffer.from(grid.png))).toBe(true);
    expect(output.data["text/plain"]).toBe(grid.description);
  });
});

describe("tables", () => {
  const rows = [
    { metric: "test error", paper: 0.0123, ours: 0.01567, epochs: 50 },
    { metric: "MSE | pixel", paper: 1.5, ours: notRun("full mode only"), epochs: 3 },
    { metric: "tiny", paper: 0.00001234, ours: null, epochs: 10 },
  ];

  it("formats numbers with the precision, integer columns as integers, not-run cells and missing cells", () => {
    const table = formatTable(rows, { title: "Paper vs ours", note: "MNIST test set" });
    expect(table.markdown).toBe([
      "**Paper vs ours**",
      "",
      "| metric | paper | ours | epochs |",
      "| :--- | ---: | ---: | ---: |",
      "| test error | 0.012 | 0.016 | 50 |",
      "| MSE \\| pixel | 1.500 | not run (full mode only) | 3 |",
      "| tiny | 1.23e-5 | — | 10 |",
      "",
      "_MNIST test set_",
    ].join("\n"));
    const lines = table.text.split("\n");
    expect(lines[0]).toBe("Paper vs ours");
    expect(lines[1]).toMatch(/^metric\s+paper\s+ours\s+epochs$/);
    // Right-aligned numeric columns: every data line ends at the same column.
    const widths = new Set(lines.slice(1, 6).map((l) => l.length));
    expect(widths.size).toBe(1);
    expect(lines[lines.length - 1]).toBe("MNIST test set");
  });

  it("takes per-column precision and column order, and shows markdown + text/plain", () => {
    const options = { columns: ["metric", "ours"], precision: { ours: 1 } };
    expect(showTable(rows, options)).toBeUndefined();
    const shown = formatTable(rows, options);
    const [output] = collectedOutputs(true);
    expect(Object.keys(output.data).sort()).toEqual(["text/markdown", "text/plain"]);
    expect(output.data["text/markdown"]).toBe(shown.markdown);
    expect(shown.markdown.split("\n")[2]).toBe("| test error | 1.6e-2 |");
    expect(shown.markdown.split("\n")[3]).toBe("| MSE \\| pixel | not run (full mode only) |");
    expect(isNotRun(notRun())).toBe(true);
    expect(isNotRun(0)).toBe(false);
    expect(formatTableNumber(-Infinity, 2)).toBe("−∞");
    expect(formatTableNumber(2.5e10, 3)).toBe("2.50e+10");
    expect(() => formatTable([])).toThrow(/rows is empty/);
    expect(() => formatTable(rows, { precision: -1 })).toThrow(/precision for column 'metric' must be an integer 0–20/);
  });
});

describe("large inputs", () => {
  it("handle a 600×600 matrix and a 784×64 layer without spreading huge arrays", () => {
    const big = Array.from({ length: 600 }, (_, i) => Float64Array.from({ length: 600 }, (_, j) => (i * j) % 97));
    const figure = heatmap(big);
    expect(figure.data[0]).not.toHaveProperty("text"); // too many cells to write values by default
    expect(figure.description).toBe("Heatmap: 600 × 600, values 0 … 96");
    const weights = Array.from({ length: 784 }, (_, i) => Array.from({ length: 64 }, (_, j) => Math.sin(i * 64 + j + 1)));
    const all = networkDiagram([{ weights, biases: new Array(64).fill(0.1) }], { maxEdges: Infinity });
    const edgeTraces = all.data.filter((t) => (t.meta as { role: string }).role === "edges");
    expect(edgeTraces.length).toBeLessThanOrEqual(12);
    expect(edgeTraces.reduce((sum, t) => sum + (t.meta as { count: number }).count, 0)).toBe(784 * 64);
    expect(all.data.some((t) => (t.meta as { role: string }).role === "edge-hover")).toBe(false);
    // By default only the 2000 strongest edges are drawn: the weakest drawn is at least as strong as the strongest left out.
    const net = networkDiagram([{ weights, biases: new Array(64).fill(0.1) }]);
    expect(net.description).toContain("2000 of 50176 edges drawn");
    const sorted = weights.flat().map(Math.abs).sort((a, b) => b - a);
    const drawnBuckets = net.data.filter((t) => (t.meta as { role: string }).role === "edges").map((t) => (t.meta as { bucket: number }).bucket);
    expect(Math.min(...drawnBuckets)).toBe(Math.min(5, Math.floor((sorted[1999] / sorted[0]) * 6)));
  });
});
