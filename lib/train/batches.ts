/**
 * How data becomes batches: checking an aligned record, slicing rows, reordering by a seeded
 * permutation, and the seeds each step and evaluation batch get.
 */
import * as tf from "@tensorflow/tfjs";
import type { TensorRecord } from "./types";

/** A deterministic 31-bit seed from a base seed and a salt (epoch, step). */
export function mixSeeds(seed: number, salt: number): number {
  let h = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul((salt | 0) + 0x632be5ab, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) & 0x7fffffff;
}

/** Check a data record: non-empty, live tensors, one shared first dimension; returns that dimension (the sample count). */
export function checkAlignedData(data: TensorRecord, what: string, fn: string): number {
  if (data == null || typeof data !== "object") throw new Error(`${fn}: ${what} must be a record of tensors, e.g. { xs, ys }`);
  const keys = Object.keys(data);
  if (keys.length === 0) throw new Error(`${fn}: ${what} is empty; give at least one tensor, e.g. { xs }`);
  let n = -1;
  for (const key of keys) {
    const t = data[key];
    if (!(t instanceof tf.Tensor)) throw new Error(`${fn}: ${what}.${key} must be a tf.Tensor`);
    if (t.isDisposed) throw new Error(`${fn}: ${what}.${key} has been disposed`);
    if (t.rank < 1) throw new Error(`${fn}: ${what}.${key} must have a sample dimension (rank ≥ 1), got a scalar`);
    if (n < 0) n = t.shape[0];
    else if (t.shape[0] !== n) {
      throw new Error(`${fn}: ${what} tensors must share their first dimension: ${keys[0]} has ${n} rows but ${key} has ${t.shape[0]} (shape [${t.shape.join(", ")}])`);
    }
  }
  if (n === 0) throw new Error(`${fn}: ${what} has no samples (first dimension 0)`);
  return n;
}

/** Rows [start, start+size) of every tensor in the record (the record itself when that is all of it). */
export function sliceRecord<D extends TensorRecord>(data: D, start: number, size: number, numSamples: number): D {
  if (start === 0 && size === numSamples) return data;
  const out: TensorRecord = {};
  for (const key of Object.keys(data)) out[key] = tf.slice(data[key], start, size);
  return out as D;
}

/** Rows order[start, start+size) of every tensor in the record: one batch of a shuffled epoch, gathered without reordering the whole record. */
export function gatherRows<D extends TensorRecord>(data: D, order: tf.Tensor1D, start: number, size: number): D {
  const indices = start === 0 && size === order.shape[0] ? order : tf.slice(order, start, size);
  const out: TensorRecord = {};
  for (const key of Object.keys(data)) out[key] = tf.gather(data[key], indices);
  if (indices !== order) indices.dispose();
  return out as D;
}
