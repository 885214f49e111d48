/**
 * Tied weights, pooling inverses, greedy layer-wise pre-training and code-size trade-offs of paper 5's lecture.
 * (Filled in by the work on issue 8.)
 */
export {};
