/**
 * Worker thread behind renderFigurePng (lib/plots/png-kernel.ts): owns one headless
 * chromium page with plotly.js loaded (the runner's PlotRenderer) for the life of the
 * kernel process, or, where the runner shares its own (serviceUrl, lib/runner/png-service.ts),
 * asks that one; renders one figure per request, posts {id, png} or {id, error} on
 * the reply port and wakes the waiting main thread through the shared flag.
 */
import * as http from "http";
import { MessagePort, parentPort, workerData } from "worker_threads";
import { PlotRenderer } from "../runner/plot-png";
import type { PngServiceReply } from "../runner/png-service";

/** What the main thread hands the worker at start. */
export interface PngWorkerData {
  /** Int32Array(1) over a SharedArrayBuffer: set to the id of the last finished request. */
  flag: SharedArrayBuffer;
  reply: MessagePort;
  executablePath: string;
  figureTimeoutMs: number;
  /** A run's shared PNG service (AE_PNG_SERVICE): render there instead of starting chromium here. */
  serviceUrl?: string;
}

/** One render request; without a figure it only starts chromium (warm-up, no reply). */
export interface PngRequest {
  id: number;
  figure?: Record<string, unknown>;
}

/** One reply: the base64 PNG, or why there is none. */
export interface PngReply {
  id: number;
  png?: string;
  error?: string;
  /** True when chromium or plotly.js could not start: no later figure can get a PNG. */
  fatal?: boolean;
}

/** POST `body` to the run's PNG service and read its reply (one per figure; an empty body starts its chromium). */
function askService(url: string, body: string, timeoutMs: number): Promise<PngServiceReply> {
  return new Promise((resolve, reject) => {
    // A fresh loopback connection per figure (agent: false): a kept-alive one may be closed by the server meanwhile.
    const request = http.request(url, { method: "POST", agent: false, headers: { "content-type": "application/json" }, timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")) as PngServiceReply);
        } catch {
          reject(new Error(`the PNG service at ${url} answered ${response.statusCode} without JSON`));
        }
      });
      response.on("error", reject);
    });
    request.on("timeout", () => request.destroy(new Error(`the PNG service took more than ${timeoutMs} ms`)));
    request.on("error", reject);
    request.end(body);
  });
}

/** Render through the run's shared service: a fatal reply (its chromium did not start) ends PNGs in this kernel too. */
function serveFromService(data: PngWorkerData & { serviceUrl: string }, answer: (reply: PngReply) => void): void {
  const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));
  parentPort?.on("message", (request: PngRequest) => {
    const body = request.figure ? JSON.stringify(request.figure) : "";
    askService(data.serviceUrl, body, data.figureTimeoutMs).then(
      (reply) => {
        if (!request.figure) return; // warm-up: nobody waits for it
        if (typeof reply.png === "string") answer({ id: request.id, png: reply.png });
        else answer({ id: request.id, error: reply.error ?? "the PNG service sent no PNG", fatal: reply.fatal === true });
      },
      (error: unknown) => {
        if (request.figure) answer({ id: request.id, error: message(error) });
      },
    );
  });
}

function serve(data: PngWorkerData): void {
  const flag = new Int32Array(data.flag);
  let renderer: Promise<PlotRenderer> | null = null;
  const answer = (reply: PngReply): void => {
    data.reply.postMessage(reply);
    Atomics.store(flag, 0, reply.id);
    Atomics.notify(flag, 0);
  };
  if (data.serviceUrl) {
    serveFromService({ ...data, serviceUrl: data.serviceUrl }, answer);
    return;
  }
  parentPort?.on("message", (request: PngRequest) => {
    renderer ??= PlotRenderer.launch({ executablePath: data.executablePath, figureTimeoutMs: data.figureTimeoutMs });
    const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));
    const figure = request.figure;
    if (!figure) {
      renderer.catch(() => undefined); // the first figure reports it
      return;
    }
    renderer.then(
      (r) => r.renderPng(figure).then(
        (png) => answer({ id: request.id, png }),
        (error: unknown) => answer({ id: request.id, error: message(error) }),
      ),
      (error: unknown) => answer({ id: request.id, error: message(error), fatal: true }),
    );
  });
}

if (parentPort && workerData) serve(workerData as PngWorkerData);
