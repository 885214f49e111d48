#!/usr/bin/env node
/**
 * A run's TypeScript service: compiles the cells of every kernel that the run starts, so that
 * the declaration files (Node's, the ES library's, tfjs's and this library's, about 3 s of parsing
 * and binding for a kernel that imports the library) are parsed once for all of them instead of
 * once per kernel. Each kernel keeps its own converter here (tslab's, with its own folder, as
 * that kernel would have made it); the converters share the parsed declarations
 * (ae-tslab-service.js, shareDeclarations). A kernel finds the service through AE_TS_SERVICE
 * (ae-tslab-service.js, converterFor) and compiles on its own if the service fails.
 *
 *   node lib/runner/tslab-patch/ts-service.js <socket path> [--remove-folder]
 *
 * prints "listening <socket path>" once it accepts requests, and ends when its standard input
 * closes (whoever started it has gone) or on SIGTERM/SIGINT, removing the socket (and with
 * --remove-folder the folder it is in).
 *
 * Protocol: HTTP on the Unix socket. POST /call {session, spec: {cwd, isJS, isBrowser, modules},
 * op, args} runs converter[op](...args) for that session → 200 {result}, or 200 {error} where the
 * converter threw; a session's converter is made on first use and given spec.modules (the
 * kernel's addModule calls so far) first. {session, op: "close"} ends a session; GET /stats →
 * {sessions, converters, calls}. A request it cannot take → 500 with the reason. At most
 * MAX_SESSIONS converters are kept: the least recently used one is closed first (its kernel's
 * next call makes it again: each call carries what a converter needs).
 */
"use strict";
const fs = require("fs");
const http = require("http");
const path = require("path");

const MAX_SESSIONS = 8;
const OPS = new Set(["convert", "inspect", "complete", "addModule"]);

/** tslab's patched dist folder of the project this file belongs to. */
function tslabDist() {
  return path.join(path.resolve(__dirname, "..", "..", ".."), "node_modules", "tslab", "dist");
}

/** Start serving on `socket`; resolves with the server once it listens. */
function serve(socket) {
  const dist = tslabDist();
  const { createConverter } = require(path.join(dist, "converter.js"));
  require(path.join(dist, "ae-tslab-service.js")).shareDeclarations();
  /** session → converter, least recently used first. */
  const sessions = new Map();
  const counts = { converters: 0, calls: 0 };

  const closeSession = (session) => {
    const converter = sessions.get(session);
    if (!converter) return;
    sessions.delete(session);
    converter.close();
  };
  const converterOf = (session, spec) => {
    let converter = sessions.get(session);
    if (converter) {
      sessions.delete(session);
    } else {
      if (!spec || typeof spec.cwd !== "string" || !path.isAbsolute(spec.cwd)) throw new Error(`spec.cwd must be an absolute folder, got ${JSON.stringify(spec && spec.cwd)}`);
      const modules = spec.modules === undefined ? [] : spec.modules;
      if (!Array.isArray(modules) || !modules.every(Array.isArray)) throw new Error("spec.modules must be a list of addModule argument lists");
      converter = createConverter({ isJS: Boolean(spec.isJS), isBrowser: Boolean(spec.isBrowser), cwd: spec.cwd });
      for (const args of modules) converter.addModule(...args);
      counts.converters += 1;
      while (sessions.size >= MAX_SESSIONS) closeSession(sessions.keys().next().value);
    }
    sessions.set(session, converter);
    return converter;
  };
  const handle = (request) => {
    if (typeof request.session !== "string" || request.session === "") throw new Error("session must be a non-empty string");
    if (request.op === "close") {
      closeSession(request.session);
      return { result: null };
    }
    if (!OPS.has(request.op)) throw new Error(`op must be one of close, ${[...OPS].join(", ")}; got ${JSON.stringify(request.op)}`);
    if (!Array.isArray(request.args)) throw new Error("args must be an array");
    counts.calls += 1;
    const converter = converterOf(request.session, request.spec);
    try {
      return { result: converter[request.op](...request.args) };
    } catch (error) {
      return { error: String((error && error.message) || error) }; // the converter's own error, for the kernel to throw
    }
  };

  const server = http.createServer((req, res) => {
    const send = (status, body) => {
      res.writeHead(status, { "content-type": status === 200 ? "application/json" : "text/plain" });
      res.end(body);
    };
    if (req.method === "GET" && req.url === "/stats") return send(200, JSON.stringify({ sessions: sessions.size, ...counts }));
    if (req.method !== "POST" || req.url !== "/call") return send(404, "POST /call or GET /stats");
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      try {
        send(200, JSON.stringify(handle(JSON.parse(Buffer.concat(chunks).toString("utf8")))));
      } catch (error) {
        send(500, String((error && error.stack) || error));
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(socket, () => resolve(server));
  });
}

if (require.main === module) {
  const [socket, ...flags] = process.argv.slice(2);
  if (!socket || !path.isAbsolute(socket) || flags.some((flag) => flag !== "--remove-folder")) {
    process.stderr.write("usage: node ts-service.js <absolute socket path> [--remove-folder]\n");
    process.exit(2);
  }
  const stop = () => {
    fs.rmSync(flags.includes("--remove-folder") ? path.dirname(socket) : socket, { recursive: true, force: true });
    process.exit(0);
  };
  fs.rmSync(socket, { force: true });
  serve(socket).then(
    () => {
      process.stdout.write(`listening ${socket}\n`);
      process.stdin.on("end", stop).on("close", stop).resume();
      process.on("SIGTERM", stop).on("SIGINT", stop);
    },
    (error) => {
      process.stderr.write(`ts-service: cannot listen on ${socket}: ${error.message}\n`);
      process.exit(1);
    },
  );
}

module.exports = { serve, MAX_SESSIONS };
