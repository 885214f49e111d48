/** Evaluation metrics shared by the notebooks: MSE, MAE, cosine similarity, PSNR, accuracy, linear probes. (Being written.) */
export {};
