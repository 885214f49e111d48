/**
 * Vitest setup file of the "library" project, whose files share one module graph per worker
 * (isolate: false): before each file, the process-wide state a fresh process would start with.
 * Those files never call initBackend (files that do are in the "isolated" project), so that is
 * the cpu backend and tfjs's own Adam and momentum; every file still sets the backend it needs.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll } from "vitest";
import { registerAdamProvider, registerMomentumProvider, TFJS_ADAM, TFJS_MOMENTUM } from "../../lib/optimizer-hooks";

beforeAll(async () => {
  await tf.setBackend("cpu");
  registerAdamProvider(TFJS_ADAM);
  registerMomentumProvider(TFJS_MOMENTUM);
});
