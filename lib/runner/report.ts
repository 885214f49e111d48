/**
 * What the runner prints: per-cell progress lines, the failure report (notebook,
 * cell, offending line, tslab's stderr) and the end-of-run summary.
 */
import * as path from "path";
import { NotebookResult, ProgressEvent, RunSummary } from "./runner";
import { formatSeconds } from "./timeouts";

/** Indent every line of `text`. */
function indent(text: string, prefix = "    "): string {
  return text
    .replace(/\s+$/, "")
    .split("\n")
    .map((line) => `${prefix}${line}`)
    .join("\n");
}

/** First non-empty source line, shortened, to show which cell is running. */
function firstLine(source: string, max = 60): string {
  const line = source.split("\n").find((l) => l.trim() !== "")?.trim() ?? "";
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** One progress line for an event, or null for events that print nothing. */
export function formatProgress(event: ProgressEvent): string | null {
  const name = path.basename(event.notebook, ".ipynb");
  switch (event.kind) {
    case "notebook-start":
      return `▶ ${name}: ${event.codeCellCount} code cells`;
    case "kernel-started":
      return `  ${name}: kernel started in ${formatSeconds(event.ms)}`;
    case "cell-start":
      return `  ${name}: cell ${event.cellIndex + 1}/${event.cellCount} (code ${event.codeIndex + 1}/${event.codeCellCount}) ${firstLine(event.source)}`;
    case "cell-end":
      return `  ${name}: cell ${event.cellIndex + 1}/${event.cellCount} ${event.status === "ok" ? "done" : event.status === "died" ? "KERNEL DIED" : event.status.toUpperCase()} in ${formatSeconds(event.ms)}`;
  }
}

/** The failure report for one notebook, or "" when it succeeded. */
export function formatFailure(result: NotebookResult): string {
  const failure = result.failure;
  if (!failure) return "";
  const lines = [`✗ ${result.notebook}`];
  if (failure.cellIndex !== undefined && failure.codeIndex !== undefined) {
    lines.push(`  failed at cell index ${failure.cellIndex} (code cell ${failure.codeIndex + 1} of ${failure.codeCellCount}): ${failure.kind}`);
  } else {
    lines.push(`  ${failure.kind}`);
  }
  lines.push(indent(failure.message, "  "));
  if (failure.location) {
    const column = failure.location.column ? `, column ${failure.location.column}` : "";
    lines.push(`  at line ${failure.location.line}${column} of the cell:`, `    ${failure.location.text}`);
  }
  if (failure.traceback?.length) lines.push("  traceback:", indent(failure.traceback.join("\n")));
  if (failure.stderr?.trim()) lines.push("  tslab stderr:", indent(failure.stderr));
  if (failure.kernelOutput) lines.push("  kernel process output:", indent(failure.kernelOutput));
  if (result.saved) lines.push(`  what ran is saved in ${result.outPath}`);
  else if (result.saveError && failure.kind !== "save") lines.push(`  and saving failed too: ${result.saveError}`);
  return lines.join("\n");
}

/** The end-of-run summary. */
export function formatSummary(summary: RunSummary, skipped = 0): string {
  const lines = ["", "summary:"];
  for (const r of summary.results) {
    const start = r.kernelStartMs === null ? "" : `, kernel start ${formatSeconds(r.kernelStartMs)}`;
    const where = r.saved ? ` → ${r.outPath}` : "";
    lines.push(`  ${r.ok ? "✓" : "✗"} ${path.basename(r.notebook)}: ${r.cells.length}/${r.codeCellCount} code cells, ${formatSeconds(r.totalMs)}${start}${where}`);
  }
  lines.push(
    `  notebooks: ${summary.results.length}${skipped ? ` (+${skipped} not started)` : ""}, cells run: ${summary.cellsRun}, total ${formatSeconds(summary.totalMs)}`,
  );
  if (summary.slowest) lines.push(`  slowest: ${path.basename(summary.slowest.notebook)} (${formatSeconds(summary.slowest.totalMs)})`);
  const ts = summary.tsService;
  if (ts) lines.push(`  TypeScript: one service answered ${ts.calls} compile calls from ${ts.converters} kernel converters (declaration files parsed once)`);
  lines.push(`  failures: ${summary.failures.length === 0 ? "none" : summary.failures.map((r) => path.basename(r.notebook)).join(", ")}`);
  return lines.join("\n");
}
