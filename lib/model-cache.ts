/**
 * The trained-model cache: every trained model is saved under data/weights/models/<name>/<key hash>/
 * keyed by everything that determines it (the caller's key — data subset, schedule, seed, loss
 * weights, … —, the built model's architecture and MODEL_CACHE_CODE_VERSION), and loaded on the
 * next run instead of trained again:
 *
 *   const { model, message } = await ae.cachedModel({
 *     name: "csae-l-beta0.04",
 *     key: { samples: 60000, epochs: 200, seed: 1, beta: 0.04, optimizer: { name: "adam", learningRate: 1e-3 } },
 *     build: () => ae.csaeLinear({ seed: 1 }),
 *     train: async (csae) => { const h = await ae.trainModel({ ... }); return { finalLoss: h.loss.at(-1) }; },
 *   });
 *   console.log(message); // "csae-l-beta0.04: loaded: trained on 2026-12-06 09:30 UTC in 41.3 min" or "…: trained now in …"
 *
 * `fresh: true` or AE_FRESH=1 retrains (and overwrites) everything; `npm run notebooks -- --fresh` and
 * `ae.setup({ fresh: true })` set AE_FRESH=1. Storage: lib/weights.ts.
 */
import * as fs from "fs";
import * as path from "path";
import { createHash, randomBytes } from "crypto";
import * as tf from "@tensorflow/tfjs";
import { WeightsLocationOptions, WeightsTarget, loadWeights, saveWeights, weightsDirectory } from "./weights";

/**
 * Version of the training code the cache keys on: bump it when a change to lib/ (the training loop,
 * optimisers, losses, initialisers, data loading) changes what training produces, so that every
 * cached model is trained again.
 */
export const MODEL_CACHE_CODE_VERSION = 1;

export const MODEL_CACHE_FORMAT = "ae-model-cache/1";
const ENTRY_FILE = "cache.json";

/** A JSON value (what a cache key and a training summary are made of). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** What to train and how to recognise it next time. */
export interface CachedModelSpec<M> {
  /** Directory name: letters, digits, '.', '_', '-' (e.g. "csae-l-beta0.04"). */
  name: string;
  /** Everything besides the architecture that determines the trained weights: data subset, schedule, seed, loss weights, … */
  key: { [key: string]: JsonValue };
  /** Build the untrained model (the same architecture on every call). */
  build: () => M;
  /** Train the built model in place; may return a JSON summary (final metrics, …) stored with the weights and returned on load. */
  train: (model: M) => Promise<{ [key: string]: JsonValue } | void>;
  /**
   * The weights to save and load, by part name (default: the model itself when it is a LayersModel or layer,
   * else its `model` property, e.g. an ae.AutoencoderModel's encoder–decoder chain).
   */
  weights?: (model: M) => Record<string, WeightsTarget>;
  /** Free the model (default: its own dispose()); used when a damaged cache entry forces a rebuild. */
  dispose?: (model: M) => void;
}

