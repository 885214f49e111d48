#!/usr/bin/env node
/**
 * Patch this project's tslab (node_modules/tslab, version 1.0.22) so that it
 *   1. sends failed cells as Jupyter `error` outputs (ename, evalue, traceback trimmed to the
 *      cell's code) and puts them into the `execute_reply` (status stays "error"), instead of
 *      printing them on stderr only — for compile errors, thrown errors and rejected promises
 *      (a rejection nothing awaited becomes an error output of the cell that ran last);
 *   2. resolves `import … from "autoencoder-notebooks"` (this package) and this project's
 *      packages from a notebook in any folder, for type-checking and at run time;
 *   3. sends its messages one at a time per socket (zeromq 6 refuses a second send while one
 *      is in progress), so a burst of large outputs is never dropped and never kills the kernel;
 *   4. compiles its cells in the run's TypeScript service where AE_TS_SERVICE names one
 *      (ts-service.js: the declaration files parsed once for all the run's kernels), falling
 *      back to its own compiler if the service fails; the converter takes its folder as an option.
 * The logic lives in ae-tslab.js and ae-tslab-service.js (copied next to tslab's own files);
 * this script only wires it in by exact text replacements. It runs as the `postinstall` script, is idempotent (a patched
 * file is recognised by its marker and checked, not patched twice) and fails loudly when tslab's
 * code is not what it expects. `node lib/runner/tslab-patch/apply.js [--check]`.
 */
"use strict";
const fs = require("fs");
const path = require("path");
const { PATCH_MARK } = require("./ae-tslab.js");

const EXPECTED_VERSION = "1.0.22";
const MARK = `/* ${PATCH_MARK} */`;
const HELPER = `require("./ae-tslab.js")`;

/** The patch's own files, copied next to tslab's (ae-tslab.js requires the second). */
const HELPER_FILES = ["ae-tslab.js", "ae-tslab-service.js"];

