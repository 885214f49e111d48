/**
 * Runtime helpers that lib/runner/tslab-patch/apply.js installs into node_modules/tslab/dist/ (as
 * ae-tslab.js) and wires into tslab's executor, Jupyter handler and converter:
 *
 * - Errors as Jupyter `error` outputs: a failed cell's TypeScript diagnostics or thrown /
 *   rejected value become { ename, evalue, traceback }, the traceback trimmed to the cell's
 *   own frames, each mapped back to its line in the cell ("line L | source").
 * - One import that works from any folder: `import * as ae from "autoencoder-notebooks"`
 *   resolves to this project's lib/ (for TypeScript through compiler `paths`, at run time
 *   through the cell's `require`), and bare imports that the notebook's folder cannot
 *   resolve (`@tensorflow/tfjs`) fall back to this project's node_modules.
 *
 * - Faster cells: tslab's watch compiler host gets a builder that is the plain Program
 *   (`lightBuilderProgram`), instead of TypeScript's incremental builder, which rebuilds its
 *   reference map of every file (tfjs's and Node's declarations included) through the type
 *   checker on every program update; and a cell's top-level names come from binding the cell
 *   alone (`cellLocals`) instead of a first whole-program update without the export line.
 *   Each cell then costs one program update instead of two, each without the builder's state.
 *
 * - One compiler for a run's kernels: where AE_TS_SERVICE names the run's TypeScript service
 *   (ts-service.js), the kernel's converter is a stand-in that compiles there, and the
 *   service's converters share the parsed declaration files (ae-tslab-service.js).
 *
 * Plain JavaScript: it runs inside tslab, outside any TypeScript tooling.
 */
"use strict";
const fs = require("fs");
const Module = require("module");
const path = require("path");
const util = require("util");
const { converterFor, withSharedDeclarations } = require("./ae-tslab-service.js");

/** The package name notebooks import the library by. */
const PACKAGE_NAME = "autoencoder-notebooks";

/** Marks code inserted by the patch (apply.js checks for it to stay idempotent). */
const PATCH_MARK = "ae-tslab-patch";

/** The project root that holds this tslab (…/node_modules/tslab/dist → …), or null when it is not ours. */
function projectRoot() {
  const root = path.resolve(__dirname, "..", "..", "..");
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
    return manifest.name === PACKAGE_NAME ? root : null;
  } catch {
    return null;
  }
}

/** Compiler options that let any folder's cells import the library and this project's packages. */
function compilerPaths() {
  const root = projectRoot();
  if (!root) return {};
  return { paths: { [PACKAGE_NAME]: [path.join(root, "lib")], "*": [path.join(root, "node_modules", "*")] } };
}

/** True for a bare specifier ("pkg", "@scope/pkg/sub"), false for relative, absolute and node: ids. */
function isBare(id) {
  return typeof id === "string" && !id.startsWith(".") && !path.isAbsolute(id) && !id.startsWith("node:");
}

/**
 * `require(id)` for a cell: the package's own name maps to lib/; a bare id the notebook's
 * folder cannot resolve is retried from the project root; everything else is untouched.
 */
function requireWithFallback(req, thisArg, args) {
  const id = args[0];
  const root = projectRoot();
  if (root && (id === PACKAGE_NAME || (typeof id === "string" && id.startsWith(`${PACKAGE_NAME}/`)))) {
    return req.call(thisArg, path.join(root, "lib", id.slice(PACKAGE_NAME.length)));
  }
  try {
    return req.apply(thisArg, args);
  } catch (error) {
    if (!root || !isBare(id) || !error || error.code !== "MODULE_NOT_FOUND") throw error;
    try {
      return Module.createRequire(path.join(root, "package.json"))(id);
    } catch {
      throw error;
    }
  }
}

/** "  line L | text" plus, when a column is known, a caret under it. */
function sourceContext(source, line, column) {
  const lines = String(source).split(/\r?\n/);
  if (!(line >= 1 && line <= lines.length)) return [];
  const label = `  line ${line} | `;
  const context = [`${label}${lines[line - 1]}`];
  if (column >= 1) context.push(`${" ".repeat(label.length - 2)}| ${" ".repeat(column - 1)}^`);
  return context;
}

/** A Jupyter error for TypeScript diagnostics (1-based line:column within the cell, as tslab reports them). */
function compileError(diagnostics, source) {
  const items = diagnostics.map((diag) => ({
    where: `${diag.fileName ? `${diag.fileName} ` : ""}${diag.start.line + 1}:${diag.start.character + 1}`,
    text: typeof diag.messageText === "string" ? diag.messageText : String(diag.messageText),
    context: diag.fileName ? [] : sourceContext(source, diag.start.line + 1, diag.start.character + 1),
  }));
  if (items.length === 0) return { ename: "TypeScriptError", evalue: "the cell did not compile", traceback: ["TypeScriptError: the cell did not compile"] };
  const more = items.length > 1 ? ` (and ${items.length - 1} more)` : "";
  const evalue = `${items[0].where} - ${items[0].text}${more}`;
  const body = items.length === 1 ? items[0].context : items.flatMap((item) => [`${item.where} - ${item.text}`, ...item.context]);
  return { ename: "TypeScriptError", evalue, traceback: [`TypeScriptError: ${evalue}`, ...body] };
}

