/**
 * Inverse layers and the concrete (generator) network of paper 1's functionally separate autoencoder.
 * Floors: functions.ts, layers.ts (inverses of one layer) ← stages.ts (the abstract network as
 * invertible stages) ← concrete.ts (the mirror network, reconstruction, feedback) ← train-concrete.ts.
 */
export * from "./functions";
export * from "./layers";
export type { InvertibleActivation, AbstractStage, AbstractActivationsOptions } from "./stages";
export { abstractStages, abstractActivations, applyAbstractStages } from "./stages";
export * from "./concrete";
export * from "./train-concrete";
