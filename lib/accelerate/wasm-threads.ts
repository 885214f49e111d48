/**
 * Multi-threaded tfjs-backend-wasm in Node.
 *
 * tfjs-backend-wasm 4.22 ships a threaded SIMD build (XNNPACK splits matrix products and
 * convolutions over a pthreadpool), but tfjs turns it off in Node (WASM_HAS_MULTITHREAD_SUPPORT
 * is false there). Four things stand between that build and Node, and this module fixes
 * exactly those, only while the backend initialises:
 * 1. Emscripten's glue starts each pthread with `new Worker(url)` where Worker is
 *    `require("worker_threads").Worker` and url is a `blob:` URL (tfjs's locateFile), which
 *    worker_threads cannot open. {@link PthreadWorker} (swapped into that export during
 *    initialisation, then restored) looks the Blob up with `buffer.resolveObjectURL`, passes it
 *    to the worker as workerData and starts a small bootstrap that reads and evaluates it
 *    (messages posted meanwhile wait in the worker's port, so nothing is lost).
 * 2. tfjs hands the pthreads its own bundled, transpiled copy of the Emscripten factory as a
 *    Blob, which refers to bundle-scope names (`commonjsGlobal`, …) and cannot run alone. The
 *    "load" message is rewritten to point at the package's untranspiled original of the same
 *    build (wasm-out/tfjs-backend-wasm-threaded-simd.js), which Emscripten's Node worker code
 *    reads from disk with `importScripts`.
 * 3. Process exit: Emscripten ref()s a worker while it runs a pthread, and XNNPACK's pool
 *    threads run for the life of the backend, so Node would never exit. A PthreadWorker is
 *    unref'd once it has loaded and stays so: an idle pool never keeps the process alive.
 * 4. tfjs caps the pool at emscripten_num_logical_cores() / 2, i.e. os.cpus().length / 2 in
 *    Node (1 on a 2-core machine); os.cpus lists each core repeatedly during initialisation.
 * Costs and caveats (measured on the shared 2-core machine, Node 20):
 * - Memory: about +290 MB RSS for 2 threads, +40 MB per further thread (Emscripten starts 8
 *   pthread workers; the spares are ended after initialisation, but glibc keeps most of their
 *   arenas; MALLOC_ARENA_MAX=2 halves it). Initialisation takes ~1.3 s instead of ~0.05 s.
 * - XNNPACK's pool threads spin (pthreadpool's spin-wait) for a while after each operation
 *   before they sleep, so on a busy machine they take CPU from the main thread and from others.
 *   Only XNNPACK operations (dense and conv forward, elementwise) run on the pool; tfjs-wasm's
 *   naive kernels (e.g. BatchMatMul with a transposed operand) stay on one thread.
 * - Measured by `npm run bench -- --wasm-threads 1,2` (README, "Performance"): on an otherwise
 *   idle 2-core machine two threads trained the conv models clearly faster and the MLPs about as
 *   fast or faster; with the cores oversubscribed by other processes, results swing both ways.
 *   Hence "auto" takes 2 threads where there are 2 cores or more (more threads are unmeasured),
 *   and a busy or shared machine can say AE_WASM_THREADS=1 (the test suite does: its workers
 *   share the cores).
 * The caller sets the flag and the thread count (`setThreadsCount`) before `tf.setBackend("wasm")`
 * and calls {@link WasmThreadSession.finish}; on failure `abort` terminates every worker
 * started here and restores every global changed, so a single-threaded retry starts clean.
 * Nothing happens on import.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as workerThreads from "worker_threads";
import { resolveObjectURL } from "buffer";
import * as tf from "@tensorflow/tfjs";

/** Environment variable choosing the wasm thread count: a positive integer, or "auto". */
export const WASM_THREADS_ENV = "AE_WASM_THREADS";

/** The most threads we start: Emscripten preallocates 8 pthread workers (the pool has the caller plus 8). */
export const MAX_WASM_THREADS = 8;

/** A thread count, or "auto" (let this module decide, see {@link autoWasmThreads}). */
export type WasmThreadsRequest = number | "auto";

