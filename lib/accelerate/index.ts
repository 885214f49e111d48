/**
 * The accelerator: everything that makes TensorFlow.js fast here, behind one call.
 *
 *   wasm-overrides/   kernels put on tfjs-backend-wasm: added where wasm has none, replacing ones
 *                     it gets wrong, or faster ones (registry.ts lists them; one file per op)
 *   native/           the optional C++ addon (src/, built by node-gyp at install) and its
 *                     TypeScript binding (addon.ts: loading, threads, call counters)
 *   fused-adam.ts     tfjs's Adam with one native pass per weight, registered as the Adam that
 *                     lib/train/optimizers.ts's createOptimizer builds (through lib/optimizer-hooks.ts)
 *   fused-momentum.ts the same for tfjs's momentum SGD
 *   dense.ts          tfjs-layers' Dense as one kernel in training (product, bias, activation), gradient per input
 *   gradients.ts      tfjs gradients replaced by the same values from fewer kernels (Mean, Sum: no ones(x.shape) per step)
 *   saved-tensors.ts  tensors saved for a gradient kept without tfjs's clone kernel and tape node (added if a nested gradient starts)
 *   unused-input-gradients.ts  a fused convolution's input gradient left uncomputed where the tape does not read it (data inputs)
 *   wasm-threads.ts   tfjs-wasm's threaded build, started in Node (used where the addon is not)
 *
 * lib/backend.ts calls {@link accelerateWasm} once, when it starts the wasm backend; nothing
 * else in the teaching library imports from this folder. Tests, the bench and the profiler
 * import the parts they tune or count from the files themselves.
 * Nothing happens on import.
 */
import { AdamProvider, MomentumProvider, registerAdamProvider, registerMomentumProvider, TFJS_ADAM, TFJS_MOMENTUM } from "../optimizer-hooks";
import { FusedAdamOptimizer } from "./fused-adam";
import { FusedMomentumOptimizer } from "./fused-momentum";
import { loadNativeKernels, resolveNativeThreads } from "./native/addon";
import { registerWasmOverrides, WASM_EXTRA_KERNELS, WASM_FASTER_KERNELS } from "./wasm-overrides/registry";
import { GRADIENT_OVERRIDES, registerGradientOverrides } from "./gradients";
import { registerDenseFusion } from "./dense";
import { installLeanSaves } from "./saved-tensors";
import { installUnusedInputGradients } from "./unused-input-gradients";
import { activateWasmWithThreads, resolveWasmThreads, WasmThreadControls, WasmThreadsRequest } from "./wasm-threads";

// What backend.ts needs to validate its threads option before it calls the door.
export { resolveWasmThreads, WasmThreadsRequest } from "./wasm-threads";

/** The Adam registered where the addon runs (off wasm, or with the addon disabled, it is tfjs's Adam itself). */
const FUSED_ADAM: AdamProvider = {
  description: "fused native Adam (one pass per weight)",
  create: (learningRate, beta1, beta2, epsilon) => new FusedAdamOptimizer(learningRate, beta1, beta2, epsilon),
};

/** The momentum SGD registered where the addon runs (else tfjs's). */
const FUSED_MOMENTUM: MomentumProvider = {
  description: "fused native momentum SGD (one pass per weight)",
  create: (learningRate, momentum, useNesterov) => new FusedMomentumOptimizer(learningRate, momentum, useNesterov),
};

