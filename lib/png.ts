/**
 * PNG without a browser: a small encoder (8-bit grayscale, RGB, RGBA; node's zlib for
 * deflate) and `imageGridPng`, which tiles grayscale images (digits, reconstructions)
 * into rows with captions and row titles drawn in a built-in 5×7 bitmap font.
 * Everything here is a pure function; nothing runs on import.
 */
import { deflateSync } from "zlib";
import type { Tensor } from "@tensorflow/tfjs";

// ---------------------------------------------------------------------------
// Encoder
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Bitmap font: 5 columns × 7 rows above the baseline, 2 rows of descender.
// ---------------------------------------------------------------------------

/** Glyph cell width and height in font pixels (5×7 body plus 2 descender rows). */
export const FONT_GLYPH_WIDTH = 5;
export const FONT_GLYPH_HEIGHT = 9;
/** Horizontal advance per character (glyph + 1 column gap). */
const FONT_ADVANCE = FONT_GLYPH_WIDTH + 1;

// Each glyph: rows top to bottom, '#' = ink. Rows 0–6 sit on the baseline; rows 7–8 are descenders.
const GLYPH_SOURCE: Record<string, string> = {
  "0": ".###. #...# #..## #.#.# ##..# #...# .###.",
  "1": "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.",
  "2": ".###. #...# ....# ...#. ..#.. .#... #####",
  "3": "##### ...#. ..#.. ...#. ....# #...# .###.",
  "4": "...#. ..##. .#.#. #..#. ##### ...#. ...#.",
  "5": "##### #.... ####. ....# ....# #...# .###.",
  "6": "..##. .#... #.... ####. #...# #...# .###.",
  "7": "##### ....# ...#. ..#.. .#... .#... .#...",
  "8": ".###. #...# #...# .###. #...# #...# .###.",
  "9": ".###. #...# #...# .#### ....# ...#. .##..",
  A: ".###. #...# #...# ##### #...# #...# #...#",
  B: "####. #...# #...# ####. #...# #...# ####.",
  C: ".###. #...# #.... #.... #.... #...# .###.",
  D: "###.. #..#. #...# #...# #...# #..#. ###..",
  E: "##### #.... #.... ####. #.... #.... #####",
  F: "##### #.... #.... ####. #.... #.... #....",
  G: ".###. #...# #.... #.### #...# #...# .####",
  H: "#...# #...# #...# ##### #...# #...# #...#",
  I: ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.",
  J: "..### ...#. ...#. ...#. ...#. #..#. .##..",
  K: "#...# #..#. #.#.. ##... #.#.. #..#. #...#",
  L: "#.... #.... #.... #.... #.... #.... #####",
  M: "#...# ##.## #.#.# #.#.# #...# #...# #...#",
  N: "#...# #...# ##..# #.#.# #..## #...# #...#",
  O: ".###. #...# #...# #...# #...# #...# .###.",
  P: "####. #...# #...# ####. #.... #.... #....",
  Q: ".###. #...# #...# #...# #.#.# #..#. .##.#",
  R: "####. #...# #...# ####. #.#.. #..#. #...#",
  S: ".#### #.... #.... .###. ....# ....# ####.",
  T: "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..",
  U: "#...# #...# #...# #...# #...# #...# .###.",
  V: "#...# #...# #...# #...# #...# .#.#. ..#..",
  W: "#...# #...# #...# #.#.# #.#.# #.#.# .#.#.",
  X: "#...# #...# .#.#. ..#.. .#.#. #...# #...#",
  Y: "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..",
  Z: "##### ....# ...#. ..#.. .#... #.... #####",
  a: "..... ..... .###. ....# .#### #...# .####",
  b: "#.... #.... ####. #...# #...# #...# ####.",
  c: "..... ..... .###. #.... #.... #...# .###.",
  d: "....# ....# .#### #...# #...# #...# .####",
  e: "..... ..... .###. #...# ##### #.... .###.",
  f: "..##. .#..# .#... ###.. .#... .#... .#...",
  g: "..... ..... .#### #...# #...# .#### ....# #...# .###.",
  h: "#.... #.... #.##. ##..# #...# #...# #...#",
  i: "..#.. ..... .##.. ..#.. ..#.. ..#.. .###.",
  j: "...#. ..... ..##. ...#. ...#. ...#. ...#. #..#. .##..",
  k: "#.... #.... #..#. #.#.. ##... #.#.. #..#.",
  l: ".##.. ..#.. ..#.. ..#.. ..#.. ..#.. .###.",
  m: "..... ..... ##.#. #.#.# #.#.# #.#.# #.#.#",
  n: "..... ..... #.##. ##..# #...# #...# #...#",
  o: "..... ..... .###. #...# #...# #...# .###.",
  p: "..... ..... ####. #...# #...# #...# ####. #.... #....",
  q: "..... ..... .#### #...# #...# #...# .#### ....# ....#",
  r: "..... ..... #.##. ##..# #.... #.... #....",
  s: "..... ..... .#### #.... .###. ....# ####.",
  t: ".#... .#... ###.. .#... .#... .#..# ..##.",
  u: "..... ..... #...# #...# #...# #..## .##.#",
  v: "..... ..... #...# #...# #...# .#.#. ..#..",
  w: "..... ..... #...# #...# #.#.# #.#.# .#.#.",
  x: "..... ..... #...# .#.#. ..#.. .#.#. #...#",
  y: "..... ..... #...# #...# #...# #...# .#### ....# .###.",
  z: "..... ..... ##### ...#. ..#.. .#... #####",
  " ": "..... ..... ..... ..... ..... ..... .....",
  ".": "..... ..... ..... ..... ..... .##.. .##..",
  ",": "..... ..... ..... ..... ..... .##.. ..#.. .#...",
  ":": "..... .##.. .##.. ..... .##.. .##.. .....",
  ";": "..... .##.. .##.. ..... .##.. ..#.. .#...",
  "-": "..... ..... ..... .###. ..... ..... .....",
  "+": "..... ..#.. ..#.. ##### ..#.. ..#.. .....",
  "=": "..... ..... ##### ..... ##### ..... .....",
  "/": "..... ....# ...#. ..#.. .#... #.... .....",
  "\\": "..... #.... .#... ..#.. ...#. ....# .....",
  "(": "...#. ..#.. .#... .#... .#... ..#.. ...#.",
  ")": ".#... ..#.. ...#. ...#. ...#. ..#.. .#...",
  "[": ".###. .#... .#... .#... .#... .#... .###.",
  "]": ".###. ...#. ...#. ...#. ...#. ...#. .###.",
  "%": "##... ##..# ...#. ..#.. .#... #..## ...##",
  "?": ".###. #...# ....# ...#. ..#.. ..... ..#..",
  "!": "..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#..",
  _: "..... ..... ..... ..... ..... ..... ..... #####",
  "'": "..#.. ..#.. ..... ..... ..... ..... .....",
  '"': ".#.#. .#.#. ..... ..... ..... ..... .....",
  "#": ".#.#. .#.#. ##### .#.#. ##### .#.#. .#.#.",
  "<": "..... ...#. ..#.. .#... ..#.. ...#. .....",
  ">": "..... .#... ..#.. ...#. ..#.. .#... .....",
  "*": "..... ..#.. #.#.# .###. #.#.# ..#.. .....",
  "|": "..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#..",
  "^": "..#.. .#.#. #...# ..... ..... ..... .....",
  "~": "..... ..... .#... #.#.# ...#. ..... .....",
  "×": "..... #...# .#.#. ..#.. .#.#. #...# .....",
  "·": "..... ..... ..... ..#.. ..... ..... .....",
  "→": "..... ..#.. ...#. ##### ...#. ..#.. .....",
  "≈": "..... .#... #.#.# ...#. .#... #.#.# ...#.",
  "σ": "..... ..... .#### #..#. #...# #...# .###.",
  "μ": "..... ..... #...# #...# #...# ##..# #.##. #.... #....",
  "λ": "#.... .#... .#... ..#.. .#.#. #...# #...#",
  "β": ".##.. #..#. #..#. ###.. #...# #...# ####. #.... #....",
  "α": "..... ..... .##.# #..#. #..#. #..#. .##.#",
  "ε": "..... ..... .###. #.... .##.. #.... .###.",
  "θ": ".###. #...# #...# ##### #...# #...# .###.",
  "Δ": "..... ..#.. .#.#. .#.#. #...# #...# #####",
  "—": "..... ..... ..... ##### ..... ..... .....",
  "–": "..... ..... ..... ##### ..... ..... .....",
  "−": "..... ..... ..... ##### ..... ..... .....",
};
const MISSING_GLYPH = "##### #...# #...# #...# #...# #...# #####";

