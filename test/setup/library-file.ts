/**
 * Vitest setup file of the "library" project, whose files share one module graph per worker
 * (isolate: false): before each file, the process-wide state a fresh process would start with:
 * the cpu backend and tfjs's own Adam and momentum. A few of those files call initBackend() (wasm,
 * and the accelerator registers its optimisers and its wasm kernels); the next file starts again
 * from cpu and tfjs's optimisers here, and the wasm kernels matter only to files that choose wasm,
 * which call initBackend themselves. Every file still sets the backend it needs.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll } from "vitest";
import { registerAdamProvider, registerMomentumProvider, TFJS_ADAM, TFJS_MOMENTUM } from "../../lib/optimizer-hooks";

beforeAll(async () => {
  await tf.setBackend("cpu");
  registerAdamProvider(TFJS_ADAM);
  registerMomentumProvider(TFJS_MOMENTUM);
});
