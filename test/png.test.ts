import { describe, it, expect, beforeAll } from "vitest";
import * as zlib from "zlib";
import * as tf from "@tensorflow/tfjs";
import {
  crc32,
  encodePng,
  readPngInfo,
  readImageStack,
  imageGridPng,
  imageGridLayout,
  measureBitmapText,
  fontHasGlyph,
  FONT_GLYPH_HEIGHT,
} from "../lib/png";

/** A deliberately independent decoder: walks chunks, checks every CRC with node's zlib.crc32, inflates IDAT, undoes filter 0. */
function decodePng(png: Uint8Array): { width: number; height: number; colorType: number; bitDepth: number; channels: number; pixels: Uint8Array; chunkTypes: string[] } {
  const buf = Buffer.from(png);
  expect([...buf.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let offset = 8;
  const chunkTypes: string[] = [];
  const idat: Buffer[] = [];
  let width = 0, height = 0, bitDepth = 0, colorType = -1;
  while (offset < buf.length) {
    const length = buf.readUInt32BE(offset);
    const type = buf.toString("latin1", offset + 4, offset + 8);
    const data = buf.subarray(offset + 8, offset + 8 + length);
    const crc = buf.readUInt32BE(offset + 8 + length);
    expect(crc, `CRC of ${type}`).toBe(zlib.crc32(buf.subarray(offset + 4, offset + 8 + length)));
    chunkTypes.push(type);
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      bitDepth = data[8];
      colorType = data[9];
      expect([data[10], data[11], data[12]]).toEqual([0, 0, 0]);
    } else if (type === "IDAT") idat.push(Buffer.from(data));
    offset += 12 + length;
  }
  expect(offset).toBe(buf.length);
  const channels = ({ 0: 1, 2: 3, 6: 4 } as Record<number, number>)[colorType];
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const rowBytes = width * channels;
  expect(raw.length).toBe((rowBytes + 1) * height);
  const pixels = new Uint8Array(rowBytes * height);
  for (let y = 0; y < height; y++) {
    expect(raw[y * (rowBytes + 1)], "filter type").toBe(0);
    pixels.set(raw.subarray(y * (rowBytes + 1) + 1, (y + 1) * (rowBytes + 1)), y * rowBytes);
  }
  return { width, height, colorType, bitDepth, channels, pixels, chunkTypes };
}

beforeAll(async () => {
  await tf.setBackend("cpu");
  tf.tensor([1]).dispose(); // prime the backend before counting tensors
});

describe("crc32", () => {
  it("matches the standard check value and node's zlib.crc32", () => {
    expect(crc32(Buffer.from("123456789"))).toBe(0xcbf43926);
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 37 + 11) & 0xff);
    expect(crc32(bytes)).toBe(zlib.crc32(bytes));
    expect(crc32(bytes.subarray(500), crc32(bytes.subarray(0, 500)))).toBe(crc32(bytes));
  });
});

