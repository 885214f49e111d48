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
export * from "./backend";
export * from "./data/mnist";
export * from "./data/noise";
export * from "./train";
export * from "./progress";
export * from "./weights";
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
export * from "./native";
export * from "./fused-adam";
