/**
 * Save and load trained weights under data/weights/<name>/: the storage under the
 * trained-model cache (lib/model-cache.ts, `cachedModel`), which is what notebooks call.
 * Format: manifest.json (format, names, shapes, dtypes, offsets, byte length, SHA-256, user metadata) + one little-endian float32 file
 * weights-<hash>.bin. The bin file is named by its content and written first, the
 * manifest is renamed into place last, so every moment on disk is a complete old or new
 * save (temp + rename); stale bin files are removed after the switch.
 */
import * as fs from "fs";
import * as path from "path";
import { createHash, randomBytes } from "crypto";
import * as tf from "@tensorflow/tfjs";

export const WEIGHTS_FORMAT = "ae-weights/1";
const MANIFEST_FILE = "manifest.json";

/** One tensor in a saved file. */
export interface SavedWeightEntry {
  name: string;
  shape: number[];
  /** The tensor's own dtype; values are stored as float32 either way. */
  dtype: "float32" | "int32" | "bool";
  /** Offset and length in float32 elements within the bin file. */
  offset: number;
  size: number;
}

export interface WeightsManifest {
  format: typeof WEIGHTS_FORMAT;
  name: string;
  /** "model": a LayersModel/Layer's weights in order; "record": a named record of tensors. */
  kind: "model" | "record";
  savedAt: string;
  /** The bin file beside the manifest. */
  weightsFile: string;
  byteLength: number;
  sha256: string;
  weights: SavedWeightEntry[];
  /** Whatever the caller attached: epochs, mode, metrics, … */
  metadata: Record<string, unknown>;
}

export interface WeightsLocationOptions {
  /** The data/ directory to use (default: AE_DATA_DIR, else the repository's data/). Weights go to <dataDir>/weights/<name>/. */
  dataDir?: string;
}

export interface SaveWeightsOptions extends WeightsLocationOptions {
  /** Stored in the manifest and returned by loadWeights (must be JSON-serialisable). */
  metadata?: Record<string, unknown>;
}

export interface LoadWeightsOptions extends WeightsLocationOptions {
  /** Compare a model's weight names with the saved ones (auto-numbering like dense_Dense3 ignored); default true. */
  checkNames?: boolean;
}

/** What can be saved: a model or layer (its weights in order) or a named record of tensors/variables. */
export type WeightsSource = tf.LayersModel | tf.layers.Layer | Record<string, tf.Tensor>;
/** What can be loaded into: a model or layer, or a named record of tf.Variables. */
export type WeightsTarget = tf.LayersModel | tf.layers.Layer | Record<string, tf.Variable>;

/** The repository's data/ directory, found from this file's place (lib/ or lib/dist/), not the working directory. */
export function projectDataDir(options: WeightsLocationOptions = {}, env: NodeJS.ProcessEnv = process.env): string {
  if (options.dataDir) return path.resolve(options.dataDir);
  if (env.AE_DATA_DIR) return path.resolve(env.AE_DATA_DIR);
  let dir = __dirname;
  for (let i = 0; i < 4; i++) {
    if (fs.existsSync(path.join(dir, "package.json")) && fs.existsSync(path.join(dir, "lib"))) return path.join(dir, "data");
    dir = path.dirname(dir);
  }
  return path.resolve(__dirname, path.basename(__dirname) === "dist" ? "../../data" : "../data");
}

function checkName(name: string, fn: string): void {
  const segment = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
  if (typeof name !== "string" || name.length === 0 || !name.split("/").every((s) => segment.test(s) && !s.includes(".."))) {
    throw new Error(`${fn}: weights name must be letters, digits, '.', '_', '-' (segments separated by '/'), got ${JSON.stringify(name)}`);
  }
}

/** The directory that holds (or will hold) the weights called `name`. */
export function weightsDirectory(name: string, options: WeightsLocationOptions = {}): string {
  checkName(name, "weightsDirectory");
  return path.join(projectDataDir(options), "weights", ...name.split("/"));
}

/** True when weights called `name` have been saved (their manifest exists). */
export function weightsExist(name: string, options: WeightsLocationOptions = {}): boolean {
  return fs.existsSync(path.join(weightsDirectory(name, options), MANIFEST_FILE));
}

function isLayerLike(value: unknown): value is tf.LayersModel | tf.layers.Layer {
  return value instanceof tf.layers.Layer ||
    (value != null && typeof value === "object" && Array.isArray((value as { weights?: unknown }).weights) &&
      typeof (value as { setWeights?: unknown }).setWeights === "function");
}

