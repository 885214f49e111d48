/** Small dense linear algebra for the notebooks: PCA, principal angles, pseudo-inverse. (Being written.) */
export {};
