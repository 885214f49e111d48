/**
 * Figure builders: line plots (loss curves), 2-D/3-D scatter coloured by class, heatmaps
 * with values (confusion and distance matrices) and bar charts. Each is pure: it returns a
 * PlotlyFigure; `showFigure` displays it.
 */
import {
  PlotlyFigure,
  PlotlyTrace,
  FigureOptions,
  NumericInput,
  MatrixInput,
  LabelInput,
  baseLayout,
  baseConfig,
  axisStyle,
  toNumbers,
  toMatrix,
  toColumns,
  toLabels,
  finiteOrNull,
  categoryColor,
  orderedClasses,
  quotedTitle,
  shortNumber,
  extent,
} from "./common";

// ---------------------------------------------------------------------------
// Line plots
// ---------------------------------------------------------------------------

/** One curve of a line plot. */
export interface LineSeries {
  name: string;
  y: NumericInput;
  /** Default: 1, 2, …, n (epochs). */
  x?: NumericInput;
  dash?: "solid" | "dash" | "dot" | "dashdot";
  color?: string;
}

export interface LinePlotOptions extends FigureOptions {
  xTitle?: string;
  yTitle?: string;
  /** Logarithmic y axis (non-positive values are left out). */
  logY?: boolean;
  /** Draw point markers (default: when every series has ≤ 30 points). */
  markers?: boolean;
  /** First x value when a series has no x (default 1). */
  xStart?: number;
}

/** Several curves against a shared x (loss terms per epoch, train vs validation). */
export function linePlot(series: ReadonlyArray<LineSeries> | Record<string, NumericInput>, options: LinePlotOptions = {}): PlotlyFigure {
  const list: LineSeries[] = Array.isArray(series)
    ? (series as LineSeries[]).slice()
    : Object.entries(series as Record<string, NumericInput>).map(([name, y]) => ({ name, y }));
  if (list.length === 0) throw new Error("linePlot: series is empty; give at least one {name, y}");
  const xStart = options.xStart ?? 1;
  const read = list.map((s, i) => {
    if (typeof s.name !== "string") throw new Error(`linePlot: series ${i} needs a name`);
    const y = toNumbers(s.y, `linePlot series '${s.name}' y`);
    const x = s.x === undefined ? y.map((_, k) => xStart + k) : toNumbers(s.x, `linePlot series '${s.name}' x`);
    if (x.length !== y.length) throw new Error(`linePlot: series '${s.name}' has ${x.length} x values and ${y.length} y values`);
    return { ...s, x, y };
  });
  const markers = options.markers ?? read.every((s) => s.y.length <= 30);
  const data: PlotlyTrace[] = read.map((s, i) => ({
    type: "scatter",
    mode: markers ? "lines+markers" : "lines",
    name: s.name,
    x: s.x,
    y: finiteOrNull(options.logY ? s.y.map((v) => (v > 0 ? v : NaN)) : s.y),
    line: { color: s.color ?? categoryColor(i), width: 2, dash: s.dash ?? "solid" },
    marker: { size: 5 },
    hovertemplate: `${escapeTemplate(s.name)}: %{y:.4g}<extra>%{x}</extra>`,
  }));
  const lengths = read.map((s) => s.y.length);
  const minLength = Math.min(...lengths), maxLength = Math.max(...lengths);
  const points = minLength === maxLength ? `${maxLength} points` : `${minLength}–${maxLength} points`;
  return {
    data,
    layout: baseLayout(options, {
      xaxis: axisStyle(options.xTitle),
      yaxis: axisStyle(options.yTitle, options.logY ? { type: "log" } : {}),
      showlegend: read.length > 1,
      legend: { bgcolor: "rgba(255,255,255,0.8)", bordercolor: "#cccccc", borderwidth: 1 },
    }),
    config: baseConfig(),
    description: `Line plot${quotedTitle(options.title)}: ${read.length} series × ${points}${options.logY ? " (log y)" : ""}` +
      ` — ${read.map((s) => `${s.name} last ${lastFinite(s.y)}`).join(", ")}`,
  };
}

function lastFinite(values: number[]): string {
  for (let i = values.length - 1; i >= 0; i--) if (Number.isFinite(values[i])) return shortNumber(values[i]);
  return "n/a";
}

