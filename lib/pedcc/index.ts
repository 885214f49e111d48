/**
 * Predefined evenly-distributed class centroids (PEDCC) and the CSAE models of paper 4:
 * the charged-particle simulation, evenness measures, saved centroids under data/pedcc/,
 * nearest-centroid classification, per-class Gaussian generation, CSAE-C and its baselines,
 * CSAE-L with the CSAE loss (lib/models/csae.ts), the paper's CVAE baseline (lib/models/cvae.ts),
 * measures of generated samples (sharpness, class accuracy by a separate classifier), the
 * extrapolation data of §4.4 (held-out digits, Fashion-MNIST), and Figure 9's class-centre spread
 * measured the paper's way.
 */
export * from "./simulation";
export * from "./evenness";
export * from "./store";
export * from "./classify";
export * from "./models";
export * from "./losses";
export * from "./sample-quality";
export * from "./extrapolation";
export * from "./centre-spread";
export * from "../models/csae";
export * from "../models/cvae";