/** Options of `cachedModel`. */
export interface CachedModelOptions extends WeightsLocationOptions {
  /** Retrain even when a cached model exists, and overwrite it (default: true when AE_FRESH=1). */
  fresh?: boolean;
  /** A damaged cache entry: "retrain" with a warning (default) or "throw". */
  onDamaged?: "retrain" | "throw";
  /** Where "loaded: …" / "trained now …" goes (default console.log; null: nowhere). */
  log?: ((line: string) => void) | null;
  /** Where warnings go (default console.warn). */
  warn?: (line: string) => void;
  /** Environment read for AE_FRESH (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** A model from the cache or trained now. */
export interface CachedModel<M> {
  model: M;
  /** "loaded" from data/, or "trained" by this call. */
  source: "loaded" | "trained";
  /** When the weights were trained (now, for "trained"). */
  trainedAt: Date;
  /** Wall time of the training run that produced the weights. */
  trainSeconds: number;
  /** What `train` returned when the weights were trained ({} when nothing). */
  summary: { [key: string]: JsonValue };
  /** "‹name›: loaded: trained on ‹date› in ‹N› min" or "‹name›: trained now in ‹N› min". */
  message: string;
  /** The cache entry's directory. */
  directory: string;
  /** The hash naming the entry (of key, architecture and code version). */
  keyHash: string;
}

/** The cache entry's record (cache.json), written last: its presence marks a complete save. */
export interface ModelCacheEntry {
  format: typeof MODEL_CACHE_FORMAT;
  name: string;
  codeVersion: number;
  key: { [key: string]: JsonValue };
  /** Part → [shape, dtype] of each weight, in order. */
  architecture: Record<string, Array<[number[], string]>>;
  parts: string[];
  trainedAt: string;
  trainSeconds: number;
  summary: { [key: string]: JsonValue };
}

/** JSON with object keys sorted, so equal keys hash equally; throws naming the path of anything that is not JSON. */
export function canonicalJson(value: unknown, where = "key"): string {
  if (value === null || typeof value === "string" || typeof value === "boolean") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`${where} must be a finite number to be stored as JSON, got ${value}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v, i) => canonicalJson(v, `${where}[${i}]`)).join(",")}]`;
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const entries = Object.keys(value as object).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k], `${where}.${k}`)}`);
    return `{${entries.join(",")}}`;
  }
  const what = value === undefined ? "undefined" : typeof value === "object" ? `a ${(value as object).constructor?.name ?? "non-plain"} object` : typeof value;
  throw new Error(`${where} must be JSON (numbers, strings, booleans, null, arrays, plain objects), got ${what}`);
}

function isWeightsHolder(value: unknown): value is tf.LayersModel | tf.layers.Layer {
  return value instanceof tf.layers.Layer ||
    (value != null && typeof value === "object" && Array.isArray((value as { weights?: unknown }).weights) && typeof (value as { setWeights?: unknown }).setWeights === "function");
}

function defaultWeights<M>(model: M, name: string): Record<string, WeightsTarget> {
  if (isWeightsHolder(model)) return { model };
  const inner = (model as { model?: unknown } | null)?.model;
  if (isWeightsHolder(inner)) return { model: inner };
  throw new Error(`cachedModel "${name}": build() returned neither a tf.LayersModel nor an object with a \`model\` LayersModel; give spec.weights`);
}

/** Part → [shape, dtype] of each weight: the architecture as far as the saved weights can tell. */
function architectureOf(parts: Record<string, WeightsTarget>): ModelCacheEntry["architecture"] {
  const out: ModelCacheEntry["architecture"] = {};
  for (const [part, target] of Object.entries(parts)) {
    out[part] = isWeightsHolder(target)
      ? target.weights.map((w) => [w.shape.map((d) => d ?? -1), w.dtype] as [number[], string])
      : Object.keys(target).sort().map((k) => [target[k].shape.slice(), target[k].dtype] as [number[], string]);
  }
  return out;
}

function disposeModel<M>(spec: CachedModelSpec<M>, model: M): void {
  if (spec.dispose) spec.dispose(model);
  else (model as { dispose?: () => void } | null)?.dispose?.();
}

function minutes(seconds: number): string {
  return (seconds / 60).toFixed(1);
}

