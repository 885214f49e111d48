/**
 * PNG without a browser: a small encoder (8-bit grayscale, RGB, RGBA; node's zlib for
 * deflate) and `imageGridPng`, which tiles grayscale images (digits, reconstructions)
 * into rows with captions and row titles drawn in a built-in 5×7 bitmap font.
 * Everything here is a pure function; nothing runs on import.
 *
 * Floors: png/encode.ts (the file format) ← png/font.ts (+ png/glyphs.ts, the glyph table)
 * ← png/image-stack.ts (reading images) ← png/grid.ts (layout and drawing).
 */
export type { RawImage, EncodePngOptions, PngInfo } from "./png/encode";
export { crc32, encodePng, readPngInfo } from "./png/encode";
export { FONT_GLYPH_WIDTH, FONT_GLYPH_HEIGHT, fontHasGlyph, measureBitmapText, drawBitmapText } from "./png/font";
export type { ImageSource, ImageStack } from "./png/image-stack";
export { readImageStack } from "./png/image-stack";
export type { ImageGridRow, ImageGridOptions, ImageGridLayout } from "./png/grid";
export { imageGridLayout, imageGridPng, renderImageGrid } from "./png/grid";
