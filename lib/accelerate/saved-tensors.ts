/**
 * Tensors a kernel saves for its gradient, kept without a tape node until one can be used.
 *
 * tfjs saves each input or output that a gradient needs as `keep(engine.clone(t))`: an Identity
 * kernel run through the full runKernel path, plus a tape node t → clone. That node matters only
 * when a gradient function that reads the clone runs while a tape records, i.e. when a nested
 * gradient (depth 2) starts over a tape that holds nodes recorded at depth 1. There is one tape for
 * every depth, so the nested call differentiates those nodes too, and records their gradient
 * functions, which read the clones. In one-level training (every optimiser step) no nested gradient
 * starts, the node is pruned by getFilteredNodesXToY and never runs: CSAE-C saves 184 tensors a
 * step, each a kernel call through runKernel and a tape node that the backward filter must scan.
 *
 * {@link installLeanSaves} makes the engine's clone, at gradient depth ≤ 1, run the backend's own
 * Identity kernel function directly and track its result as runKernel would (the same tensor: on
 * wasm and cpu it shares the input's memory), and remember the pair. When a nested gradient starts
 * (startTape at depth 1), the tape nodes of the remembered pairs are added then, as tfjs's clone
 * would have added them: every node that reads a clone is recorded after that point, so the tape's
 * order stays valid and higher-order gradients are tfjs's. At depth ≥ 2 the clone is tfjs's own.
 * No value changes: a saved tensor holds the same data.
 *
 * Nothing happens on import: lib/accelerate/index.ts installs it with the wasm kernels.
 */
import * as tf from "@tensorflow/tfjs";

/** The parts of tfjs-core's Engine (engine.ts) this module uses. */
interface EngineInternals {
  state: { gradientDepth: number; activeScope: { name: string } | null };
  backendName: string;
  backend: tf.KernelBackend;
  clone(x: tf.Tensor): tf.Tensor;
  startTape(): void;
  makeTensorFromTensorInfo(info: tf.TensorInfo, backend?: tf.KernelBackend): tf.Tensor;
  addTapeNode(kernelName: string, inputs: tf.NamedTensorMap, outputs: tf.Tensor[], gradient: (dy: tf.Tensor) => Record<string, () => tf.Tensor>, saved: tf.Tensor[], attrs: tf.NamedAttrMap): void;
}

/** tfjs's own Engine methods, kept while ours are installed. */
let tfjsMethods: { clone: EngineInternals["clone"]; startTape: EngineInternals["startTape"] } | null = null;

/** Saves made lean since the outermost tape started: the input, its clone, and the scope tfjs's clone would have named the node after. */
let pending: Array<{ x: tf.Tensor; y: tf.Tensor; scope: string }> = [];

/** The engine's clone at depth ≤ 1: the backend's Identity, tracked, its tape node deferred. */
function leanClone(this: EngineInternals, x: tf.Tensor): tf.Tensor {
  const kernel = this.state.gradientDepth > 1 ? undefined : tf.getKernel("Identity", this.backendName);
  if (!kernel) return tfjsMethods!.clone.call(this, x);
  const out = kernel.kernelFunc({ inputs: { x }, backend: this.backend, attrs: {} }) as tf.TensorInfo | tf.Tensor;
  // As runKernel: a backend may return a Tensor (already tracked) instead of a TensorInfo.
  const y = out instanceof tf.Tensor ? out : this.makeTensorFromTensorInfo(out);
  pending.push({ x, y, scope: this.state.activeScope?.name ?? "" });
  return y;
}

/** startTape: a new outermost tape forgets the pairs; a nested one (depth 1 → 2) first adds their x → clone nodes, as tfjs's clone does. */
function leanStartTape(this: EngineInternals): void {
  if (this.state.gradientDepth === 0) {
    pending = [];
  } else if (this.state.gradientDepth === 1) {
    for (const { x, y, scope } of pending) {
      this.addTapeNode(scope, { x }, [y], (dy) => ({ x: () => tf.cast(dy, "float32") }), [], {});
    }
    pending = [];
  }
  tfjsMethods!.startTape.call(this);
}

/** Put the lean saves on tfjs's engine (idempotent); returns whether this call installed them. */
export function installLeanSaves(): boolean {
  const engine = tf.engine() as unknown as EngineInternals;
  if (engine.clone === leanClone) return false;
  tfjsMethods = { clone: engine.clone, startTape: engine.startTape };
  pending = [];
  engine.clone = leanClone;
  engine.startTape = leanStartTape;
  return true;
}

/** Put tfjs's own clone and startTape back (tests compare the two). */
export function uninstallLeanSaves(): void {
  const engine = tf.engine() as unknown as EngineInternals;
  if (engine.clone !== leanClone || !tfjsMethods) return;
  engine.clone = tfjsMethods.clone;
  engine.startTape = tfjsMethods.startTape;
  pending = [];
}

/** Whether the engine's clone is ours. */
export function leanSavesInstalled(): boolean {
  return (tf.engine() as unknown as EngineInternals).clone === leanClone;
}