/** Parse a thread count ("auto" or an integer 1…MAX_WASM_THREADS), failing with a message naming the input. */
export function parseWasmThreads(value: string | number, source = "threads"): WasmThreadsRequest {
  const text = String(value).trim();
  if (text === "auto") return "auto";
  const count = Number(text);
  if (/^\d+$/.test(text) && Number.isInteger(count) && count >= 1 && count <= MAX_WASM_THREADS) return count;
  throw new Error(`${source} must be "auto" or an integer from 1 to ${MAX_WASM_THREADS}; got ${JSON.stringify(value)}`);
}

/** The thread request: the option if given, else AE_WASM_THREADS if set, else "auto". */
export function resolveWasmThreads(
  options: { threads?: WasmThreadsRequest; env?: NodeJS.ProcessEnv } = {},
): { request: WasmThreadsRequest; requestedBy: "option" | "AE_WASM_THREADS" | "default" } {
  if (options.threads !== undefined) return { request: parseWasmThreads(options.threads, "initBackend: options.threads"), requestedBy: "option" };
  const fromEnv = (options.env ?? process.env)[WASM_THREADS_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== "") return { request: parseWasmThreads(fromEnv, WASM_THREADS_ENV), requestedBy: "AE_WASM_THREADS" };
  return { request: "auto", requestedBy: "default" };
}

/** Logical cores Node sees. */
export function cpuCount(): number {
  const available = (os as { availableParallelism?: () => number }).availableParallelism;
  return Math.max(1, typeof available === "function" ? available() : os.cpus().length);
}

/**
 * What "auto" means: 2 threads on a machine with 2 or more cores (measured to win there, see the
 * module comment), else the single-threaded build. AE_WASM_THREADS=1 or `initBackend({ threads: 1 })`
 * turns threads off; a larger count asks for more.
 */
export function autoWasmThreads(cores = cpuCount()): number {
  return cores >= 2 ? 2 : 1;
}

/** A small module using shared memory and an atomic instruction (from wasm-feature-detect's threads test). */
const THREADS_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 5, 4, 1, 3, 1, 1, 10, 11, 1, 9, 0, 65, 0, 254, 16, 2, 0, 26, 11,
]);

/** The files of the threaded build, in the installed tfjs-backend-wasm. */
export function threadedBuildFiles(): { factory: string; binary: string } {
  const dist = path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm"));
  return {
    factory: path.join(dist, "..", "wasm-out", "tfjs-backend-wasm-threaded-simd.js"),
    binary: path.join(dist, "tfjs-backend-wasm-threaded-simd.wasm"),
  };
}

/** Why the threaded build cannot run here, or null when it can (shared memory, atomics, worker_threads, its files). */
export function wasmThreadsUnsupportedReason(): string | null {
  if (typeof SharedArrayBuffer !== "function") return "no SharedArrayBuffer";
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true } as WebAssembly.MemoryDescriptor);
    if (!WebAssembly.validate(THREADS_PROBE)) return "WebAssembly threads not supported";
  } catch (error) {
    return `no shared WebAssembly memory (${error instanceof Error ? error.message : String(error)})`;
  }
  if (typeof workerThreads.Worker !== "function" || typeof resolveObjectURL !== "function") return "worker_threads or buffer.resolveObjectURL missing";
  const files = threadedBuildFiles();
  for (const file of [files.factory, files.binary]) if (!fs.existsSync(file)) return `threaded build file ${file} is missing`;
  return null;
}

/** Key of the Blob in a bootstrap worker's workerData. */
const BLOB_KEY = "__aeWorkerScriptBlob";

/** Code of a worker started from a blob: URL: read the Blob handed over, evaluate it in the worker's global scope. */
const BOOTSTRAP = `require("worker_threads").workerData[${JSON.stringify(BLOB_KEY)}].text().then((source) => { (0, eval)(source); });`;

/** Workers started by PthreadWorker and still alive, so a failed initialisation can end them. */
const liveWorkers = new Set<workerThreads.Worker>();
/** Path of the untranspiled Emscripten factory, substituted for tfjs's Blob in "load" messages. */
let factoryScriptPath = "";

/**
 * worker_threads.Worker that also opens blob: URLs (as browsers' Worker does), rewrites
 * Emscripten's "load" message to load the threaded factory from disk, and never keeps the
 * process alive once Emscripten has unref'd it.
 */
class PthreadWorker extends workerThreads.Worker {
  private mayRef: boolean;

