/**
 * The one Autoencoder interface: every autoencoder of lib/ implements it (checked by the
 * compiler below), decode(encode(x)) is reconstruct(x), paramCount counts every float the
 * model allocates, and dispose() frees all of it.
 */
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import type { Autoencoder } from "../lib/models/autoencoder";
import { convDenoisingAutoencoder, mlpAutoencoder } from "../lib/models/autoencoders";
import { demoAutoencoder } from "../lib/optim/dense-autoencoder";
import { poolingConvAutoencoder } from "../lib/stacked/convae";
import { basicAutoencoder } from "../lib/stacked/tied";
import { denseAutoencoder } from "../lib/regularizers/dense";
import { csaeConv } from "../lib/pedcc/models";

interface Case {
  name: string;
  build: () => Autoencoder<tf.Tensor, unknown>;
  input: number[];
  /** The code decode() takes, from what encode() returned. */
  code?: (encoded: unknown) => tf.Tensor;
  /** Reconstruct in inference mode (models with batch norm or noise take a `training` flag). */
  inference?: (m: Autoencoder<tf.Tensor, unknown>, x: tf.Tensor) => tf.Tensor;
}

const cases: Case[] = [
  { name: "mlpAutoencoder (AutoencoderModel)", build: () => mlpAutoencoder({ layerSizes: [12, 6, 3, 6, 12], seed: 1 }), input: [5, 12] },
  { name: "convDenoisingAutoencoder", build: () => convDenoisingAutoencoder({ seed: 1 }), input: [2, 28, 28, 1] },
  { name: "demoAutoencoder", build: () => demoAutoencoder({ seed: 1 }), input: [5, 4] },
  { name: "poolingConvAutoencoder (even)", build: () => poolingConvAutoencoder({ unpooling: "even", filters: [4, 2], inputShape: [8, 8, 1], seed: 1 }), input: [2, 8, 8, 1], code: (e) => (e as { code: tf.Tensor }).code },
  { name: "basicAutoencoder (tied)", build: () => basicAutoencoder({ inputDim: 10, codeDim: 3, tiedWeights: true, seed: 1 }), input: [5, 10] },
  { name: "denseAutoencoder", build: () => denseAutoencoder({ inputDim: 10, hiddenUnits: 4, seed: 1 }), input: [5, 10] },
  {
    name: "csaeConv", build: () => csaeConv({ inputShape: [8, 8, 1], latentDim: 4, widths: [2, 2, 2, 2], seed: 1 }), input: [2, 8, 8, 1],
    inference: (m, x) => {
      const csae = m as ReturnType<typeof csaeConv>; // batch norm: compare the parts and the whole in inference mode
      const whole = csae.reconstruct(x, false);
      expect(tf.max(tf.abs(tf.sub(csae.decode(csae.encode(x, false), false), whole))).dataSync()[0]).toBeLessThan(1e-6);
      return whole;
    },
  },
];

describe("every autoencoder implements Autoencoder", () => {
  beforeAll(async () => {
    await tf.setBackend("cpu");
  });

  for (const c of cases) {
    it(`${c.name}: decode(encode(x)) = reconstruct(x), paramCount = floats allocated, dispose frees them`, () => {
      const before = tf.memory();
      const model = c.build();
      const after = tf.memory();
      expect(model.paramCount).toBeGreaterThan(0);
      expect((after.numBytes - before.numBytes) / 4).toBe(model.paramCount);
      tf.tidy(() => {
        const x = tf.randomUniform(c.input, 0, 1, "float32", 7);
        if (c.inference) {
          expect(c.inference(model, x).shape).toEqual(c.input);
          return;
        }
        const encoded = model.encode(x);
        const code = c.code ? c.code(encoded) : (encoded as tf.Tensor);
        const viaParts = model.decode(code);
        const whole = model.reconstruct(x);
        expect(viaParts.shape).toEqual(c.input);
        expect(tf.max(tf.abs(tf.sub(viaParts, whole))).dataSync()[0]).toBeLessThan(1e-6);
      });
      model.dispose();
      expect(tf.memory().numTensors).toBe(before.numTensors);
    });
  }
});
