/**
 * The text/html part of a figure's bundle, for front ends that render no Plotly JSON
 * (Notebook 6, Notebook 7 and JupyterLab 4 without plotly's extension, VS Code,
 * `nbconvert --to html`). plotly.js (our node_modules/plotly.js-dist, gzip + base64,
 * unpacked by the browser's DecompressionStream) travels once per kernel process, inside
 * the first figure's HTML; every figure's HTML shows its PNG until window.Plotly exists
 * and then draws itself, so an output whose loader is gone (cleared, or a notebook
 * reopened without it) still shows the picture. The runner drops text/html when it saves.
 */
import * as fs from "fs";
import * as path from "path";
import { gzipSync } from "zlib";
import { randomBytes } from "crypto";
import { projectRoot } from "../runner/kernel-command";

/** The event the loader fires on window once plotly.js is ready. */
export const PLOTLY_READY_EVENT = "autoencoder-notebooks:plotly-ready";

let loaderCache: string | null = null;

/** plotly.js-dist as one <script> that unpacks and runs it once per page (cached per process). */
export function plotlyLoaderHtml(plotlyPath: string = path.join(projectRoot(), "node_modules", "plotly.js-dist", "plotly.js")): string {
  if (loaderCache) return loaderCache;
  // zlib's default level: a third of level 9's CPU (about 0.2 s instead of 0.5 s per kernel) for 1 % more bytes.
  const packed = gzipSync(fs.readFileSync(plotlyPath), { level: 6 }).toString("base64");
  const script = `(function () {
  if (window.Plotly || window.__aePlotlyLoading) return;
  window.__aePlotlyLoading = true;
  var bytes = Uint8Array.from(atob("${packed}"), function (c) { return c.charCodeAt(0); });
  new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"))).text().then(function (source) {
    var tag = document.createElement("script");
    tag.textContent = source;
    document.head.appendChild(tag);
    window.dispatchEvent(new Event(${JSON.stringify(PLOTLY_READY_EVENT)}));
  });
})();`;
  loaderCache = `<script type="text/javascript">${script}</script>`;
  return loaderCache;
}

/** JSON that is safe inside a <script> element. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

function escapeAttribute(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
}

export interface FigureHtmlOptions {
  /** Base64 PNG shown until plotly.js draws (and where it never does). */
  png?: string | null;
  /** The one-line description (alt text, and the placeholder when there is no PNG). */
  description: string;
  /** Prepend the plotly.js loader (the first figure of a kernel process). */
  withLoader?: boolean;
}

/** A self-drawing figure: a sized div with its PNG (or description), then a script that plots it when plotly.js is ready. */
export function figureHtml(figure: { data: unknown[]; layout: Record<string, unknown>; frames?: unknown[]; config?: Record<string, unknown> }, options: FigureHtmlOptions): string {
  const id = `ae-figure-${randomBytes(6).toString("hex")}`;
  const width = Number(figure.layout.width);
  const height = Number(figure.layout.height);
  const fallback = options.png
    ? `<img alt="${escapeAttribute(options.description)}" src="data:image/png;base64,${options.png}" width="${width}" height="${height}">`
    : `<pre>${escapeAttribute(options.description)}</pre>`;
  const draw = `(function () {
  var el = document.getElementById(${JSON.stringify(id)});
  var fig = ${scriptJson(figure)};
  function draw() {
    if (!el || el.dataset.drawn) return;
    el.dataset.drawn = "1";
    el.innerHTML = "";
    window.Plotly.newPlot(el, fig);
  }
  if (window.Plotly) draw(); else window.addEventListener(${JSON.stringify(PLOTLY_READY_EVENT)}, draw, { once: true });
})();`;
  return `${options.withLoader ? plotlyLoaderHtml() : ""}<div id="${id}" class="autoencoder-notebooks-figure" style="width:${width}px;min-height:${height}px">${fallback}</div>\n<script type="text/javascript">${draw}</script>`;
}
