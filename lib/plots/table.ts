/**
 * Result tables (every notebook's "paper vs ours"): rows of named cells formatted with a
 * fixed precision, shown as Markdown with an aligned plain-text fallback.
 */
import { displayBundle, DisplayOptions } from "../display";

/** A cell that was deliberately not computed (e.g. a full-mode-only result in quick mode). */
export interface NotRun {
  readonly notRun: true;
  readonly reason?: string;
}

/** What a table cell may hold; null/undefined print as "—". */
export type TableCell = number | string | boolean | null | undefined | NotRun;

/** Mark a cell as not run, optionally saying why ("full mode only"). */
export function notRun(reason?: string): NotRun {
  return reason === undefined ? { notRun: true } : { notRun: true, reason };
}

/** True for a cell made by notRun(). */
export function isNotRun(cell: unknown): cell is NotRun {
  return typeof cell === "object" && cell !== null && (cell as NotRun).notRun === true;
}

export interface TableOptions {
  /** Column order (default: keys in order of first appearance). */
  columns?: readonly string[];
  /** Decimals for numbers, for all columns or per column (default 3). All-integer columns print as integers. */
  precision?: number | Record<string, number>;
  /** Bold line above the table. */
  title?: string;
  /** Italic line under the table (sources, settings). */
  note?: string;
}

/** The formatted table: Markdown and aligned plain text. */
export interface FormattedTable {
  markdown: string;
  text: string;
}

/** Format one number: fixed decimals; exponent form when fixed would show nothing useful. */
export function formatTableNumber(value: number, precision: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "∞" : "−∞";
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude < 0.5 * Math.pow(10, -precision) || magnitude >= 1e9)) return value.toExponential(Math.max(1, precision - 1));
  return value.toFixed(precision);
}

function formatCell(cell: TableCell, precision: number, integerColumn: boolean): string {
  if (cell === null || cell === undefined) return "—";
  if (isNotRun(cell)) return cell.reason ? `not run (${cell.reason})` : "not run";
  if (typeof cell === "number") return integerColumn && Number.isInteger(cell) ? String(cell) : formatTableNumber(cell, precision);
  if (typeof cell === "boolean") return cell ? "yes" : "no";
  if (typeof cell === "string") return cell;
  throw new Error(`showTable: a cell must be a number, string, boolean, null or notRun(), got ${typeof cell}`);
}

/** Format rows of named cells as a Markdown table and an aligned plain-text table. */
export function formatTable(rows: ReadonlyArray<Record<string, TableCell>>, options: TableOptions = {}): FormattedTable {
  if (rows.length === 0) throw new Error("showTable: rows is empty; give at least one row");
  const columns = options.columns ? options.columns.slice() : [...new Set(rows.flatMap((row) => Object.keys(row)))];
  if (columns.length === 0) throw new Error("showTable: the rows have no columns");
  const precisionOf = (column: string): number => {
    const p = typeof options.precision === "object" ? options.precision[column] ?? 3 : options.precision ?? 3;
    if (!Number.isInteger(p) || p < 0 || p > 20) throw new Error(`showTable: precision for column '${column}' must be an integer 0–20, got ${p}`);
    return p;
  };
  const numeric = columns.map((c) => rows.some((row) => typeof row[c] === "number"));
  const integerColumn = columns.map((c) => rows.every((row) => typeof row[c] !== "number" || Number.isInteger(row[c])));
  const cells = rows.map((row) => columns.map((c, k) => formatCell(row[c], precisionOf(c), integerColumn[k])));

  const escape = (text: string) => text.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
  const mdLines = [
    `| ${columns.map(escape).join(" | ")} |`,
    `| ${numeric.map((isNumber) => (isNumber ? "---:" : ":---")).join(" | ")} |`,
    ...cells.map((row) => `| ${row.map(escape).join(" | ")} |`),
  ];
  const markdown = [options.title ? `**${options.title}**\n` : "", mdLines.join("\n"), options.note ? `\n_${options.note}_` : ""].filter(Boolean).join("\n");

  const widths = columns.map((c, k) => Math.max(Array.from(c).length, ...cells.map((row) => Array.from(row[k]).length)));
  const pad = (text: string, k: number) => {
    const gap = " ".repeat(widths[k] - Array.from(text).length);
    return numeric[k] ? gap + text : text + gap;
  };
  const textLines = [
    columns.map((c, k) => pad(c, k)).join("  "),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...cells.map((row) => row.map((cell, k) => pad(cell, k)).join("  ")),
  ].map((line) => line.trimEnd());
  const text = [options.title ?? "", ...textLines, options.note ?? ""].filter(Boolean).join("\n");
  return { markdown, text };
}

/** Show a table (text/markdown + text/plain), e.g. the paper's numbers next to ours; returns nothing (formatTable gives the text). */
export function showTable(rows: ReadonlyArray<Record<string, TableCell>>, options: TableOptions & DisplayOptions = {}): void {
  const table = formatTable(rows, options);
  displayBundle({ "text/markdown": table.markdown, "text/plain": table.text }, { displayId: options.displayId, update: options.update, metadata: options.metadata });
}
