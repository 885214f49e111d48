/**
 * PEDCC centroids are computed once and reused: small JSON files under data/pedcc/
 * (committed), written atomically (temp file + rename).
 */
import * as fs from "fs";
import * as path from "path";
import { projectDataDir } from "../weights";
import { PedccOptions, PedccResult, pedccSimulate } from "./simulation";

/** Format tag of the saved files. */
export const PEDCC_FORMAT = "ae-pedcc/1";

/** Where PEDCC files live. */
export interface PedccStoreOptions {
  /** Directory of the files (default <repo>/data/pedcc, or $AE_DATA_DIR/pedcc). */
  dir?: string;
}

/** The default file name for n centroids in d dimensions made with a seed and iteration count. */
export function pedccFileName(numClasses: number, latentDim: number, options: { seed?: number; iterations?: number } = {}): string {
  return `pedcc-n${numClasses}-d${latentDim}-seed${options.seed ?? 0}-it${options.iterations ?? 1000}.json`;
}

/** The directory of PEDCC files. */
export function pedccDirectory(options: PedccStoreOptions = {}): string {
  return options.dir ? path.resolve(options.dir) : path.join(projectDataDir(), "pedcc");
}

/** Save a PEDCC result as JSON, atomically; returns the file path. */
export function savePedcc(result: PedccResult, file: string, options: PedccStoreOptions = {}): string {
  if (!result || !Array.isArray(result.centroids) || result.centroids.length !== result.numClasses) {
    throw new Error("savePedcc: result must be a PedccResult from pedccSimulate (centroids: numClasses rows)");
  }
  if (typeof file !== "string" || !/^[A-Za-z0-9][A-Za-z0-9._-]*\.json$/.test(file)) {
    throw new Error(`savePedcc: file must be a plain name ending in .json (letters, digits, '.', '_', '-'), got ${JSON.stringify(file)}`);
  }
  const dir = pedccDirectory(options);
  fs.mkdirSync(dir, { recursive: true });
  const target = path.join(dir, file);
  const temp = `${target}.tmp-${process.pid}-${Date.now()}`;
  const payload = { format: PEDCC_FORMAT, ...result };
  try {
    fs.writeFileSync(temp, JSON.stringify(payload) + "\n");
    fs.renameSync(temp, target);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
  return target;
}

/** Read a saved PEDCC result, checking its format and shape. */
export function loadPedcc(file: string, options: PedccStoreOptions = {}): PedccResult {
  const target = path.isAbsolute(file) ? file : path.join(pedccDirectory(options), file);
  if (!fs.existsSync(target)) throw new Error(`loadPedcc: no PEDCC file at ${target}; compute one with pedccSimulate and savePedcc (or loadOrComputePedcc)`);
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(fs.readFileSync(target, "utf8"));
  } catch (error) {
    throw new Error(`loadPedcc: ${target} is not valid JSON (${error instanceof Error ? error.message : error})`);
  }
  if (parsed.format !== PEDCC_FORMAT) throw new Error(`loadPedcc: ${target} has format ${JSON.stringify(parsed.format)}, expected ${JSON.stringify(PEDCC_FORMAT)}`);
  const { format: _format, ...rest } = parsed;
  const result = rest as unknown as PedccResult;
  const ok = Array.isArray(result.centroids) && result.centroids.length === result.numClasses &&
    result.centroids.every((row) => Array.isArray(row) && row.length === result.latentDim && row.every(Number.isFinite));
  if (!ok) throw new Error(`loadPedcc: ${target} does not hold ${result.numClasses} centroids of ${result.latentDim} finite numbers`);
  return result;
}

/** Load the saved centroids for (numClasses, latentDim, seed, iterations), or compute and save them: "computed once, reused". */
export function loadOrComputePedcc(numClasses: number, latentDim: number, options: PedccOptions & PedccStoreOptions = {}): PedccResult & { file: string; loaded: boolean } {
  const { dir, ...simulation } = options;
  const file = pedccFileName(numClasses, latentDim, simulation);
  const target = path.join(pedccDirectory({ dir }), file);
  if (fs.existsSync(target)) {
    const saved = loadPedcc(target);
    const same = saved.numClasses === numClasses && saved.latentDim === latentDim &&
      (simulation.tolerance ?? 0) === saved.options.tolerance && (simulation.stepSize ?? 0.01) === saved.options.stepSize &&
      (simulation.minDistance ?? 0.01) === saved.options.minDistance && (simulation.scale ?? Math.sqrt(latentDim)) === saved.scale;
    if (same) return { ...saved, file: target, loaded: true };
  }
  const result = pedccSimulate(numClasses, latentDim, simulation);
  savePedcc(result, file, { dir });
  return { ...result, file: target, loaded: false };
}