/** Plotly templates treat %{…} specially; keep names literal. */
function escapeTemplate(text: string): string {
  return text.replace(/%\{/g, "%\\{");
}

// ---------------------------------------------------------------------------
// Scatter plots coloured by class
// ---------------------------------------------------------------------------

/** Extra points drawn on top, e.g. cluster centroids, as large outlined markers. */
export interface HighlightPoints {
  points: MatrixInput | ArrayLike<number>;
  /** Legend name (default "highlighted"). */
  name?: string;
  /** Colour each highlighted point by its class (e.g. centroid k in class k's colour); default black. */
  labels?: LabelInput;
  /** Plotly marker symbol (default "x" in 2-D, "diamond" in 3-D). */
  symbol?: string;
  /** Marker size in pixels (default 16 in 2-D, 8 in 3-D). */
  size?: number;
}

export interface ScatterOptions extends FigureOptions {
  xTitle?: string;
  yTitle?: string;
  zTitle?: string;
  /** Names of integer classes: trace name of class k is classNames[k] (e.g. Fashion-MNIST names). */
  classNames?: readonly string[];
  /** Every class to draw a trace for, in order, even if absent (keeps animation frames the same shape). */
  classes?: ReadonlyArray<number | string>;
  /** Legend title (default "class" when labels are given). */
  legendTitle?: string;
  markerSize?: number;
  /** 0–1 (default 0.75). */
  opacity?: number;
  highlight?: HighlightPoints;
  /** Same scale on both axes (2-D only). */
  equalAxes?: boolean;
}

/** Coordinates keep 5 significant digits: plenty on screen, and a third of the JSON size. */
function significant(value: number): number {
  return Number.isFinite(value) && value !== 0 ? Number(value.toPrecision(5)) : value;
}

/** The class → colour rule: integer class k gets palette colour k; string classes their position. */
function classColor(label: number | string, classes: ReadonlyArray<number | string>): string {
  return typeof label === "number" && Number.isInteger(label) ? categoryColor(label) : categoryColor(classes.indexOf(label));
}

function className(label: number | string, names: readonly string[] | undefined): string {
  if (typeof label === "number" && names && Number.isInteger(label) && names[label] !== undefined) return names[label];
  return String(label);
}

/** The scatter traces alone (one per class, plus the highlight trace): for animation frames. */
export function scatterTraces(points: MatrixInput | ArrayLike<number>, labels: LabelInput | null | undefined, options: ScatterOptions & { dims?: 2 | 3 } = {}): PlotlyTrace[] {
  const dims = options.dims ?? 2;
  const kind = dims === 3 ? "scatter3d" : "scatter";
  const columns = toColumns(points, dims, `scatter${dims}d points`);
  const n = columns[0].length;
  const labelList = labels === null || labels === undefined ? null : toLabels(labels, `scatter${dims}d labels`);
  if (labelList && labelList.length !== n) throw new Error(`scatter${dims}d: ${n} points but ${labelList.length} labels`);
  const size = options.markerSize ?? (dims === 3 ? (n > 2000 ? 2 : 3) : n > 5000 ? 3 : n > 1000 ? 4 : 6);
  const opacity = options.opacity ?? 0.75;
  const traces: PlotlyTrace[] = [];
  const coordinates = (indices: number[]) => {
    const out: Record<string, Array<number | null>> = {};
    (["x", "y", "z"] as const).slice(0, dims).forEach((axis, d) => {
      out[axis] = finiteOrNull(indices.map((i) => significant(columns[d][i])));
    });
    return out;
  };
  const hover = dims === 3 ? "%{x:.3g}, %{y:.3g}, %{z:.3g}" : "%{x:.3g}, %{y:.3g}";
  if (!labelList) {
    traces.push({
      type: kind, mode: "markers", name: "points", ...coordinates(Array.from({ length: n }, (_, i) => i)),
      marker: { color: categoryColor(0), size, opacity }, hovertemplate: `${hover}<extra></extra>`,
    });
  } else {
    const present = orderedClasses(labelList);
    const classes = options.classes ? options.classes.slice() : present;
    const missing = present.filter((c) => !classes.includes(c));
    if (missing.length > 0) throw new Error(`scatter${dims}d: labels ${missing.join(", ")} are not in options.classes`);
    const byClass = new Map<number | string, number[]>(classes.map((c) => [c, []]));
    labelList.forEach((label, i) => byClass.get(label)!.push(i));
    for (const label of classes) {
      const name = className(label, options.classNames);
      traces.push({
        type: kind, mode: "markers", name, ...coordinates(byClass.get(label)!),
        marker: { color: classColor(label, classes), size, opacity },
        hovertemplate: `${escapeTemplate(name)}: ${hover}<extra></extra>`,
      });
    }
  }
  if (options.highlight) {
    const h = options.highlight;
    const hc = toColumns(h.points, dims, `scatter${dims}d highlight.points`);
    const m = hc[0].length;
    const hLabels = h.labels === undefined ? null : toLabels(h.labels, `scatter${dims}d highlight.labels`);
    if (hLabels && hLabels.length !== m) throw new Error(`scatter${dims}d: ${m} highlighted points but ${hLabels.length} highlight labels`);
    const classes = labelList ? (options.classes ? options.classes.slice() : orderedClasses(labelList)) : orderedClasses(hLabels ?? []);
    const out: Record<string, Array<number | null>> = {};
    (["x", "y", "z"] as const).slice(0, dims).forEach((axis, d) => {
      out[axis] = finiteOrNull(hc[d].map(significant));
    });
    traces.push({
      type: kind, mode: "markers", name: h.name ?? "highlighted", ...out,
      marker: {
        symbol: h.symbol ?? (dims === 3 ? "diamond" : "x"),
        size: h.size ?? (dims === 3 ? 8 : 16),
        color: hLabels ? hLabels.map((label) => classColor(label, classes)) : "#000000",
        line: { color: "#000000", width: dims === 3 ? 1 : 2 },
        opacity: 1,
      },
      ...(hLabels ? { text: hLabels.map((label) => className(label, options.classNames)) } : {}),
      hovertemplate: `${escapeTemplate(h.name ?? "highlighted")}${hLabels ? " %{text}" : ""}: ${hover}<extra></extra>`,
    });
  }
  return traces;
}

function scatterDescription(kind: string, traces: PlotlyTrace[], options: ScatterOptions, labelled: boolean): string {
  const highlight = options.highlight ? traces[traces.length - 1] : null;
  const classTraces = highlight ? traces.slice(0, -1) : traces;
  const count = (t: PlotlyTrace) => (t.x as unknown[]).length;
  const n = classTraces.reduce((sum, t) => sum + count(t), 0);
  const classes = labelled ? ` in ${classTraces.length} classes (${classTraces.map((t) => `${t.name}: ${count(t)}`).join(", ")})` : "";
  const extra = highlight ? ` + ${count(highlight)} ${highlight.name}` : "";
  return `${kind} scatter plot${quotedTitle(options.title)}: ${n} points${classes}${extra}`;
}

/** 2-D points coloured by class, one legend entry per class; optional highlighted points (centroids). */
export function scatter2d(points: MatrixInput | ArrayLike<number>, labels?: LabelInput | null, options: ScatterOptions = {}): PlotlyFigure {
  const data = scatterTraces(points, labels, { ...options, dims: 2 });
  const labelled = labels !== null && labels !== undefined;
  return {
    data,
    layout: baseLayout(options, {
      xaxis: axisStyle(options.xTitle),
      yaxis: axisStyle(options.yTitle, options.equalAxes ? { scaleanchor: "x", scaleratio: 1 } : {}),
      showlegend: labelled || Boolean(options.highlight),
      legend: { title: { text: options.legendTitle ?? (labelled ? "class" : "") }, itemsizing: "constant" },
      hovermode: "closest",
    }),
    config: baseConfig(),
    description: scatterDescription("2-D", data, options, labelled),
  };
}

/** 3-D points coloured by class, one legend entry per class; optional highlighted points. */
export function scatter3d(points: MatrixInput | ArrayLike<number>, labels?: LabelInput | null, options: ScatterOptions = {}): PlotlyFigure {
  const data = scatterTraces(points, labels, { ...options, dims: 3 });
  const labelled = labels !== null && labels !== undefined;
  const axis3d = (title?: string) => ({ ...(title ? { title: { text: title } } : {}), backgroundcolor: "#ffffff", gridcolor: "#dddddd", showbackground: true, zeroline: false });
  return {
    data,
    layout: baseLayout(options, {
      scene: { xaxis: axis3d(options.xTitle), yaxis: axis3d(options.yTitle), zaxis: axis3d(options.zTitle), aspectmode: "cube" },
      showlegend: labelled || Boolean(options.highlight),
      legend: { title: { text: options.legendTitle ?? (labelled ? "class" : "") }, itemsizing: "constant" },
      margin: { l: 10, r: 10, t: options.title ? 50 : 10, b: 10 },
    }, { height: 550 }),
    config: baseConfig(),
    description: scatterDescription("3-D", data, options, labelled),
  };
}

// ---------------------------------------------------------------------------
// Heatmaps
// ---------------------------------------------------------------------------

export interface HeatmapOptions extends FigureOptions {
  /** Column labels (default 0 … columns−1). */
  xLabels?: ReadonlyArray<string | number>;
  /** Row labels (default 0 … rows−1). */
  yLabels?: ReadonlyArray<string | number>;
  xTitle?: string;
  yTitle?: string;
  /** Write each cell's value in it (default true when the matrix has ≤ 400 cells). */
  showValues?: boolean;
  /** Decimals of the written values (default 0 for an all-integer matrix, else 2). */
  precision?: number;
  /** A Plotly colorscale name ("Viridis", "Blues", "RdBu", …) or [[0, colour], …, [1, colour]] (default "Viridis"). */
  colorscale?: string | Array<[number, string]>;
  reverseScale?: boolean;
  zmin?: number;
  zmax?: number;
  /** Centre of a diverging scale (e.g. 0). */
  zmid?: number;
  colorbarTitle?: string;
  /** Row 0 at the top, like a printed matrix (default true). */
  matrixOrientation?: boolean;
}

/** Format a number with `precision` decimals; integers stay integers when precision is 0. */
function formatCellValue(value: number, precision: number): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? "NaN" : value > 0 ? "∞" : "−∞";
  return value.toFixed(precision);
}

