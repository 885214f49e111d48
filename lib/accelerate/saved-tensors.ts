/**
 * Tensors a kernel saves for its gradient, kept without a tape node where none can be used.
 *
 * tfjs saves each input or output that a gradient needs as `keep(engine.clone(t))`: an Identity
 * kernel run through the full runKernel path, plus a tape node x → clone. That node exists for
 * higher-order gradients only: a gradient function recorded at gradient depth d runs at depth d − 1,
 * so its kernels (which read the clone) are themselves recorded, and differentiated through the
 * clone, only when d ≥ 2. In one-level training (depth 1: every optimiser step) the node is pruned by
 * getFilteredNodesXToY and never runs: CSAE-C saves 304 tensors a step, each a kernel call and a
 * tape node that the backward filter must scan.
 *
 * {@link installLeanSaves} makes the engine's clone, at gradient depth ≤ 1, run the backend's own
 * Identity kernel function directly and track its result as runKernel would (the same tensor: on
 * wasm and cpu it shares the input's memory), without the tape node or the kernel-call bookkeeping.
 * At depth ≥ 2 it is tfjs's own clone. No value changes: the saved tensor holds the same data.
 *
 * Nothing happens on import: lib/accelerate/index.ts installs it with the wasm kernels.
 */
import * as tf from "@tensorflow/tfjs";

/** The parts of tfjs-core's Engine (engine.ts) this module uses. */
interface EngineInternals {
  state: { gradientDepth: number };
  backendName: string;
  backend: tf.KernelBackend;
  clone(x: tf.Tensor): tf.Tensor;
  makeTensorFromTensorInfo(info: tf.TensorInfo, backend?: tf.KernelBackend): tf.Tensor;
}

/** tfjs's own Engine.clone, kept while ours is installed. */
let tfjsClone: ((this: EngineInternals, x: tf.Tensor) => tf.Tensor) | null = null;

/** The engine's clone at depth ≤ 1: the backend's Identity, tracked, with no tape node. */
function leanClone(this: EngineInternals, x: tf.Tensor): tf.Tensor {
  if (this.state.gradientDepth > 1) return tfjsClone!.call(this, x);
  const kernel = tf.getKernel("Identity", this.backendName);
  if (!kernel) return tfjsClone!.call(this, x);
  const out = kernel.kernelFunc({ inputs: { x }, backend: this.backend, attrs: {} }) as tf.TensorInfo | tf.Tensor;
  // As runKernel: a backend may return a Tensor (already tracked) instead of a TensorInfo.
  return out instanceof tf.Tensor ? out : this.makeTensorFromTensorInfo(out);
}

/** Put the lean clone on tfjs's engine (idempotent); returns whether this call installed it. */
export function installLeanSaves(): boolean {
  const engine = tf.engine() as unknown as EngineInternals;
  if (engine.clone === leanClone) return false;
  tfjsClone = engine.clone;
  engine.clone = leanClone;
  return true;
}

/** Put tfjs's own clone back (tests compare the two). */
export function uninstallLeanSaves(): void {
  const engine = tf.engine() as unknown as EngineInternals;
  if (engine.clone === leanClone && tfjsClone) engine.clone = tfjsClone;
}

/** Whether the engine's clone is ours. */
export function leanSavesInstalled(): boolean {
  return (tf.engine() as unknown as EngineInternals).clone === leanClone;
}
