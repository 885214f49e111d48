/**
 * Data for the extrapolation experiment of paper 4 (§4.4, Figure 11). The paper feeds an MNIST model
 * EMNIST letters it has never seen; EMNIST is not available offline here, so two stand-ins:
 *   - unseen classes of the same kind: train on 8 digit classes, feed the 2 held-out digits
 *     (handwriting, same strokes and format, but shapes the model never learned, as letters are);
 *   - an unseen domain: Fashion-MNIST test images, in the same 28×28 [0, 1] format (bright object
 *     on black, as MNIST), much further from digits than letters are.
 */
import { LoadMnistOptions, MnistDataset, datasetAvailable, loadFashionMnist, loadMnist } from "../data/mnist";

/**
 * The held-out digits by default: 8 and 9, fixed before any run by a rule that looks at no result (the
 * two highest labels, so the training classes are 0–7). Both are made of strokes the kept digits have
 * (the loops of 0 and 6, the stems of 1 and 7), as EMNIST letters are made of strokes digits have.
 */
export const HELD_OUT_DIGITS: readonly number[] = [8, 9];

/** Options of `loadExtrapolationData`. */
export interface ExtrapolationDataOptions {
  /** Digits left out of training and fed as unseen classes (default HELD_OUT_DIGITS). */
  heldOut?: readonly number[];
  /** Training images of the seen classes, a seeded stratified subset (default all, about 48,000). */
  trainSize?: number;
  /** Images in each test set (seen digits, held-out digits, Fashion-MNIST), seeded and stratified (default all). */
  testSize?: number;
  /** Load the Fashion-MNIST test split too (default: when it is installed; true: throw how to install it if not). */
  fashion?: boolean;
  /** Seed of the subsets (default 0). */
  seed?: number;
  /** 32×32 images, as CSAE-C takes (default false). */
  pad32?: boolean;
  /** Flat [n, 784] images (default true; false: [n, 28, 28, 1]). */
  flatten?: boolean;
}

/** The extrapolation data: caller-owned datasets, freed together by dispose(). */
export interface ExtrapolationData {
  /** Classes trained on (all digits but the held-out ones). */
  seenClasses: number[];
  heldOut: number[];
  /** MNIST training images of the seen classes only (labels unchanged). */
  train: MnistDataset;
  /** MNIST test images of the seen classes. */
  seenTest: MnistDataset;
  /** MNIST test images of the held-out digits. */
  unseenTest: MnistDataset;
  /** Fashion-MNIST test images in the same format, or null when not loaded. */
  fashionTest: MnistDataset | null;
  dispose(): void;
}

/** MNIST split by classes for extrapolation (train on 8 digits, test on the other 2) plus Fashion-MNIST, in one format (paper 4, §4.4 stand-in). */
export function loadExtrapolationData(options: ExtrapolationDataOptions = {}): ExtrapolationData {
  const heldOut = [...(options.heldOut ?? HELD_OUT_DIGITS)].sort((a, b) => a - b);
  if (heldOut.length === 0 || heldOut.length >= 10 || heldOut.some((c) => !Number.isInteger(c) || c < 0 || c > 9) || new Set(heldOut).size !== heldOut.length) {
    throw new Error(`loadExtrapolationData: heldOut must be 1 to 9 distinct digits in 0..9, got ${JSON.stringify(options.heldOut)}`);
  }
  const seenClasses = Array.from({ length: 10 }, (_, c) => c).filter((c) => !heldOut.includes(c));
  const common: LoadMnistOptions = { seed: options.seed ?? 0, pad32: options.pad32 ?? false, flatten: options.flatten ?? true };
  const sized = (size: number | undefined): LoadMnistOptions => (size === undefined ? {} : { subsetSize: size, stratified: true });
  const loaded: MnistDataset[] = [];
  const keep = (d: MnistDataset): MnistDataset => { loaded.push(d); return d; };
  try {
    const train = keep(loadMnist({ ...common, ...sized(options.trainSize), split: "train", classes: seenClasses }));
    const seenTest = keep(loadMnist({ ...common, ...sized(options.testSize), split: "test", classes: seenClasses }));
    const unseenTest = keep(loadMnist({ ...common, ...sized(options.testSize), split: "test", classes: heldOut }));
    const wantFashion = options.fashion ?? datasetAvailable("fashion");
    const fashionTest = wantFashion ? keep(loadFashionMnist({ ...common, ...sized(options.testSize), split: "test" })) : null;
    return { seenClasses, heldOut, train, seenTest, unseenTest, fashionTest, dispose: () => loaded.forEach((d) => d.dispose()) };
  } catch (e) {
    loaded.forEach((d) => d.dispose());
    throw e;
  }
}