/** Options of {@link accelerateWasm}. */
export interface AccelerateOptions {
  /** wasm threads: a count or "auto" (default: AE_WASM_THREADS, else "auto"). */
  threads?: WasmThreadsRequest;
  /** Environment to read AE_WASM_THREADS, AE_NATIVE and AE_NATIVE_THREADS from (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** What the accelerator made active on the wasm backend. */
export interface AcceleratorReport {
  /** Kernels added where wasm has none, or replacing wrong ones (wasm-overrides/registry.ts WASM_EXTRA_KERNELS). */
  extraKernels: string[];
  /** wasm's kernels that are right but slow, replaced by faster ones (WASM_FASTER_KERNELS). */
  fasterKernels: string[];
  /** Kernels whose tfjs gradient ours replaced (./gradients.ts: same values, fewer kernels). */
  gradients: string[];
  /** Threads of wasm's XNNPACK pool. */
  wasmThreads: number;
  /** Why wasm runs fewer threads than asked ("" when it runs what was asked). */
  wasmThreadsNote: string;
  /** Whether the native addon is in use, and its summary line (or why not). */
  native: { loaded: boolean; summary: string; threads?: number };
  /** The Adam that createOptimizer builds (lib/optimizer-hooks.ts). */
  adam: string;
  /** The momentum SGD that createOptimizer builds. */
  momentum: string;
  /** One line: "1 thread: …; 5 kernels added or fixed, 17 made faster; native …; Adam: …; momentum SGD: …". */
  summary: string;
}

/**
 * Make wasm fast, then start it: register the kernel overrides, the gradient overrides, the dense
 * fusion, the lean saves and the skipped input gradients, load the native addon (unless
 * AE_NATIVE=0 or it is not built), start wasm with the thread count that suits (one where the
 * addon takes the cores), and register the fused Adam and momentum SGD where the addon runs. `startWasm` is the
 * caller's `tf.setBackend("wasm")` (throwing on failure); `wasm` the tfjs-backend-wasm package.
 */
export async function accelerateWasm(wasm: WasmThreadControls, startWasm: () => Promise<void>, options: AccelerateOptions = {}): Promise<AcceleratorReport> {
  const env = options.env ?? process.env;
  // Before wasm starts: the stock kernels' setup functions must stay with the registry entries.
  registerWasmOverrides();
  registerGradientOverrides();
  registerDenseFusion();
  installLeanSaves();
  installUnusedInputGradients();
  const nativeLoaded = loadNativeKernels({ env }).loaded;
  const { request } = resolveWasmThreads(options);
  // With the native kernels doing the products and convolutions, wasm runs only element-wise
  // kernels, where its thread pool costs more than it gives (measured: native/addon.ts): "auto"
  // is then one wasm thread, and the native kernels take the cores.
  const wasmRequest = nativeLoaded && request === "auto" ? 1 : request;
  const started = await activateWasmWithThreads(wasm, startWasm, { ...options, threads: wasmRequest });
  const note = started.note || (wasmRequest !== request ? "the native kernels take the cores" : "");
  const native = loadNativeKernels({ threads: resolveNativeThreads({ env, wasmRequest: request }) });
  const adamProvider = native.loaded ? FUSED_ADAM : TFJS_ADAM;
  registerAdamProvider(adamProvider);
  const momentumProvider = native.loaded ? FUSED_MOMENTUM : TFJS_MOMENTUM;
  registerMomentumProvider(momentumProvider);
  const adam = adamProvider.description;
  const momentum = momentumProvider.description;
  const extraKernels = WASM_EXTRA_KERNELS.map((k) => k.kernelName);
  const fasterKernels = WASM_FASTER_KERNELS.map((k) => k.kernelName);
  const threads = started.threads;
  return {
    extraKernels,
    fasterKernels,
    gradients: GRADIENT_OVERRIDES.map((g) => g.kernelName),
    wasmThreads: threads,
    wasmThreadsNote: note,
    native: { loaded: native.loaded, summary: native.summary, ...(native.loaded && native.threads !== undefined ? { threads: native.threads } : {}) },
    adam,
    momentum,
    summary:
      `${threads} thread${threads === 1 ? "" : "s"}${note ? `: ${note}` : ""}; ` +
      `${extraKernels.length} kernels added or fixed, ${fasterKernels.length} made faster; ${native.summary}; Adam: ${adam}; momentum SGD: ${momentum}`,
  };
}