describe("encodePng", () => {
  it("round-trips 8-bit grayscale pixels with the right IHDR fields and chunk CRCs", () => {
    const pixels = Uint8Array.from([0, 1, 2, 127, 128, 255]);
    const png = encodePng({ width: 3, height: 2, channels: 1, pixels });
    const decoded = decodePng(png);
    expect(decoded.chunkTypes).toEqual(["IHDR", "IDAT", "IEND"]);
    expect({ width: decoded.width, height: decoded.height, bitDepth: decoded.bitDepth, colorType: decoded.colorType }).toEqual({ width: 3, height: 2, bitDepth: 8, colorType: 0 });
    expect([...decoded.pixels]).toEqual([...pixels]);
    expect(readPngInfo(png)).toEqual({ width: 3, height: 2, bitDepth: 8, colorType: 0, channels: 1 });
  });

  it("round-trips RGB and RGBA", () => {
    const rgb = Uint8Array.from({ length: 4 * 5 * 3 }, (_, i) => (i * 53) & 0xff);
    const d3 = decodePng(encodePng({ width: 4, height: 5, channels: 3, pixels: rgb }));
    expect(d3.colorType).toBe(2);
    expect([...d3.pixels]).toEqual([...rgb]);
    const rgba = new Uint8ClampedArray(Array.from({ length: 2 * 7 * 4 }, (_, i) => (i * 91 + 3) & 0xff));
    const d4 = decodePng(encodePng({ width: 2, height: 7, channels: 4, pixels: rgba }, { compressionLevel: 0 }));
    expect(d4.colorType).toBe(6);
    expect([...d4.pixels]).toEqual([...rgba]);
  });

  it("rejects inconsistent input with a message naming it", () => {
    expect(() => encodePng({ width: 3, height: 2, channels: 1, pixels: new Uint8Array(5) })).toThrow(/pixels must hold .*6 bytes, got 5/);
    expect(() => encodePng({ width: 0, height: 2, channels: 1, pixels: new Uint8Array(0) })).toThrow(/width must be a positive integer/);
    expect(() => encodePng({ width: 1, height: 1, channels: 2 as 1, pixels: new Uint8Array(2) })).toThrow(/channels must be 1/);
    expect(() => encodePng({ width: 1, height: 1, channels: 1, pixels: new Uint8Array(1) }, { compressionLevel: 12 })).toThrow(/compressionLevel/);
  });

  it("readPngInfo rejects a wrong signature and a corrupted IHDR", () => {
    const png = encodePng({ width: 2, height: 2, channels: 1, pixels: new Uint8Array(4) });
    const badSignature = png.slice();
    badSignature[1] = 0;
    expect(() => readPngInfo(badSignature)).toThrow(/signature/);
    const badCrc = png.slice();
    badCrc[17] ^= 1; // width byte changes, CRC no longer matches
    expect(() => readPngInfo(badCrc)).toThrow(/CRC mismatch/);
  });
});

describe("readImageStack", () => {
  it("reads every accepted shape to the same flat stack", () => {
    const flat = Float32Array.from({ length: 2 * 2 * 3 }, (_, i) => i / 11);
    const nested3 = [[[0, 1, 2], [3, 4, 5]], [[6, 7, 8], [9, 10, 11]]].map((img) => img.map((row) => row.map((v) => v / 11)));
    const nested2 = [Array.from(flat.subarray(0, 6)), flat.subarray(6)];
    const expected = Array.from(flat);
    for (const [label, stack] of [
      ["flat", readImageStack(flat, { height: 2, width: 3 })],
      ["[n][h][w]", readImageStack(nested3)],
      ["[n][h·w]", readImageStack(nested2, { height: 2, width: 3 })],
      ["[n][h·w] with width only", readImageStack(nested2, { width: 3 })],
    ] as const) {
      expect({ label, count: stack.count, height: stack.height, width: stack.width }).toEqual({ label, count: 2, height: 2, width: 3 });
      expect(Array.from(stack.values).map((v) => +v.toFixed(6))).toEqual(expected.map((v) => +v.toFixed(6)));
    }
  });

  it("reads tensors [n,h,w], [n,h,w,1] and [n,h·w] (square inferred) without leaking", () => {
    const before = tf.memory().numTensors;
    const t4 = tf.zeros([3, 28, 28, 1]);
    const t2 = tf.zeros([5, 784]);
    const t3 = tf.zeros([2, 4, 6]);
    const made = tf.memory().numTensors;
    expect(readImageStack(t4)).toMatchObject({ count: 3, height: 28, width: 28 });
    expect(readImageStack(t2)).toMatchObject({ count: 5, height: 28, width: 28 });
    expect(readImageStack(t3)).toMatchObject({ count: 2, height: 4, width: 6 });
    expect(tf.memory().numTensors).toBe(made);
    expect(() => readImageStack(tf.zeros([2, 10]))).toThrow(/not square; give height and width/);
    expect(() => readImageStack(t4.concat(t4, 3))).toThrow(/\[n, h, w, 1\]/);
    tf.dispose([t4, t2, t3]);
    expect(() => readImageStack(t2)).toThrow(/disposed/);
    // The two tensors the error cases made are still alive; nothing else is.
    expect(tf.memory().numTensors).toBe(before + 2);
  });

  it("names the input and the mismatch in its errors", () => {
    expect(() => readImageStack([1, 2, 3])).toThrow(/flat array of pixels needs height and width/);
    expect(() => readImageStack([[[1, 2]], [[1]]], { name: "reconstructions" })).toThrow(/reconstructions: image 1 row 0 has 1 values, expected 2/);
    expect(() => readImageStack([[1, 2, 3, 4], [1, 2]])).toThrow(/image 1 has 2 values, expected 4/);
    expect(() => readImageStack(new Float32Array(10), { height: 2, width: 3 })).toThrow(/not a whole number of 2×3 images/);
  });
});