/** Exact replacements per file of tslab/dist: each `find` must occur exactly once in the pristine file. */
const EDITS = {
  "executor.js": [
    {
      find: "            const mod = requireFromSideOutputs(arg);\n            if (mod) {\n                return mod;\n            }\n            return req.apply(thisArg, argArray);",
      replace: `            const mod = requireFromSideOutputs(arg);\n            if (mod) {\n                return mod;\n            }\n            ${MARK} return ${HELPER}.requireWithFallback(req, thisArg, argArray);`,
    },
    { find: '    let prevDecl = "";\n', replace: `    let prevDecl = "";\n    ${MARK} let lastError = null;\n` },
    {
      find: "    async function execute(src) {\n",
      replace: `    async function execute(src) {\n        ${MARK} lastError = null;\n`,
    },
    {
      find: "        if (converted.diagnostics.length > 0) {\n            printDiagnostics(converted.diagnostics);\n            return false;\n        }",
      replace: `        if (converted.diagnostics.length > 0) {\n            ${MARK} lastError = ${HELPER}.compileError(converted.diagnostics, src);\n            return false;\n        }`,
    },
    {
      find: "        catch (e) {\n            console.error(e);\n            return false;\n        }",
      replace: `        catch (e) {\n            ${MARK} lastError = ${HELPER}.thrownError(e, converted.output, src);\n            return false;\n        }`,
    },
    {
      find: "            catch (e) {\n                console.error(e);\n                return false;\n            }",
      replace: `            catch (e) {\n                ${MARK} lastError = ${HELPER}.thrownError(e, converted.output, src);\n                return false;\n            }`,
    },
    {
      find: "        locals: exports,\n",
      replace: `        locals: exports,\n        ${MARK} takeLastError: () => { const error = lastError; lastError = null; return error; },\n`,
    },
  ],
  "jupyter.js": [
    {
      find: "    async handleExecute(req, writeStream, writeDisplayData) {\n        let status = \"ok\";\n        let count = null;\n        try {\n            count = await this.execQueue.add(() => this.handleExecuteImpl(req, writeStream, writeDisplayData));",
      replace: `    async handleExecute(req, writeStream, writeDisplayData, writeError) {\n        let status = "ok";\n        let count = null;\n        ${MARK} let error = null;\n        try {\n            count = await this.execQueue.add(() => this.handleExecuteImpl(req, writeStream, writeDisplayData, writeError));`,
    },
    {
      find: "            if (e instanceof ExecutionCount) {\n                status = \"error\";\n                count = e;\n            }",
      replace: `            if (e instanceof ExecutionCount) {\n                status = "error";\n                count = e;\n                ${MARK} error = e.error || null;\n            }`,
    },
    {
      find: "        return {\n            status: status,\n            execution_count: count ? count.count : undefined,\n        };",
      replace: `        ${MARK} return Object.assign({\n            status: status,\n            execution_count: count ? count.count : undefined,\n        }, error || {});`,
    },
    {
      find: "    async handleExecuteImpl(req, writeStream, writeDisplayData) {",
      replace: `    async handleExecuteImpl(req, writeStream, writeDisplayData, writeError) {`,
    },
    {
      find: "        exports.lastWriteDisplayData = writeDisplayData;\n",
      replace: `        exports.lastWriteDisplayData = writeDisplayData;\n        ${MARK} exports.lastWriteError = writeError || null;\n`,
    },
    {
      find: "        if (!ok) {\n            throw count;\n        }",
      replace: `        if (!ok) {\n            ${MARK} count.error = this.executor.takeLastError ? this.executor.takeLastError() : null;\n            if (count.error && writeError) writeError(count.error);\n            throw count;\n        }`,
    },
    {
      find: "        const content = await this.handler.handleExecute(msg.content, writeStream, writeDisplayData);",
      replace: `        ${MARK} const writeError = (error) => {\n            const reply = msg.createReply();\n            reply.header.msg_type = "error";\n            reply.content = error;\n            reply.signAndSend(this.connInfo.key, this.iopub);\n        };\n        const content = await this.handler.handleExecute(msg.content, writeStream, writeDisplayData, writeError);`,
    },
    {
      // zeromq 6 allows one send in progress per socket: a burst of large outputs (figures with
      // their PNG) made the next send throw EBUSY, dropping outputs or killing the kernel.
      find: "        sock.send(heads.concat(bodies));\n",
      replace: `        ${MARK} ${HELPER}.queueSend(sock, heads.concat(bodies));\n`,
    },
  ],
  "main.js": [
    {
      // A kernel started with AE_TS_SERVICE compiles its cells in the run's shared TypeScript service (ae-tslab-service.js).
      find: "            this._node = (0, converter_1.createConverter)({ isJS: this.jsKernel, isBrowser: false });",
      replace: `            this._node = ${MARK} ${HELPER}.converterFor(converter_1.createConverter, { isJS: this.jsKernel, isBrowser: false });`,
    },
    {
      find: '    process.on("unhandledRejection", (reason) => {\n        console.error("UnhandledPromiseRejection:", reason);\n    });',
      replace: `    process.on("unhandledRejection", (reason) => {\n        ${MARK} ${HELPER}.reportUnhandledRejection(reason, jupyter_1.lastWriteError);\n    });`,
    },
  ],
  "converter.js": [
    {
      find: "        rootDir: cwd,\n        outDir,\n    }, sys,",
      replace: `        rootDir: cwd,\n        outDir,\n        ${MARK} ...${HELPER}.compilerPaths(),\n    }, sys,`,
    },
    {
      // The builder is the plain Program (ae-tslab.js, lightBuilderProgram): see there why.
      find: "    }, sys, null, function (d) {\n",
      replace: `    }, sys, ${MARK} ${HELPER}.lightBuilderProgram(ts), function (d) {\n`,
    },
    {
      // The cell's top-level names from binding the cell alone, instead of a first program update.
      find: "    function convert(prevDecl, src) {\n        updateContent(prevDecl, src);\n        let declsFile = builder.getSourceFile(declFilename);\n        let srcFile = builder.getSourceFile(srcFilename);\n        const locals = srcFile.locals;\n",
      replace: `    function convert(prevDecl, src) {\n        ${MARK} const locals = ${HELPER}.cellLocals(ts, srcFilename, srcPrefix + src, builder.getProgram().getCompilerOptions());\n        let declsFile = null;\n        let srcFile = null;\n`,
    },
    {
      find: "            declsFile = builder.getSourceFile(declFilename);\n            srcFile = builder.getSourceFile(srcFilename);\n        }\n        asMutable(srcFile).parent = declsFile;\n",
      replace: `            declsFile = builder.getSourceFile(declFilename);\n            srcFile = builder.getSourceFile(srcFilename);\n        }\n        ${MARK} else {\n            updateContent(prevDecl, src);\n            declsFile = builder.getSourceFile(declFilename);\n            srcFile = builder.getSourceFile(srcFilename);\n        }\n        asMutable(srcFile).parent = declsFile;\n`,
    },
    {
      // The service compiles for kernels in other folders: the folder comes with the options.
      find: "    const cwd = ts.sys.getCurrentDirectory();\n",
      replace: `    const cwd = ${MARK} (options && options.cwd) || ts.sys.getCurrentDirectory();\n`,
    },
  ],
};

