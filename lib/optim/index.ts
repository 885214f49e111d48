/**
 * Optimisers written from their equations (SGD, Momentum, RMSProp, Adam) and the toy data,
 * dense autoencoder and training run of paper 2's learning-process demo.
 */
export * from "./optimizers";
export * from "./clusters";
export * from "./dense-autoencoder";
export * from "./demo";
export * from "./ensemble";
