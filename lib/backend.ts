/**
 * Backend choice: one call (`initBackend`) picks the fastest TensorFlow.js backend that
 * works here and says which and why:
 *   "tensorflow" (tfjs-node, native libtensorflow; an optional dependency),
 *   else "wasm" (@tensorflow/tfjs-backend-wasm, made fast by lib/accelerate: kernel overrides,
 *     the optional native addon, the fused Adam, wasm threads),
 *   else "cpu" (pure JavaScript, slowest).
 * The AE_BACKEND environment variable (tensorflow | wasm | cpu | auto) forces one when the
 * caller does not; an explicit choice that cannot be met fails with the reason.
 * Nothing happens on import: packages are loaded on the first `initBackend` call.
 */
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
// The accelerator's one door (lib/accelerate): the only accelerator import in the teaching library.
import { accelerateWasm, AcceleratorReport, resolveWasmThreads, WasmThreadsRequest } from "./accelerate";

/** The TensorFlow.js backends this project runs on. */
export type BackendName = "tensorflow" | "wasm" | "cpu";
/** A backend, or "auto" for the fastest one that works. */
export type BackendRequest = BackendName | "auto";

/** Backends from fastest to slowest: the order "auto" tries them in. */
export const BACKEND_PREFERENCE: readonly BackendName[] = ["tensorflow", "wasm", "cpu"];

/** One backend that was tried, and why it failed if it did. */
export interface BackendAttempt {
  name: BackendName;
  ok: boolean;
  error?: string;
}

/** What `initBackend` chose and why. */
export interface BackendReport {
  /** The backend now active in TensorFlow.js. */
  name: BackendName;
  /** A sentence saying why, e.g. "tfjs-node not installed (…); wasm loaded (SIMD on, 1 thread)". */
  reason: string;
  /** Every backend tried, in order. */
  attempts: BackendAttempt[];
  /** What was asked for, and by whom. */
  requested: BackendRequest;
  requestedBy: "option" | "AE_BACKEND" | "default";
  /** wasm only: whether the SIMD binary runs. */
  simd?: boolean;
  /** wasm only: threads of its XNNPACK pool (>1 only with the threaded build, see lib/accelerate/wasm-threads.ts). */
  threads?: number;
  /** wasm only: kernels the accelerator added to the backend or replaced there (lib/accelerate/wasm-overrides/registry.ts). */
  extraKernels?: string[];
  /** wasm only: wasm's own kernels that are correct but slow, replaced by the accelerator's faster ones. */
  fasterKernels?: string[];
  /** wasm only: whether the native addon (lib/accelerate/native) is in use, and why not (its summary line). */
  native?: string;
  /** wasm only, where the native kernels are in use: their thread count. */
  nativeThreads?: number;
  /** wasm only: everything the accelerator made active (kernels, addon, threads, the Adam trainModel builds). */
  accelerator?: AcceleratorReport;
  /** Version of @tensorflow/tfjs-core. */
  tfjsVersion: string;
}

/** Options of `initBackend`. */
export interface InitBackendOptions {
  /** Which backend (default: AE_BACKEND, else "auto"). */
  backend?: BackendRequest;
  /** Environment to read AE_BACKEND and AE_WASM_THREADS from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** wasm threads: a count, or "auto" (default: AE_WASM_THREADS, else auto); fixed once wasm has started. */
  threads?: WasmThreadsRequest;
}

/** Parse a backend name, failing with one that names the input and the allowed values. */
export function parseBackendRequest(value: string, source = "backend"): BackendRequest {
  const allowed: string[] = [...BACKEND_PREFERENCE, "auto"];
  if (allowed.includes(value)) return value as BackendRequest;
  throw new Error(`${source} must be one of ${allowed.map((name) => `"${name}"`).join(", ")}; got ${JSON.stringify(value)}`);
}

