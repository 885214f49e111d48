/**
 * Penalties that keep an autoencoder from learning the identity (L1 and KL sparsity, contractive
 * Jacobian norm), the convolution output-size formulas, the shared dense autoencoder trained five
 * ways, and the 2-D toy manifold with its reconstruction field: paper 3 (issue 6).
 */
export * from "./penalties";
export * from "./conv-shapes";
export * from "./dense";
export * from "./manifold";
export * from "./curves";
export * from "./far-field";
export * from "./spectrum";
export * from "./score";
