/**
 * The shared library behind every notebook: its public API. Notebooks (in any folder) import it as
 *   import * as ae from "autoencoder-notebooks";
 * which the patched tslab (lib/runner/tslab-patch) maps to lib/, and lib/package.json to
 * the compiled build in lib/dist, so tslab type-checks it from .d.ts files and never trips
 * over its rootDir limit.
 *
 * Two floors:
 *   - the core, flat: setup and the run object, display, data, training, models that more than
 *     one notebook trains, metrics, linear algebra, plots and tables, comparisons over seeds;
 *   - each paper's machinery under a namespace:
 *       ae.fsae         paper 1, the functionally separate autoencoder (lib/inverse)
 *       ae.demo         paper 2, the learning-process demo and its equation-level optimisers (lib/optim)
 *       ae.regularized  paper 3, the regularised autoencoders of the survey (lib/regularizers)
 *       ae.csae         paper 4, CSAE and PEDCC (lib/pedcc, lib/models/csae.ts)
 *       ae.slides       paper 5, the lecture's tied, stacked and pooling autoencoders (lib/stacked)
 * Plumbing (IDX files, PNG chunks and the bitmap font, weight files, backend parsing, progress
 * formatting) and test-only helpers are imported from their own files, never from here.
 * test/api.test.ts keeps this surface at most 250 names.
 */

// Setup and the run object every notebook opens and closes with.
export { setup, byMode } from "./setup";
export type { SetupOptions, SetupWithSizes, SetupResult } from "./setup";
export { NotebookRun } from "./run";
export type { Mode, PhaseTiming, FinishOptions, RunSummary } from "./run";
export { initBackend, backendReport, describeBackend } from "./backend";
export type { BackendName, BackendRequest, BackendReport, InitBackendOptions } from "./backend";
export { createRng, randomInt, randomNormal, shuffleInPlace, permutation } from "./random";
export type { Rng } from "./random";

// Display in the kernel.
export { displayText, displayMarkdown, displayPng, displayBundle, newDisplayId } from "./display";
export type { MimeBundle, DisplayOptions } from "./display";

// Data.
export { loadMnist, loadFashionMnist, datasetAvailable, MNIST_CLASS_NAMES, FASHION_MNIST_CLASS_NAMES } from "./data/mnist";
export type { LoadMnistOptions, MnistDataset, MnistDatasetName, MnistSplit, MnistLabelFormat } from "./data/mnist";
export * from "./data/noise";

// Training.
export * from "./train";
export * from "./stopping";
export { formatDuration } from "./progress";
export type { ProgressMode } from "./progress";
export { cachedModel, MODEL_CACHE_CODE_VERSION } from "./model-cache";
export type { CachedModel, CachedModelOptions, CachedModelSpec, JsonValue } from "./model-cache";

// Models more than one notebook trains, and their costs.
export { mlpAutoencoder, convDenoisingAutoencoder } from "./models/autoencoders";
export type { AutoencoderModel, MlpAutoencoderOptions, ConvDenoisingAutoencoderOptions } from "./models/autoencoders";
export type { Autoencoder } from "./models/autoencoder";
export { cnnClassifier, fsaeClassifier, categoricalCrossEntropy } from "./models/classifiers";
export type { ClassifierModel, CnnClassifierOptions } from "./models/classifiers";
export { countParams, layerCosts, forwardFlopsPerSample, trainingFlopsPerSample } from "./models/cost";
export type { LayerCost } from "./models/cost";
export type { LayerActivation } from "./models/common";

// Metrics and linear algebra.
export * from "./metrics";
export * from "./linalg";

// Plots, tables and image grids.
export * from "./plots";
export { encodePng } from "./png/encode";
export type { RawImage } from "./png/encode";
export type { ImageSource, ImageStack } from "./png/image-stack";
export type { ImageGridRow, ImageGridOptions } from "./png/grid";
export { imageGridPng } from "./png/grid";

// Comparisons over seeds.
export {
  studentTQuantile, studentTCdf, summarizeSeeds, compareSeeds, formatInterval, preregister, judge, assess, describeRule, claimRow,
  seedTable, replicate, replicateBatch, replicatesFrom, mergeReplicates,
} from "./replicate";
export type {
  IntervalSummary, IntervalOptions, CompareOptions, FormatIntervalOptions, Claim, ClaimRule, ClaimResult, Verdict,
  SeedValues, Replicates, ReplicateOptions, ReplicateBatchOptions, SeedTableOptions,
} from "./replicate";

// Each paper's machinery.
export * as fsae from "./inverse";
export * as demo from "./optim";
export * as regularized from "./regularizers";
export * as csae from "./pedcc";
export * as slides from "./stacked";
