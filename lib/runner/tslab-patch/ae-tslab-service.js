/**
 * One compiler for a run's kernels, the part of the tslab patch behind AE_TS_SERVICE (copied
 * next to ae-tslab.js into node_modules/tslab/dist/ by apply.js; ae-tslab.js re-exports
 * converterFor for the line the patch puts into tslab's main.js):
 *
 * - In a kernel, `converterFor` gives tslab a converter that compiles in the run's TypeScript
 *   service (ts-service.js) through a synchronous client (`serviceClient`), and compiles on its
 *   own if the service fails.
 * - In the service, `shareDeclarations` makes its converters share the parsed declaration files
 *   (`withSharedDeclarations`, used by ae-tslab.js's lightBuilderProgram).
 *
 * Plain JavaScript: it runs inside tslab, outside any TypeScript tooling.
 */
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const { MessageChannel, receiveMessageOnPort, Worker } = require("worker_threads");

/**
 * Declaration files (.d.ts) parsed and bound once per process and shared by all its converters
 * (TypeScript's language service shares source files across programs the same way), or null
 * where each converter parses its own. Only the run's TypeScript service (ts-service.js), which
 * holds one converter per kernel, turns this on.
 */
let sharedDeclarations = null;

/** How long a shared declaration file is handed out before its size and time are looked at again. */
const SHARED_RECHECK_MS = 1000;

/** Share declaration files among this process's converters from now on (shareDeclarations() in ts-service.js). */
function shareDeclarations() {
  if (!sharedDeclarations) sharedDeclarations = new Map();
}

/** True for the converter's own in-memory files (the cell, the previous cells' declarations, their outputs). */
function isConverterFile(fileName) {
  const base = path.basename(fileName);
  return base.startsWith("__tslab__") || base.startsWith("__prev__");
}

/**
 * `host` with getSourceFile(ByPath) answered from the shared declarations where sharing is on:
 * a .d.ts is parsed by the first converter that needs it and handed as the same object to the
 * others, as long as its size and modification time are unchanged (looked at again at most once
 * a second: a rebuilt lib/dist is parsed again, bypassing the watch host's own copy). The options
 * that decide how a file is parsed and what its imports resolve to (target, type roots, paths;
 * tslab's TypeScript 5.0 keeps a file's resolved imports on the file) are part of the key.
 */
function withSharedDeclarations(host, options, recheckMs = SHARED_RECHECK_MS) {
  if (!sharedDeclarations || !host) return host;
  const scope = JSON.stringify([options.target, options.typeRoots, options.paths, options.moduleResolution]);
  const lookup = (fileName, languageVersion, parse) => {
    if (!fileName.endsWith(".d.ts") || isConverterFile(fileName)) return parse();
    const key = `${scope}\0${typeof languageVersion === "object" ? JSON.stringify(languageVersion) : languageVersion}\0${fileName}`;
    const hit = sharedDeclarations.get(key);
    const now = Date.now();
    // A program asks for every file it holds at each cell: one stat per file per second is enough.
    if (hit && now - hit.checkedAt < recheckMs) return hit.file;
    let stat;
    try {
      stat = fs.statSync(fileName);
    } catch {
      sharedDeclarations.delete(key);
      return parse(false);
    }
    if (hit && hit.mtimeMs === stat.mtimeMs && hit.size === stat.size) {
      hit.checkedAt = now;
      return hit.file;
    }
    // A new parse, not the watch host's cached copy (which it keeps until its own watcher fires).
    const file = parse(true);
    if (file) sharedDeclarations.set(key, { mtimeMs: stat.mtimeMs, size: stat.size, checkedAt: now, file });
    return file;
  };
  const shared = Object.create(host);
  shared.getSourceFile = (fileName, languageVersion, onError, shouldCreateNewSourceFile) =>
    lookup(fileName, languageVersion, (fresh) => host.getSourceFile(fileName, languageVersion, onError, shouldCreateNewSourceFile || fresh));
  if (host.getSourceFileByPath) {
    shared.getSourceFileByPath = (fileName, filePath, languageVersion, onError, shouldCreateNewSourceFile) =>
      lookup(fileName, languageVersion, (fresh) => host.getSourceFileByPath(fileName, filePath, languageVersion, onError, shouldCreateNewSourceFile || fresh));
  }
  return shared;
}

/** The environment variable that points a kernel at its run's TypeScript service (a Unix socket path); unset or empty: compile here. */
const TS_SERVICE_ENV = "AE_TS_SERVICE";

/** Longest wait for one answer of the service (a first cell that parses tfjs's declarations takes seconds on a busy machine). */
const TS_SERVICE_TIMEOUT_MS = 300_000;

