/**
 * Shared pieces of the Plotly figure builders: figure types, the fixed categorical
 * palette, the template-free house style, and readers that turn arrays or tensors
 * into plain numbers (tensors through one dataSync, which creates no tensors).
 */
import type { Tensor } from "@tensorflow/tfjs";

/** One Plotly trace (plotly.js attribute names; loosely typed on purpose). */
export interface PlotlyTrace {
  type: string;
  name?: string;
  [attribute: string]: unknown;
}

/** Plotly layout; width and height are always set so the PNG renderer needs no guesses. */
export interface PlotlyLayout {
  width: number;
  height: number;
  title?: { text: string; [attribute: string]: unknown };
  [attribute: string]: unknown;
}

/** One animation frame: a name (slider label) and traces replacing the figure's traces. */
export interface PlotlyFrame {
  name: string;
  data: PlotlyTrace[];
  layout?: Record<string, unknown>;
}

/** A Plotly figure as plain JSON, plus a one-line description used as the text/plain fallback. */
export interface PlotlyFigure {
  data: PlotlyTrace[];
  layout: PlotlyLayout;
  frames?: PlotlyFrame[];
  config?: Record<string, unknown>;
  /** Not sent to Plotly: showFigure uses it as the output's text/plain. */
  description?: string;
}

/** Options every figure builder takes. */
export interface FigureOptions {
  title?: string;
  /** Pixels (default 700). */
  width?: number;
  /** Pixels (default 450). */
  height?: number;
}

/** Numbers as plain arrays, typed arrays or a tensor (read once with dataSync). */
export type NumericInput = ArrayLike<number> | Tensor;
/** A matrix as nested arrays (rows), an array of typed-array rows, or a rank-2 tensor. */
export type MatrixInput = ArrayLike<ArrayLike<number>> | Tensor;
/** Class labels: integers or names; a rank-2 tensor is read as one-hot (argmax per row). */
export type LabelInput = ArrayLike<number> | ReadonlyArray<string | number> | Tensor;

export const DEFAULT_FIGURE_WIDTH = 700;
export const DEFAULT_FIGURE_HEIGHT = 450;

/** Ten fixed categorical colours (Tableau 10); class k is always CATEGORY_COLORS[k mod 10]. */
export const CATEGORY_COLORS: readonly string[] = Object.freeze([
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
]);

/** Colour for negative values (edges, diverging scales). */
export const NEGATIVE_COLOR = "#c0392b";
/** Colour for positive values (edges, diverging scales). */
export const POSITIVE_COLOR = "#1f5fa8";
/** Red (negative) – near-white (0) – blue (positive), for values centred on zero. */
export const DIVERGING_COLORSCALE: Array<[number, string]> = [
  [0, NEGATIVE_COLOR],
  [0.5, "#f4f4f4"],
  [1, POSITIVE_COLOR],
];

/** Colour of categorical class `index` (wraps after ten). */
export function categoryColor(index: number): string {
  return CATEGORY_COLORS[((Math.floor(index) % 10) + 10) % 10];
}

export function isTensor(value: unknown): value is Tensor {
  return typeof value === "object" && value !== null && typeof (value as Tensor).dataSync === "function" && Array.isArray((value as Tensor).shape);
}

function isArrayLike(value: unknown): value is ArrayLike<unknown> {
  return Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView));
}

function readTensor(tensor: Tensor, name: string): { shape: number[]; values: ArrayLike<number> } {
  if (tensor.isDisposed) throw new Error(`${name}: the tensor has been disposed`);
  if (tensor.dtype === "string" || tensor.dtype === "complex64") throw new Error(`${name}: expected a numeric tensor, got dtype ${tensor.dtype}`);
  return { shape: tensor.shape.slice(), values: tensor.dataSync() as ArrayLike<number> };
}

/** A plain number array from an array, typed array or tensor (any rank, flattened). */
export function toNumbers(input: NumericInput, name: string): number[] {
  if (isTensor(input)) return Array.from(readTensor(input, name).values);
  if (!isArrayLike(input)) throw new Error(`${name}: expected an array of numbers or a tensor, got ${input === null ? "null" : typeof input}`);
  const out = new Array<number>(input.length);
  for (let i = 0; i < input.length; i++) {
    const v = input[i];
    if (typeof v !== "number") throw new Error(`${name}: element ${i} is ${typeof v}, expected a number`);
    out[i] = v;
  }
  return out;
}

/** Rows of numbers from nested arrays or a rank-2 tensor; every row must have the same length. */
export function toMatrix(input: MatrixInput, name: string): number[][] {
  if (isTensor(input)) {
    const { shape, values } = readTensor(input, name);
    if (shape.length !== 2) throw new Error(`${name}: expected a rank-2 tensor [rows, columns], got shape [${shape.join(", ")}]`);
    const [rows, cols] = shape;
    return Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => values[r * cols + c]));
  }
  if (!isArrayLike(input)) throw new Error(`${name}: expected nested arrays (rows) or a rank-2 tensor, got ${input === null ? "null" : typeof input}`);
  const rows = Array.from(input as ArrayLike<ArrayLike<number>>, (row, r) => {
    if (!isArrayLike(row)) throw new Error(`${name}: row ${r} is ${typeof row}, expected an array of numbers`);
    return toNumbers(row, `${name} row ${r}`);
  });
  if (rows.length > 0) {
    const cols = rows[0].length;
    rows.forEach((row, r) => {
      if (row.length !== cols) throw new Error(`${name}: row ${r} has ${row.length} values, row 0 has ${cols}; a matrix needs equal rows`);
    });
  }
  return rows;
}