/** Names and tensors of a source, in save order. The tensors are the live ones: do not dispose. */
function sourceEntries(source: WeightsSource, fn: string): { kind: "model" | "record"; entries: Array<{ name: string; tensor: tf.Tensor }> } {
  if (isLayerLike(source)) {
    return { kind: "model", entries: source.weights.map((w) => ({ name: w.name, tensor: w.read() })) };
  }
  if (source == null || typeof source !== "object") throw new Error(`${fn}: source must be a tf.LayersModel, a layer, or a record of tensors`);
  const entries = Object.entries(source).map(([name, tensor]) => {
    if (!(tensor instanceof tf.Tensor)) throw new Error(`${fn}: source.${name} must be a tf.Tensor or tf.Variable`);
    return { name, tensor };
  });
  return { kind: "record", entries };
}

async function writeFileAtomic(file: string, bytes: Uint8Array | string): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
  try {
    const handle = await fs.promises.open(temp, "w");
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.promises.rename(temp, file);
  } catch (error) {
    await fs.promises.rm(temp, { force: true });
    throw error;
  }
}

/** Save a model's weights (in order) or a record of tensors as data/weights/<name>/; returns the manifest written. */
export async function saveWeights(name: string, source: WeightsSource, options: SaveWeightsOptions = {}): Promise<WeightsManifest> {
  const fn = "saveWeights";
  const dir = weightsDirectory(name, options);
  const { kind, entries } = sourceEntries(source, fn);
  if (entries.length === 0) throw new Error(`${fn}: ${kind === "model" ? "the model has no weights (build it first)" : "the record is empty"}`);
  const metadata = options.metadata ?? {};
  JSON.stringify(metadata); // fail here, before writing anything, if it cannot be stored

  const weights: SavedWeightEntry[] = [];
  let offset = 0;
  for (const { name: weightName, tensor } of entries) {
    if (tensor.isDisposed) throw new Error(`${fn}: weight '${weightName}' has been disposed`);
    if (tensor.dtype !== "float32" && tensor.dtype !== "int32" && tensor.dtype !== "bool") {
      throw new Error(`${fn}: weight '${weightName}' has dtype ${tensor.dtype}; only float32, int32 and bool can be saved`);
    }
    weights.push({ name: weightName, shape: tensor.shape.slice(), dtype: tensor.dtype, offset, size: tensor.size });
    offset += tensor.size;
  }
  const values = new Float32Array(offset);
  for (let i = 0; i < entries.length; i++) {
    const data = await entries[i].tensor.data();
    if (weights[i].dtype === "int32") {
      for (const v of data as Int32Array) {
        if (Math.abs(v) > 2 ** 24) throw new Error(`${fn}: int32 weight '${weights[i].name}' holds ${v}, which float32 cannot store exactly`);
      }
    }
    values.set(data as ArrayLike<number>, weights[i].offset);
  }
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error(`${fn}: big-endian machines are not supported`);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const weightsFile = `weights-${sha256.slice(0, 16)}.bin`;
  const manifest: WeightsManifest = {
    format: WEIGHTS_FORMAT, name, kind, savedAt: new Date().toISOString(), weightsFile,
    byteLength: bytes.byteLength, sha256, weights, metadata,
  };

  await fs.promises.mkdir(dir, { recursive: true });
  await writeFileAtomic(path.join(dir, weightsFile), bytes);
  await writeFileAtomic(path.join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + "\n");
  // The new manifest is in place: bin files of earlier saves are no longer referenced.
  for (const file of await fs.promises.readdir(dir)) {
    if (/^weights-[0-9a-f]+\.bin$/.test(file) && file !== weightsFile) await fs.promises.rm(path.join(dir, file), { force: true });
  }
  return manifest;
}

