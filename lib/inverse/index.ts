/**
 * Inverse layers and the concrete (generator) network of paper 1's functionally separate autoencoder.
 * (Filled in by the work on issue 4.)
 */
export {};
