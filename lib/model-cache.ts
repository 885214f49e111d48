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
 * With `checkpoints: [40, 100]`, `train(model, checkpoint)` calls `checkpoint(epoch)` as it goes (for example in
 * onEpochEnd); the weights at those epochs are kept, saved with the final ones and returned as `checkpoints`
 * (one model each), so figures of a model part-way through training need no second run.
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
  /**
   * Train the built model in place; may return a JSON summary (final metrics, …) stored with the weights and returned on load.
   * `checkpoint(step)` keeps the weights of that moment when `step` is one of spec.checkpoints (other steps are ignored).
   */
  train: (model: M, checkpoint: (step: number) => void) => Promise<{ [key: string]: JsonValue } | void>;
  /** Steps (e.g. epochs) at which `train` calls checkpoint(step) and whose weights are kept beside the final ones. */
  checkpoints?: number[];
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
  /** One model per spec.checkpoints entry, with the weights it had at that step, in the order of the steps (the caller disposes them). */
  checkpoints: Array<{ step: number; model: M }>;
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
  /** Steps whose weights are saved beside the final ones (under checkpoint-‹step›/). */
  checkpoints?: number[];
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

  const steps = checkpointSteps(spec.checkpoints, fn);
  const partsOf = (m: M) => (spec.weights ? spec.weights(m) : defaultWeights(m, spec.name));
  let model = spec.build();
  const checkpoints: Array<{ step: number; model: M }> = [];
  const snapshots = new Map<number, Record<string, tf.Tensor[]>>();
  const dropCheckpoints = () => {
    for (const c of checkpoints.splice(0)) disposeModel(spec, c.model);
    for (const snapshot of snapshots.values()) tf.dispose(Object.values(snapshot).flat());
    snapshots.clear();
  };
  try {
    const parts = partsOf(model);
    const partNames = Object.keys(parts);
    if (partNames.length === 0) throw new Error(`${fn}: spec.weights returned no parts`);
    const architecture = architectureOf(parts);
    const keyHash = createHash("sha256")
      .update(canonicalJson({ codeVersion: MODEL_CACHE_CODE_VERSION, key: JSON.parse(keyJson), architecture, ...(steps.length > 0 ? { checkpoints: steps } : {}) }))
      .digest("hex").slice(0, 16);
    const entryName = `models/${spec.name}/${keyHash}`;
    const directory = weightsDirectory(entryName, options);
    const entryFile = path.join(directory, ENTRY_FILE);
    const expected = { name: spec.name, codeVersion: MODEL_CACHE_CODE_VERSION, key: JSON.parse(keyJson) as CachedModelSpec<M>["key"], architecture };
    const checkpointName = (step: number, part: string) => `${entryName}/checkpoint-${step}/${part}`;

    if (!fresh && fs.existsSync(entryFile)) {
      try {
        const entry = readEntry(entryFile, expected);
        if (canonicalJson(entry.checkpoints ?? []) !== canonicalJson(steps)) throw new Error(`${entryFile} records checkpoints ${JSON.stringify(entry.checkpoints ?? [])}, not ${JSON.stringify(steps)}`);
        for (const part of partNames) await loadWeights(`${entryName}/${part}`, parts[part], options);
        for (const step of steps) {
          const at = { step, model: spec.build() };
          checkpoints.push(at);
          const atParts = partsOf(at.model);
          for (const part of partNames) await loadWeights(checkpointName(step, part), atParts[part], options);
        }
        const trainedAt = new Date(entry.trainedAt);
        const message = `${spec.name}: loaded: trained on ${dateText(trainedAt)} in ${minutes(entry.trainSeconds)} min`;
        if (log) log(message);
        return { model, source: "loaded", trainedAt, trainSeconds: entry.trainSeconds, summary: entry.summary ?? {}, checkpoints, message, directory, keyHash };
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        if (onDamaged === "throw") {
          throw new Error(`${fn}: the cached model in ${directory} is damaged: ${why} (delete the directory, or retrain with fresh: true or AE_FRESH=1)`);
        }
        warn(`${fn}: the cached model in ${directory} is damaged (${why}); training it again`);
        // Some parts may have been loaded already: start again from the untrained model.
        dropCheckpoints();
        disposeModel(spec, model);
        model = spec.build();
        const rebuilt = partsOf(model);
        for (const part of partNames) parts[part] = rebuilt[part];
      }
    }

    const started = Date.now();
    const checkpoint = (step: number): void => {
      if (!steps.includes(step)) return;
      if (snapshots.has(step)) tf.dispose(Object.values(snapshots.get(step)!).flat());
      snapshots.set(step, snapshotParts(parts));
    };
    const summary = (await spec.train(model, checkpoint)) ?? {};
    const trainSeconds = (Date.now() - started) / 1000;
    canonicalJson(summary, `${fn}: train()'s summary`);
    const missing = steps.filter((step) => !snapshots.has(step));
    if (missing.length > 0) throw new Error(`${fn}: train() never called checkpoint(step) for step(s) ${missing.join(", ")} of checkpoints ${JSON.stringify(steps)} (did training stop early?)`);
    for (const step of steps) {
      const at = { step, model: spec.build() };
      checkpoints.push(at);
      assignParts(partsOf(at.model), snapshots.get(step)!);
    }
    for (const snapshot of snapshots.values()) tf.dispose(Object.values(snapshot).flat());
    snapshots.clear();
    fs.rmSync(entryFile, { force: true }); // the entry is complete again only once every part is saved
    for (const part of partNames) await saveWeights(`${entryName}/${part}`, parts[part], options);
    for (const at of checkpoints) {
      const atParts = partsOf(at.model);
      for (const part of partNames) await saveWeights(checkpointName(at.step, part), atParts[part], options);
    }
    const trainedAt = new Date(started);
    const entry: ModelCacheEntry = {
      format: MODEL_CACHE_FORMAT, ...expected, parts: partNames, ...(steps.length > 0 ? { checkpoints: steps } : {}), trainedAt: trainedAt.toISOString(), trainSeconds, summary,
    };
    writeJsonAtomic(entryFile, entry);
    const message = `${spec.name}: trained now in ${minutes(trainSeconds)} min`;
    if (log) log(message);
    return { model, source: "trained", trainedAt, trainSeconds, summary, checkpoints, message, directory, keyHash };
  } catch (error) {
    dropCheckpoints();
    disposeModel(spec, model);
    throw error;
  }
}