/** A matrix as coloured cells with the values written in them (confusion and distance matrices). */
export function heatmap(matrix: MatrixInput, options: HeatmapOptions = {}): PlotlyFigure {
  const z = toMatrix(matrix, "heatmap matrix");
  const rows = z.length;
  const cols = rows > 0 ? z[0].length : 0;
  if (rows === 0 || cols === 0) throw new Error("heatmap: the matrix is empty");
  const xLabels = (options.xLabels ?? Array.from({ length: cols }, (_, i) => i)).map(String);
  const yLabels = (options.yLabels ?? Array.from({ length: rows }, (_, i) => i)).map(String);
  if (xLabels.length !== cols) throw new Error(`heatmap: ${xLabels.length} xLabels for ${cols} columns`);
  if (yLabels.length !== rows) throw new Error(`heatmap: ${yLabels.length} yLabels for ${rows} rows`);
  const flat = z.flat();
  const allIntegers = flat.every((v) => Number.isInteger(v));
  const precision = options.precision ?? (allIntegers ? 0 : 2);
  const showValues = options.showValues ?? rows * cols <= 400;
  const range = extent(flat.filter((v) => Number.isFinite(v)));
  const trace: PlotlyTrace = {
    type: "heatmap",
    z: z.map((row) => finiteOrNull(row)),
    x: xLabels,
    y: yLabels,
    colorscale: options.colorscale ?? "Viridis",
    reversescale: options.reverseScale ?? false,
    ...(options.zmin !== undefined ? { zmin: options.zmin } : {}),
    ...(options.zmax !== undefined ? { zmax: options.zmax } : {}),
    ...(options.zmid !== undefined ? { zmid: options.zmid } : {}),
    colorbar: { ...(options.colorbarTitle ? { title: { text: options.colorbarTitle } } : {}), outlinewidth: 0 },
    xgap: 1,
    ygap: 1,
    hovertemplate: `${escapeTemplate(options.yTitle ?? "row")} %{y}, ${escapeTemplate(options.xTitle ?? "column")} %{x}: %{z}<extra></extra>`,
    ...(showValues
      ? { text: z.map((row) => row.map((v) => formatCellValue(v, precision))), texttemplate: "%{text}", textfont: { size: rows * cols > 150 ? 10 : 12 } }
      : {}),
  };
  const side = Math.max(rows, cols);
  return {
    data: [trace],
    layout: baseLayout(options, {
      xaxis: axisStyle(options.xTitle, { type: "category", showgrid: false, showline: false, ticks: "", tickangle: cols > 12 ? -45 : 0, constrain: "domain" }),
      yaxis: axisStyle(options.yTitle, {
        type: "category", showgrid: false, showline: false, ticks: "", scaleanchor: "x", constrain: "domain",
        ...((options.matrixOrientation ?? true) ? { autorange: "reversed" } : {}),
      }),
      margin: { l: 80, r: 30, t: options.title ? 60 : 30, b: 70 },
    }, { width: side > 12 ? 760 : 620, height: side > 12 ? 700 : 560 }),
    config: baseConfig(),
    description: `Heatmap${quotedTitle(options.title)}: ${rows} × ${cols}` +
      (range ? `, values ${shortNumber(range[0])} … ${shortNumber(range[1])}` : ", no finite values"),
  };
}

