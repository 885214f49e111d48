/**
 * Worker thread behind renderFigurePng (lib/plots/png-kernel.ts): owns one headless
 * chromium page with plotly.js loaded (the runner's PlotRenderer) for the life of the
 * kernel process, renders one figure per request, posts {id, png} or {id, error} on
 * the reply port and wakes the waiting main thread through the shared flag.
 */
import { MessagePort, parentPort, workerData } from "worker_threads";
import { PlotRenderer } from "../runner/plot-png";

/** What the main thread hands the worker at start. */
export interface PngWorkerData {
  /** Int32Array(1) over a SharedArrayBuffer: set to the id of the last finished request. */
  flag: SharedArrayBuffer;
  reply: MessagePort;
  executablePath: string;
  figureTimeoutMs: number;
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

function serve(data: PngWorkerData): void {
  const flag = new Int32Array(data.flag);
  let renderer: Promise<PlotRenderer> | null = null;
  const answer = (reply: PngReply): void => {
    data.reply.postMessage(reply);
    Atomics.store(flag, 0, reply.id);
    Atomics.notify(flag, 0);
  };
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