/** Count non-overlapping occurrences of `needle` in `text`. */
function occurrences(text, needle) {
  return text.split(needle).length - 1;
}

/** Patch (or, with check=true, only verify) one file; returns "patched", "already patched" or throws. */
function patchFile(file, edits, check) {
  const text = fs.readFileSync(file, "utf8");
  if (text.includes(MARK)) {
    const missing = edits.filter((edit) => occurrences(text, edit.replace) !== 1);
    if (missing.length > 0) throw new Error(`${file} carries an older or partial version of the patch (first missing:\n${missing[0].replace}\n): reinstall tslab (npm ci)`);
    return "already patched";
  }
  let patched = text;
  for (const edit of edits) {
    const count = occurrences(patched, edit.find);
    if (count !== 1) throw new Error(`${file}: expected exactly one occurrence of\n${edit.find}\nfound ${count}: tslab's code is not what this patch was written for`);
    patched = patched.replace(edit.find, () => edit.replace);
  }
  if (check) throw new Error(`${file} is not patched (run: node lib/runner/tslab-patch/apply.js)`);
  fs.writeFileSync(file, patched);
  return "patched";
}

/** Patch tslab under `root` (the project root); returns one line per file. */
function applyPatch(root, check = false) {
  const tslab = path.join(root, "node_modules", "tslab");
  const manifest = path.join(tslab, "package.json");
  if (!fs.existsSync(manifest)) throw new Error(`tslab is not installed: ${manifest} is missing`);
  const version = JSON.parse(fs.readFileSync(manifest, "utf8")).version;
  if (version !== EXPECTED_VERSION) throw new Error(`this patch is for tslab ${EXPECTED_VERSION}, found ${version} in ${tslab}: update lib/runner/tslab-patch/`);
  const dist = path.join(tslab, "dist");
  const report = [];
  for (const [name, edits] of Object.entries(EDITS)) report.push(`${name}: ${patchFile(path.join(dist, name), edits, check)}`);
  for (const name of HELPER_FILES) {
    const helper = path.join(dist, name);
    const source = fs.readFileSync(path.join(__dirname, name));
    if (!fs.existsSync(helper) || !fs.readFileSync(helper).equals(source)) {
      if (check) throw new Error(`${helper} is missing or outdated (run: node lib/runner/tslab-patch/apply.js)`);
      fs.writeFileSync(helper, source);
      report.push(`${name}: copied`);
    } else {
      report.push(`${name}: current`);
    }
  }
  return report;
}

module.exports = { applyPatch, EDITS, EXPECTED_VERSION, HELPER_FILES, MARK };

if (require.main === module) {
  const root = path.resolve(__dirname, "..", "..", "..");
  try {
    const report = applyPatch(root, process.argv.includes("--check"));
    process.stdout.write(`tslab patch (errors as Jupyter error outputs, imports from any folder): ${report.join(", ")}\n`);
  } catch (error) {
    process.stderr.write(`patching tslab failed: ${error.message}\n`);
    process.exit(1);
  }
}
