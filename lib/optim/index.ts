/**
 * Optimisers written from their equations (SGD, Momentum, RMSProp, Adam) and the toy data and dense autoencoder of paper 2's learning-process demo.
 * (Filled in by the work on issue 5.)
 */
export {};