/** The cell line (1-based) that compiled line `compiledLine` came from, matched by its text, or 0. */
function cellLineOf(compiled, source, compiledLine) {
  const text = (String(compiled).split(/\r?\n/)[compiledLine - 1] || "").trim().replace(/;$/, "");
  if (text.length < 3) return 0;
  const lines = String(source).split(/\r?\n/);
  const strip = (line) => line.trim().replace(/;$/, "");
  let index = lines.findIndex((line) => strip(line) === text);
  if (index < 0) index = lines.findIndex((line) => strip(line).length >= 3 && (strip(line).includes(text) || text.includes(strip(line))));
  return index + 1;
}

/** True for a stack frame inside tslab or Node's machinery rather than the user's code. */
function isInternalFrame(frame) {
  return /\(node:|at node:|[/\\]tslab[/\\]dist[/\\]|runInThisContext|processTicksAndRejections/.test(frame);
}

/**
 * A Jupyter error for a value a cell threw or an awaited promise rejected with. `compiled` is
 * the JavaScript tslab ran (line 1 of the evaluated script is its first line).
 */
function thrownError(value, compiled, source) {
  const isError = value instanceof Error || (value && typeof value === "object" && typeof value.stack === "string" && "message" in value);
  if (!isError) {
    const evalue = typeof value === "string" ? value : util.inspect(value, { depth: 2 });
    return { ename: "Error", evalue: `a non-Error value was thrown: ${evalue}`, traceback: [`Error: a non-Error value was thrown: ${evalue}`] };
  }
  const ename = String(value.name || "Error");
  const evalue = String(value.message === undefined ? "" : value.message);
  const stack = String(value.stack || "").split(/\r?\n/);
  const frames = stack.filter((line) => /^\s+at /.test(line));
  const traceback = [`${ename}: ${evalue}`];
  let firstLine = 0;
  let firstColumn = 0;
  for (const frame of frames) {
    if (isInternalFrame(frame)) {
      if (traceback.length > 1) break; // the cell's frames are above tslab's
      continue;
    }
    const match = /evalmachine\.<anonymous>:(\d+)(?::(\d+))?/.exec(frame);
    if (!match) {
      traceback.push(frame);
      continue;
    }
    const line = cellLineOf(compiled, source, Number(match[1]));
    if (!line && /^\s+at evalmachine/.test(frame)) continue; // tslab's wrapper around the cell
    if (line && !firstLine) {
      firstLine = line;
      firstColumn = 0;
    }
    traceback.push(frame.replace(/evalmachine\.<anonymous>:\d+(?::\d+)?/, line ? `cell line ${line}` : "cell"));
  }
  if (firstLine) traceback.push(...sourceContext(source, firstLine, firstColumn));
  return { ename, evalue, traceback };
}

/** A Jupyter error for a promise that rejected with nothing awaiting it (the cell has already finished). */
function unhandledRejection(reason) {
  const error = thrownError(reason, "", "");
  const note = "(a promise rejected and nothing awaited it)";
  return { ...error, evalue: `${error.evalue} ${note}`, traceback: [`${error.traceback[0]} ${note}`, ...error.traceback.slice(1)] };
}

/** A rejection nothing awaited: an error output of the running cell, or stderr outside a cell; never throws (a throw here kills the kernel). */
function reportUnhandledRejection(reason, writeError) {
  try {
    if (writeError) {
      writeError(unhandledRejection(reason));
      return;
    }
  } catch (error) {
    process.stderr.write(`tslab: could not send an error output: ${error && error.message}\n`);
  }
  console.error("UnhandledPromiseRejection:", reason);
}

const sendStates = new WeakMap();

function sendStateOf(sock) {
  let state = sendStates.get(sock);
  if (!state) {
    state = { last: Promise.resolve(), queue: [] };
    sendStates.set(sock, state);
  }
  return state;
}

function reportSendError(error) {
  process.stderr.write(`tslab: a message could not be sent: ${error && error.message}\n`);
}

/** Hand `frames` to zeromq now; false when the socket is busy (EBUSY), true when sent or (reported) dropped. */
function trySend(sock, state, frames) {
  try {
    state.last = Promise.resolve(sock.send(frames)).catch(reportSendError);
    return true;
  } catch (error) {
    if (error && (error.code === "EBUSY" || error.errno === 16)) return false;
    reportSendError(error);
    return true;
  }
}

/** Send what waits, in order, each once the send in progress has finished. */
async function drainSends(sock, state) {
  while (state.queue.length > 0) {
    await state.last;
    await new Promise((resolve) => setImmediate(resolve));
    if (trySend(sock, state, state.queue[0])) state.queue.shift();
  }
}

/**
 * Send `frames` on `sock` now if zeromq takes it (it sends synchronously while it can, so output
 * printed just before a long computation still goes out), else queue it: zeromq 6 allows one
 * send in progress per socket and throws EBUSY on another, which used to drop the message or,
 * from tslab's rejection handler, kill the kernel. Order is kept; a failed send is reported on
 * the kernel's stderr and does not stop the ones after it.
 */
function queueSend(sock, frames) {
  const state = sendStateOf(sock);
  if (state.queue.length === 0 && trySend(sock, state, frames)) return;
  state.queue.push(frames);
  if (state.queue.length === 1) void drainSends(sock, state);
}

/**
 * The top-level names a cell declares (what tslab exports from it to later cells): the cell's
 * text (with tslab's prefix) parsed and bound on its own. Binding is local to a file, so these
 * are the names the whole program's binder gives it.
 */
function cellLocals(ts, fileName, text, options) {
  const file = ts.createSourceFile(fileName, text, options.target);
  ts.bindSourceFile(file, options);
  return file.locals;
}

/** True when `file` is a script whose declarations are global (TypeScript's builder's rule). */
function affectsGlobalScope(ts, file) {
  const globalAugmentation = (file.moduleAugmentations || []).some((name) => ts.isGlobalScopeAugmentation(name.parent));
  const onlyAmbientModules = file.statements.every((s) => ts.isModuleDeclaration(s) && ts.isStringLiteral(s.name));
  return globalAugmentation || (!ts.isExternalOrCommonJsModule(file) && !ts.isJsonSourceFile(file) && !onlyAmbientModules);
}

/** File names that `file` refers to: its resolved imports, `/// <reference path>`s and type references. */
function referencedFileNames(file) {
  const names = [];
  const add = (resolution) => {
    const resolved = resolution && (resolution.resolvedModule || resolution.resolvedTypeReferenceDirective || resolution);
    if (resolved && typeof resolved.resolvedFileName === "string") names.push(resolved.resolvedFileName);
  };
  if (file.resolvedModules) file.resolvedModules.forEach(add);
  if (file.resolvedTypeReferenceDirectiveNames) file.resolvedTypeReferenceDirectiveNames.forEach(add);
  for (const reference of file.referencedFiles || []) names.push(path.resolve(path.dirname(file.fileName), reference.fileName));
  return names;
}

/**
 * Every file that `file` depends on, itself included (what the incremental builder's
 * getAllDependencies answers): the files reachable through imports and references, or every
 * file of the program when `file` is a global script.
 */
function allDependencies(ts, program, file) {
  if (affectsGlobalScope(ts, file)) return program.getSourceFiles().map((f) => f.fileName);
  const seen = new Set([file]);
  const queue = [file];
  while (queue.length > 0) {
    for (const name of referencedFileNames(queue.pop())) {
      const dependency = program.getSourceFile(name);
      if (dependency && !seen.has(dependency)) {
        seen.add(dependency);
        queue.push(dependency);
      }
    }
  }
  return Array.from(seen, (f) => f.fileName);
}

/**
 * `createProgram` for ts.createWatchCompilerHost that returns the new Program itself, dressed
 * as the builder program tslab and the watch host use (getProgram, getSourceFile, emit of one
 * file, diagnostics, getAllDependencies). tslab emits and checks one cell at a time, so the
 * incremental builder's per-file state buys nothing and costs a reference map of every file.
 */
function lightBuilderProgram(ts) {
  return function createProgram(rootNames, options, host, oldBuilder, configFileParsingDiagnostics, projectReferences) {
    const oldProgram = oldBuilder ? oldBuilder.getProgramOrUndefined() : undefined;
    const program = rootNames === undefined ? oldProgram : ts.createProgram({ rootNames, options, host: withSharedDeclarations(host, options), oldProgram, configFileParsingDiagnostics, projectReferences });
    return {
      getProgram: () => program,
      getProgramOrUndefined: () => program,
      releaseProgram: () => {},
      getCompilerOptions: () => program.getCompilerOptions(),
      getCurrentDirectory: () => program.getCurrentDirectory(),
      getSourceFile: (fileName) => program.getSourceFile(fileName),
      getSourceFiles: () => program.getSourceFiles(),
      getOptionsDiagnostics: (token) => program.getOptionsDiagnostics(token),
      getGlobalDiagnostics: (token) => program.getGlobalDiagnostics(token),
      getConfigFileParsingDiagnostics: () => program.getConfigFileParsingDiagnostics(),
      getSyntacticDiagnostics: (file, token) => program.getSyntacticDiagnostics(file, token),
      getDeclarationDiagnostics: (file, token) => program.getDeclarationDiagnostics(file, token),
      getSemanticDiagnostics: (file, token) => program.getSemanticDiagnostics(file, token),
      emit: (file, writeFile, token, emitOnlyDts, transformers) => program.emit(file, writeFile, token, emitOnlyDts, transformers),
      getAllDependencies: (file) => allDependencies(ts, program, file),
    };
  };
}

module.exports = {
  PACKAGE_NAME, PATCH_MARK, projectRoot, compilerPaths, requireWithFallback, compileError, thrownError, unhandledRejection, reportUnhandledRejection, queueSend,
  cellLineOf, cellLocals, lightBuilderProgram, allDependencies,
  converterFor, // from ae-tslab-service.js, for the line the patch puts into tslab's main.js
};
