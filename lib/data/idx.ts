/**
 * IDX files (the format of MNIST and Fashion-MNIST): read, validate, cache and write.
 *
 * Layout: a 4-byte magic number 0x0000TTDD (TT = data type, 0x08 for unsigned bytes;
 * DD = number of dimensions), then DD big-endian uint32 sizes, then the data.
 * Images are 0x00000803 ([n, rows, cols]); labels are 0x00000801 ([n]).
 * Gzipped files (name ending .gz, or bytes starting 1f 8b) are unpacked first.
 */
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";

/** The magic number of an unsigned-byte IDX file of images, [n, rows, cols]. */
export const IDX_IMAGES_MAGIC = 0x00000803;
/** The magic number of an unsigned-byte IDX file of labels, [n]. */
export const IDX_LABELS_MAGIC = 0x00000801;

/** What an IDX file holds; decides the magic number it must have. */
export type IdxKind = "images" | "labels";

/** A decoded unsigned-byte IDX array. `data` is shared with the cache: treat it as read-only. */
export interface IdxArray {
  /** Sizes of each dimension, e.g. [60000, 28, 28]. */
  dims: number[];
  /** The values in row-major order; length = product(dims). */
  data: Uint8Array;
  /** The file it came from, as given. */
  source: string;
}

export interface ReadIdxOptions {
  /** Check the magic number for this kind (images: 0x00000803, labels: 0x00000801). */
  kind?: IdxKind;
  /** Reuse a decoded copy of this file from memory when its size and mtime are unchanged (default true). */
  cache?: boolean;
}

function hex32(value: number): string {
  return "0x" + (value >>> 0).toString(16).padStart(8, "0");
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Unpack gzip bytes when the name ends .gz or the bytes start 1f 8b; otherwise return them unchanged. */
export function gunzipIfNeeded(bytes: Uint8Array, name: string): Uint8Array {
  if (!name.endsWith(".gz") && !isGzip(bytes)) return bytes;
  try {
    const out = zlib.gunzipSync(bytes);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (err) {
    throw new Error(`${name}: not a valid gzip file (${(err as Error).message})`);
  }
}

/**
 * Parse the bytes of an (uncompressed) unsigned-byte IDX file. Checks the magic number
 * (against `kind` when given) and that the size is exactly header + product(dims).
 * `name` is used in error messages. The returned data is a view into `bytes`.
 */
export function parseIdx(bytes: Uint8Array, name: string, kind?: IdxKind): IdxArray {
  if (bytes.length < 4) {
    throw new Error(`${name}: ${bytes.length} bytes is too short for an IDX header (needs at least 4)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  checkMagic(view.getUint32(0, false), name, kind);
  const ndim = bytes[3];
  const headerBytes = 4 + 4 * ndim;
  if (bytes.length < headerBytes) {
    throw new Error(`${name}: ${bytes.length} bytes is too short for an IDX header with ${ndim} dimensions (needs ${headerBytes})`);
  }
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const expectedBytes = headerBytes + count;
  if (bytes.length !== expectedBytes) {
    const what = kind ?? "values";
    const problem = bytes.length < expectedBytes ? "truncated" : `${bytes.length - expectedBytes} trailing bytes`;
    throw new Error(
      `${name}: expected ${expectedBytes} bytes for ${dims.join("×")} ${what}, found ${bytes.length} (${problem})`,
    );
  }
  return { dims, data: bytes.subarray(headerBytes), source: name };
}

function checkMagic(magic: number, name: string, kind: IdxKind | undefined): void {
  if (kind !== undefined) {
    const expected = kind === "images" ? IDX_IMAGES_MAGIC : IDX_LABELS_MAGIC;
    if (magic !== expected) {
      const what = kind === "images" ? "unsigned-byte images, 3 dimensions" : "unsigned-byte labels, 1 dimension";
      throw new Error(`${name}: bad magic number ${hex32(magic)}, expected ${hex32(expected)} (${what})`);
    }
  } else if ((magic & 0xffffff00) !== 0x00000800 || (magic & 0xff) === 0) {
    throw new Error(`${name}: bad magic number ${hex32(magic)}, expected 0x000008DD (unsigned bytes, DD ≥ 1 dimensions)`);
  }
}

interface CacheEntry {
  size: number;
  mtimeMs: number;
  magic: number;
  value: IdxArray;
}

const idxCache = new Map<string, CacheEntry>();

/**
 * Read and validate an IDX file (gzipped or not). Decoded bytes are cached per absolute
 * path (invalidated when the file's size or mtime changes), so repeated loads are fast.
 */
export function readIdxFile(file: string, options: ReadIdxOptions = {}): IdxArray {
  const useCache = options.cache ?? true;
  const key = path.resolve(file);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(key);
  } catch (err) {
    throw new Error(`${file}: cannot read IDX file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (!stat.isFile()) throw new Error(`${file}: not a regular file`);
  if (useCache) {
    const hit = idxCache.get(key);
    if (hit && hit.size === stat.size && hit.mtimeMs === stat.mtimeMs) {
      checkMagic(hit.magic, file, options.kind);
      return { dims: hit.value.dims.slice(), data: hit.value.data, source: file };
    }
  }
  const raw = fs.readFileSync(key);
  const bytes = gunzipIfNeeded(new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength), file);
  const value = parseIdx(bytes, file, options.kind);
  if (useCache) {
    const magic = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, false);
    idxCache.set(key, { size: stat.size, mtimeMs: stat.mtimeMs, magic, value });
  }
  return { dims: value.dims.slice(), data: value.data, source: file };
}

/** Forget every cached IDX file (frees their memory once nothing else holds them). */
export function clearIdxCache(): void {
  idxCache.clear();
}

/** How many IDX files are held in memory, and their decoded size in bytes. */
export function idxCacheInfo(): { files: number; bytes: number } {
  let bytes = 0;
  for (const entry of idxCache.values()) bytes += entry.value.data.byteLength;
  return { files: idxCache.size, bytes };
}

/** Encode unsigned bytes with their dimensions as an IDX file's bytes (magic 0x000008DD). */
export function encodeIdx(dims: readonly number[], data: Uint8Array | readonly number[]): Uint8Array {
  if (dims.length < 1 || dims.length > 255) throw new Error(`encodeIdx: dims must have 1..255 entries, got ${dims.length}`);
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0 || d > 0xffffffff) throw new Error(`encodeIdx: bad dimension ${d} in [${dims.join(", ")}]`);
  }
  const count = dims.reduce((a, b) => a * b, 1);
  if (data.length !== count) {
    throw new Error(`encodeIdx: data has ${data.length} values, dims [${dims.join(", ")}] need ${count}`);
  }
  const header = 4 + 4 * dims.length;
  const out = new Uint8Array(header + count);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x00000800 | dims.length, false);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, header);
  return out;
}

export interface WriteIdxOptions {
  /** Gzip the bytes (default: when the file name ends .gz). */
  gzip?: boolean;
}

/** Write an unsigned-byte IDX file atomically (temp file + rename); gzipped when the name ends .gz. */
export function writeIdxFile(
  file: string,
  dims: readonly number[],
  data: Uint8Array | readonly number[],
  options: WriteIdxOptions = {},
): void {
  let bytes = encodeIdx(dims, data);
  if (options.gzip ?? file.endsWith(".gz")) bytes = zlib.gzipSync(bytes);
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  try {
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}