  constructor(filename: string | URL, options: workerThreads.WorkerOptions = {}) {
    super(...PthreadWorker.startArguments(filename, options));
    this.mayRef = true;
    liveWorkers.add(this);
    this.once("exit", () => liveWorkers.delete(this));
  }

  /** A blob: URL becomes the bootstrap with the Blob in workerData; anything else is passed on. */
  private static startArguments(filename: string | URL, options: workerThreads.WorkerOptions): [string | URL, workerThreads.WorkerOptions] {
    const name = String(filename);
    if (!name.startsWith("blob:")) return [filename, options];
    const blob = resolveObjectURL(name);
    if (!blob) throw new Error(`wasm threads: ${name} names no Blob (revoked?)`);
    return [BOOTSTRAP, { ...options, eval: true, workerData: { [BLOB_KEY]: blob } }];
  }

  override postMessage(value: unknown, transferList?: readonly workerThreads.TransferListItem[]): void {
    const message = value as { cmd?: unknown; urlOrBlob?: unknown } | null;
    if (message && message.cmd === "load" && typeof message.urlOrBlob !== "string" && factoryScriptPath !== "") {
      value = { ...message, urlOrBlob: factoryScriptPath };
    }
    super.postMessage(value, transferList);
  }

  override ref(): void {
    if (this.mayRef) super.ref();
  }

  override unref(): void {
    this.mayRef = false;
    super.unref();
  }
}

/** The globals a session changes, to put back. */
interface SavedGlobals {
  workerExport: typeof workerThreads.Worker;
  globalWorker: PropertyDescriptor | undefined;
  cpus: typeof os.cpus;
}

/** A threaded initialisation in progress: end it with `finish` (success) or `abort` (failure). */
export interface WasmThreadSession {
  /** Threads asked of XNNPACK. */
  threads: number;
  /** Success: restore worker_threads.Worker, os.cpus and globalThis.Worker (started workers keep running, unref'd). */
  finish(): void;
  /** Failure: restore as `finish` does, and terminate every worker started. */
  abort(): Promise<void>;
}

let active: SavedGlobals | null = null;
/** The CommonJS os module object (the one the glue's require("os") returns). */
const osModule = require("os") as typeof os;

/**
 * Prepare the threaded build before `tf.setBackend("wasm")`: swap PthreadWorker into
 * worker_threads.Worker (Emscripten's glue copies it to globalThis.Worker). The caller sets
 * WASM_HAS_MULTITHREAD_SUPPORT and setThreadsCount itself. Throws if a session is open.
 */
export function beginWasmThreads(threads: number): WasmThreadSession {
  if (active) throw new Error("wasm threads: an initialisation is already in progress");
  const reason = wasmThreadsUnsupportedReason();
  if (reason) throw new Error(`wasm threads unavailable: ${reason}`);
  factoryScriptPath = threadedBuildFiles().factory;
  const saved: SavedGlobals = {
    workerExport: workerThreads.Worker,
    globalWorker: Object.getOwnPropertyDescriptor(globalThis, "Worker"),
    cpus: osModule.cpus,
  };
  active = saved;
  // The CommonJS export object of worker_threads is what the glue's require("worker_threads") returns.
  const exportsObject = require("worker_threads") as { Worker: typeof workerThreads.Worker };
  exportsObject.Worker = PthreadWorker;
  // tfjs caps the pool at emscripten_num_logical_cores() / 2 (it assumes 2 hyperthreads per
  // core), which in Node is require("os").cpus().length / 2: 1 on a 2-core machine. Its C++
  // reads that once, while the module instantiates, so os.cpus lists each core repeatedly
  // until `threads` is within the cap, only until finish/abort.
  osModule.cpus = () => {
    const cores = saved.cpus.call(osModule);
    const listed = [...cores];
    while (cores.length > 0 && listed.length < 2 * threads) listed.push(cores[listed.length % cores.length]);
    return listed;
  };
  const restore = (): void => {
    exportsObject.Worker = saved.workerExport;
    osModule.cpus = saved.cpus;
    // The glue set globalThis.Worker; it only needs it again if its 8 preallocated workers run
    // out, which a pool of at most MAX_WASM_THREADS threads never does.
    if (saved.globalWorker) Object.defineProperty(globalThis, "Worker", saved.globalWorker);
    else delete (globalThis as { Worker?: unknown }).Worker;
    active = null;
  };
  return {
    threads,
    finish: restore,
    abort: async () => {
      restore();
      const workers = [...liveWorkers];
      liveWorkers.clear();
      await Promise.all(workers.map((worker) => worker.terminate().catch(() => undefined)));
    },
  };
}

