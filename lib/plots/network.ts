/**
 * A network-weights diagram: units as nodes in one column per layer, every weight as an
 * edge coloured by sign (blue positive, red negative) with width growing with |w|, and
 * nodes coloured by bias on a diverging scale with a colourbar.
 */
import {
  PlotlyFigure,
  PlotlyTrace,
  FigureOptions,
  MatrixInput,
  NumericInput,
  baseLayout,
  baseConfig,
  toMatrix,
  toNumbers,
  quotedTitle,
  shortNumber,
  NEGATIVE_COLOR,
  POSITIVE_COLOR,
  DIVERGING_COLORSCALE,
  extent,
} from "./common";

/** One dense layer. */
export interface NetworkLayer {
  /**
   * The weight matrix, by default inputs × outputs (weights[i][j] connects input unit i to
   * output unit j) — the layout of a tf.layers.dense kernel, so `layer.getWeights()[0]` fits.
   * Set `weightsLayout: "outIn"` for outputs × inputs (W in y = Wx + b).
   */
  weights: MatrixInput;
  /** One bias per output unit (colours the output nodes); optional. */
  biases?: NumericInput;
}

export interface NetworkDiagramOptions extends FigureOptions {
  /** Column labels, one per layer of units (layers + 1); default input, hidden 1, …, output. */
  layerNames?: readonly string[];
  /** "inOut" (default: weights[i][j] from input i to output j) or "outIn" (weights[j][i]). */
  weightsLayout?: "inOut" | "outIn";
  /** Number of line widths (Plotly's line width is per trace, so edges are bucketed by |w|; default 6). */
  widthBuckets?: number;
  /** Width in pixels of the thinnest and thickest edges (defaults 0.5 and 6). */
  minEdgeWidth?: number;
  maxEdgeWidth?: number;
  /** Leave out edges with |w| below this fraction of the largest |w| (default 0: draw all non-zero weights). */
  hideBelow?: number;
  /** Hover text on every edge (default: when there are ≤ 400 edges). */
  hoverEdges?: boolean;
  /** Draw at most this many edges, the strongest (default 2000; large layers make heavy figures). */
  maxEdges?: number;
  /** Node marker size in pixels (default: from the spacing of each column). */
  nodeSize?: number;
}

/** Tallest column, in unit spacings; bigger layers are squeezed into it. */
const MAX_SPAN = 15;

interface Edge {
  layer: number;
  from: number;
  to: number;
  weight: number;
}

