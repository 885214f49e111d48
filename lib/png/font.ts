/**
 * Text in a 5×7 bitmap font (glyphs.ts), drawn into 8-bit grayscale canvases: the captions and
 * titles of image grids, so PNGs need no browser and no font files.
 */
import type { RawImage } from "./encode";
import { GLYPH_SOURCE, MISSING_GLYPH } from "./glyphs";

/** Glyph cell width and height in font pixels (5×7 body plus 2 descender rows). */
export const FONT_GLYPH_WIDTH = 5;
export const FONT_GLYPH_HEIGHT = 9;
/** Horizontal advance per character (glyph + 1 column gap). */
const FONT_ADVANCE = FONT_GLYPH_WIDTH + 1;

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
