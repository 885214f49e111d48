/**
 * Issue 17, items 1 and 2: a figure's display bundle. In a kernel showFigure sends Plotly
 * JSON + a self-drawing text/html (plotly.js once per process) + an image/png rendered by
 * headless chromium + text/plain; the runner saves JSON + PNG + text/plain only. Also: the
 * HTML really draws in a browser, and a missing chromium is reported once.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { clearCollectedOutputs, collectedOutputs } from "../lib/display";
import { linePlot, PLOTLY_MIME_TYPE, showFigure } from "../lib/plots";
import { resetPlotlyLoader } from "../lib/plots/show";
import { libBuild } from "./helpers/build";
import { readNotebook } from "../lib/runner/notebook";
import { CHROMIUM_ARGS, findChromium } from "../lib/runner/plot-png";
import { runNotebook } from "../lib/runner/runner";
import { figureHtml, PLOTLY_READY_EVENT, scriptJson } from "../lib/plots/html";
import { closeKernelPng, kernelPngStarted, renderFigurePng, warmKernelPng } from "../lib/plots/png-kernel";
import { PNG_OFF, PNG_SERVICE_ENV } from "../lib/runner/png-service";

const HAVE_CHROMIUM = findChromium() !== null;
const needChromium = it.skipIf(!HAVE_CHROMIUM && process.env.CI !== "true");
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Width and height from a base64 PNG's IHDR. */
function pngSize(base64: string): { width: number; height: number } {
  const png = Buffer.from(base64, "base64");
  expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "figure-bundle-"));
});
afterAll(async () => {
  await closeKernelPng();
  await htmlBrowser?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** One chromium for the tests that open the HTML in a browser (each opens its own pages), started by the first. */
let htmlBrowser: import("playwright-core").Browser | undefined;
async function browserForHtml(): Promise<import("playwright-core").Browser> {
  if (!htmlBrowser) {
    const { chromium } = await import("playwright-core");
    htmlBrowser = await chromium.launch({ executablePath: findChromium() as string, args: CHROMIUM_ARGS });
  }
  return htmlBrowser;
}

describe("renderFigurePng (in-kernel PNGs)", () => {
  it("says once that chromium is missing and then sends figures without a PNG", async () => {
    await closeKernelPng();
    const warnings: string[] = [];
    const warn = (m: string): void => void warnings.push(m);
    const figure = { data: [{ type: "scatter", y: [1, 2] }], layout: { width: 300, height: 200 } };
    expect(renderFigurePng(figure, { executablePath: "/nonexistent/chromium", warn })).toBeNull();
    expect(renderFigurePng(figure, { executablePath: "/nonexistent/chromium", warn })).toBeNull();
    expect(warnings).toEqual([expect.stringMatching(/figures are sent without a PNG image in this kernel: chromium not found at \/nonexistent\/chromium/)]);
    await closeKernelPng();
  });

  it("with AE_PNG_SERVICE=off (the runner's --no-png) sends figures without a PNG, silently, and starts no worker", async () => {
    await closeKernelPng();
    const warnings: string[] = [];
    const warn = (m: string): void => void warnings.push(m);
    const before = process.env[PNG_SERVICE_ENV];
    process.env[PNG_SERVICE_ENV] = PNG_OFF;
    try {
      warmKernelPng({ warn });
      expect(renderFigurePng({ data: [{ type: "scatter", y: [1, 2] }], layout: { width: 300, height: 200 } }, { warn })).toBeNull();
      expect(warnings).toEqual([]);
      expect(kernelPngStarted()).toBe(false);
    } finally {
      if (before === undefined) delete process.env[PNG_SERVICE_ENV];
      else process.env[PNG_SERVICE_ENV] = before;
      await closeKernelPng();
    }
  });

  needChromium("renders PNGs synchronously on one warm chromium page (the size from the layout)", async () => {
    expect(HAVE_CHROMIUM, "chromium is required when CI=true (apt-get install chromium)").toBe(true);
    const times: number[] = [];
    for (let i = 0; i < 4; i++) {
      const started = Date.now();
      const png = renderFigurePng({ data: [{ type: "heatmap", z: [[i, 1], [2, 3]] }], layout: { width: 320 + i, height: 240 } });
      times.push(Date.now() - started);
      expect(png).not.toBeNull();
      expect(pngSize(png as string)).toEqual({ width: 320 + i, height: 240 });
    }
    console.log(`in-kernel PNG render: first (chromium start + plotly.js) ${times[0]} ms, then ${times.slice(1).join(", ")} ms`);
  }, 120_000);
});

describe("showFigure's bundle", () => {
  it("outside a kernel: Plotly JSON + text/plain only (tests need no browser)", () => {
    clearCollectedOutputs();
    showFigure(linePlot({ loss: [1, 0] }));
    expect(Object.keys(collectedOutputs(true)[0].data).sort()).toEqual([PLOTLY_MIME_TYPE, "text/plain"].sort());
  });

  it("with html: plotly.js travels in the first figure only, and again when that figure is updated in place", () => {
    resetPlotlyLoader();
    clearCollectedOutputs();
    showFigure(linePlot({ loss: [1, 0] }, { title: "a" }), { html: true, png: false, displayId: "first" });
    showFigure(linePlot({ loss: [2, 0] }, { title: "b" }), { html: true, png: false });
    showFigure(linePlot({ loss: [3, 0] }, { title: "a2" }), { html: true, png: false, displayId: "first", update: true });
    const [first, second, update] = collectedOutputs(true);
    const html = (o: { data: Record<string, unknown> }): string => o.data["text/html"] as string;
    for (const o of [first, second, update]) expect(Object.keys(o.data)).toEqual([PLOTLY_MIME_TYPE, "text/html", "text/plain"]);
    expect(html(first)).toContain("DecompressionStream");
    expect(html(first).length).toBeGreaterThan(1_000_000); // plotly.js, gzip + base64
    expect(html(second)).not.toContain("DecompressionStream");
    expect(html(second).length).toBeLessThan(10_000);
    expect(html(second)).toContain("<pre>Line plot 'b'"); // no PNG: the description until plotly.js draws
    console.log(`text/html: first figure of a kernel ${html(first).length} characters (plotly.js, gzip + base64), later ones ${html(second).length} (plus their PNG)`);
    expect(update.update).toBe(true);
    expect(html(update)).toContain("DecompressionStream");
  });

  it("keeps a figure's text out of the script: '</script>' in a title cannot end it", () => {
    expect(scriptJson({ t: "</script><b>" })).toBe('{"t":"\\u003c/script>\\u003cb>"}');
    const html = figureHtml({ data: [], layout: { width: 10, height: 10, title: { text: "</script>" } } }, { description: "x", png: "AAAA" });
    expect(html.match(/<\/script>/g)).toHaveLength(1);
    expect(html).toContain('<img alt="x" src="data:image/png;base64,AAAA" width="10" height="10">');
  });

  needChromium("the HTML draws itself in a browser: PNG first, then an SVG plot once plotly.js has loaded", async () => {
    resetPlotlyLoader();
    clearCollectedOutputs();
    showFigure(linePlot({ loss: [3, 2, 1] }, { title: "one" }), { html: true, png: true });
    showFigure(linePlot({ loss: [1, 2, 3] }, { title: "two" }), { html: true, png: true });
    const outputs = collectedOutputs(true);
    expect(Object.keys(outputs[0].data)).toEqual([PLOTLY_MIME_TYPE, "image/png", "text/html", "text/plain"]);
    // Second figure first in the page: it waits for the loader's event instead of failing.
    const page = `<!doctype html><html><head><meta charset="utf-8"></head><body>${outputs[1].data["text/html"]}${outputs[0].data["text/html"]}</body></html>`;
    const tab = await (await browserForHtml()).newPage();
    try {
      await tab.setContent(page);
      await tab.waitForFunction(() => document.querySelectorAll(".autoencoder-notebooks-figure .main-svg").length >= 2, undefined, { timeout: 60_000 });
      const titles = await tab.$$eval(".autoencoder-notebooks-figure .gtitle", (els) => els.map((e) => e.textContent));
      expect(titles).toEqual(["two", "one"]);
      expect(await tab.$$eval(".autoencoder-notebooks-figure img", (els) => els.length)).toBe(0);
      expect(PLOTLY_READY_EVENT).toMatch(/plotly-ready/);
    } finally {
      await tab.close();
    }
  }, 120_000);
});

/**
 * How the two front ends we cannot install here hand a text/html output to the page, redone
 * from their sources (read, not copied): JupyterLab 4 and Notebook 7 (@jupyterlab/rendermime's
 * renderHTML: the output node gets innerHTML, then every <script> is replaced by a fresh one
 * with the same attributes and text, which the browser runs) and VS Code (its notebook
 * renderer: innerHTML into a new div appended to the output, then for every <script> a fresh
 * one with its text and type/src/nonce/async is appended and removed). Which MIME type each
 * picks: JupyterLab's standard ranks put text/html (50) before image/png (90) and text/plain,
 * and without plotly's extension nothing renders the Plotly JSON; VS Code's display order puts
 * text/html before image/png. An emulation of the path, not the applications themselves.
 */
const FRONT_END_RENDERERS = `
window.renderJupyterLab = function (host, html) {
  host.innerHTML = html;
  for (const old of Array.from(host.getElementsByTagName("script"))) {
    if (!old.parentNode) continue;
    const fresh = document.createElement("script");
    for (const a of Array.from(old.attributes)) fresh.setAttribute(a.name, a.value);
    fresh.textContent = old.textContent;
    old.parentNode.replaceChild(fresh, old);
  }
};
window.renderVsCode = function (container, html) {
  container.textContent = "";
  const element = document.createElement("div");
  element.innerHTML = html;
  container.appendChild(element);
  for (const old of Array.from(element.getElementsByTagName("script"))) {
    const fresh = document.createElement("script");
    fresh.text = old.innerText;
    for (const key of ["type", "src", "nonce", "noModule", "async"]) {
      const value = old[key] || old.getAttribute(key);
      if (value) fresh.setAttribute(key, value);
    }
    element.appendChild(fresh).parentNode.removeChild(fresh);
  }
};`;

describe("text/html in the script handling of JupyterLab 4 / Notebook 7 and VS Code (emulated)", () => {
  needChromium("each figure draws as an SVG plot, and an update in place (display id) redraws", async () => {
    resetPlotlyLoader();
    clearCollectedOutputs();
    // No PNGs here (the test above covers the PNG placeholder): each figure shows its description until it draws.
    showFigure(linePlot({ loss: [3, 2, 1] }, { title: "first" }), { html: true, png: false, displayId: "f" });
    showFigure(linePlot({ loss: [1, 2, 3] }, { title: "second" }), { html: true, png: false });
    showFigure(linePlot({ loss: [5, 4] }, { title: "first, updated" }), { html: true, png: false, displayId: "f", update: true });
    const [first, second, update] = collectedOutputs(true).map((o) => o.data["text/html"] as string);
    const browser = await browserForHtml();
    for (const renderer of ["renderJupyterLab", "renderVsCode"]) {
      const tab = await browser.newPage();
      try {
        await tab.setContent(`<!doctype html><html><head><meta charset="utf-8"><script>${FRONT_END_RENDERERS}</script></head><body><div id="o1"></div><div id="o2"></div></body></html>`);
        await tab.evaluate(([r, a, b]) => {
          const w = window as unknown as Record<string, (host: Element, html: string) => void>;
          w[r](document.getElementById("o1")!, a);
          w[r](document.getElementById("o2")!, b);
        }, [renderer, first, second]);
        await tab.waitForFunction(() => document.querySelectorAll(".main-svg").length >= 2 && document.querySelectorAll("pre").length === 0, undefined, { timeout: 60_000 });
        expect(await tab.$$eval(".gtitle", (els) => els.map((e) => e.textContent)), renderer).toEqual(["first", "second"]);
        // The update replaces output 1's content (it carries the loader again; plotly.js is already there).
        await tab.evaluate(([r, html]) => (window as unknown as Record<string, (host: Element, html: string) => void>)[r](document.getElementById("o1")!, html), [renderer, update]);
        await tab.waitForFunction(() => Array.from(document.querySelectorAll("#o1 .gtitle")).some((e) => e.textContent === "first, updated"), undefined, { timeout: 30_000 });
        expect(await tab.$$eval(".gtitle", (els) => els.map((e) => e.textContent)), renderer).toEqual(["first, updated", "second"]);
      } finally {
        await tab.close();
      }
    }
  }, 180_000);
});

describe("the runner's saved form", () => {
  beforeAll(async () => {
    const build = await libBuild();
    if (!build.ok) console.warn(`tsc -b tsconfig.build.json reported problems:\n${build.output}`);
  }, 300_000);

  needChromium("a kernel's figures are saved as Plotly JSON + PNG + text/plain (no text/html, no plotly.js), updates in place", async () => {
    const outPath = path.join(tmp, "figure-bundle.ipynb");
    // The kernel renders its PNGs in the test run's one chromium (test/setup/png-service.ts), as
    // `npm run notebooks` kernels do in the run's; its own in-kernel chromium is tested above.
    const serviceUrl = inject("pngServiceUrl");
    expect(serviceUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
    const result = await runNotebook(path.join(__dirname, "fixtures", "figure-bundle.ipynb"), { mode: "quick", outPath, pngService: { url: serviceUrl } });
    expect(result.failure).toBeNull();
    expect(result.png).toEqual({ rendered: 0, errors: [], skipped: false }); // the kernel sent them all
    const text = fs.readFileSync(outPath, "utf8");
    expect(text).not.toContain("text/html");
    expect(text.length).toBeLessThan(200_000);
    const nb = readNotebook(outPath);
    const outputs = nb.cells.flatMap((c) => (c.cell_type === "code" ? c.outputs : []));
    expect(outputs).toHaveLength(2);
    for (const o of outputs) {
      const data = o.data as Record<string, unknown>;
      expect(Object.keys(data).sort()).toEqual([PLOTLY_MIME_TYPE, "image/png", "text/plain"].sort());
      expect(pngSize(data["image/png"] as string)).toEqual({ width: 400, height: 300 });
    }
    expect(String((outputs[0].data as Record<string, unknown>)["text/plain"])).toMatch(/'updated'/);
  }, 240_000);

  it("a kernel without chromium says so once and still sends the figures (JSON + text, the HTML dropped on save)", async () => {
    const outPath = path.join(tmp, "figure-bundle-no-chromium.ipynb");
    const result = await runNotebook(path.join(__dirname, "fixtures", "figure-bundle.ipynb"), {
      // The runner fills no PNG; the kernel is neither off nor given a service (AE_PNG_SERVICE empty), so it looks for its own chromium.
      mode: "quick", outPath, png: false, env: { CHROMIUM_PATH: "/nonexistent/chromium", [PNG_SERVICE_ENV]: "" },
    });
    expect(result.failure).toBeNull();
    const nb = readNotebook(outPath);
    const outputs = nb.cells.flatMap((c) => (c.cell_type === "code" ? c.outputs : []));
    const rich = outputs.filter((o) => o.output_type === "display_data");
    expect(rich).toHaveLength(2);
    for (const o of rich) expect(Object.keys(o.data as object).sort()).toEqual([PLOTLY_MIME_TYPE, "text/plain"].sort());
    const stderr = outputs.filter((o) => o.output_type === "stream" && o.name === "stderr").map((o) => String(o.text)).join("");
    expect(stderr.match(/figures are sent without a PNG image in this kernel: chromium not found at \/nonexistent\/chromium/g)).toHaveLength(1);
  }, 240_000);
});
