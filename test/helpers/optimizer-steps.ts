/**
 * The two-layer net the fused-optimiser tests train: fixed weights and data, a few optimiser
 * steps, the weights after; optionally a reshaped view of the first weight taken before one step
 * (it shares the weight's memory, so an in-place update must leave it as it was).
 */
import * as tf from "@tensorflow/tfjs";
import { seededNormal, withBackend } from "./gradcheck";

const SHAPES = [[12, 8], [8], [8, 3]];

export interface TwoLayerStepsOptions {
  steps: number;
  /** Seeds of the weights (weightSeed + i) and of x and y. */
  weightSeed: number;
  dataSeeds: [number, number];
  /** Take the reshaped view of the first weight before this step (default: none). */
  snapshotAtStep?: number;
  /** Set the learning rate to `rate` before step `step`. */
  learningRateChange?: { step: number; rate: number };
}

/** Train the net on `backend` with the optimiser `makeOptimizer` builds; the weights after, whether the view changed, and the optimiser. */
export async function trainTwoLayerNet<O extends tf.Optimizer>(backend: string, makeOptimizer: () => O, options: TwoLayerStepsOptions) {
  const { steps, weightSeed, dataSeeds, snapshotAtStep = -1, learningRateChange } = options;
  return withBackend(backend, () => {
    const vars = SHAPES.map((shape, i) => {
      const initial = tf.tensor(seededNormal(shape.reduce((a, b) => a * b, 1), weightSeed + i, 0.5), shape);
      const variable = tf.variable(initial);
      initial.dispose(); // else the variable shares its memory, and the fused step would (rightly) copy it first
      return variable;
    });
    const x = tf.tensor(seededNormal(16 * 12, dataSeeds[0]), [16, 12]);
    const y = tf.tensor(seededNormal(16 * 3, dataSeeds[1]), [16, 3]);
    const optimizer = makeOptimizer();
    let snapshot: tf.Tensor | null = null;
    let snapshotValues: Float32Array | null = null;
    for (let step = 0; step < steps; step++) {
      if (learningRateChange && step === learningRateChange.step) (optimizer as unknown as { setLearningRate(rate: number): void }).setLearningRate(learningRateChange.rate);
      if (step === snapshotAtStep) {
        snapshot = tf.reshape(vars[0], [-1]); // shares the weight's memory
        snapshotValues = Float32Array.from(snapshot.dataSync());
      }
      optimizer.minimize(() => tf.losses.meanSquaredError(y, tf.matMul(tf.relu(tf.add(tf.matMul(x, vars[0]), vars[1])), vars[2])) as tf.Scalar, false, vars);
    }
    const weights = vars.map((v) => Float32Array.from(v.dataSync()));
    const snapshotChanged = snapshot && snapshotValues ? snapshot.dataSync().some((v, i) => v !== snapshotValues![i]) : null;
    tf.dispose([...vars, x, y, ...(snapshot ? [snapshot] : [])]);
    return { weights, snapshotChanged, optimizer };
  });
}
