/**
 * Rich output. tslab's public `display.*` sends one MIME type per message; a Jupyter
 * output can carry several (a Plotly figure wants its JSON, a PNG fallback and plain
 * text together), so we write whole bundles through tslab's own display writer.
 * Outside a kernel (vitest, scripts) every bundle is appended to an in-memory list
 * instead, so tests can assert on exactly what a notebook would show.
 */
import { randomBytes } from "crypto";

/** MIME type → payload: strings for text and base64 images, objects for JSON types. */
export type MimeBundle = Record<string, unknown>;

export interface DisplayOptions {
  /** Tag the output so later calls with `update: true` replace it in place. */
  displayId?: string;
  /** Replace the output tagged `displayId` instead of adding a new one. */
  update?: boolean;
  metadata?: Record<string, unknown>;
}

/** One output as it would reach the notebook. */
export interface DisplayedOutput {
  data: MimeBundle;
  metadata: Record<string, unknown>;
  displayId?: string;
  update: boolean;
}

type WriteDisplayData = (content: unknown, update: boolean) => void;

const collected: DisplayedOutput[] = [];

/** tslab's writer for the cell now running, or null when no tslab kernel is running in this process. */
function kernelWriter(): WriteDisplayData | null {
  let jupyterPath: string;
  try {
    jupyterPath = require.resolve("tslab/dist/jupyter");
  } catch {
    return null;
  }
  // Only a running kernel has loaded tslab's jupyter module; never load it ourselves.
  const cached = require.cache[jupyterPath];
  if (!cached) return null;
  const writer = (cached.exports as { lastWriteDisplayData?: WriteDisplayData | null }).lastWriteDisplayData;
  return writer ?? null;
}

/** True when this code runs inside a tslab kernel that is executing a cell. */
export function inKernel(): boolean {
  return kernelWriter() !== null;
}

/** A fresh id for an output that will be updated in place (a progress line, an animation). */
export function newDisplayId(): string {
  return randomBytes(8).toString("hex");
}

/** Send one multi-MIME output (or replace the one tagged `displayId` when `update` is set). */
export function displayBundle(data: MimeBundle, options: DisplayOptions = {}): void {
  const keys = Object.keys(data);
  if (keys.length === 0) throw new Error("displayBundle: the bundle is empty; give at least one MIME type");
  if (options.update && !options.displayId) throw new Error("displayBundle: update needs the displayId of the output to replace");
  const metadata = options.metadata ?? {};
  const writer = kernelWriter();
  if (writer) {
    writer({ data, metadata, transient: options.displayId ? { display_id: options.displayId } : {} }, Boolean(options.update));
    return;
  }
  collected.push({ data, metadata, displayId: options.displayId, update: Boolean(options.update) });
}

/** Plain text output. */
export function displayText(text: string, options: DisplayOptions = {}): void {
  displayBundle({ "text/plain": text }, options);
}

/** Markdown with a plain-text fallback (tables, result summaries). */
export function displayMarkdown(markdown: string, options: DisplayOptions = {}): void {
  displayBundle({ "text/markdown": markdown, "text/plain": markdown }, options);
}

/** A PNG image (already encoded) with alt text. */
export function displayPng(png: Uint8Array, altText: string, options: DisplayOptions = {}): void {
  displayBundle({ "image/png": Buffer.from(png).toString("base64"), "text/plain": altText }, options);
}

/** Outputs sent while no kernel was running, oldest first; `clear` empties the list. */
export function collectedOutputs(clear = false): DisplayedOutput[] {
  const out = collected.slice();
  if (clear) collected.length = 0;
  return out;
}

/** Forget every collected output. */
export function clearCollectedOutputs(): void {
  collected.length = 0;
}