function dateText(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

function writeJsonAtomic(file: string, value: unknown): void {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
  try {
    fs.writeFileSync(temp, JSON.stringify(value, null, 2) + "\n");
    fs.renameSync(temp, file);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
}

/** Read and check a cache entry; throws (naming the file) when it is missing, not JSON or not the entry expected. */
function readEntry(file: string, expected: Pick<ModelCacheEntry, "name" | "codeVersion" | "key" | "architecture">): ModelCacheEntry {
  let entry: ModelCacheEntry;
  try {
    entry = JSON.parse(fs.readFileSync(file, "utf8")) as ModelCacheEntry;
  } catch (error) {
    throw new Error(`${file} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (entry == null || entry.format !== MODEL_CACHE_FORMAT || !Array.isArray(entry.parts) || typeof entry.trainedAt !== "string" || typeof entry.trainSeconds !== "number") {
    throw new Error(`${file} is not a model cache entry (expected format "${MODEL_CACHE_FORMAT}")`);
  }
  const same = (a: unknown, b: unknown) => canonicalJson(a, "entry") === canonicalJson(b, "entry");
  if (entry.name !== expected.name || entry.codeVersion !== expected.codeVersion || !same(entry.key, expected.key) || !same(entry.architecture, expected.architecture)) {
    throw new Error(`${file} records a different model (name, key, architecture or code version) than its directory name says`);
  }
  return entry;
}

/**
 * The trained model for `spec`: loaded from the cache when an entry with the same key, architecture and
 * code version exists (weights bit-identical to the ones saved), else built, trained and saved.
 * Prints "‹name›: loaded: trained on ‹date› in ‹N› min" or "‹name›: trained now in ‹N› min".
 */
export async function cachedModel<M>(spec: CachedModelSpec<M>, options: CachedModelOptions = {}): Promise<CachedModel<M>> {
  const fn = `cachedModel "${spec?.name}"`;
  if (spec == null || typeof spec.build !== "function" || typeof spec.train !== "function") throw new Error(`${fn}: spec needs name, key, build() and train(model)`);
  if (spec.key == null || typeof spec.key !== "object" || Array.isArray(spec.key)) throw new Error(`${fn}: key must be a plain object of JSON values`);
  const keyJson = canonicalJson(spec.key, "key");
  const env = options.env ?? process.env;
  const fresh = options.fresh ?? env.AE_FRESH === "1";
  const onDamaged = options.onDamaged ?? "retrain";
  if (onDamaged !== "retrain" && onDamaged !== "throw") throw new Error(`${fn}: onDamaged must be "retrain" or "throw", got ${JSON.stringify(onDamaged)}`);
  const log = options.log === undefined ? (line: string) => console.log(line) : options.log;
  const warn = options.warn ?? ((line: string) => console.warn(line));

  let model = spec.build();
  try {
    const parts = spec.weights ? spec.weights(model) : defaultWeights(model, spec.name);
    const partNames = Object.keys(parts);
    if (partNames.length === 0) throw new Error(`${fn}: spec.weights returned no parts`);
    const architecture = architectureOf(parts);
    const keyHash = createHash("sha256")
      .update(canonicalJson({ codeVersion: MODEL_CACHE_CODE_VERSION, key: JSON.parse(keyJson), architecture }))
      .digest("hex").slice(0, 16);
    const entryName = `models/${spec.name}/${keyHash}`;
    const directory = weightsDirectory(entryName, options);
    const entryFile = path.join(directory, ENTRY_FILE);
    const expected = { name: spec.name, codeVersion: MODEL_CACHE_CODE_VERSION, key: JSON.parse(keyJson) as CachedModelSpec<M>["key"], architecture };

    if (!fresh && fs.existsSync(entryFile)) {
      try {
        const entry = readEntry(entryFile, expected);
        for (const part of partNames) await loadWeights(`${entryName}/${part}`, parts[part], options);
        const trainedAt = new Date(entry.trainedAt);
        const message = `${spec.name}: loaded: trained on ${dateText(trainedAt)} in ${minutes(entry.trainSeconds)} min`;
        if (log) log(message);
        return { model, source: "loaded", trainedAt, trainSeconds: entry.trainSeconds, summary: entry.summary ?? {}, message, directory, keyHash };
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        if (onDamaged === "throw") {
          throw new Error(`${fn}: the cached model in ${directory} is damaged: ${why} (delete the directory, or retrain with fresh: true or AE_FRESH=1)`);
        }
        warn(`${fn}: the cached model in ${directory} is damaged (${why}); training it again`);
        // Some parts may have been loaded already: start again from the untrained model.
        disposeModel(spec, model);
        model = spec.build();
        const rebuilt = spec.weights ? spec.weights(model) : defaultWeights(model, spec.name);
        for (const part of partNames) parts[part] = rebuilt[part];
      }
    }

    const started = Date.now();
    const summary = (await spec.train(model)) ?? {};
    const trainSeconds = (Date.now() - started) / 1000;
    canonicalJson(summary, `${fn}: train()'s summary`);
    fs.rmSync(entryFile, { force: true }); // the entry is complete again only once every part is saved
    for (const part of partNames) await saveWeights(`${entryName}/${part}`, parts[part], options);
    const trainedAt = new Date(started);
    const entry: ModelCacheEntry = {
      format: MODEL_CACHE_FORMAT, ...expected, parts: partNames, trainedAt: trainedAt.toISOString(), trainSeconds, summary,
    };
    writeJsonAtomic(entryFile, entry);
    const message = `${spec.name}: trained now in ${minutes(trainSeconds)} min`;
    if (log) log(message);
    return { model, source: "trained", trainedAt, trainSeconds, summary, message, directory, keyHash };
  } catch (error) {
    disposeModel(spec, model);
    throw error;
  }
}
