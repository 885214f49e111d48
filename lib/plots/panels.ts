/**
 * Small multiples for comparisons over seeds: one panel per metric, each with its own y axis
 * and its direction ("higher is better" or "lower is better") in its title, bars at the mean
 * and whiskers at the 95 % interval. Unlike one shared, normalised axis, no panel mixes a
 * metric to maximise with one to minimise.
 */
import { PlotlyFigure, PlotlyTrace, FigureOptions, baseLayout, baseConfig, categoryColor, quotedTitle, shortNumber } from "./common";

/** One bar: a mean with an interval [lower, upper] (e.g. an IntervalSummary). */
export interface IntervalBar {
  mean: number;
  lower: number;
  upper: number;
}

/** One metric's panel: a bar per category. */
export interface MetricPanel {
  /** The metric's name, e.g. "test MSE". */
  metric: string;
  /** Which way is better, shown in the panel's title; "neither" for a descriptive measure (e.g. sparsity). */
  better: "higher" | "lower" | "neither";
  /** One bar per category, in the order of the categories. */
  bars: ReadonlyArray<IntervalBar>;
  /** Logarithmic y axis for this panel (default false). */
  logY?: boolean;
}

export interface MetricPanelsOptions extends FigureOptions {
  /** Panels per row (default: all in one row, at most 3). */
  columns?: number;
}

function checkPanels(categories: ReadonlyArray<string | number>, panels: ReadonlyArray<MetricPanel>): void {
  const fn = "metricPanels";
  if (categories.length === 0) throw new Error(`${fn}: categories is empty; give one name per bar`);
  if (!Array.isArray(panels) || panels.length === 0) throw new Error(`${fn}: panels is empty; give at least one { metric, better, bars }`);
  for (const p of panels) {
    if (!["higher", "lower", "neither"].includes(p.better)) throw new Error(`${fn}: panel '${p.metric}' must say better: "higher", "lower" or "neither", got ${JSON.stringify(p.better)}`);
    if (!Array.isArray(p.bars) || p.bars.length !== categories.length) throw new Error(`${fn}: panel '${p.metric}' has ${Array.isArray(p.bars) ? p.bars.length : typeof p.bars} bars for ${categories.length} categories`);
    p.bars.forEach((b: IntervalBar, i: number) => {
      if (![b.mean, b.lower, b.upper].every(Number.isFinite) || b.lower > b.mean || b.mean > b.upper) {
        throw new Error(`${fn}: panel '${p.metric}', bar '${categories[i]}' must have finite lower ≤ mean ≤ upper, got ${b.lower}, ${b.mean}, ${b.upper}`);
      }
    });
  }
}

/** One panel per metric, own axis, mean bars with interval whiskers; the title of each says which way is better. */
export function metricPanels(categories: ReadonlyArray<string | number>, panels: ReadonlyArray<MetricPanel>, options: MetricPanelsOptions = {}): PlotlyFigure {
  checkPanels(categories, panels);
  const labels = categories.map(String);
  const columns = Math.max(1, Math.min(options.columns ?? Math.min(3, panels.length), panels.length));
  const rows = Math.ceil(panels.length / columns);
  const gap = { x: 0.08, y: 0.16 };
  const cellWidth = (1 - gap.x * (columns - 1)) / columns;
  const cellHeight = (1 - gap.y * (rows - 1)) / rows;
  const layoutAxes: Record<string, unknown> = {};
  const annotations: Record<string, unknown>[] = [];
  const data: PlotlyTrace[] = panels.map((p, k) => {
    const axis = k === 0 ? "" : String(k + 1);
    const col = k % columns, row = Math.floor(k / columns);
    const x0 = col * (cellWidth + gap.x), y1 = 1 - row * (cellHeight + gap.y);
    layoutAxes[`xaxis${axis}`] = { domain: [x0, x0 + cellWidth], anchor: `y${axis}`, type: "category", tickangle: -30, automargin: true };
    layoutAxes[`yaxis${axis}`] = { domain: [y1 - cellHeight, y1], anchor: `x${axis}`, gridcolor: "#e5e5e5", zeroline: false, ...(p.logY ? { type: "log" } : {}) };
    annotations.push({ text: p.better === "neither" ? `${p.metric} (descriptive)` : `${p.metric} (${p.better === "higher" ? "↑ higher" : "↓ lower"} is better)`, xref: "paper", yref: "paper", x: x0 + cellWidth / 2, y: y1 + 0.02, xanchor: "center", yanchor: "bottom", showarrow: false, font: { size: 12 } });
    return {
      type: "bar", name: p.metric, x: labels, y: p.bars.map((b) => b.mean), xaxis: `x${axis}`, yaxis: `y${axis}`, showlegend: false,
      marker: { color: labels.map((_, i) => categoryColor(i)) },
      error_y: { type: "data", symmetric: false, array: p.bars.map((b) => b.upper - b.mean), arrayminus: p.bars.map((b) => b.mean - b.lower), color: "#333333", thickness: 1.2, width: 4 },
      hovertemplate: `${p.metric} · %{x}: %{y}<extra></extra>`,
    };
  });
  const layout = baseLayout(options, { ...layoutAxes, annotations, bargap: 0.3 }, { width: 300 * columns + 80, height: 320 * rows + 60 });
  return {
    data, layout, config: baseConfig(),
    description: `Metric panels${quotedTitle(options.title)}: ${panels.length} metrics × ${labels.length} categories (mean, 95 % interval) — ` +
      panels.map((p) => `${p.metric} (${p.better === "neither" ? "descriptive" : `${p.better} is better`}): ${p.bars.map((b, i) => `${labels[i]} ${shortNumber(b.mean)}`).join(", ")}`).join("; "),
  };
}
