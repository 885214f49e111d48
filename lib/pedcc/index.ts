/**
 * Predefined evenly-distributed class centroids (PEDCC) and the CSAE models of paper 4.
 * (Filled in by the work on issue 7.)
 */
export {};
