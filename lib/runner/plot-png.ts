/**
 * PNG fallbacks for Plotly outputs, rendered by Debian's chromium through
 * playwright-core (never a downloaded browser). One warm browser per run: the page
 * loads node_modules/plotly.js-dist once (from the local file, never fetched) and then
 * turns each figure into a PNG with Plotly.toImage. Without chromium nothing breaks: a
 * single warning, and outputs keep their Plotly JSON and text.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { pathToFileURL } from "url";
import { projectRoot } from "./kernel-command";
import { JsonObject, Notebook } from "./notebook";
import { withTimeout } from "./timeouts";

export const PLOTLY_MIME = "application/vnd.plotly.v1+json";

/** Flags for a headless chromium on a machine without network access. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface PlotRendererOptions {
  /** chromium binary (default: $CHROMIUM_PATH, else /usr/bin/chromium). */
  executablePath?: string;
  /** plotly.js bundle to inject (default: node_modules/plotly.js-dist/plotly.js). */
  plotlyPath?: string;
  /** Size used when a figure's layout gives none (default 700 × 450). */
  defaultWidth?: number;
  defaultHeight?: number;
  /** Limit for launching the browser and loading plotly.js (default 60 s). */
  startTimeoutMs?: number;
  /** Limit for one figure (default 60 s). */
  figureTimeoutMs?: number;
}

/** The chromium binary to use, or null when none is installed. */
export function findChromium(executablePath?: string): string | null {
  const candidate = executablePath ?? process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  try {
    fs.accessSync(candidate, fs.constants.X_OK);
    return candidate;
  } catch {
    return null;
  }
}

/** Width and height for a figure: its layout's, else the defaults. */
export function figureSize(figure: JsonObject, defaults: { width: number; height: number }): { width: number; height: number } {
  const layout = (figure.layout ?? {}) as JsonObject;
  const pick = (value: unknown, fallback: number): number => (typeof value === "number" && value > 0 ? Math.round(value) : fallback);
  return { width: pick(layout.width, defaults.width), height: pick(layout.height, defaults.height) };
}

type Browser = import("playwright-core").Browser;
type Page = import("playwright-core").Page;

/** A running chromium page with plotly.js loaded. Close it when the run ends. */
export class PlotRenderer {
  private constructor(
    private readonly browser: Browser,
    private readonly page: Page,
    private readonly options: Required<Pick<PlotRendererOptions, "defaultWidth" | "defaultHeight" | "figureTimeoutMs">>,
  ) {}

  /** Launch chromium and load plotly.js; throws when chromium is missing or fails. */
  static async launch(options: PlotRendererOptions = {}): Promise<PlotRenderer> {
    const executablePath = findChromium(options.executablePath);
    if (!executablePath) {
      throw new Error(`chromium not found at ${options.executablePath ?? process.env.CHROMIUM_PATH ?? "/usr/bin/chromium"} (apt-get install chromium, or set CHROMIUM_PATH)`);
    }
    const plotlyPath = path.resolve(options.plotlyPath ?? path.join(projectRoot(), "node_modules", "plotly.js-dist", "plotly.js"));
    fs.accessSync(plotlyPath, fs.constants.R_OK); // a clear error before chromium starts
    const startTimeoutMs = options.startTimeoutMs ?? 60_000;
    const { chromium } = await import("playwright-core");
    const browser = await withTimeout(chromium.launch({ executablePath, args: CHROMIUM_ARGS, timeout: startTimeoutMs }), startTimeoutMs, "launching chromium");
    // A file:// page that loads plotly.js by <script src>: chromium reads the 10 MB file itself,
    // about 2.5 s of CPU less than sending its text through the protocol (page.addScriptTag).
    const pageDir = fs.mkdtempSync(path.join(os.tmpdir(), "ae-plotly-page-"));
    try {
      const pageFile = path.join(pageDir, "plotly.html");
      fs.writeFileSync(pageFile, `<!doctype html><html><head><meta charset="utf-8"><script src="${pathToFileURL(plotlyPath).href}"></script></head><body></body></html>`);
      const page = await browser.newPage();
      await withTimeout(page.goto(pathToFileURL(pageFile).href), startTimeoutMs, "loading plotly.js into chromium");
      const loaded = await page.evaluate(() => typeof (window as unknown as { Plotly?: unknown }).Plotly);
      if (loaded !== "object") throw new Error(`plotly.js did not load from ${plotlyPath}`);
      return new PlotRenderer(browser, page, {
        defaultWidth: options.defaultWidth ?? 700,
        defaultHeight: options.defaultHeight ?? 450,
        figureTimeoutMs: options.figureTimeoutMs ?? 60_000,
      });
    } catch (error) {
      await browser.close().catch(() => undefined);
      throw error;
    } finally {
      fs.rmSync(pageDir, { recursive: true, force: true });
    }
  }

