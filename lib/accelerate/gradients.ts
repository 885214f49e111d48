/**
 * Gradients the accelerator puts in place of tfjs's own (tf.registerGradient): the same values,
 * from fewer and cheaper kernels. tfjs keeps one gradient per kernel name for every backend, so
 * these hold wherever tfjs runs once registered (they use only ops that every backend has).
 *
 * - Mean, Sum: tfjs 4.22 multiplies the reshaped dy by ones(x.shape), then (Mean) divides by the
 *   count. `ones` fills a JavaScript array of x's size and writes it to the device on every step:
 *   ≈ 0.5 ms for a [128, 784] batch's MSE on wasm, more than the loss's own kernels. Ours divides
 *   the reshaped dy (one value per kept position) by the count and broadcasts it with one Tile:
 *   element for element the same float32 value, dy/n (dy·1 is exact).
 *
 * Nothing is registered on import: {@link registerGradientOverrides} does it (lib/accelerate/index.ts).
 */
import * as tf from "@tensorflow/tfjs";

/** tfjs's own gradient of each kernel whose gradient ours replaced (for tests and for putting them back). */
const replacedGradients = new Map<string, tf.GradConfig>();

/** dy reshaped to x's rank (1 on the reduced axes), as float32. */
function expandedDy(dy: tf.Tensor, xShape: number[], axes: number[]): tf.Tensor {
  const shape = xShape.slice();
  for (const axis of axes) shape[axis] = 1;
  const expanded = tf.reshape(dy, shape);
  return expanded.dtype === "float32" ? expanded : tf.cast(expanded, "float32");
}

/** The reduced axes of a Mean or Sum, as tfjs resolves them (negative ones counted from the end; none given: all). */
function reducedAxes(axis: number | number[] | undefined, rank: number): number[] {
  if (axis === undefined || axis === null) return Array.from({ length: rank }, (_, i) => i);
  const list = Array.isArray(axis) ? axis : [axis];
  return list.map((a) => (a < 0 ? a + rank : a));
}

/**
 * The gradient of a reduction over some axes: dy broadcast back over them, divided by their size n for
 * Mean (∂mean/∂x = dy / n), as is for Sum (∂sum/∂x = dy).
 */
function reductionGradient(kernelName: "Mean" | "Sum"): tf.GradConfig {
  return {
    kernelName,
    inputsToSave: ["x"],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      const axes = reducedAxes((attrs as unknown as tf.SumAttrs).axis, x.rank);
      const spread = () => expandedDy(dy as tf.Tensor, x.shape, axes);
      if (kernelName === "Sum") return { x: () => tf.broadcastTo(spread(), x.shape) };
      const count = axes.reduce((n, a) => n * x.shape[a], 1);
      return { x: () => tf.broadcastTo(tf.div(spread(), count), x.shape) };
    },
  };
}

const MEAN_GRADIENT = reductionGradient("Mean");
const SUM_GRADIENT = reductionGradient("Sum");

/** The gradients this module registers. */
export const GRADIENT_OVERRIDES: readonly tf.GradConfig[] = [MEAN_GRADIENT, SUM_GRADIENT];

/** Register ours in place of tfjs's (idempotent); returns the kernel names whose gradient this call replaced. */
export function registerGradientOverrides(): string[] {
  const registered: string[] = [];
  for (const config of GRADIENT_OVERRIDES) {
    const existing = tf.getGradient(config.kernelName);
    if (existing === config) continue;
    if (existing && !replacedGradients.has(config.kernelName)) replacedGradients.set(config.kernelName, existing);
    tf.registerGradient(config);
    registered.push(config.kernelName);
  }
  return registered;
}

/** Put tfjs's own gradients back (tests compare the two). */
export function unregisterGradientOverrides(): void {
  for (const config of replacedGradients.values()) tf.registerGradient(config);
}

/** Whether the gradient of this kernel is ours. */
export function isOurGradient(kernelName: string): boolean {
  const current = tf.getGradient(kernelName);
  return current !== undefined && GRADIENT_OVERRIDES.includes(current);
}
