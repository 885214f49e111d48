/**
 * Displaying figures: one bundle per figure. In a kernel it carries the Plotly JSON, a
 * self-drawing text/html (lib/plots/html.ts), an image/png rendered by headless chromium
 * (lib/plots/png-kernel.ts) and a one-line text/plain; outside a kernel (tests, scripts)
 * the JSON and text only. The runner saves notebooks without the text/html. Image grids
 * are PNGs encoded here, with the captions listed in their text/plain.
 */
import { displayBundle, DisplayOptions, inKernel, MimeBundle, newDisplayId } from "../display";
import { figureHtml } from "./html";
import { renderFigurePng } from "./png-kernel";
import { ImageGridOptions, ImageGridRow, ImageSource, imageGridLayout, renderImageGrid } from "../png";
import { PlotlyFigure, quotedTitle } from "./common";

/** The MIME type of Plotly figure JSON. */
export const PLOTLY_MIME_TYPE = "application/vnd.plotly.v1+json";

export interface ShowFigureOptions extends DisplayOptions {
  /** The text/plain line (default: the figure's description, else one made from its traces). */
  description?: string;
  /** Render an image/png with headless chromium (default: only inside a kernel). */
  png?: boolean;
  /** Add the self-drawing text/html (default: only inside a kernel). */
  html?: boolean;
}

/** The display that carried plotly.js in this process (it carries it again when updated in place). */
let loaderDisplayId: string | null = null;

/** Forget which output carried plotly.js, so the next figure carries it again (e.g. after a front end lost it). */
export function resetPlotlyLoader(): void {
  loaderDisplayId = null;
}

/** A one-line description of any figure: its own description, else title and trace types. */
export function describeFigure(figure: PlotlyFigure): string {
  if (figure.description) return figure.description;
  const counts = new Map<string, number>();
  for (const trace of figure.data) counts.set(trace.type, (counts.get(trace.type) ?? 0) + 1);
  const types = [...counts].map(([type, n]) => `${n} ${type}`).join(", ");
  const frames = figure.frames?.length ? `, ${figure.frames.length} frames` : "";
  return `Plotly figure${quotedTitle(figure.layout.title?.text)}: ${figure.data.length} traces (${types || "none"})${frames}`;
}

/** The figure as strict JSON for the notebook: typed arrays become arrays, NaN/±Infinity become null, description is dropped. */
export function figureJson(figure: PlotlyFigure): { data: unknown[]; layout: Record<string, unknown>; frames?: unknown[]; config?: Record<string, unknown> } {
  if (!figure || !Array.isArray(figure.data) || typeof figure.layout !== "object" || figure.layout === null) {
    throw new Error("showFigure: expected a figure {data: [...], layout: {...}}");
  }
  const { description: _description, ...rest } = figure;
  const text = JSON.stringify(rest, (_key, value: unknown) => {
    if (typeof value === "number" && !Number.isFinite(value)) return null;
    if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number>, (v) => (Number.isFinite(v) ? v : null));
    if (typeof value === "bigint") return Number(value);
    return value;
  });
  return JSON.parse(text);
}

/**
 * Display a figure: one output with the Plotly JSON and a one-line text/plain. Returns nothing,
 * so a notebook cell that ends with it prints nothing more (tslab echoes a last value to stdout);
 * to update a figure in place, pass your own `displayId` (from `newDisplayId()`) with `update`.
 */
export function showFigure(figure: PlotlyFigure, options: ShowFigureOptions = {}): void {
  const json = figureJson(figure);
  if (typeof json.layout.width !== "number" || typeof json.layout.height !== "number") {
    throw new Error("showFigure: layout.width and layout.height must be set (the PNG renderer needs a size)");
  }
  const displayId = options.displayId ?? newDisplayId();
  const description = options.description ?? describeFigure(figure);
  const bundle: MimeBundle = { [PLOTLY_MIME_TYPE]: json };
  const kernel = inKernel();
  const png = (options.png ?? kernel) ? renderFigurePng(json) : null;
  if (png) bundle["image/png"] = png;
  if (options.html ?? kernel) {
    const withLoader = loaderDisplayId === null || loaderDisplayId === displayId;
    if (withLoader) loaderDisplayId = displayId;
    bundle["text/html"] = figureHtml(json, { png, description, withLoader });
  }
  bundle["text/plain"] = description;
  displayBundle(bundle, { displayId, update: options.update, metadata: options.metadata });
}

/** An image grid encoded as PNG, with its size and a text description listing the captions. */
export interface ImageGridResult {
  png: Uint8Array;
  width: number;
  height: number;
  description: string;
}

/** Tile images into a PNG (rows of inputs vs reconstructions, captions under tiles); pure. */
export function imageGrid(input: ReadonlyArray<ImageGridRow> | ImageSource, options: ImageGridOptions = {}): ImageGridResult {
  const layout = imageGridLayout(input, options);
  const png = renderImageGrid(layout, options);
  const first = layout.rows[0].stack;
  const total = layout.rows.reduce((sum, row) => sum + row.tiles.length, 0);
  const perRow = layout.rows.map((row, r) => {
    const name = row.title ?? `row ${r + 1}`;
    const captions = row.captions.filter((c) => c.length > 0);
    return captions.length > 0 ? `${name}: ${captions.join(", ")}` : null;
  }).filter((line): line is string => line !== null);
  const description = `Image grid${quotedTitle(options.title)}: ${layout.rows.length} row${layout.rows.length === 1 ? "" : "s"}, ${total} images of ` +
    `${first.height}×${first.width} (${layout.width}×${layout.height} px)` + (perRow.length ? ` — ${perRow.join("; ")}` : "");
  return { png, width: layout.width, height: layout.height, description };
}

/** Display an image grid as one image/png + text/plain output (no browser needed); returns nothing (see showFigure). */
export function showImageGrid(input: ReadonlyArray<ImageGridRow> | ImageSource, options: ImageGridOptions & DisplayOptions = {}): void {
  const grid = imageGrid(input, options);
  const displayId = options.displayId ?? newDisplayId();
  displayBundle(
    { "image/png": Buffer.from(grid.png).toString("base64"), "text/plain": grid.description },
    { displayId, update: options.update, metadata: options.metadata },
  );
}
