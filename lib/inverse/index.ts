/**
 * Inverse layers and the concrete (generator) network of paper 1's functionally separate autoencoder.
 */
export * from "./functions";
export * from "./layers";
export * from "./concrete";
