/**
 * One chromium for every kernel of a run (lib/runner/png-service.ts): the runner serves PNGs
 * from its warm page on loopback and kernels render their figures there (AE_PNG_SERVICE)
 * instead of each starting a browser. The success cases use this test run's service
 * (test/setup/png-service.ts), whose chromium the notebook tests share.
 */
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { Worker } from "worker_threads";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { closeKernelPng, renderFigurePng } from "../lib/plots/png-kernel";
import { readNotebook } from "../lib/runner/notebook";
import { findChromium, PLOTLY_MIME } from "../lib/runner/plot-png";
import { runNotebook } from "../lib/runner/runner";
import { requireLibBuild } from "./helpers/build";

const HAVE_CHROMIUM = findChromium() !== null;
const needChromium = it.skipIf(!HAVE_CHROMIUM && process.env.CI !== "true");
const FIGURE = { data: [{ type: "scatter", y: [1, 3, 2] }], layout: { width: 320, height: 200 } };

/** Width and height from a base64 PNG's IHDR. */
function pngSize(base64: string): { width: number; height: number } {
  const png = Buffer.from(base64, "base64");
  expect(png.subarray(1, 4).toString("latin1")).toBe("PNG");
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

function post(url: string, body: string): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: "POST", agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (c: Buffer) => chunks.push(c));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString("utf8")) }));
    });
    request.on("error", reject);
    request.end(body);
  });
}

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "png-service-"));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
afterEach(async () => {
  await closeKernelPng();
});

/**
 * A service whose chromium cannot start, in a worker thread: renderFigurePng blocks the thread
 * that calls it (as in a kernel), so the service must not live on that thread.
 */
const SERVICE_WORKER = `
const { parentPort, workerData } = require("worker_threads");
const { PngFiller } = require(workerData.dist + "/runner/plot-png.js");
const { startPngService } = require(workerData.dist + "/runner/png-service.js");
const warnings = [];
const filler = new PngFiller({ executablePath: "/nonexistent/chromium" }, (m) => warnings.push(m));
startPngService(filler).then((service) => {
  parentPort.postMessage({ url: service.url });
  parentPort.on("message", () => parentPort.postMessage({ warnings, rendered: service.rendered }));
});
`;

describe("startPngService", () => {
  let worker: Worker;
  let url: string;
  const report = (): Promise<{ warnings: string[]; rendered: number }> =>
    new Promise((resolve) => {
      worker.once("message", resolve);
      worker.postMessage("report");
    });
  beforeAll(async () => {
    await requireLibBuild();
    worker = new Worker(SERVICE_WORKER, { eval: true, workerData: { dist: path.join(__dirname, "..", "lib", "dist") } });
    url = await new Promise<string>((resolve, reject) => {
      worker.once("message", (m: { url: string }) => resolve(m.url));
      worker.once("error", reject);
    });
  }, 300_000);
  afterAll(async () => {
    await worker?.terminate();
  });

  it("listens on loopback behind a random token (other paths get 404); an empty body only starts chromium", async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/[0-9a-f]{32}$/);
    const wrongPath = url.replace(/\/[0-9a-f]{32}$/, "/0123");
    expect((await post(wrongPath, JSON.stringify(FIGURE))).status).toBe(404);
    expect(await post(url, "")).toEqual({ status: 200, json: {} });
  });

  it("when its chromium cannot start, says so as fatal: the kernel warns once and sends figures without a PNG", async () => {
    const reply = await post(url, JSON.stringify(FIGURE));
    expect(reply.status).toBe(500);
    expect(reply.json).toEqual({ error: expect.stringMatching(/chromium not found at \/nonexistent\/chromium/), fatal: true });
    const kernelWarnings: string[] = [];
    const warn = (m: string): void => void kernelWarnings.push(m);
    expect(renderFigurePng(FIGURE, { serviceUrl: url, warn })).toBeNull();
    expect(renderFigurePng(FIGURE, { serviceUrl: url, warn })).toBeNull();
    expect(kernelWarnings).toEqual([expect.stringMatching(/figures are sent without a PNG image in this kernel: chromium not found at \/nonexistent\/chromium/)]);
    const { warnings, rendered } = await report();
    expect(warnings).toEqual([expect.stringMatching(/^warning: Plotly outputs get no PNG: chromium not found/)]); // the runner's own, once
    expect(rendered).toBe(0);
  });

  it("a figure it cannot read is an error for that figure only (not fatal)", async () => {
    const reply = await post(url, "{not json");
    expect(reply.status).toBe(500);
    expect(reply.json.fatal).toBe(false);
  });
});

describe("the test run's service (one chromium for every notebook kernel)", () => {
  needChromium("renders a figure for renderFigurePng at the layout's size, synchronously", () => {
    const url = inject("pngServiceUrl");
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:/);
    const png = renderFigurePng(FIGURE, { serviceUrl: url, executablePath: "/nonexistent/chromium" });
    expect(png).not.toBeNull();
    expect(pngSize(png as string)).toEqual({ width: 320, height: 200 });
  }, 120_000);

  needChromium("a kernel given the service renders its figures' PNGs there, with no chromium of its own", async () => {
    await requireLibBuild();
    const outPath = path.join(tmp, "figure-bundle.ipynb");
    const result = await runNotebook(path.join(__dirname, "fixtures", "figure-bundle.ipynb"), {
      mode: "quick", outPath, png: false, pngService: { url: inject("pngServiceUrl") }, env: { CHROMIUM_PATH: "/nonexistent/chromium" },
    });
    expect(result.failure).toBeNull();
    const outputs = readNotebook(outPath).cells.flatMap((c) => (c.cell_type === "code" ? c.outputs : []));
    expect(outputs.filter((o) => o.output_type === "stream")).toEqual([]); // no warning about a missing chromium
    expect(outputs).toHaveLength(2);
    for (const o of outputs) {
      const data = o.data as Record<string, unknown>;
      expect(Object.keys(data).sort()).toEqual([PLOTLY_MIME, "image/png", "text/plain"].sort());
      expect(pngSize(data["image/png"] as string)).toEqual({ width: 400, height: 300 });
    }
  }, 240_000);
});
