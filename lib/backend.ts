// Placeholder contract; the backend owner replaces this file.
export type BackendName = "tensorflow" | "wasm" | "cpu";
export interface BackendReport { name: BackendName; reason: string }
export async function initBackend(_options: { backend?: BackendName | "auto" } = {}): Promise<BackendReport> {
  throw new Error("initBackend: not implemented yet");
}