let glyphCache: Map<string, Uint8Array> | null = null;

/** A character's bitmap (FONT_GLYPH_HEIGHT rows × FONT_GLYPH_WIDTH columns, 1 = ink); unknown characters get a hollow box. */
function glyph(char: string): Uint8Array {
  if (!glyphCache) glyphCache = new Map();
  let bitmap = glyphCache.get(char);
  if (!bitmap) {
    const rows = (GLYPH_SOURCE[char] ?? MISSING_GLYPH).split(" ");
    bitmap = new Uint8Array(FONT_GLYPH_WIDTH * FONT_GLYPH_HEIGHT);
    rows.forEach((row, y) => {
      for (let x = 0; x < FONT_GLYPH_WIDTH; x++) bitmap![y * FONT_GLYPH_WIDTH + x] = row[x] === "#" ? 1 : 0;
    });
    glyphCache.set(char, bitmap);
  }
  return bitmap;
}

/** True when the built-in font has a glyph for `char` (others are drawn as a hollow box). */
export function fontHasGlyph(char: string): boolean {
  return Object.prototype.hasOwnProperty.call(GLYPH_SOURCE, char);
}

/** Width and height in pixels of `text` drawn in the built-in font at integer `scale`. */
export function measureBitmapText(text: string, scale = 1): { width: number; height: number } {
  const chars = Array.from(text);
  if (chars.length === 0) return { width: 0, height: 0 };
  return { width: (chars.length * FONT_ADVANCE - 1) * scale, height: FONT_GLYPH_HEIGHT * scale };
}

