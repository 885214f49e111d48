/**
 * The lecture's phone-to-cloud story made measurable: the phone encodes x to a code z, sends
 * z, the cloud decodes. What is sent is the code at some precision: b-bit uniform
 * quantisation of each code value over a fixed per-dimension range [lo, hi] (fitted once on
 * training codes and shared in advance), or raw float32.
 *
 * Levels q = round((z − lo)/Δ) clipped to 0 … 2ᵇ−1, Δ = (hi − lo)/(2ᵇ − 1); dequantised
 * ẑ = lo + q·Δ, so |ẑ − z| ≤ Δ/2 for z in [lo, hi]. Bytes per code: ⌈k·b/8⌉ (bit-packed), 4k for float32.
 */
import * as tf from "@tensorflow/tfjs";

/** Bits per code value (1 … 16), or "float32" (no quantisation, 32 bits). */
export type CodePrecision = number | "float32";

/** The per-dimension range quantisation uses. */
export interface CodeRange {
  lo: number[];
  hi: number[];
}

function checkCodes(codes: tf.Tensor, fn: string): [number, number] {
  if (!(codes instanceof tf.Tensor)) throw new Error(`${fn}: codes must be a tf.Tensor2D [n, codeDim]`);
  if (codes.isDisposed) throw new Error(`${fn}: codes have been disposed`);
  if (codes.rank !== 2) throw new Error(`${fn}: codes must be rank 2 [n, codeDim], got shape [${codes.shape}]`);
  return codes.shape as [number, number];
}

function checkBits(bits: number, fn: string): number {
  if (!Number.isInteger(bits) || bits < 1 || bits > 16) throw new Error(`${fn}: bits must be an integer in 1 … 16, got ${bits}`);
  return bits;
}

function checkRange(range: CodeRange, codeDim: number, fn: string): void {
  if (range == null || !Array.isArray(range.lo) || !Array.isArray(range.hi)) throw new Error(`${fn}: range must be { lo: number[], hi: number[] } (from fitCodeRange)`);
  if (range.lo.length !== codeDim || range.hi.length !== codeDim) {
    throw new Error(`${fn}: range has ${range.lo.length}/${range.hi.length} entries for lo/hi but codes have ${codeDim} dimensions`);
  }
  range.lo.forEach((lo, i) => {
    if (!Number.isFinite(lo) || !Number.isFinite(range.hi[i]) || range.hi[i] < lo) throw new Error(`${fn}: range dimension ${i} must have finite lo ≤ hi, got [${lo}, ${range.hi[i]}]`);
  });
}

/** Bytes one code of `codeDim` values takes at `precision`: ⌈codeDim·bits/8⌉, or 4·codeDim for float32. */
export function codeBytes(codeDim: number, precision: CodePrecision): number {
  const fn = "codeBytes";
  if (!Number.isInteger(codeDim) || codeDim < 1) throw new Error(`${fn}: codeDim must be a positive integer, got ${codeDim}`);
  if (precision === "float32") return 4 * codeDim;
  return Math.ceil((codeDim * checkBits(precision, fn)) / 8);
}

/** Per-dimension [min, max] of training codes, the range the phone and the cloud agree on. */
export async function fitCodeRange(codes: tf.Tensor2D): Promise<CodeRange> {
  checkCodes(codes, "fitCodeRange");
  const [lo, hi] = tf.tidy(() => [tf.min(codes, 0), tf.max(codes, 0)]);
  try {
    return { lo: Array.from(await lo.data()), hi: Array.from(await hi.data()) };
  } finally {
    tf.dispose([lo, hi]);
  }
}

/** The quantisation step Δ = (hi − lo)/(2ᵇ − 1) of each dimension (the error bound is Δ/2). */
export function quantizationStep(range: CodeRange, bits: number): number[] {
  checkBits(bits, "quantizationStep");
  checkRange(range, range?.lo?.length ?? 0, "quantizationStep");
  const levels = 2 ** bits - 1;
  return range.lo.map((lo, i) => (range.hi[i] - lo) / levels);
}

/** b-bit levels q = clip(round((z − lo)/Δ), 0, 2ᵇ−1) as int32 [n, codeDim] (what the phone sends). */
export function quantizeCodes(codes: tf.Tensor2D, range: CodeRange, bits: number): tf.Tensor2D {
  const fn = "quantizeCodes";
  const [, k] = checkCodes(codes, fn);
  checkBits(bits, fn);
  checkRange(range, k, fn);
  const steps = quantizationStep(range, bits).map((s) => (s > 0 ? s : 1)); // a constant dimension sends level 0
  return tf.tidy(() => {
    const scaled = tf.div(tf.sub(codes, tf.tensor1d(range.lo)), tf.tensor1d(steps));
    return tf.cast(tf.clipByValue(tf.round(scaled), 0, 2 ** bits - 1), "int32") as tf.Tensor2D;
  });
}

/** ẑ = lo + q·Δ from levels (what the cloud decodes from). */
export function dequantizeCodes(levels: tf.Tensor2D, range: CodeRange, bits: number): tf.Tensor2D {
  const fn = "dequantizeCodes";
  const [, k] = checkCodes(levels, fn);
  checkBits(bits, fn);
  checkRange(range, k, fn);
  const steps = quantizationStep(range, bits);
  return tf.tidy(() => tf.add(tf.mul(tf.cast(levels, "float32"), tf.tensor1d(steps)), tf.tensor1d(range.lo)) as tf.Tensor2D);
}

/** The code as the cloud receives it at `precision`: quantised and dequantised, or a float32 copy. */
export function transmitCodes(codes: tf.Tensor2D, range: CodeRange, precision: CodePrecision): tf.Tensor2D {
  if (precision === "float32") {
    checkCodes(codes, "transmitCodes");
    return tf.tidy(() => tf.cast(codes, "float32") as tf.Tensor2D);
  }
  return tf.tidy(() => dequantizeCodes(quantizeCodes(codes, range, precision), range, precision));
}
