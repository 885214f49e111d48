/**
 * Tied weights, pooling inverses, greedy layer-wise pre-training and code-size trade-offs of
 * paper 5's lecture (basic, tied, denoising, stacked and convolutional autoencoders).
 */
export * from "./tied";
export * from "./unpool";
export * from "./quantize";
export * from "./pretrain";
export * from "./convae";
export * from "./convbn";
export * from "./convstack";