/** Draw `text` into an 8-bit grayscale canvas with its top-left corner at (x, y); pixels outside are clipped. */
export function drawBitmapText(canvas: RawImage, text: string, x: number, y: number, options: { scale?: number; value?: number } = {}): void {
  if (canvas.channels !== 1) throw new Error(`drawBitmapText: the canvas must be grayscale (channels 1), got ${canvas.channels}`);
  const scale = options.scale ?? 1;
  const value = options.value ?? 0;
  let penX = x;
  for (const char of Array.from(text)) {
    const bitmap = glyph(char);
    for (let gy = 0; gy < FONT_GLYPH_HEIGHT; gy++) {
      for (let gx = 0; gx < FONT_GLYPH_WIDTH; gx++) {
        if (!bitmap[gy * FONT_GLYPH_WIDTH + gx]) continue;
        for (let sy = 0; sy < scale; sy++) {
          const py = y + gy * scale + sy;
          if (py < 0 || py >= canvas.height) continue;
          for (let sx = 0; sx < scale; sx++) {
            const px = penX + gx * scale + sx;
            if (px < 0 || px >= canvas.width) continue;
            canvas.pixels[py * canvas.width + px] = value;
          }
        }
      }
    }
    penX += FONT_ADVANCE * scale;
  }
}

// ---------------------------------------------------------------------------
// Image stacks and grids
// ---------------------------------------------------------------------------

/**
 * A stack of grayscale images with values in [0, 1]:
 * a tf.Tensor of shape [n, h, w], [n, h, w, 1] or [n, h·w];
 * nested arrays [n][h][w] or [n][h·w] (rows may be typed arrays);
 * or one flat array of n·h·w values (then `height` and `width` are required).
 */
export type ImageSource = Tensor | ArrayLike<number> | ArrayLike<ArrayLike<number>> | ArrayLike<ArrayLike<ArrayLike<number>>>;

/** A stack read into one flat array: image k, row y, column x is values[k·h·w + y·w + x]. */
export interface ImageStack {
  count: number;
  height: number;
  width: number;
  values: ArrayLike<number>;
}

function isTensorLike(value: unknown): value is Tensor {
  return typeof value === "object" && value !== null && typeof (value as Tensor).dataSync === "function" && Array.isArray((value as Tensor).shape);
}

function isArrayLike(value: unknown): value is ArrayLike<unknown> {
  return (Array.isArray(value) || ArrayBuffer.isView(value)) && typeof (value as ArrayLike<unknown>).length === "number";
}

function squareSide(pixelsPerImage: number, name: string): number {
  const side = Math.round(Math.sqrt(pixelsPerImage));
  if (side * side !== pixelsPerImage) {
    throw new Error(`${name}: images of ${pixelsPerImage} pixels are not square; give height and width`);
  }
  return side;
}

