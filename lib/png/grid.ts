/**
 * Image grids: rows of grayscale image stacks (inputs above reconstructions, …) laid out with
 * row titles, captions under the tiles and an optional title, drawn and encoded as one PNG.
 */
import { RawImage, encodePng } from "./encode";
import { drawBitmapText, measureBitmapText } from "./font";
import { ImageSource, ImageStack, isArrayLike, isTensorLike, readImageStack } from "./image-stack";

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