/** n points of `dims` coordinates from [n][dims] arrays, a flat array (n·dims) or an [n, dims] tensor; returns one array per coordinate. */
export function toColumns(input: MatrixInput | ArrayLike<number>, dims: number, name: string): number[][] {
  let flat: ArrayLike<number>;
  if (isTensor(input)) {
    const { shape, values } = readTensor(input, name);
    if (shape.length !== 2 || shape[1] !== dims) throw new Error(`${name}: expected a tensor of shape [n, ${dims}], got [${shape.join(", ")}]`);
    flat = values;
  } else if (isArrayLike(input) && input.length > 0 && typeof input[0] === "number") {
    if (input.length % dims !== 0) throw new Error(`${name}: a flat array of ${input.length} numbers is not a whole number of ${dims}-d points`);
    flat = input as ArrayLike<number>;
  } else {
    const rows = toMatrix(input as MatrixInput, name);
    if (rows.length > 0 && rows[0].length !== dims) throw new Error(`${name}: expected points with ${dims} coordinates, got ${rows[0].length}`);
    flat = rows.flat();
  }
  const n = flat.length / dims;
  return Array.from({ length: dims }, (_, d) => Array.from({ length: n }, (_, i) => flat[i * dims + d]));
}

/** Labels as numbers or strings; a rank-2 tensor or nested array is one-hot / scores (argmax per row). */
export function toLabels(input: LabelInput | ArrayLike<ArrayLike<number>>, name: string): Array<number | string> {
  if (isTensor(input)) {
    const { shape, values } = readTensor(input, name);
    if (shape.length === 1) return Array.from(values);
    if (shape.length === 2) return argmaxRows(values, shape[0], shape[1]);
    throw new Error(`${name}: expected a label tensor of shape [n] or one-hot [n, classes], got [${shape.join(", ")}]`);
  }
  if (!isArrayLike(input)) throw new Error(`${name}: expected an array of labels or a tensor, got ${input === null ? "null" : typeof input}`);
  if (input.length > 0 && isArrayLike(input[0])) {
    const rows = toMatrix(input as ArrayLike<ArrayLike<number>>, name);
    return argmaxRows(rows.flat(), rows.length, rows[0].length);
  }
  return Array.from(input as ArrayLike<number | string>, (v, i) => {
    if (typeof v !== "number" && typeof v !== "string") throw new Error(`${name}: label ${i} is ${typeof v}, expected a number or a string`);
    return v;
  });
}

function argmaxRows(values: ArrayLike<number>, rows: number, cols: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (values[r * cols + c] > values[r * cols + best]) best = c;
    out.push(best);
  }
  return out;
}

/** Finite numbers stay, everything else becomes null (a gap in Plotly; JSON has no NaN). */
export function finiteOrNull(values: readonly number[]): Array<number | null> {
  return values.map((v) => (Number.isFinite(v) ? v : null));
}

/** A readable axis: title, outside ticks, light grid, no zero line. */
export function axisStyle(title?: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...(title ? { title: { text: title } } : {}),
    showline: true,
    linecolor: "#444444",
    ticks: "outside",
    tickcolor: "#444444",
    gridcolor: "#e5e5e5",
    zeroline: false,
    automargin: true,
    ...extra,
  };
}

/** The house layout: white background, plain font, the categorical colourway, explicit size. */
export function baseLayout(options: FigureOptions, extra: Record<string, unknown> = {}, defaults: { width?: number; height?: number } = {}): PlotlyLayout {
  const width = options.width ?? defaults.width ?? DEFAULT_FIGURE_WIDTH;
  const height = options.height ?? defaults.height ?? DEFAULT_FIGURE_HEIGHT;
  for (const [key, value] of [["width", width], ["height", height]] as const) {
    if (!Number.isFinite(value) || value < 50) throw new Error(`figure ${key} must be a number of pixels ≥ 50, got ${value}`);
  }
  return {
    width,
    height,
    ...(options.title ? { title: { text: options.title, x: 0.5, xanchor: "center" } } : {}),
    font: { family: "Arial, Helvetica, sans-serif", size: 13, color: "#222222" },
    paper_bgcolor: "#ffffff",
    plot_bgcolor: "#ffffff",
    colorway: CATEGORY_COLORS.slice(),
    margin: { l: 70, r: 30, t: options.title ? 60 : 30, b: 60 },
    hoverlabel: { font: { family: "Arial, Helvetica, sans-serif" } },
    ...extra,
  };
}

/** Plotly config for every figure: no logo link, PNG download at 2× scale. */
export function baseConfig(): Record<string, unknown> {
  return { displaylogo: false, responsive: false, toImageButtonOptions: { format: "png", scale: 2 } };
}

/** `'title'` or nothing, for descriptions. */
export function quotedTitle(title: string | undefined): string {
  return title ? ` '${title}'` : "";
}

/** A number shortened for descriptions: 4 significant digits. */
export function shortNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value) && Math.abs(value) < 1e6) return String(value);
  return Number(value.toPrecision(4)).toString();
}

/** Classes in display order: numbers ascending, then strings in order of first appearance. */
export function orderedClasses(labels: ReadonlyArray<number | string>): Array<number | string> {
  const seen = new Set<number | string>();
  for (const label of labels) seen.add(label);
  const numbers = [...seen].filter((v): v is number => typeof v === "number").sort((a, b) => a - b);
  const strings = [...seen].filter((v): v is string => typeof v === "string");
  return [...numbers, ...strings];
}

/** Smallest and largest value without spreading (safe for millions of values); null when empty. */
export function extent(values: ArrayLike<number>): [number, number] | null {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : null;
}
