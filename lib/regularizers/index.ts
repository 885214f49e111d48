/**
 * Penalties that keep an autoencoder from learning the identity (L1 and KL sparsity, contractive Jacobian norm) and the toy manifolds of paper 3.
 * (Filled in by the work on issue 6.)
 */
export {};