/** The backend asked for: the option if given, else AE_BACKEND if set, else "auto". */
export function resolveBackendRequest(
  options: InitBackendOptions = {},
): { request: BackendRequest; requestedBy: BackendReport["requestedBy"] } {
  if (options.backend !== undefined) {
    return { request: parseBackendRequest(options.backend, "initBackend: options.backend"), requestedBy: "option" };
  }
  const fromEnv = (options.env ?? process.env).AE_BACKEND;
  if (fromEnv !== undefined && fromEnv.trim() !== "") {
    return { request: parseBackendRequest(fromEnv.trim(), "AE_BACKEND"), requestedBy: "AE_BACKEND" };
  }
  return { request: "auto", requestedBy: "default" };
}

/** What a backend reports about itself once it runs. */
interface LoadedBackend {
  /** Human summary, e.g. "wasm loaded (SIMD on, 1 thread)". */
  summary: string;
  simd?: boolean;
  threads?: number;
  extraKernels?: string[];
  fasterKernels?: string[];
  native?: string;
  nativeThreads?: number;
  accelerator?: AcceleratorReport;
}

/** A backend that cannot be used, with a short reason. */
class BackendUnavailable extends Error {}

/** The first line of an error's message (require errors append a long require stack). */
function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : typeof error === "object" && error !== null && "message" in error ? String((error as { message: unknown }).message) : String(error);
  return message.split("\n")[0].trim();
}

/** At most `limit` characters of `text`. */
function shorten(text: string, limit = 240): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

/**
 * `tf.setBackend(name)`, turning tfjs's "returned false and logged a warning" into an error
 * that carries the warning. Warnings of a successful switch are passed on.
 */
async function activate(name: BackendName): Promise<void> {
  if (tf.getBackend() === name && tf.findBackend(name)) return;
  const warnings: string[] = [];
  const originalWarn = console.warn;
  console.warn = (...args: unknown[]) => {
    warnings.push(args.map(String).join(" "));
  };
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
  } catch (error) {
    throw new BackendUnavailable(`tf.setBackend("${name}") threw: ${firstLine(error)}`);
  } finally {
    console.warn = originalWarn;
  }
  if (!ok) {
    const why = shorten(warnings.map((w) => w.split("\n")[0].trim()).find((w) => w !== "") ?? "no reason given");
    throw new BackendUnavailable(`tf.setBackend("${name}") failed: ${why}`);
  }
  for (const warning of warnings) originalWarn(warning);
}

/** Load tfjs-node (it registers the "tensorflow" backend into our @tensorflow/tfjs) and switch to it. */
async function loadTensorflow(): Promise<LoadedBackend> {
  if (!tf.findBackendFactory("tensorflow")) {
    let nodeBinding: { version?: { [name: string]: string } };
    try {
      nodeBinding = require("@tensorflow/tfjs-node");
    } catch (error) {
      const code = (error as { code?: string }).code;
      const missing = code === "MODULE_NOT_FOUND" && firstLine(error).includes("'@tensorflow/tfjs-node'");
      throw new BackendUnavailable(missing ? `tfjs-node not installed (${firstLine(error)})` : `tfjs-node failed to load (${firstLine(error)})`);
    }
    if (!tf.findBackendFactory("tensorflow")) {
      const theirs = nodeBinding.version?.["tfjs-core"] ?? "unknown";
      throw new BackendUnavailable(
        `tfjs-node loaded but registered its backend with another copy of @tensorflow/tfjs-core (${theirs}; ours is ${tf.version_core}): install matching versions`,
      );
    }
  }
  await activate("tensorflow");
  return { summary: "tfjs-node loaded (native TensorFlow)" };
}