/** spec.checkpoints checked and sorted: distinct integers ≥ 0 (none: []). */
function checkpointSteps(checkpoints: unknown, fn: string): number[] {
  if (checkpoints === undefined) return [];
  if (!Array.isArray(checkpoints) || checkpoints.some((step) => !Number.isInteger(step) || step < 0)) {
    throw new Error(`${fn}: checkpoints must be an array of integers ≥ 0 (the steps at which train() calls checkpoint), got ${JSON.stringify(checkpoints)}`);
  }
  const steps = [...(checkpoints as number[])].sort((a, b) => a - b);
  if (new Set(steps).size !== steps.length) throw new Error(`${fn}: checkpoints repeat a step: ${JSON.stringify(checkpoints)}`);
  return steps;
}

/** Copies of the current values of every weight of each part (the caller disposes them). */
function snapshotParts(parts: Record<string, WeightsTarget>): Record<string, tf.Tensor[]> {
  const out: Record<string, tf.Tensor[]> = {};
  for (const [name, target] of Object.entries(parts)) {
    out[name] = isWeightsHolder(target) ? target.weights.map((w) => w.read().clone()) : Object.keys(target).sort().map((k) => target[k].clone());
  }
  return out;
}

/** Set each part's weights to `values` (as snapshotParts took them). */
function assignParts(parts: Record<string, WeightsTarget>, values: Record<string, tf.Tensor[]>): void {
  for (const [name, target] of Object.entries(parts)) {
    if (isWeightsHolder(target)) target.setWeights(values[name]);
    else Object.keys(target).sort().forEach((k, i) => target[k].assign(values[name][i]));
  }
}
