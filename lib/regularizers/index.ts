/**
 * Penalties that keep an autoencoder from learning the identity (L1 and KL sparsity, contractive
 * Jacobian norm), the convolution output-size formulas, the shared dense autoencoder trained five
 * ways, and toy manifolds where the answer is known: the reconstruction field near and far from a
 * circle, a spiral and its learned curve, Jacobian gains along and across the manifold, and the
 * Gaussian-mixture score that a denoiser approximates (Tweedie): paper 3.
 */
export * from "./penalties";
export * from "./conv-shapes";
export * from "./dense";
export * from "./manifold";
export * from "./curves";
export * from "./far-field";
export * from "./spectrum";
export * from "./score";