/** Draw dense layers as a network diagram; edge colour by sign, width monotone in |w|, node colour by bias. */
export function networkDiagram(layers: ReadonlyArray<NetworkLayer>, options: NetworkDiagramOptions = {}): PlotlyFigure {
  if (layers.length === 0) throw new Error("networkDiagram: layers is empty; give at least one {weights, biases}");
  const orientation = options.weightsLayout ?? "inOut";
  // Read every layer once into weights[i][j] (input i → output j).
  const read = layers.map((layer, l) => {
    const matrix = toMatrix(layer.weights, `networkDiagram layer ${l} weights`);
    if (matrix.length === 0 || matrix[0].length === 0) throw new Error(`networkDiagram: layer ${l} weights are empty`);
    const weights = orientation === "inOut" ? matrix : matrix[0].map((_, i) => matrix.map((row) => row[i]));
    const inputs = weights.length, outputs = weights[0].length;
    const biases = layer.biases === undefined ? null : toNumbers(layer.biases, `networkDiagram layer ${l} biases`);
    if (biases && biases.length !== outputs) {
      throw new Error(`networkDiagram: layer ${l} has ${outputs} output units (weights ${orientation === "inOut" ? "inputs × outputs" : "outputs × inputs"}) but ${biases.length} biases`);
    }
    return { weights, biases, inputs, outputs };
  });
  read.forEach((layer, l) => {
    if (l > 0 && layer.inputs !== read[l - 1].outputs) {
      const other = orientation === "inOut" ? "outIn" : "inOut";
      throw new Error(`networkDiagram: layer ${l} has ${layer.inputs} inputs but layer ${l - 1} has ${read[l - 1].outputs} outputs (weights are read as ${orientation}; is the layout ${other}?)`);
    }
  });
  const sizes = [read[0].inputs, ...read.map((layer) => layer.outputs)];
  const names = options.layerNames ? options.layerNames.slice() : sizes.map((_, k) => (k === 0 ? "input" : k === sizes.length - 1 ? "output" : `hidden ${k}`));
  if (names.length !== sizes.length) throw new Error(`networkDiagram: ${names.length} layerNames for ${sizes.length} columns of units (layers + 1)`);

  // Columns are centred; unit spacing is 1 until a column would be taller than MAX_SPAN, then it is squeezed to fit.
  const maxUnits = Math.max(...sizes);
  const span = Math.min(maxUnits - 1, MAX_SPAN);
  const spacing = sizes.map((m) => (m > 1 ? Math.min(1, span / (m - 1)) : 1));
  const nodeY = (layerIndex: number, unit: number) => ((sizes[layerIndex] - 1) / 2 - unit) * spacing[layerIndex];
  const edges: Edge[] = [];
  read.forEach((layer, l) => layer.weights.forEach((row, i) => row.forEach((weight, j) => {
    if (!Number.isFinite(weight)) throw new Error(`networkDiagram: layer ${l} weight [${i}][${j}] is ${weight}`);
    edges.push({ layer: l, from: i, to: j, weight });
  })));
  const maxAbs = edges.reduce((m, e) => Math.max(m, Math.abs(e.weight)), 0);
  const hideBelow = options.hideBelow ?? 0;
  let drawn = edges.filter((e) => e.weight !== 0 && Math.abs(e.weight) >= hideBelow * maxAbs);
  const maxEdges = options.maxEdges ?? 2000;
  if (drawn.length > maxEdges) {
    const keep = new Set(drawn.slice().sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight)).slice(0, maxEdges));
    drawn = drawn.filter((e) => keep.has(e));
  }

  const buckets = options.widthBuckets ?? 6;
  if (!Number.isInteger(buckets) || buckets < 1) throw new Error(`networkDiagram: widthBuckets must be a positive integer, got ${buckets}`);
  const minWidth = options.minEdgeWidth ?? 0.5, maxWidth = options.maxEdgeWidth ?? 6;
  if (!(minWidth > 0 && maxWidth >= minWidth)) throw new Error(`networkDiagram: need 0 < minEdgeWidth ≤ maxEdgeWidth, got ${minWidth} and ${maxWidth}`);
  const bucketOf = (w: number) => Math.min(buckets - 1, Math.floor((Math.abs(w) / maxAbs) * buckets));
  const widthOf = (b: number) => minWidth + ((maxWidth - minWidth) * (b + 1)) / buckets;

  const data: PlotlyTrace[] = [];
  // Edges: one trace per (bucket, sign), thin first so strong edges are drawn on top.
  for (let b = 0; b < buckets; b++) {
    for (const sign of [1, -1] as const) {
      const group = drawn.filter((e) => Math.sign(e.weight) === sign && bucketOf(e.weight) === b);
      if (group.length === 0) continue;
      const x: Array<number | null> = [], y: Array<number | null> = [];
      for (const e of group) {
        x.push(e.layer, e.layer + 1, null);
        y.push(nodeY(e.layer, e.from), nodeY(e.layer + 1, e.to), null);
      }
      data.push({
        type: "scatter", mode: "lines", name: `${sign > 0 ? "w > 0" : "w < 0"}, |w| bucket ${b + 1}/${buckets}`,
        x, y, line: { color: sign > 0 ? POSITIVE_COLOR : NEGATIVE_COLOR, width: +widthOf(b).toFixed(3) },
        opacity: +(0.35 + (0.6 * (b + 1)) / buckets).toFixed(3), hoverinfo: "skip", showlegend: false,
        meta: { role: "edges", sign, bucket: b, count: group.length },
      });
    }
  }
  // Legend entries for the two edge colours.
  for (const [sign, label] of [[1, "positive weight"], [-1, "negative weight"]] as const) {
    data.push({ type: "scatter", mode: "lines", name: label, x: [null], y: [null], line: { color: sign > 0 ? POSITIVE_COLOR : NEGATIVE_COLOR, width: 3 }, hoverinfo: "skip", showlegend: true, meta: { role: "legend" } });
  }
  // Invisible markers at edge midpoints carry the per-edge hover text.
  if (options.hoverEdges ?? drawn.length <= 400) {
    data.push({
      type: "scatter", mode: "markers", name: "weights", showlegend: false,
      x: drawn.map((e) => e.layer + 0.5), y: drawn.map((e) => (nodeY(e.layer, e.from) + nodeY(e.layer + 1, e.to)) / 2),
      marker: { size: 6, opacity: 0 },
      hovertext: drawn.map((e) => `${names[e.layer]} ${e.from} → ${names[e.layer + 1]} ${e.to}: w = ${shortNumber(e.weight)}`),
      hoverinfo: "text", meta: { role: "edge-hover" },
    });
  }
  // Nodes: units without a bias (inputs) in grey; units with a bias coloured by it.
  const plotHeight = (options.height ?? 450) - 90;
  const pixelsPerUnit = plotHeight / (span + 1.8);
  const columnNodeSize = spacing.map((s) => options.nodeSize ?? Math.max(3, Math.min(24, 0.6 * pixelsPerUnit * s)));
  const plainSizes: number[] = [], biasedSizes: number[] = [];
  const plain = { x: [] as number[], y: [] as number[], text: [] as string[] };
  const biased = { x: [] as number[], y: [] as number[], text: [] as string[], bias: [] as number[] };
  sizes.forEach((size, k) => {
    const biases = k === 0 ? null : read[k - 1].biases;
    for (let u = 0; u < size; u++) {
      if (biases) {
        biased.x.push(k); biased.y.push(nodeY(k, u)); biased.bias.push(biases[u]); biasedSizes.push(columnNodeSize[k]);
        biased.text.push(`${names[k]} ${u}: bias ${shortNumber(biases[u])}`);
      } else {
        plain.x.push(k); plain.y.push(nodeY(k, u)); plain.text.push(`${names[k]} ${u}`); plainSizes.push(columnNodeSize[k]);
      }
    }
  });
  // Thin outlines only where nodes are big enough for them not to turn a column black.
  const nodeLine = (sizes: number[]) => ({ color: "#333333", width: sizes.map((s) => (s >= 7 ? 1 : 0)) });
  if (plain.x.length > 0) {
    data.push({ type: "scatter", mode: "markers", name: "units", showlegend: false, x: plain.x, y: plain.y, hovertext: plain.text, hoverinfo: "text", marker: { size: plainSizes, color: "#d9d9d9", opacity: 1, line: nodeLine(plainSizes) }, meta: { role: "nodes" } });
  }
  const biasAbs = biased.bias.reduce((m, b) => Math.max(m, Math.abs(b)), 0);
  const biasRange = biasAbs > 0 ? biasAbs : 1;
  if (biased.x.length > 0) {
    data.push({
      type: "scatter", mode: "markers", name: "units (bias)", showlegend: false, x: biased.x, y: biased.y, hovertext: biased.text, hoverinfo: "text",
      marker: {
        size: biasedSizes, opacity: 1, color: biased.bias, colorscale: DIVERGING_COLORSCALE, cmin: -biasRange, cmax: biasRange, cmid: 0,
        showscale: true, colorbar: { title: { text: "bias" }, thickness: 14, len: 0.7, outlinewidth: 0 }, line: nodeLine(biasedSizes),
      },
      meta: { role: "nodes" },
    });
  }
  const top = span / 2;
  const hidden = { visible: false, showgrid: false, zeroline: false, fixedrange: true };
  const layout = baseLayout(options, {
    xaxis: { ...hidden, range: [-0.4, sizes.length - 0.6] },
    yaxis: { ...hidden, range: [-top - 0.7, top + 1.1] },
    annotations: names.map((name, k) => ({ x: k, y: top + 0.65, text: `<b>${name}</b> (${sizes[k]})`, showarrow: false, yanchor: "bottom", font: { size: 13 } })),
    legend: { orientation: "h", x: 0, y: -0.02, yanchor: "top" },
    hovermode: "closest",
    margin: { l: 20, r: 20, t: options.title ? 60 : 20, b: 40 },
  });
  const positive = drawn.filter((e) => e.weight > 0).length;
  const biasExtent = extent(biased.bias);
  return {
    data,
    layout,
    config: baseConfig(),
    description: `Network diagram${quotedTitle(options.title)}: ${sizes.join("-")} units, ${drawn.length} of ${edges.length} edges drawn ` +
      `(${positive} positive, ${drawn.length - positive} negative), max |w| ${shortNumber(maxAbs)}` +
      (biasExtent ? `, biases ${shortNumber(biasExtent[0])} … ${shortNumber(biasExtent[1])}` : ""),
  };
}