/** Workers this module started that are still running (pthreads of the threaded backend). */
export function wasmThreadWorkerCount(): number {
  return liveWorkers.size;
}

/** The parts of @tensorflow/tfjs-backend-wasm used here. */
export interface WasmThreadControls {
  setThreadsCount(threads: number): void;
  getThreadsCount(): number;
}

/** Options of {@link activateWasmWithThreads}. */
export interface WasmThreadsOptions {
  /** Threads (1 = the stock single-threaded build), or "auto" (default: AE_WASM_THREADS, else "auto"). */
  threads?: WasmThreadsRequest;
  /** Environment to read AE_WASM_THREADS from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Give up on a threaded initialisation after this long (default 60 s) and fall back. */
  timeoutMs?: number;
}

/** How the wasm backend started: its thread count and, if threads were wanted but not used, why. */
export interface WasmThreadsOutcome {
  threads: number;
  /** e.g. "" or "threads unavailable: no SharedArrayBuffer; single-threaded". */
  note: string;
}

/**
 * End the pthread workers Emscripten preallocated but XNNPACK's pool did not take (it starts 8;
 * a 2-thread pool uses 1): each holds ~40 MB. Nothing in tfjs starts a pthread after
 * initialisation; if something did, Emscripten would need globalThis.Worker again.
 */
function releaseSpareWorkers(): void {
  const backend = tf.findBackend("wasm") as unknown as { wasm?: { PThread?: { unusedWorkers?: workerThreads.Worker[] } } } | null;
  const spare = backend?.wasm?.PThread?.unusedWorkers;
  if (!Array.isArray(spare)) return;
  for (const worker of spare.splice(0, spare.length)) {
    liveWorkers.delete(worker);
    void worker.terminate().catch(() => undefined);
  }
}

/** `promise`, or a rejection after `ms` milliseconds (the timer does not keep the process alive). */
function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * Start tfjs-backend-wasm with the thread count asked for (option, else AE_WASM_THREADS, else
 * "auto" = {@link autoWasmThreads}). More than one thread uses the threaded SIMD build through
 * {@link beginWasmThreads}; if that cannot run or fails, every change is undone and the stock
 * single-threaded build starts instead, with the reason in `note`. `activate` is the caller's
 * `tf.setBackend("wasm")` (it must throw on failure); call before the wasm backend ever started.
 */
export async function activateWasmWithThreads(
  wasm: WasmThreadControls,
  activate: () => Promise<void>,
  options: WasmThreadsOptions = {},
): Promise<WasmThreadsOutcome> {
  const { request } = resolveWasmThreads(options);
  const wanted = request === "auto" ? autoWasmThreads() : request;
  if (wanted <= 1) {
    await activate();
    return { threads: wasm.getThreadsCount(), note: "" };
  }
  const unsupported = wasmThreadsUnsupportedReason();
  if (unsupported !== null) {
    await activate();
    return { threads: wasm.getThreadsCount(), note: `threads unavailable (${unsupported}); single-threaded` };
  }
  const session = beginWasmThreads(wanted);
  const flags = tf.env();
  try {
    flags.set("WASM_HAS_MULTITHREAD_SUPPORT", true);
    wasm.setThreadsCount(wanted);
    await withTimeout(activate(), options.timeoutMs ?? 60_000, "threaded wasm initialisation");
    session.finish();
    releaseSpareWorkers();
    const threads = wasm.getThreadsCount();
    return { threads, note: threads < wanted ? `${wanted} threads asked, the build gave ${threads}` : "" };
  } catch (error) {
    await session.abort();
    flags.set("WASM_HAS_MULTITHREAD_SUPPORT", false);
    wasm.setThreadsCount(1);
    const why = (error instanceof Error ? error.message : String(error)).split("\n")[0];
    await activate();
    return { threads: wasm.getThreadsCount(), note: `threaded build failed (${why}); single-threaded` };
  }
}
