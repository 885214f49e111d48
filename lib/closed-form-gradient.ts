/**
 * One typed door to tf.customGrad for ops written with their gradient in closed form (one tape node
 * where autodiff would record several): forward(inputs, save) returns the value and gradFunc, which
 * gets dy as one tensor (tf.customGrad may pass a list) and the saved tensors, and returns one
 * gradient per input.
 */
import * as tf from "@tensorflow/tfjs";

/** The forward pass of a closed-form-gradient op. */
export type ClosedFormForward<T extends tf.Tensor> = (inputs: tf.Tensor[], save: tf.GradSaveFunc) => {
  value: T;
  gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
};

/** An op from its forward pass and closed-form gradient: call it with the inputs that gradFunc differentiates. */
export function closedFormGradient<T extends tf.Tensor>(forward: ClosedFormForward<T>): (...inputs: tf.Tensor[]) => T {
  const op = tf.customGrad(((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const { value, gradFunc } = forward(args.slice(0, -1) as tf.Tensor[], save);
    return { value, gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => gradFunc(Array.isArray(dy) ? dy[0] : dy, saved) };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return (...inputs: tf.Tensor[]) => op(...inputs) as T;
}
