/**
 * What is trained: the trainable variables of models, layers and loose variables, with
 * frozen parts (trainable = false) left out.
 */
import * as tf from "@tensorflow/tfjs";
import type { TrainableSource } from "./types";

/** Exclude a model or layer from training (trainable = false); returns it. */
export function freeze<T extends TrainableSource>(model: T): T {
  model.trainable = false;
  return model;
}

/** Make a model or layer trainable again; returns it. */
export function unfreeze<T extends TrainableSource>(model: T): T {
  model.trainable = true;
  return model;
}

/** The trainable tf.Variables of models/layers and loose variables, frozen ones left out, each once. */
export function trainableVariables(sources: TrainableSource[] = [], variables: tf.Variable[] = []): tf.Variable[] {
  const out: tf.Variable[] = [];
  const seen = new Set<string>();
  const add = (v: tf.Variable) => {
    if (!v.trainable || seen.has(v.name)) return;
    seen.add(v.name);
    out.push(v);
  };
  for (const source of sources) {
    if (source == null || !Array.isArray((source as { trainableWeights?: unknown }).trainableWeights)) {
      throw new Error("trainableVariables: each entry of models must be a tf.LayersModel or tf.layers.Layer");
    }
    for (const w of source.trainableWeights) if (w.trainable) add(w.read() as tf.Variable);
  }
  for (const v of variables) {
    if (!(v instanceof tf.Variable)) throw new Error("trainableVariables: each entry of variables must be a tf.Variable");
    add(v);
  }
  return out;
}
