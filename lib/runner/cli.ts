/**
 * npm run notebooks -- [NAMES...] [--mode quick|full] [--fresh] [--out DIR] [--cell-timeout S] [--no-png] [--no-build]
 * npm run notebooks -- --readme
 *
 * Runs the named notebooks (default: every notebooks/*.ipynb) headlessly on the
 * project's tslab kernel and writes their outputs: in place for a full run (what gets
 * committed), to data/quick-runs/ for a quick run, or to --out DIR. Progress goes to
 * stderr, the summary to stdout; the exit code is 0 only when every notebook succeeded.
 * After a full run in place, the README's table of full-run times is rewritten from the
 * committed notebooks (lib/runner/run-times.ts); `--readme` rewrites it and runs nothing.
 */
import * as path from "path";
import { parseArgs } from "util";
import { buildLib } from "./build";
import { projectRoot } from "./kernel-command";
import { formatFailure, formatProgress, formatSummary } from "./report";
import { RunMode, runNotebooks } from "./runner";
import { selectNotebooks } from "./select";
import { writeRunTimesReadme } from "./run-times";

export const USAGE = `usage: npm run notebooks -- [NAMES...] [options]

  NAMES               notebook paths or stems (1-functionally-separate → notebooks/1-functionally-separate*.ipynb);
                      none = every notebooks/*.ipynb
  --mode quick|full   quick: small subsets, written to data/quick-runs/; full (default): the paper's
                      setting, outputs written back into the notebook
  --fresh             retrain every cached model (ae.cachedModel) instead of loading it, and overwrite the cache
  --out DIR           write executed notebooks into DIR instead
  --cell-timeout S    stop a cell after S seconds (default 600 quick / 3600 full)
  --no-png            no PNGs of Plotly outputs (the kernels start no chromium either)
  --no-build          do not run tsc -b tsconfig.build.json first (lib/dist must be current)
  --readme            only rewrite README.md's table of full-run times from the committed notebooks
                      (a full run in place rewrites it too)
  -h, --help          this text`;

export interface CliOptions {
  names: string[];
  mode: RunMode;
  /** Retrain cached models (AE_FRESH=1 in the kernels). */
  fresh: boolean;
  /** Only rewrite README's full-run table. */
  readme: boolean;
  outDir?: string;
  cellTimeoutMs?: number;
  png: boolean;
  build: boolean;
  help: boolean;
}

/** Parse command-line arguments; throws with a readable message on bad input. */
export function parseCliArgs(argv: string[]): CliOptions {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      mode: { type: "string" },
      fresh: { type: "boolean" },
      out: { type: "string" },
      "cell-timeout": { type: "string" },
      "no-png": { type: "boolean" },
      "no-build": { type: "boolean" },
      readme: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  const mode = values.mode ?? "full";
  if (mode !== "quick" && mode !== "full") throw new Error(`--mode must be "quick" or "full", got ${JSON.stringify(mode)}`);
  let cellTimeoutMs: number | undefined;
  if (values["cell-timeout"] !== undefined) {
    const seconds = Number(values["cell-timeout"]);
    if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`--cell-timeout must be a positive number of seconds, got ${JSON.stringify(values["cell-timeout"])}`);
    cellTimeoutMs = seconds * 1000;
  }
  return {
    names: positionals,
    mode,
    fresh: Boolean(values.fresh),
    readme: Boolean(values.readme),
    outDir: values.out,
    cellTimeoutMs,
    png: !values["no-png"],
    build: !values["no-build"],
    help: Boolean(values.help),
  };
}

/** Environment the kernels get from the command line: AE_FRESH=1 with --fresh (read by ae.cachedModel and ae.setup). */
export function kernelEnv(options: Pick<CliOptions, "fresh">): Record<string, string> {
  return options.fresh ? { AE_FRESH: "1" } : {};
}

/** Abort `controller` on the first SIGINT/SIGTERM; a second one exits at once (the exit hook still kills kernels). */
function installSignalHandlers(controller: AbortController): () => void {
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      process.stderr.write(`\n${signal} again: exiting now\n`);
      process.exit(130);
    }
    process.stderr.write(`\n${signal}: stopping after saving what ran (press Ctrl-C again to exit at once)\n`);
    controller.abort(new Error(`stopped by ${signal}`));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
}

/** The whole command; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  let options: CliOptions;
  let files: string[];
  const root = projectRoot();
  try {
    options = parseCliArgs(argv);
    if (options.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (options.readme) {
      if (options.names.length > 0) throw new Error(`--readme runs no notebook: drop the names (${options.names.join(", ")})`);
      return writeReadmeTable(root);
    }
    files = selectNotebooks(options.names, path.join(root, "notebooks"));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (files.length === 0) {
    // Only reachable with no names given (a name that matches nothing is an error above).
    process.stdout.write(`no notebooks in ${path.join(root, "notebooks")} yet: nothing to run\n`);
    return 0;
  }
  if (options.build) {
    const build = buildLib({ root });
    if (!build.ok) {
      process.stderr.write(`building lib/dist failed (tsc -b tsconfig.build.json):\n${build.output}\n`);
      return 1;
    }
    process.stderr.write(`lib/dist is current (tsc ${(build.elapsedMs / 1000).toFixed(1)} s)\n`);
  }
  const controller = new AbortController();
  const removeHandlers = installSignalHandlers(controller);
  try {
    const summary = await runNotebooks(files, {
      mode: options.mode,
      env: kernelEnv(options),
      outDir: options.outDir,
      cellTimeoutMs: options.cellTimeoutMs,
      png: options.png,
      signal: controller.signal,
      root,
      onProgress: (event) => {
        const line = formatProgress(event);
        if (line) process.stderr.write(`${line}\n`);
      },
      onNotebookDone: (result) => {
        if (!result.ok) process.stderr.write(`${formatFailure(result)}\n`);
      },
    });
    process.stdout.write(`${formatSummary(summary, files.length - summary.results.length)}\n`);
    if (options.mode === "full" && options.outDir === undefined && summary.results.some((r) => r.ok)) writeReadmeTable(root);
    if (controller.signal.aborted) return 130;
    return summary.ok ? 0 : 1;
  } finally {
    removeHandlers();
  }
}

/** Rewrite README's full-run table; 0, or 1 with the reason on stderr. */
function writeReadmeTable(root: string): number {
  try {
    const { readme, changed } = writeRunTimesReadme(root);
    process.stdout.write(`${readme}: table of full-run times ${changed ? "rewritten" : "already current"}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`notebook runner crashed: ${(error as Error).stack ?? error}\n`);
      process.exit(1);
    },
  );
}
