/**
 * The README's table of full-run times: each committed notebook's wall time and the share of it
 * spent inside trainModel, read from the "what ran" output that run.finish() leaves in the
 * notebook (its metadata; for runs made before finish() stored it, the wall time from the
 * table's text and the training time as not recorded). Written between the README's
 * `<!-- runs:start -->` and `<!-- runs:end -->` markers after every full run in place, or on its
 * own with `npm run notebooks -- --readme`.
 */
import * as fs from "fs";
import * as path from "path";
import { readNotebook, Notebook, writeFileAtomic } from "./notebook";
import { RUN_SUMMARY_METADATA, RunTimesMetadata } from "../run-metadata";

export const RUNS_START = "<!-- runs:start -->";
export const RUNS_END = "<!-- runs:end -->";

/** One committed notebook's last run, as its "what ran" output records it. */
export interface CommittedRunTime {
  notebook: string;
  mode: "quick" | "full" | null;
  totalSeconds: number | null;
  /** null where the run predates finish() storing it. */
  trainingSeconds: number | null;
}

/** "30.2 min" → 1812, "75 s" → 75, "2.09 h" → 7524 (the inverse of run.ts's formatSeconds); null if not a duration. */
export function parseDuration(text: string): number | null {
  const match = /^\s*([\d.]+)\s*(s|min|h)\s*$/.exec(text);
  if (!match) return null;
  return Number(match[1]) * { s: 1, min: 60, h: 3600 }[match[2] as "s" | "min" | "h"];
}

function joined(value: unknown): string {
  return Array.isArray(value) ? value.join("") : typeof value === "string" ? value : "";
}

/** The run time that `notebook`'s last "what ran" output records (all fields null when it has none). */
export function committedRunTime(notebook: Notebook, name: string): CommittedRunTime {
  const outputs = notebook.cells.flatMap((cell) => (cell.cell_type === "code" ? cell.outputs : []));
  for (const output of outputs.reverse()) {
    const stored = (output.metadata as Record<string, unknown> | undefined)?.[RUN_SUMMARY_METADATA] as RunTimesMetadata | undefined;
    if (stored && Number.isFinite(stored.totalSeconds)) {
      return { notebook: name, mode: stored.mode, totalSeconds: stored.totalSeconds, trainingSeconds: Number.isFinite(stored.trainingSeconds) ? stored.trainingSeconds : null };
    }
    const markdown = joined((output.data as Record<string, unknown> | undefined)?.["text/markdown"]);
    const title = /\*\*What ran \((quick|full) mode\)\*\*/.exec(markdown);
    const wall = /\| wall time in all \| ([^|]+) \|/.exec(markdown);
    if (title && wall) return { notebook: name, mode: title[1] as "quick" | "full", totalSeconds: parseDuration(wall[1]), trainingSeconds: null };
  }
  return { notebook: name, mode: null, totalSeconds: null, trainingSeconds: null };
}

function minutes(seconds: number): string {
  return `${(seconds / 60).toFixed(1)} min`;
}

/** The markdown table (with its note) for `runs`. */
export function runTimesMarkdown(runs: CommittedRunTime[]): string {
  const lines = [
    "| notebook | committed run | wall time | inside trainModel | share training |",
    "|---|---|---:|---:|---:|",
  ];
  for (const run of runs) {
    const training = run.trainingSeconds === null ? "not recorded" : minutes(run.trainingSeconds);
    const share = run.trainingSeconds === null || !run.totalSeconds ? "—" : `${((100 * run.trainingSeconds) / run.totalSeconds).toFixed(0)} %`;
    lines.push(`| ${run.notebook} | ${run.mode ?? "none"} | ${run.totalSeconds === null ? "—" : minutes(run.totalSeconds)} | ${training} | ${share} |`);
  }
  const total = runs.reduce((sum, run) => sum + (run.totalSeconds ?? 0), 0);
  const unrecorded = runs.some((run) => run.trainingSeconds === null);
  lines.push("", `Read from each notebook's "What ran" output by \`npm run notebooks\` (after a full run in place, or with \`--readme\`); ${minutes(total)} in all.` +
    (unrecorded ? ` "Not recorded": that committed run predates the training clock (run.finish() storing the time inside \`trainModel\`).` : ""));
  return lines.join("\n");
}

/** The committed run times of the notebooks in `root`/notebooks, in file order. */
export function committedRunTimes(root: string): CommittedRunTime[] {
  const folder = path.join(root, "notebooks");
  return fs
    .readdirSync(folder)
    .filter((f) => f.endsWith(".ipynb"))
    .sort()
    .map((f) => committedRunTime(readNotebook(path.join(folder, f)), f.replace(/\.ipynb$/, "")));
}

/** Replace the README's table between the runs markers; throws naming the README when a marker is missing. */
export function writeRunTimesReadme(root: string): { readme: string; changed: boolean; runs: CommittedRunTime[] } {
  const readme = path.join(root, "README.md");
  const text = fs.readFileSync(readme, "utf8");
  const start = text.indexOf(RUNS_START);
  const end = text.indexOf(RUNS_END);
  if (start < 0 || end < start) throw new Error(`${readme}: expected the markers ${RUNS_START} and ${RUNS_END} (in that order) around the full-run table`);
  const runs = committedRunTimes(root);
  const updated = `${text.slice(0, start + RUNS_START.length)}\n${runTimesMarkdown(runs)}\n${text.slice(end)}`;
  if (updated !== text) writeFileAtomic(readme, updated);
  return { readme, changed: updated !== text, runs };
}