/** Read any ImageSource into a flat stack (tensors through one dataSync, which makes no new tensors). */
export function readImageStack(source: ImageSource, options: { height?: number; width?: number; name?: string } = {}): ImageStack {
  const name = options.name ?? "images";
  const given = (pixels: number): { height: number; width: number } => {
    if (options.height !== undefined || options.width !== undefined) {
      const height = options.height ?? pixels / options.width!;
      const width = options.width ?? pixels / options.height!;
      if (!Number.isInteger(height) || !Number.isInteger(width) || height * width !== pixels) {
        throw new Error(`${name}: height ${options.height} × width ${options.width} does not match ${pixels} pixels per image`);
      }
      return { height, width };
    }
    const side = squareSide(pixels, name);
    return { height: side, width: side };
  };

  if (isTensorLike(source)) {
    if (source.isDisposed) throw new Error(`${name}: the tensor has been disposed`);
    const shape = source.shape;
    if (source.dtype === "string" || source.dtype === "complex64") throw new Error(`${name}: expected a numeric tensor, got dtype ${source.dtype}`);
    const values = source.dataSync() as ArrayLike<number>;
    if (shape.length === 4) {
      if (shape[3] !== 1) throw new Error(`${name}: a rank-4 tensor must be [n, h, w, 1] (grayscale), got [${shape.join(", ")}]`);
      return { count: shape[0], height: shape[1], width: shape[2], values };
    }
    if (shape.length === 3) return { count: shape[0], height: shape[1], width: shape[2], values };
    if (shape.length === 2) return { count: shape[0], ...given(shape[1]), values };
    throw new Error(`${name}: expected a tensor of shape [n, h, w], [n, h, w, 1] or [n, h·w], got [${shape.join(", ")}]`);
  }

  if (!isArrayLike(source)) throw new Error(`${name}: expected a tensor, a typed array or nested arrays of numbers, got ${typeof source}`);
  if (source.length === 0) return { count: 0, height: options.height ?? 1, width: options.width ?? 1, values: [] };
  const first = source[0];
  if (typeof first === "number") {
    if (options.height === undefined || options.width === undefined) {
      throw new Error(`${name}: a flat array of pixels needs height and width`);
    }
    const pixels = options.height * options.width;
    if (source.length % pixels !== 0) throw new Error(`${name}: ${source.length} values are not a whole number of ${options.height}×${options.width} images`);
    return { count: source.length / pixels, height: options.height, width: options.width, values: source as ArrayLike<number> };
  }
  if (!isArrayLike(first)) throw new Error(`${name}: expected numbers or arrays of numbers, got an array of ${typeof first}`);
  const nested = source as ArrayLike<ArrayLike<unknown>>;
  const count = nested.length;
  if (first.length > 0 && isArrayLike(first[0])) {
    // [n][h][w]
    const height = first.length;
    const width = (first[0] as ArrayLike<number>).length;
    const values = new Float64Array(count * height * width);
    for (let k = 0; k < count; k++) {
      const image = nested[k] as ArrayLike<ArrayLike<number>>;
      if (!isArrayLike(image) || image.length !== height) throw new Error(`${name}: image ${k} has ${isArrayLike(image) ? image.length : "no"} rows, expected ${height}`);
      for (let y = 0; y < height; y++) {
        const row = image[y];
        if (!isArrayLike(row) || row.length !== width) throw new Error(`${name}: image ${k} row ${y} has ${isArrayLike(row) ? row.length : "no"} values, expected ${width}`);
        for (let x = 0; x < width; x++) values[(k * height + y) * width + x] = row[x];
      }
    }
    return { count, height, width, values };
  }
  // [n][h·w]
  const pixels = first.length;
  const { height, width } = given(pixels);
  const values = new Float64Array(count * pixels);
  for (let k = 0; k < count; k++) {
    const image = nested[k] as ArrayLike<number>;
    if (!isArrayLike(image) || image.length !== pixels) throw new Error(`${name}: image ${k} has ${isArrayLike(image) ? image.length : "no"} values, expected ${pixels}`);
    for (let i = 0; i < pixels; i++) values[k * pixels + i] = image[i];
  }
  return { count, height, width, values };
}

/** One row of an image grid. */
export interface ImageGridRow {
  images: ImageSource;
  /** Drawn left of the row (e.g. "input", "reconstruction"). */
  title?: string;
  /** One caption per image, drawn under it (e.g. labels); shorter lists leave the rest blank. */
  captions?: ReadonlyArray<string | number>;
  /** Needed for flat images that are not square. */
  height?: number;
  width?: number;
}