/** The gray value at (x, y) of a decoded grayscale PNG. */
function pixelAt(decoded: ReturnType<typeof decodePng>, x: number, y: number): number {
  return decoded.pixels[y * decoded.width + x];
}

describe("imageGridPng", () => {
  const h = 4, w = 3;
  /** n images where image k has every pixel (k + 1) / (n + 1), except pixel (0,0) = k / n. */
  function stack(n: number): number[][] {
    return Array.from({ length: n }, (_, k) => Array.from({ length: h * w }, (_, i) => (i === 0 ? k / n : (k + 1) / (n + 1))));
  }

  it("sizes the grid as tiles × scale plus padding, fills padding with background, and places tiles exactly", () => {
    const n = 5, scale = 3, padding = 2;
    const png = imageGridPng([{ images: stack(n), height: h, width: w }], { scale, padding, background: 1 });
    const d = decodePng(png);
    expect(d.colorType).toBe(0);
    expect(d.width).toBe(n * w * scale + (n + 1) * padding);
    expect(d.height).toBe(h * scale + 2 * padding);
    // Every padding pixel is the background; every tile pixel is its image value.
    for (let y = 0; y < d.height; y++) {
      for (let x = 0; x < d.width; x++) {
        const inRow = y >= padding && y < padding + h * scale;
        const column = Math.floor((x - padding) / (w * scale + padding));
        const inTile = inRow && x >= padding && (x - padding) % (w * scale + padding) < w * scale && column < n;
        if (!inTile) {
          expect(pixelAt(d, x, y), `padding at ${x},${y}`).toBe(255);
          continue;
        }
        const ix = Math.floor(((x - padding) % (w * scale + padding)) / scale);
        const iy = Math.floor((y - padding) / scale);
        const value = ix === 0 && iy === 0 ? column / n : (column + 1) / (n + 1);
        expect(pixelAt(d, x, y), `tile ${column} at ${x},${y}`).toBe(Math.round(value * 255));
      }
    }
  });

  it("clips values to [0, 1], maps NaN to black, and inverts on request", () => {
    const image = [[-0.5, 0, 0.5, 1, 1.7, NaN]];
    const d = decodePng(imageGridPng(image, { height: 1, width: 6, scale: 1, padding: 1, background: 0.5 }));
    expect([1, 2, 3, 4, 5, 6].map((x) => pixelAt(d, x, 1))).toEqual([0, 0, 128, 255, 255, 0]);
    expect(pixelAt(d, 0, 0)).toBe(128);
    const inverted = decodePng(imageGridPng(image, { height: 1, width: 6, scale: 1, padding: 1, invert: true }));
    expect([1, 2, 3, 4, 5, 6].map((x) => pixelAt(inverted, x, 1))).toEqual([255, 255, 128, 0, 0, 255]);
  });

  it("draws captions under tiles and row titles on the left, in ink pixels that were background before", () => {
    const images = Array.from({ length: 3 }, () => new Array(h * w).fill(1)); // white tiles: any dark pixel is text
    const plain = imageGridLayout([{ images, height: h, width: w }, { images, height: h, width: w }], { scale: 4, padding: 3 });
    const rows = [
      { images, height: h, width: w, title: "input", captions: [7, 2, 1] },
      { images, height: h, width: w, title: "recon", captions: ["a", "b", "c"] },
    ];
    const layout = imageGridLayout(rows, { scale: 4, padding: 3, background: 1 });
    const lineHeight = FONT_GLYPH_HEIGHT;
    expect(layout.height).toBeGreaterThan(plain.height + 2 * lineHeight - 1);
    expect(layout.width).toBe(plain.width + measureBitmapText("input").width + 3);
    const d = decodePng(imageGridPng(rows, { scale: 4, padding: 3, background: 1 }));
    expect({ width: d.width, height: d.height }).toEqual({ width: layout.width, height: layout.height });
    const inkIn = (x0: number, y0: number, x1: number, y1: number): number => {
      let count = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (pixelAt(d, x, y) === 0) count++;
      return count;
    };
    // Under every tile of both rows there is ink (the caption); the tiles themselves stay white.
    for (const row of layout.rows) {
      row.tiles.forEach((tile, c) => {
        expect(inkIn(layout.columnX[c], row.captionY, layout.columnX[c] + layout.columnWidths[c], row.captionY + lineHeight), `caption ${c}`).toBeGreaterThan(3);
        expect(inkIn(tile.x, tile.y, tile.x + tile.width, tile.y + tile.height)).toBe(0);
      });
      expect(inkIn(0, row.y, layout.columnX[0], row.y + row.tiles[0].height), "row title").toBeGreaterThan(10);
    }
    // Without captions nothing is drawn outside the tiles.
    const bare = decodePng(imageGridPng([{ images, height: h, width: w }], { scale: 4, padding: 3 }));
    expect([...bare.pixels].every((v) => v === 255)).toBe(true);
  });

  it("draws a title line on top and distinct glyphs for distinct characters", () => {
    const images = [new Array(h * w).fill(1)];
    const untitled = imageGridLayout(images, { height: h, width: w });
    const titled = imageGridLayout(images, { height: h, width: w, title: "Fig. 1" });
    expect(titled.height).toBe(untitled.height + FONT_GLYPH_HEIGHT + 4);
    const a = imageGridPng(images, { height: h, width: w, title: "0123" });
    const b = imageGridPng(images, { height: h, width: w, title: "0128" });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    for (const char of "0123456789abcXYZ.-:σβ") expect(fontHasGlyph(char), char).toBe(true);
    expect(fontHasGlyph("€")).toBe(false);
  });

  it("wraps a single stack into rows of `columns`, with captions following the images", () => {
    const images = stack(23);
    const layout = imageGridLayout(images, { height: h, width: w, columns: 10, captions: images.map((_, k) => k) });
    expect(layout.rows.map((r) => r.tiles.length)).toEqual([10, 10, 3]);
    expect(layout.rows.map((r) => r.first)).toEqual([0, 10, 20]);
    expect(layout.rows[2].captions).toEqual(["20", "21", "22"]);
    const d = decodePng(imageGridPng(images, { height: h, width: w, columns: 10, scale: 1, padding: 1 }));
    // Image 20 (first tile of the third row) has its pixel (0,0) = 20/23.
    const tile = imageGridLayout(images, { height: h, width: w, columns: 10, scale: 1, padding: 1 }).rows[2].tiles[0];
    expect(pixelAt(d, tile.x, tile.y)).toBe(Math.round((20 / 23) * 255));
  });

  it("takes tensors without leaking and rejects empty input", () => {
    const images = tf.randomUniform([4, 28, 28, 1]);
    const recon = tf.randomUniform([4, 784]);
    const before = tf.memory().numTensors;
    const png = imageGridPng([{ images, title: "in" }, { images: recon, title: "out" }], { scale: 1 });
    expect(tf.memory().numTensors).toBe(before);
    expect(readPngInfo(png).width).toBeGreaterThan(4 * 28);
    tf.dispose([images, recon]);
    expect(() => imageGridPng([])).toThrow(/no images/);
    expect(() => imageGridPng([[1, 2, 3, 4]], { scale: 0 })).toThrow(/scale must be a positive integer/);
  });
});
