/**
 * Loss functions for the CSAE baselines, in the `trainModel` shape (batch → named terms).
 * CSAE itself uses `csaeLoss` of lib/models/csae.ts (eqs. 6–12).
 */
import * as tf from "@tensorflow/tfjs";
import { LossContext, LossTerms, LossTermsFn } from "../train";
import { meanSquaredError } from "../metrics";

/** Loss1 alone (eq. 6) for an encoder without decoder (paper 4's CSAE_encoder): { centroid: MSE(encoder(x), μ_label) }. */
export function encoderOnlyLoss(encode: (x: tf.Tensor, training: boolean) => tf.Tensor, centroids: tf.Tensor2D, options: { imagesKey?: string; labelsKey?: string } = {}): LossTermsFn {
  if (!(centroids instanceof tf.Tensor) || centroids.rank !== 2) throw new Error("encoderOnlyLoss: centroids must be a [numClasses, latentDim] tensor");
  if (typeof encode !== "function") throw new Error("encoderOnlyLoss: encode must be a function (x, training) => latent codes");
  const imagesKey = options.imagesKey ?? "xs";
  const labelsKey = options.labelsKey ?? "labels";
  return (batch: Record<string, tf.Tensor>, context: LossContext): LossTerms => {
    const images = batch[imagesKey];
    const labels = batch[labelsKey];
    if (!images || !labels) throw new Error(`encoderOnlyLoss: the batch needs "${imagesKey}" and "${labelsKey}"; it has ${Object.keys(batch).join(", ")}`);
    const latent = encode(images, context.training);
    if (latent.rank !== 2 || latent.shape[1] !== centroids.shape[1]) {
      throw new Error(`encoderOnlyLoss: the encoder gives [${latent.shape.join(", ")}] but the centroids are ${centroids.shape[1]}-dimensional`);
    }
    const target = tf.gather(centroids, tf.cast(labels, "int32"));
    return { centroid: meanSquaredError(latent, target) };
  };
}
