/**
 * Reference models of the five papers and what they cost (parameters, FLOPs per sample):
 *   mlpAutoencoder            784-400-40-400-784 (paper 4's CSAE-L network; issue 3's MLP)
 *   convDenoisingAutoencoder  the 2,561-parameter conv denoising AE of paper 3
 *   cnnClassifier             issue 3's CNN: 3 valid convs 32/64/64 + dense 128 + 10
 *   fsaeClassifier            paper 1's abstract network (the CNN with leaky ReLU)
 *   csaeLinear + csaeLoss     paper 4's CSAE-L with its three losses and latent noise
 * Builders take `…Options` with defaults and a seed; nothing is built on import.
 */
export * from "./models/cost";
export * from "./models/autoencoder";
export * from "./models/autoencoders";
export * from "./models/classifiers";
export * from "./models/csae";
export type { LayerActivation } from "./models/common";