  /** Render one Plotly figure ({data, layout, …}) to base64 PNG. */
  async renderPng(figure: JsonObject): Promise<string> {
    const size = figureSize(figure, { width: this.options.defaultWidth, height: this.options.defaultHeight });
    const render = this.page.evaluate(
      async ({ fig, width, height }) => {
        const plotly = (window as unknown as { Plotly: { toImage(f: unknown, o: unknown): Promise<string> } }).Plotly;
        return plotly.toImage(fig, { format: "png", width, height });
      },
      { fig: figure, width: size.width, height: size.height },
    );
    const dataUrl = await withTimeout(render, this.options.figureTimeoutMs, "rendering a Plotly figure");
    const prefix = "data:image/png;base64,";
    if (!dataUrl.startsWith(prefix)) throw new Error("Plotly.toImage did not return a PNG data URL");
    return dataUrl.slice(prefix.length);
  }

  /** Close the browser. */
  async close(): Promise<void> {
    await withTimeout(this.browser.close(), 10_000, "closing chromium").catch(() => undefined);
  }
}

/** Every output bundle in the notebook that has Plotly JSON but no PNG yet. */
export function outputsNeedingPng(notebook: Notebook): JsonObject[] {
  const bundles: JsonObject[] = [];
  for (const cell of notebook.cells) {
    if (cell.cell_type !== "code") continue;
    for (const output of cell.outputs) {
      const data = output.data as JsonObject | undefined;
      if (data && typeof data[PLOTLY_MIME] === "object" && data[PLOTLY_MIME] !== null && data["image/png"] === undefined) bundles.push(data);
    }
  }
  return bundles;
}

/**
 * Drop the text/html part of every Plotly output (committed notebooks carry JSON + PNG +
 * text/plain only: GitHub shows text/html as an empty box, and the HTML holds plotly.js).
 * Returns how many outputs lost it.
 */
export function dropFigureHtml(notebook: Notebook): number {
  let dropped = 0;
  for (const cell of notebook.cells) {
    if (cell.cell_type !== "code") continue;
    for (const output of cell.outputs) {
      const data = output.data as JsonObject | undefined;
      if (data && data[PLOTLY_MIME] !== undefined && data["text/html"] !== undefined) {
        delete data["text/html"];
        dropped++;
      }
    }
  }
  return dropped;
}

export interface PngFillResult {
  rendered: number;
  /** One message per figure that could not be rendered (its output keeps JSON and text). */
  errors: string[];
  /** True when PNGs were needed but no renderer was available. */
  skipped: boolean;
}

/** No figure can get a PNG from this renderer: chromium or plotly.js did not start. */
export class PngUnavailableError extends Error {
  override name = "PngUnavailableError";
}

/**
 * Lazily starts one PlotRenderer on first need and reuses it for every notebook of a
 * run; warns once (through `warn`) when chromium is unavailable.
 */
export class PngFiller {
  private renderer: Promise<PlotRenderer | null> | null = null;
  private warned = false;
  /** Why chromium is unavailable, once a start failed. */
  private reason: string | null = null;

  constructor(
    private readonly options: PlotRendererOptions = {},
    private readonly warn: (message: string) => void = (message) => process.stderr.write(`${message}\n`),
  ) {}

  private getRenderer(): Promise<PlotRenderer | null> {
    this.renderer ??= PlotRenderer.launch(this.options).catch((error: unknown) => {
      this.reason = (error as Error).message;
      if (!this.warned) this.warn(`warning: Plotly outputs get no PNG: ${(error as Error).message}`);
      this.warned = true;
      return null;
    });
    return this.renderer;
  }

  /** Start chromium now (in the background) if it is not running yet. */
  warm(): void {
    void this.getRenderer();
  }

  /** One figure as a base64 PNG on the shared page; throws when chromium is unavailable (why) or the figure fails. */
  async renderPng(figure: JsonObject): Promise<string> {
    const renderer = await this.getRenderer();
    if (!renderer) throw new PngUnavailableError(this.reason ?? "chromium did not start");
    return renderer.renderPng(figure);
  }

  /** Add image/png to every Plotly output of the notebook that lacks one. */
  async fill(notebook: Notebook): Promise<PngFillResult> {
    const bundles = outputsNeedingPng(notebook);
    const result: PngFillResult = { rendered: 0, errors: [], skipped: false };
    if (bundles.length === 0) return result;
    const renderer = await this.getRenderer();
    if (!renderer) return { ...result, skipped: true };
    for (const bundle of bundles) {
      try {
        bundle["image/png"] = await renderer.renderPng(bundle[PLOTLY_MIME] as JsonObject);
        result.rendered++;
      } catch (error) {
        result.errors.push((error as Error).message);
      }
    }
    return result;
  }

  /** Close the browser if one was started. */
  async close(): Promise<void> {
    const renderer = await this.renderer;
    this.renderer = null;
    await renderer?.close();
  }
}
