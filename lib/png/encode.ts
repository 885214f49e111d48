/**
 * The PNG encoder: 8-bit grayscale, RGB or RGBA pixels to a PNG file (filter 0 on every row,
 * node's zlib for deflate), and `readPngInfo`, which reads a PNG's IHDR back (used by tests).
 */
import { deflateSync } from "zlib";

/** Interleaved 8-bit pixels, row by row, top row first. */
export interface RawImage {
  width: number;
  height: number;
  /** 1 = grayscale, 3 = RGB, 4 = RGBA. */
  channels: 1 | 3 | 4;
  /** width × height × channels bytes. */
  pixels: Uint8Array | Uint8ClampedArray;
}

export interface EncodePngOptions {
  /** zlib level 0–9 (default 9: the images are small). */
  compressionLevel?: number;
}

/** What the IHDR chunk of a PNG says. */
export interface PngInfo {
  width: number;
  height: number;
  bitDepth: number;
  /** PNG colour type: 0 grayscale, 2 RGB, 4 grayscale+alpha, 6 RGBA (3 palette). */
  colorType: number;
  channels: number;
}

const PNG_SIGNATURE = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const COLOR_TYPE_BY_CHANNELS: Record<number, number> = { 1: 0, 3: 2, 4: 6 };
const CHANNELS_BY_COLOR_TYPE: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

let crcTable: Uint32Array | null = null;

/** CRC-32 (ISO 3309, polynomial 0xEDB88320) as PNG chunks use it; `crc` continues a running value. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = (crc ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function writeUint32(target: Uint8Array, offset: number, value: number): void {
  target[offset] = (value >>> 24) & 0xff;
  target[offset + 1] = (value >>> 16) & 0xff;
  target[offset + 2] = (value >>> 8) & 0xff;
  target[offset + 3] = value & 0xff;
}

function readUint32(source: Uint8Array, offset: number): number {
  return ((source[offset] << 24) | (source[offset + 1] << 16) | (source[offset + 2] << 8) | source[offset + 3]) >>> 0;
}

/** One chunk: length, type, data, CRC over type + data. */
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  writeUint32(out, 0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  writeUint32(out, 8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** Encode 8-bit grayscale, RGB or RGBA pixels as a PNG file (filter type 0 on every row, zlib deflate). */
export function encodePng(image: RawImage, options: EncodePngOptions = {}): Uint8Array {
  const { width, height, channels, pixels } = image;
  if (!Number.isInteger(width) || width < 1) throw new Error(`encodePng: width must be a positive integer, got ${width}`);
  if (!Number.isInteger(height) || height < 1) throw new Error(`encodePng: height must be a positive integer, got ${height}`);
  const colorType = COLOR_TYPE_BY_CHANNELS[channels];
  if (colorType === undefined) throw new Error(`encodePng: channels must be 1 (gray), 3 (RGB) or 4 (RGBA), got ${channels}`);
  const rowBytes = width * channels;
  if (pixels.length !== rowBytes * height) {
    throw new Error(`encodePng: pixels must hold width × height × channels = ${width}×${height}×${channels} = ${rowBytes * height} bytes, got ${pixels.length}`);
  }
  const level = options.compressionLevel ?? 9;
  if (!Number.isInteger(level) || level < 0 || level > 9) throw new Error(`encodePng: compressionLevel must be an integer 0–9, got ${level}`);

  const header = new Uint8Array(13);
  writeUint32(header, 0, width);
  writeUint32(header, 4, height);
  header[8] = 8; // bit depth
  header[9] = colorType;
  header[10] = 0; // compression: deflate
  header[11] = 0; // filter method 0
  header[12] = 0; // no interlace

  const raw = new Uint8Array((rowBytes + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (rowBytes + 1)] = 0; // filter: none
    raw.set(pixels.subarray(y * rowBytes, (y + 1) * rowBytes), y * (rowBytes + 1) + 1);
  }
  const compressed = deflateSync(raw, { level });

  const parts = [PNG_SIGNATURE, chunk("IHDR", header), chunk("IDAT", new Uint8Array(compressed.buffer, compressed.byteOffset, compressed.length)), chunk("IEND", new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Read a PNG's size and format from its IHDR chunk, checking the signature and the chunk's CRC. */
export function readPngInfo(png: Uint8Array): PngInfo {
  if (png.length < 33) throw new Error(`readPngInfo: ${png.length} bytes is too short for a PNG (needs at least 33)`);
  for (let i = 0; i < 8; i++) {
    if (png[i] !== PNG_SIGNATURE[i]) throw new Error("readPngInfo: not a PNG file (the 8-byte signature does not match)");
  }
  const length = readUint32(png, 8);
  const type = String.fromCharCode(png[12], png[13], png[14], png[15]);
  if (type !== "IHDR" || length !== 13) throw new Error(`readPngInfo: the first chunk must be a 13-byte IHDR, got ${type} of ${length} bytes`);
  const stored = readUint32(png, 29);
  const computed = crc32(png.subarray(12, 29));
  if (stored !== computed) throw new Error(`readPngInfo: IHDR CRC mismatch (stored ${stored.toString(16)}, computed ${computed.toString(16)})`);
  const colorType = png[25];
  return { width: readUint32(png, 16), height: readUint32(png, 20), bitDepth: png[24], colorType, channels: CHANNELS_BY_COLOR_TYPE[colorType] ?? 0 };
}
