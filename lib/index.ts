/**
 * The shared library behind every notebook. Notebooks (in any folder) import it as
 *   import * as ae from "autoencoder-notebooks";
 * which the patched tslab (lib/runner/tslab-patch) maps to lib/, and lib/package.json to
 * the compiled build in lib/dist, so tslab type-checks it from .d.ts files and never trips
 * over its rootDir limit.
 */
export * from "./random";
export * from "./display";
export * from "./setup";
export * from "./run";
export * from "./backend";
export * from "./data/mnist";
export * from "./data/noise";
export * from "./train";
export * from "./stopping";
export * from "./progress";
export * from "./weights";
export { cachedModel, MODEL_CACHE_CODE_VERSION } from "./model-cache";
export type { CachedModel, CachedModelOptions, CachedModelSpec, JsonValue } from "./model-cache";
export * from "./plots";
export * from "./png";
export * from "./models";
export * from "./linalg";
export * from "./metrics";
export * from "./inverse";
export * from "./optim";
export * from "./regularizers";
export * from "./pedcc";
export * from "./stacked";
export * from "./replicate";
