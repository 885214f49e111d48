/**
 * The one interface every autoencoder in lib/ implements, whatever its paper: an encoder
 * x → code, a decoder code → x̂, the two chained, its size, and disposal. Each model adds
 * its own parts (layers, variables, switches) on top.
 */
import type * as tf from "@tensorflow/tfjs";

/**
 * An autoencoder x → code → x̂. `X` is the input tensor type, `Code` what `encode` returns
 * (a tensor, or a tensor with side information such as pooling switches).
 */
export interface Autoencoder<X extends tf.Tensor = tf.Tensor, Code = tf.Tensor> {
  /** x → code. */
  encode(x: X): Code;
  /** code → reconstruction. */
  decode(code: tf.Tensor): tf.Tensor;
  /** decode(encode(x)), differentiable. */
  reconstruct(x: X): tf.Tensor;
  /** Every weight of the model (trainable or not). */
  readonly paramCount: number;
  /** Free every weight; the model cannot be used afterwards. */
  dispose(): void;
}
