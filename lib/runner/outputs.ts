/**
 * Turn iopub messages into nbformat outputs the way JupyterLab's output area does:
 * consecutive stream chunks of the same name merge (with carriage returns and
 * backspaces applied), display_data keeps its MIME bundle and metadata,
 * update_display_data replaces the bundle of every earlier output that carries the
 * same transient display_id (across cells), clear_output clears (or waits).
 */
import { JupyterMessage } from "./protocol";
import { isJsonMime, JsonObject, NotebookOutput } from "./notebook";

/** A Jupyter `error` output's content. */
export interface CellError {
  ename: string;
  evalue: string;
  traceback: string[];
}

/** Notebook-wide map display_id → the outputs that carry it (for update_display_data). */
export class DisplayRegistry {
  private readonly byId = new Map<string, NotebookOutput[]>();

  /** Remember that `output` carries `displayId`. */
  register(displayId: string, output: NotebookOutput): void {
    const list = this.byId.get(displayId) ?? [];
    list.push(output);
    this.byId.set(displayId, list);
  }

  /** Replace data and metadata of every output tagged `displayId`; returns how many were updated. */
  update(displayId: string, data: JsonObject, metadata: JsonObject): number {
    const list = this.byId.get(displayId) ?? [];
    for (const output of list) {
      output.data = data;
      output.metadata = metadata;
    }
    return list.length;
  }
}

/** Normalise a MIME bundle: JSON types stay objects, text types become single strings. */
export function normalizeBundle(data: unknown): JsonObject {
  if (data === null || typeof data !== "object" || Array.isArray(data)) return {};
  const out: JsonObject = {};
  for (const [mime, value] of Object.entries(data as JsonObject)) {
    out[mime] = !isJsonMime(mime) && Array.isArray(value) && value.every((v) => typeof v === "string") ? value.join("") : value;
  }
  return out;
}

function objectOrEmpty(value: unknown): JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as JsonObject) : {};
}

/** Apply backspaces and carriage returns like a terminal (JupyterLab does the same when it merges streams). */
export function applyControlCharacters(text: string): string {
  let result = text;
  while (/[^\n]\x08/.test(result)) result = result.replace(/[^\n]\x08/g, "");
  result = result.replace(/\x08/g, "");
  if (!result.includes("\r")) return result;
  return result
    .replace(/\r+\n/g, "\n")
    .split("\n")
    .map((line) => line.split("\r").reduce((shown, overwrite) => overwrite + shown.slice(overwrite.length), ""))
    .join("\n");
}

/** The outputs of one cell while it runs. */
export class CellOutputs {
  readonly outputs: NotebookOutput[] = [];
  /** Text that went to the stderr stream (tslab's diagnostics and stack traces). */
  stderr = "";
  /** The cell's Jupyter `error` output (ename, evalue, traceback), when the kernel sent one. */
  error: CellError | null = null;
  private clearPending = false;

  constructor(private readonly displays: DisplayRegistry) {}

  /** Apply one iopub message to this cell's outputs. */
  handle(message: JupyterMessage): void {
    const content = message.content as JsonObject;
    switch (message.header.msg_type) {
      case "stream":
        this.addStream(content.name === "stderr" ? "stderr" : "stdout", typeof content.text === "string" ? content.text : "");
        break;
      case "display_data":
        this.addDisplay({ output_type: "display_data", data: normalizeBundle(content.data), metadata: objectOrEmpty(content.metadata) }, content);
        break;
      case "execute_result":
        this.addDisplay(
          {
            output_type: "execute_result",
            data: normalizeBundle(content.data),
            metadata: objectOrEmpty(content.metadata),
            execution_count: typeof content.execution_count === "number" ? content.execution_count : null,
          },
          content,
        );
        break;
      case "update_display_data": {
        const displayId = objectOrEmpty(content.transient).display_id;
        if (typeof displayId === "string") this.displays.update(displayId, normalizeBundle(content.data), objectOrEmpty(content.metadata));
        break;
      }
      case "error": {
        this.flushClear();
        const error: CellError = {
          ename: String(content.ename ?? "Error"),
          evalue: String(content.evalue ?? ""),
          traceback: Array.isArray(content.traceback) ? content.traceback.map(String) : [],
        };
        this.error = error;
        this.outputs.push({ output_type: "error", ...error });
        break;
      }
      case "clear_output":
        if (content.wait === true) this.clearPending = true;
        else this.outputs.length = 0;
        break;
      default:
        // status, execute_input and comm messages carry no output
        break;
    }
  }

  /** Outputs as they will be saved (stream control characters applied). */
  finalOutputs(): NotebookOutput[] {
    for (const output of this.outputs) {
      if (output.output_type === "stream" && typeof output.text === "string") output.text = applyControlCharacters(output.text);
    }
    return this.outputs;
  }

  private flushClear(): void {
    if (!this.clearPending) return;
    this.clearPending = false;
    this.outputs.length = 0;
  }

  private addStream(name: "stdout" | "stderr", text: string): void {
    this.flushClear();
    if (name === "stderr") this.stderr += text;
    const last = this.outputs[this.outputs.length - 1];
    if (last && last.output_type === "stream" && last.name === name) last.text = String(last.text) + text;
    else this.outputs.push({ output_type: "stream", name, text });
  }

  private addDisplay(output: NotebookOutput, content: JsonObject): void {
    this.flushClear();
    this.outputs.push(output);
    const displayId = objectOrEmpty(content.transient).display_id;
    if (typeof displayId === "string") this.displays.register(displayId, output);
  }
}