// ---------------------------------------------------------------------------
// Bar charts
// ---------------------------------------------------------------------------

export interface BarChartOptions extends FigureOptions {
  xTitle?: string;
  yTitle?: string;
  /** "group" (side by side, default) or "stack". */
  barmode?: "group" | "stack";
  /** Write each bar's value above it (default true when there are ≤ 40 bars). */
  showValues?: boolean;
  /** Decimals of the written values (default 3 significant-ish: 0 for integers, else 3). */
  precision?: number;
  logY?: boolean;
}

/** Bars per category for one or several series (e.g. paper vs ours per metric). */
export function barChart(
  categories: ReadonlyArray<string | number>,
  series: ReadonlyArray<{ name: string; values: NumericInput; color?: string }> | Record<string, NumericInput> | NumericInput,
  options: BarChartOptions = {},
): PlotlyFigure {
  const labels = categories.map(String);
  if (labels.length === 0) throw new Error("barChart: categories is empty");
  let list: Array<{ name: string; values: NumericInput; color?: string }>;
  if (Array.isArray(series) && series.length > 0 && typeof series[0] === "object" && series[0] !== null && "values" in (series[0] as object)) {
    list = (series as Array<{ name: string; values: NumericInput; color?: string }>).slice();
  } else if (Array.isArray(series) || ArrayBuffer.isView(series) || (typeof series === "object" && series !== null && "dataSync" in series)) {
    list = [{ name: options.yTitle ?? "value", values: series as NumericInput }];
  } else {
    list = Object.entries(series as Record<string, NumericInput>).map(([name, values]) => ({ name, values }));
  }
  if (list.length === 0) throw new Error("barChart: series is empty");
  const read = list.map((s) => {
    const values = toNumbers(s.values, `barChart series '${s.name}'`);
    if (values.length !== labels.length) throw new Error(`barChart: series '${s.name}' has ${values.length} values for ${labels.length} categories`);
    return { ...s, values };
  });
  const allIntegers = read.every((s) => s.values.every((v) => Number.isInteger(v)));
  const precision = options.precision ?? (allIntegers ? 0 : 3);
  const showValues = options.showValues ?? labels.length * read.length <= 40;
  const data: PlotlyTrace[] = read.map((s, i) => ({
    type: "bar",
    name: s.name,
    x: labels,
    y: finiteOrNull(s.values),
    marker: { color: s.color ?? categoryColor(i) },
    ...(showValues ? { text: s.values.map((v) => (Number.isFinite(v) ? v.toFixed(precision) : "")), textposition: "outside", cliponaxis: false } : {}),
    hovertemplate: `${escapeTemplate(s.name)} · %{x}: %{y}<extra></extra>`,
  }));
  return {
    data,
    layout: baseLayout(options, {
      barmode: options.barmode ?? "group",
      xaxis: axisStyle(options.xTitle, { type: "category" }),
      yaxis: axisStyle(options.yTitle, options.logY ? { type: "log" } : {}),
      showlegend: read.length > 1,
      bargap: 0.25,
    }),
    config: baseConfig(),
    description: `Bar chart${quotedTitle(options.title)}: ${read.length} series × ${labels.length} categories` + (labels.length * read.length > 24 ? "" : " — " +
      read.map((s) => `${s.name}: ${s.values.map((v, k) => `${labels[k]} ${shortNumber(v)}`).join(", ")}`).join("; ")),
  };
}