/** The folder holding tfjs-backend-wasm's .wasm binaries, checked to exist. */
function wasmBinaryFolder(): string {
  const folder = path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm"));
  for (const binary of ["tfjs-backend-wasm.wasm", "tfjs-backend-wasm-simd.wasm"]) {
    if (!fs.existsSync(path.join(folder, binary))) {
      throw new BackendUnavailable(`wasm binary ${path.join(folder, binary)} is missing (reinstall @tensorflow/tfjs-backend-wasm)`);
    }
  }
  return folder;
}

/** The parts of @tensorflow/tfjs-backend-wasm used here (kept local so no wasm types leak into our .d.ts). */
interface WasmPackage {
  setWasmPaths(prefix: string): void;
  getThreadsCount(): number;
  setThreadsCount(threads: number): void;
}

let wasmPathsSet = false;

/** Load tfjs-backend-wasm from local files (no network), make it fast (lib/accelerate), switch to it. */
async function loadWasm(options: InitBackendOptions): Promise<LoadedBackend> {
  let wasm: WasmPackage;
  try {
    wasm = require("@tensorflow/tfjs-backend-wasm");
  } catch (error) {
    throw new BackendUnavailable(`@tensorflow/tfjs-backend-wasm failed to load (${firstLine(error)})`);
  }
  if (!wasmPathsSet) {
    // Point it at the installed binaries explicitly: in Node it reads them with fs, never fetches.
    // (Not tf.findBackend("wasm") to ask whether it started: that call would start it.)
    const folder = wasmBinaryFolder();
    try {
      wasm.setWasmPaths(folder + path.sep);
    } catch {
      // Only thrown after a failed initialisation, which setBackend below reports.
    }
    wasmPathsSet = true;
  }
  const accelerator = await accelerateWasm(wasm, () => activate("wasm"), { threads: options.threads, env: options.env ?? process.env });
  const simd = Boolean(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"));
  return {
    summary: `wasm loaded (SIMD ${simd ? "on" : "off"}, ${accelerator.summary})`,
    simd,
    threads: accelerator.wasmThreads,
    extraKernels: accelerator.extraKernels,
    fasterKernels: accelerator.fasterKernels,
    native: accelerator.native.summary,
    ...(accelerator.native.threads !== undefined ? { nativeThreads: accelerator.native.threads } : {}),
    accelerator,
  };
}

/** Switch to the pure-JavaScript cpu backend. */
async function loadCpu(): Promise<LoadedBackend> {
  await activate("cpu");
  // Our report already says cpu is slow; silence its own first-use banner (a private flag).
  const cpu = tf.findBackend("cpu") as unknown as { firstUse?: boolean } | null;
  if (cpu && cpu.firstUse === true) cpu.firstUse = false;
  return { summary: "cpu ready (pure JavaScript, the slowest)" };
}

const LOADERS: Record<BackendName, (options: InitBackendOptions) => Promise<LoadedBackend>> = {
  tensorflow: loadTensorflow,
  wasm: loadWasm,
  cpu: loadCpu,
};

/** Backends that have loaded in this process, so switching back is instant. */
const loaded = new Map<BackendName, LoadedBackend>();
/** The failure of each backend that failed, so "auto" does not retry it. */
const failed = new Map<BackendName, string>();

/** Try one backend: load it (once per process) and make it active. */
async function tryBackend(name: BackendName, options: InitBackendOptions): Promise<LoadedBackend> {
  const known = loaded.get(name);
  if (known) {
    await activate(name);
    return known;
  }
  const previousFailure = failed.get(name);
  if (previousFailure !== undefined) throw new BackendUnavailable(previousFailure);
  try {
    const result = await LOADERS[name](options);
    loaded.set(name, result);
    return result;
  } catch (error) {
    const message = error instanceof BackendUnavailable ? error.message : `${name} failed: ${firstLine(error)}`;
    failed.set(name, message);
    throw new BackendUnavailable(message);
  }
}

let current: BackendReport | null = null;
let queue: Promise<unknown> = Promise.resolve();

/** Who asked, in words, for the reason sentence. */
function requestedByText(request: BackendRequest, by: BackendReport["requestedBy"]): string {
  return by === "AE_BACKEND" ? `forced by AE_BACKEND=${request}` : `requested as backend "${request}"`;
}

/** Pick, load and activate the backend (see the module comment). */
async function initBackendNow(options: InitBackendOptions): Promise<BackendReport> {
  const { request, requestedBy } = resolveBackendRequest(options);
  resolveWasmThreads(options); // a bad threads option / AE_WASM_THREADS is the caller's error, not a reason to skip wasm
  if (current && (request === "auto" || request === current.name)) {
    await activate(current.name); // someone may have switched with tf.setBackend meanwhile
    return current;
  }
  const candidates = request === "auto" ? BACKEND_PREFERENCE : [request];
  const attempts: BackendAttempt[] = [];
  const notes: string[] = [];
  for (const name of candidates) {
    try {
      const result = await tryBackend(name, options);
      attempts.push({ name, ok: true });
      notes.push(result.summary);
      const prefix = request === "auto" ? "" : `${requestedByText(request, requestedBy)}: `;
      current = {
        name,
        reason: prefix + notes.join("; "),
        attempts,
        requested: request,
        requestedBy,
        ...(result.simd !== undefined ? { simd: result.simd } : {}),
        ...(result.threads !== undefined ? { threads: result.threads } : {}),
        ...(result.extraKernels !== undefined ? { extraKernels: result.extraKernels } : {}),
        ...(result.fasterKernels !== undefined ? { fasterKernels: result.fasterKernels } : {}),
        ...(result.native !== undefined ? { native: result.native } : {}),
        ...(result.nativeThreads !== undefined ? { nativeThreads: result.nativeThreads } : {}),
        ...(result.accelerator !== undefined ? { accelerator: result.accelerator } : {}),
        tfjsVersion: tf.version_core,
      };
      return current;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      attempts.push({ name, ok: false, error: message });
      notes.push(message);
    }
  }
  if (current) await activate(current.name).catch(() => undefined); // leave the previous backend in place
  const failures = attempts.map((a) => `${a.name}: ${a.error}`).join("; ");
  if (request === "auto") throw new Error(`initBackend: no backend works (${failures})`);
  const hint = request === "tensorflow" ? "Install it with `npm install @tensorflow/tfjs-node`, or choose" : "Choose";
  throw new Error(
    `initBackend: cannot use backend "${request}" (${requestedByText(request, requestedBy)}): ${attempts[0].error}. ${hint} ` +
      `another with AE_BACKEND=${BACKEND_PREFERENCE.filter((n) => n !== request).join("|")}|auto.`,
  );
}

/**
 * Choose and activate the TensorFlow.js backend: the fastest that works ("auto"), or the
 * one named by `options.backend` or AE_BACKEND. Calling it again reuses the ready backend.
 */
export function initBackend(options: InitBackendOptions = {}): Promise<BackendReport> {
  const run = queue.then(() => initBackendNow(options));
  queue = run.catch(() => undefined);
  return run;
}

/** The report of the last successful `initBackend`, or null before it ran. */
export function backendReport(): BackendReport | null {
  return current;
}

/** One line for logs: "backend: wasm (SIMD on, 1 thread) · tfjs 4.22.0 · <reason>". */
export function describeBackend(report: BackendReport | null = current): string {
  if (!report) return `backend: ${tf.getBackend() ?? "none"} (initBackend not called) · tfjs ${tf.version_core}`;
  const details: string[] = [];
  if (report.simd !== undefined) details.push(`SIMD ${report.simd ? "on" : "off"}`);
  if (report.threads !== undefined) details.push(`${report.threads} thread${report.threads === 1 ? "" : "s"}`);
  const detailText = details.length > 0 ? ` (${details.join(", ")})` : "";
  return `backend: ${report.name}${detailText} · tfjs ${report.tfjsVersion} · ${report.reason}`;
}
