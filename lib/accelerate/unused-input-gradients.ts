/**
 * A fused convolution's input gradient, not computed where nothing reads it.
 *
 * tf.fused.conv2d (what tf.layers' conv2d runs under a gradient tape) takes its gradient through
 * tf.customGrad, whose gradient function computes every input's gradient at once: dx by
 * Conv2DBackpropInput as well as dW. The tape then reads only the gradients of inputs on the path
 * from the trained variables (getFilteredNodesXToY keeps those in the node's `inputs`), so for a
 * network's first convolution, whose input is the data, dx is computed and thrown away: at batch 256
 * on CSAE-C's 32 × 32 × 1 images, 2.3 ms of each step.
 *
 * {@link installUnusedInputGradients} wraps each fused convolution's tape node so that, when the
 * tape calls its gradient at the top level (gradient depth 0: no outer tape records the call) with
 * input 0 (x) absent from the node's pruned inputs, the Conv2DBackpropInput of that call, and only
 * it (same filter memory, x's shape), is answered by the wasm kernel with a tensor of x's shape whose
 * values are not computed (see {@link skipsInputGradient}; zeros under tf.profile or DEBUG, which
 * read every kernel's output). Nothing else reads it: the tape never asks for input 0's gradient,
 * and disposes it with the step. Every gradient that is read keeps its bits.
 *
 * Nothing happens on import: lib/accelerate/index.ts installs it with the wasm kernels.
 */
import * as tf from "@tensorflow/tfjs";

/** The scope name tfjs gives a fused convolution's tape node (tf.fused.conv2d's op name). */
const FUSED_CONV_NODE = "fusedConv2d__op";

interface TapeNodeLike {
  inputs: tf.NamedTensorMap;
  gradient?: (dys: tf.Tensor[]) => Record<string, () => tf.Tensor>;
}

/** The parts of tfjs-core's Engine (engine.ts) this module uses. */
interface EngineInternals {
  state: { gradientDepth: number; activeTape: TapeNodeLike[] | null };
  addTapeNode(kernelName: string, inputs: tf.NamedTensorMap, outputs: tf.Tensor[], gradient: unknown, saved: tf.Tensor[], attrs: tf.NamedAttrMap): void;
}

let tfjsAddTapeNode: EngineInternals["addTapeNode"] | null = null;

/** While a fused convolution's gradient runs with its x unread: the filter's memory and x's shape. */
let skipping: { filter: tf.DataId; shape: number[] } | null = null;

/** Input gradients not computed so far (tests read it). */
export const unusedInputGradientCounters = { skipped: 0 };

/**
 * Whether a Conv2DBackpropInput with this filter and input shape is the input gradient of a fused
 * convolution that the tape will not read (then the kernel need not compute it); counts it when so.
 */
export function skipsInputGradient(filter: tf.TensorInfo, inputShape: readonly number[]): boolean {
  if (skipping === null || skipping.filter !== filter.dataId) return false;
  if (inputShape.length !== skipping.shape.length || inputShape.some((d, i) => d !== skipping!.shape[i])) return false;
  unusedInputGradientCounters.skipped++;
  return true;
}

/** addTapeNode as tfjs's, and for a fused convolution its gradient wrapped (see the module comment). */
function addTapeNodeWithUnusedInputs(this: EngineInternals, ...args: Parameters<EngineInternals["addTapeNode"]>): void {
  tfjsAddTapeNode!.apply(this, args);
  const [kernelName, inputs] = args;
  const tape = this.state.activeTape;
  const node = tape?.[tape.length - 1];
  const gradient = node?.gradient;
  const x = inputs["0"];
  const filter = inputs["1"];
  if (kernelName !== FUSED_CONV_NODE || !node || node.inputs !== inputs || !gradient || !x || !filter) return;
  const engine = this;
  // Called by the tape as prunedNode.gradient(dys): `this` is the pruned copy, whose inputs are those the tape reads.
  node.gradient = function (this: TapeNodeLike | undefined, dys: tf.Tensor[]) {
    const xUnread = this != null && this.inputs != null && !("0" in this.inputs) && engine.state.gradientDepth === 0;
    if (!xUnread) return gradient(dys);
    skipping = { filter: filter.dataId, shape: x.shape.slice() };
    try {
      return gradient(dys);
    } finally {
      skipping = null;
    }
  };
}

/** Wrap fused convolutions' tape nodes from now on (idempotent); returns whether this call installed it. */
export function installUnusedInputGradients(): boolean {
  const engine = tf.engine() as unknown as EngineInternals;
  if (engine.addTapeNode === addTapeNodeWithUnusedInputs) return false;
  tfjsAddTapeNode = engine.addTapeNode;
  engine.addTapeNode = addTapeNodeWithUnusedInputs;
  return true;
}

/** Put tfjs's own addTapeNode back (tests compare the two). */
export function uninstallUnusedInputGradients(): void {
  const engine = tf.engine() as unknown as EngineInternals;
  if (engine.addTapeNode !== addTapeNodeWithUnusedInputs || !tfjsAddTapeNode) return;
  engine.addTapeNode = tfjsAddTapeNode;
  skipping = null;
}