/** Read and check the manifest of saved weights (no tensors). */
export function readWeightsManifest(name: string, options: WeightsLocationOptions = {}): WeightsManifest {
  const file = path.join(weightsDirectory(name, options), MANIFEST_FILE);
  if (!fs.existsSync(file)) {
    throw new Error(`no saved weights "${name}": ${file} does not exist (save them with saveWeights, e.g. by running the notebook in full mode)`);
  }
  let manifest: WeightsManifest;
  try {
    manifest = JSON.parse(fs.readFileSync(file, "utf8")) as WeightsManifest;
  } catch (error) {
    throw new Error(`${file} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (manifest == null || manifest.format !== WEIGHTS_FORMAT || !Array.isArray(manifest.weights) || typeof manifest.weightsFile !== "string") {
    throw new Error(`${file} is not a weights manifest (expected format "${WEIGHTS_FORMAT}")`);
  }
  return manifest;
}

/** The stored values, checked against the manifest's length and SHA-256. */
function readValues(name: string, manifest: WeightsManifest, options: WeightsLocationOptions): Float32Array {
  const file = path.join(weightsDirectory(name, options), path.basename(manifest.weightsFile));
  if (!fs.existsSync(file)) throw new Error(`weights "${name}": ${file} does not exist (the manifest refers to it)`);
  const bytes = fs.readFileSync(file);
  if (bytes.byteLength !== manifest.byteLength) {
    throw new Error(`weights "${name}": ${file} has ${bytes.byteLength} bytes, the manifest says ${manifest.byteLength}`);
  }
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  if (sha256 !== manifest.sha256) throw new Error(`weights "${name}": ${file} does not match the SHA-256 in its manifest (damaged file)`);
  const values = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(values.buffer).set(bytes);
  return values;
}

function entryTensor(values: Float32Array, entry: SavedWeightEntry): tf.Tensor {
  return tf.tidy(() => {
    const t = tf.tensor(values.subarray(entry.offset, entry.offset + entry.size), entry.shape, "float32");
    return entry.dtype === "float32" ? t : tf.cast(t, entry.dtype);
  });
}

/** Saved weights as new tensors keyed by their saved names (the caller disposes them). */
export async function readSavedWeights(name: string, options: WeightsLocationOptions = {}): Promise<{ manifest: WeightsManifest; tensors: Record<string, tf.Tensor> }> {
  const manifest = readWeightsManifest(name, options);
  const values = readValues(name, manifest, options);
  const tensors: Record<string, tf.Tensor> = {};
  for (const entry of manifest.weights) tensors[entry.name] = entryTensor(values, entry);
  return { manifest, tensors };
}

/** A layer/weight name without tfjs's auto-numbering (dense_Dense3/kernel → dense_Dense/kernel, kernel_1 → kernel). */
function comparableName(name: string): string {
  return name.split("/").map((s) => s.replace(/_\d+$/, "").replace(/\d+$/, "")).join("/");
}

function shapeText(shape: ReadonlyArray<number | null>): string {
  return `[${shape.join(", ")}]`;
}

function sameShape(a: ReadonlyArray<number | null>, b: ReadonlyArray<number | null>): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Load saved weights into a model/layer (by position; shapes and names checked) or a record
 * of tf.Variables (by key). Everything is checked before anything is assigned.
 * Returns the manifest (its metadata included).
 */
export async function loadWeights(name: string, target: WeightsTarget, options: LoadWeightsOptions = {}): Promise<WeightsManifest> {
  const fn = "loadWeights";
  const manifest = readWeightsManifest(name, options);
  const saved = manifest.weights;
  const where = `weights "${name}"`;
  if (isLayerLike(target)) {
    const layerWeights = target.weights;
    if (layerWeights.length !== saved.length) {
      throw new Error(`${fn}: ${where} holds ${saved.length} weights but the model has ${layerWeights.length}`);
    }
    layerWeights.forEach((w, i) => {
      if (!sameShape(w.shape, saved[i].shape)) {
        throw new Error(`${fn}: weight ${i} '${w.name}': saved shape ${shapeText(saved[i].shape)} ('${saved[i].name}') but the model's is ${shapeText(w.shape)}`);
      }
      if ((options.checkNames ?? true) && comparableName(w.name) !== comparableName(saved[i].name)) {
        throw new Error(`${fn}: weight ${i} is '${saved[i].name}' in ${where} but '${w.name}' in the model (pass checkNames: false to load by position)`);
      }
    });
    const values = readValues(name, manifest, options);
    const tensors = saved.map((entry, i) => {
      const t = entryTensor(values, entry);
      return t.dtype === layerWeights[i].dtype ? t : tf.tidy(() => tf.cast(t, layerWeights[i].dtype));
    });
    try {
      target.setWeights(tensors);
    } finally {
      tf.dispose(tensors);
    }
    return manifest;
  }
  if (target == null || typeof target !== "object") throw new Error(`${fn}: target must be a tf.LayersModel, a layer, or a record of tf.Variables`);
  const byName = new Map(saved.map((entry) => [entry.name, entry]));
  const keys = Object.keys(target);
  for (const key of keys) {
    const variable = target[key];
    if (!(variable instanceof tf.Variable)) throw new Error(`${fn}: target.${key} must be a tf.Variable to load into`);
    const entry = byName.get(key);
    if (!entry) throw new Error(`${fn}: ${where} has no weight '${key}' (it has: ${saved.map((e) => e.name).join(", ")})`);
    if (!sameShape(variable.shape, entry.shape)) {
      throw new Error(`${fn}: weight '${key}': saved shape ${shapeText(entry.shape)} but the variable's is ${shapeText(variable.shape)}`);
    }
  }
  const extra = saved.filter((entry) => !keys.includes(entry.name)).map((entry) => entry.name);
  if (extra.length > 0) throw new Error(`${fn}: ${where} also holds ${extra.join(", ")}, which the target record lacks`);
  const values = readValues(name, manifest, options);
  for (const key of keys) {
    const variable = target[key];
    const t = entryTensor(values, byName.get(key)!);
    tf.tidy(() => variable.assign(t.dtype === variable.dtype ? t : tf.cast(t, variable.dtype)));
    t.dispose();
  }
  return manifest;
}
