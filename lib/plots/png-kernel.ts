/**
 * PNGs of Plotly figures rendered inside the kernel, synchronously, so showFigure stays a
 * plain function: one worker thread per process keeps one headless chromium page with
 * plotly.js loaded (lib/plots/png-worker.ts, the runner's PlotRenderer) and the main thread
 * blocks on a shared flag (Atomics.wait) until the PNG is back. Where chromium is missing
 * or fails, one warning on stderr and figures go out without a PNG. Where the runner shares
 * one chromium among its kernels (AE_PNG_SERVICE, lib/runner/png-service.ts), the worker asks
 * that one instead of starting its own; AE_PNG_SERVICE=off (the runner's --no-png) means no PNG
 * and no chromium.
 */
import * as fs from "fs";
import * as path from "path";
import { MessageChannel, MessagePort, receiveMessageOnPort, Worker } from "worker_threads";
import { findChromium } from "../runner/plot-png";
import { PNG_OFF, PNG_SERVICE_ENV } from "../runner/png-service";
import type { PngReply, PngWorkerData } from "./png-worker";

export interface KernelPngOptions {
  /** chromium binary (default: $CHROMIUM_PATH, else /usr/bin/chromium). */
  executablePath?: string;
  /** Longest wait for one figure, chromium's start included (default 60 s). */
  timeoutMs?: number;
  /** Where the one warning goes (default: stderr, which a kernel shows under the cell). */
  warn?: (message: string) => void;
  /** A run's shared PNG service (default: $AE_PNG_SERVICE, which the runner sets; none: start chromium here; "off": no PNGs). */
  serviceUrl?: string;
}

interface PngWorker {
  worker: Worker;
  port: MessagePort;
  flag: Int32Array;
  nextId: number;
}

let state: PngWorker | null = null;
/** Set once PNGs are known to be impossible in this process (the reason was shown). */
let disabledReason: string | null = null;

/** The worker's entry: the compiled .js next to this file, else the .ts source through ts-node (tests). */
function workerScript(): { code: string; eval: boolean } {
  const js = path.join(__dirname, "png-worker.js");
  if (fs.existsSync(js)) return { code: js, eval: false };
  const ts = path.join(__dirname, "png-worker.ts");
  return { code: `require("ts-node").register({ transpileOnly: true }); require(${JSON.stringify(ts)});`, eval: true };
}

function startWorker(executablePath: string, timeoutMs: number, serviceUrl: string | undefined): PngWorker {
  const { port1, port2 } = new MessageChannel();
  const flag = new SharedArrayBuffer(4);
  const data: PngWorkerData = { flag, reply: port2, executablePath, figureTimeoutMs: timeoutMs, serviceUrl };
  const script = workerScript();
  const worker = new Worker(script.code, { eval: script.eval, workerData: data, transferList: [port2] });
  worker.unref();
  port1.unref();
  return { worker, port: port1, flag: new Int32Array(flag), nextId: 1 };
}

function disable(reason: string, warn: (message: string) => void): null {
  disabledReason = reason;
  warn(`autoencoder-notebooks: figures are sent without a PNG image in this kernel: ${reason}`);
  void state?.worker.terminate();
  state = null;
  return null;
}

/** The worker, started on first use; null (after one warning) when no PNG can be made. */
function ensureWorker(options: KernelPngOptions, warn: (message: string) => void): PngWorker | null {
  if (disabledReason) return null;
  if (!state) {
    const serviceUrl = options.serviceUrl ?? (process.env[PNG_SERVICE_ENV] || undefined);
    if (serviceUrl === PNG_OFF) {
      disabledReason = `PNGs are off (${PNG_SERVICE_ENV}=${PNG_OFF})`; // asked for, so no warning
      return null;
    }
    const executablePath = serviceUrl ? "" : findChromium(options.executablePath);
    if (executablePath === null) return disable(`chromium not found at ${options.executablePath ?? process.env.CHROMIUM_PATH ?? "/usr/bin/chromium"} (apt-get install chromium, or set CHROMIUM_PATH)`, warn);
    state = startWorker(executablePath, options.timeoutMs ?? 60_000, serviceUrl);
  }
  return state;
}

function defaultWarn(message: string): void {
  process.stderr.write(`${message}\n`);
}

/**
 * Start chromium and plotly.js in the background now (ae.setup does, inside a kernel), so the
 * first figure does not wait for them. Never blocks; a missing chromium is reported here once.
 */
export function warmKernelPng(options: KernelPngOptions = {}): void {
  const worker = ensureWorker(options, options.warn ?? defaultWarn);
  worker?.worker.postMessage({ id: 0 });
}

/**
 * The figure ({data, layout, …}, layout.width/height set) as a base64 PNG, or null when no
 * PNG can be made (warned once per process). Blocks until the PNG is ready.
 */
export function renderFigurePng(figure: Record<string, unknown>, options: KernelPngOptions = {}): string | null {
  const warn = options.warn ?? defaultWarn;
  const worker = ensureWorker(options, warn);
  if (!worker) return null;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const id = worker.nextId++;
  worker.worker.postMessage({ id, figure });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // Read the flag before the port: the worker posts its reply before it bumps the flag.
    const seen = Atomics.load(worker.flag, 0);
    const reply = receiveMessageOnPort(worker.port)?.message as PngReply | undefined;
    if (reply?.id === id) {
      if (reply.png !== undefined) return reply.png;
      if (reply.fatal) return disable(reply.error ?? "the renderer did not start", warn);
      warn(`autoencoder-notebooks: a figure got no PNG image: ${reply.error}`);
      return null;
    }
    if (reply) continue; // a late answer to an earlier request
    const left = deadline - Date.now();
    if (left <= 0) return disable(`rendering a figure took more than ${timeoutMs} ms`, warn);
    Atomics.wait(worker.flag, 0, seen, Math.min(left, 1000));
  }
}

/** Whether this process has started its PNG worker (and so a chromium, or a client of the run's service). */
export function kernelPngStarted(): boolean {
  return state !== null;
}

/** Stop the worker and its chromium (tests; a kernel simply exits). */
export async function closeKernelPng(): Promise<void> {
  const current = state;
  state = null;
  disabledReason = null;
  await current?.worker.terminate();
}
