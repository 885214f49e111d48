/**
 * Leak checks for tests: how many tensors a function leaves behind, counted after one priming
 * call (kernels and initialisers may allocate once).
 */
import * as tf from "@tensorflow/tfjs";

/** Tensors left by the second of two calls of `fn` (the first primes). */
export function leakedBy(fn: () => void): number {
  fn();
  const before = tf.memory().numTensors;
  fn();
  return tf.memory().numTensors - before;
}