/** The code of the worker thread that carries one request at a time to the service over HTTP on its Unix socket. */
const SERVICE_CLIENT_WORKER = `
const http = require("http");
const { parentPort, workerData } = require("worker_threads");
const flag = new Int32Array(workerData.flag);
function answer(message) {
  workerData.reply.postMessage(message);
  Atomics.add(flag, 0, 1);
  Atomics.notify(flag, 0);
}
parentPort.on("message", ({ id, body }) => {
  try {
    // A connection per call (agent: false): the service compiles for seconds at a time, and a kept-alive
    // connection it closes meanwhile for idleness would fail the next call.
    const request = http.request({ socketPath: workerData.socket, path: "/call", method: "POST", agent: false, headers: { "content-type": "application/json" } }, (response) => {
      const chunks = [];
      response.on("data", (chunk) => chunks.push(chunk));
      response.on("error", (error) => answer({ id, error: error.message }));
      response.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        answer(response.statusCode === 200 ? { id, body: text } : { id, error: "HTTP " + response.statusCode + ": " + text });
      });
    });
    request.on("error", (error) => answer({ id, error: error.message }));
    request.end(body);
  } catch (error) {
    answer({ id, error: String(error && error.message) });
  }
});`;

/**
 * A synchronous client of the service at `socket`: call(request[, waitMs]) blocks this thread
 * (Atomics.wait, as lib/plots/png-kernel.ts does for PNGs) while a worker thread carries the
 * request, and returns the service's `result`. It throws the converter's own error (marked
 * `fromConverter`) where the converter threw, and any other error where the service failed.
 */
function serviceClient(socket, timeoutMs = TS_SERVICE_TIMEOUT_MS) {
  const { port1, port2 } = new MessageChannel();
  const flagBuffer = new SharedArrayBuffer(4);
  const flag = new Int32Array(flagBuffer);
  const worker = new Worker(SERVICE_CLIENT_WORKER, { eval: true, workerData: { socket, flag: flagBuffer, reply: port2 }, transferList: [port2] });
  worker.unref();
  port1.unref();
  let nextId = 1;
  return {
    call(request, waitMs = timeoutMs) {
      const id = nextId++;
      worker.postMessage({ id, body: JSON.stringify(request) });
      const deadline = Date.now() + waitMs;
      for (;;) {
        // The flag before the port: the worker posts its answer before it bumps the flag.
        const seen = Atomics.load(flag, 0);
        const reply = receiveMessageOnPort(port1);
        const message = reply && reply.message;
        if (message && message.id === id) {
          if (message.error !== undefined) throw new Error(message.error);
          const answer = JSON.parse(message.body);
          if (answer.error !== undefined) throw Object.assign(new Error(answer.error), { fromConverter: true });
          return answer.result;
        }
        if (message) continue; // a late answer to an earlier request
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no answer within ${waitMs} ms`);
        Atomics.wait(flag, 0, seen, Math.min(left, 1000));
      }
    },
    close() {
      void worker.terminate();
    },
  };
}

/**
 * tslab's converter for this kernel: created here by `createConverter(options)`, or, where
 * AE_TS_SERVICE names the run's TypeScript service, a stand-in with the same methods that
 * compiles in that service (which parses the declaration files once for all the run's kernels
 * instead of once per kernel: ts-service.js). If the service fails, the kernel says so once on
 * stderr and compiles here from then on. Nothing is lost in the switch, nor when the service
 * drops this kernel's converter to make room: a call carries the previous cells' declarations
 * and the cell, and its spec carries the modules added so far (`%module` cells), which a new
 * converter, there or here, is given again first. A converter's own error is thrown as it is.
 */
function converterFor(createConverter, options, env = process.env) {
  const socket = env[TS_SERVICE_ENV];
  if (!socket) return createConverter(options);
  const session = `${process.pid}-${crypto.randomBytes(6).toString("hex")}`;
  const spec = { isJS: Boolean(options.isJS), isBrowser: Boolean(options.isBrowser), cwd: process.cwd(), modules: [] };
  let client = null;
  let local = null;
  const compileHere = (reason) => {
    process.stderr.write(`tslab: compiling in this kernel from now on: the run's TypeScript service (${TS_SERVICE_ENV}=${socket}) failed: ${reason}\n`);
    if (client) client.close();
    client = null;
    local = createConverter(options);
    for (const args of spec.modules) local.addModule(...args);
    return local;
  };
  const call = (op, args) => {
    if (local) return local[op](...args);
    let result;
    try {
      if (!client) client = serviceClient(socket);
      result = client.call({ session, spec, op, args });
    } catch (error) {
      if (error && error.fromConverter) throw new Error(error.message);
      return compileHere(error && error.message)[op](...args);
    }
    return result;
  };
  return {
    convert: (...args) => call("convert", args),
    inspect: (...args) => call("inspect", args),
    complete: (...args) => call("complete", args),
    addModule: (...args) => {
      const diagnostics = call("addModule", args);
      spec.modules.push(args);
      return diagnostics;
    },
    close() {
      if (local) local.close();
      if (client) {
        try {
          client.call({ session, op: "close" }, 5_000); // a kernel shutting down waits little
        } catch {
          // the service has gone: nothing to close there
        }
        client.close();
      }
    },
  };
}

module.exports = { TS_SERVICE_ENV, shareDeclarations, withSharedDeclarations, converterFor, serviceClient };