export interface ImageGridOptions {
  /** Integer upscaling of every image pixel (default 2). */
  scale?: number;
  /** Pixels between tiles and around the grid (default 4). */
  padding?: number;
  /** Gray level in [0, 1] of the background and padding (default 1: white). */
  background?: number;
  /** Gray level in [0, 1] of captions and titles (default 0: black). */
  textColor?: number;
  /** Integer scale of the 5×7 font (default 1). */
  fontScale?: number;
  /** Draw 1 − value (dark ink on light paper). Default false: 0 is black, 1 is white. */
  invert?: boolean;
  /** A title line drawn above the grid. */
  title?: string;
  /** When a single stack is given: images per row (default min(count, 10)). */
  columns?: number;
  /** When a single stack is given: one caption per image. */
  captions?: ReadonlyArray<string | number>;
  /** Needed for flat images that are not square (single stack). */
  height?: number;
  width?: number;
}

/** The placement of every element of a grid, in output pixels (what imageGridPng draws). */
export interface ImageGridLayout {
  width: number;
  height: number;
  scale: number;
  padding: number;
  fontScale: number;
  rows: Array<{
    stack: ImageStack;
    /** Index in the stack of this row's first image (non-zero when one stack wraps over rows). */
    first: number;
    y: number;
    title?: string;
    captions: string[];
    tiles: Array<{ x: number; y: number; width: number; height: number }>;
    captionY: number;
  }>;
  columnX: number[];
  columnWidths: number[];
  titleY: number;
}

function isGridRows(input: unknown): input is ReadonlyArray<ImageGridRow> {
  return Array.isArray(input) && input.length > 0 && typeof input[0] === "object" && input[0] !== null && !isArrayLike(input[0]) && !isTensorLike(input[0]) && "images" in input[0];
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new Error(`imageGridPng: ${name} must be a positive integer, got ${value}`);
  return value;
}

/** Lay out rows of image stacks: title column, tile columns (as wide as their widest tile or caption), caption lines. */
export function imageGridLayout(input: ReadonlyArray<ImageGridRow> | ImageSource, options: ImageGridOptions = {}): ImageGridLayout {
  const scale = positiveInteger(options.scale ?? 2, "scale");
  const fontScale = positiveInteger(options.fontScale ?? 1, "fontScale");
  const padding = options.padding ?? 4;
  if (!Number.isInteger(padding) || padding < 0) throw new Error(`imageGridPng: padding must be a non-negative integer, got ${padding}`);

  // Normalise to rows of (stack, title, captions).
  let rows: Array<{ stack: ImageStack; title?: string; captions: string[]; first: number; count: number }>;
  if (isGridRows(input)) {
    rows = input.map((row, r) => {
      const stack = readImageStack(row.images, { height: row.height, width: row.width, name: `imageGridPng row ${r}` });
      return { stack, title: row.title, captions: (row.captions ?? []).map(String), first: 0, count: stack.count };
    });
  } else {
    const stack = readImageStack(input as ImageSource, { height: options.height, width: options.width, name: "imageGridPng images" });
    const columns = positiveInteger(options.columns ?? Math.max(1, Math.min(stack.count, 10)), "columns");
    const captions = (options.captions ?? []).map(String);
    rows = [];
    for (let first = 0; first < stack.count; first += columns) {
      const count = Math.min(columns, stack.count - first);
      rows.push({ stack, captions: captions.slice(first, first + count), first, count });
    }
  }
  if (rows.length === 0 || rows.every((row) => row.count === 0)) throw new Error("imageGridPng: there are no images to draw");

  const lineHeight = measureBitmapText("0", fontScale).height;
  const titles = rows.map((row) => row.title ?? "");
  const titleColumnWidth = Math.max(0, ...titles.map((t) => measureBitmapText(t, fontScale).width));
  const left = padding + (titleColumnWidth > 0 ? titleColumnWidth + padding : 0);
  const top = padding + (options.title ? lineHeight + padding : 0);

  const columnCount = Math.max(...rows.map((row) => row.count));
  const columnWidths = new Array<number>(columnCount).fill(0);
  for (const row of rows) {
    for (let c = 0; c < row.count; c++) {
      columnWidths[c] = Math.max(columnWidths[c], row.stack.width * scale, measureBitmapText(row.captions[c] ?? "", fontScale).width);
    }
  }
  const columnX: number[] = [];
  let x = left;
  for (let c = 0; c < columnCount; c++) {
    columnX.push(x);
    x += columnWidths[c] + padding;
  }
  // The last column's trailing padding is the right margin; a long title widens the grid.
  const width = Math.max(x, options.title ? 2 * padding + measureBitmapText(options.title, fontScale).width : 0);

  const laidOut: ImageGridLayout["rows"] = [];
  let y = top;
  for (const row of rows) {
    const tileWidth = row.stack.width * scale;
    const tileHeight = row.stack.height * scale;
    const tiles = [];
    for (let c = 0; c < row.count; c++) {
      tiles.push({ x: columnX[c] + Math.floor((columnWidths[c] - tileWidth) / 2), y, width: tileWidth, height: tileHeight });
    }
    const hasCaptions = row.captions.some((caption) => caption.length > 0);
    const captionY = y + tileHeight + Math.max(1, Math.floor(padding / 2));
    laidOut.push({ stack: row.stack, first: row.first, y, title: row.title, captions: row.captions, tiles, captionY });
    y += tileHeight + (hasCaptions ? captionY - (y + tileHeight) + lineHeight : 0) + padding;
  }
  return { width, height: y, scale, padding, fontScale, rows: laidOut, columnX, columnWidths, titleY: padding };
}

function grayByte(value: number, name: string): number {
  if (!Number.isFinite(value) || value < 0 || value > 1) throw new Error(`imageGridPng: ${name} must be a gray level in [0, 1], got ${value}`);
  return Math.round(value * 255);
}

/**
 * Tile grayscale images into a PNG: rows (e.g. inputs above reconstructions), captions under
 * tiles, row titles on the left, optional title on top. Values are clipped to [0, 1] (NaN → 0).
 * Either an array of rows or a single stack (wrapped into `columns` per row).
 */
export function imageGridPng(input: ReadonlyArray<ImageGridRow> | ImageSource, options: ImageGridOptions = {}): Uint8Array {
  return renderImageGrid(imageGridLayout(input, options), options);
}

/** Draw a grid laid out by imageGridLayout (same options) and encode it as PNG. */
export function renderImageGrid(layout: ImageGridLayout, options: ImageGridOptions = {}): Uint8Array {
  const background = grayByte(options.background ?? 1, "background");
  const ink = grayByte(options.textColor ?? 0, "textColor");
  const canvas: RawImage = { width: layout.width, height: layout.height, channels: 1, pixels: new Uint8Array(layout.width * layout.height).fill(background) };
  const { scale, fontScale } = layout;
  const invert = options.invert ?? false;

  if (options.title) drawBitmapText(canvas, options.title, layout.padding, layout.titleY, { scale: fontScale, value: ink });
  for (const row of layout.rows) {
    const { stack } = row;
    const first = row.first;
    const pixelsPerImage = stack.height * stack.width;
    if (row.title) {
      const tileHeight = stack.height * scale;
      const textHeight = measureBitmapText(row.title, fontScale).height;
      drawBitmapText(canvas, row.title, layout.padding, row.y + Math.max(0, Math.floor((tileHeight - textHeight) / 2)), { scale: fontScale, value: ink });
    }
    row.tiles.forEach((tile, c) => {
      const base = (first + c) * pixelsPerImage;
      for (let iy = 0; iy < stack.height; iy++) {
        for (let ix = 0; ix < stack.width; ix++) {
          let v = stack.values[base + iy * stack.width + ix];
          v = Number.isNaN(v) ? 0 : v < 0 ? 0 : v > 1 ? 1 : v;
          if (invert) v = 1 - v;
          const byte = Math.round(v * 255);
          for (let sy = 0; sy < scale; sy++) {
            const offset = (tile.y + iy * scale + sy) * canvas.width + tile.x + ix * scale;
            canvas.pixels.fill(byte, offset, offset + scale);
          }
        }
      }
      const caption = row.captions[c];
      if (caption) {
        const textWidth = measureBitmapText(caption, fontScale).width;
        const columnX = layout.columnX[c];
        drawBitmapText(canvas, caption, columnX + Math.floor((layout.columnWidths[c] - textWidth) / 2), row.captionY, { scale: fontScale, value: ink });
      }
    });
  }
  return encodePng(canvas);
}
