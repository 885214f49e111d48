/**
 * The native addon's named codes, mirroring src/enums.h value for value. The addon exports its
 * own copy (`enums`); loadNativeKernels refuses an addon whose values differ from these, and
 * test/accelerate/native-addon.test.ts checks that they agree.
 */

/** What conv2d computes: y from x and w, dx from dy (passed as y) and w, or dw from x and dy. */
export enum ConvMode { Forward = 0, InputGradient = 1, FilterGradient = 2 }
/** How conv2d computes it: im2col and a matrix product, or the direct kernels (few channels, stride 1). */
export enum ConvAlgorithm { Im2col = 0, Direct = 1 }
/** The element-wise function of unary (tfjs-cpu's semantics). */
export enum UnaryOp { LeakyRelu = 0, Step = 1, Relu = 2, Tanh = 3, Sigmoid = 4, Softplus = 5 }
/** The element-wise function of binary: a + b, a − b, a·b, a / b, (a − b)²; a dense layer's activation gradients dy·step(y), dy·(y·(1 − y)) (a = dy, b = y); Math.min, Math.max. */
export enum BinaryOp { Add = 0, Sub = 1, Mul = 2, Div = 3, SquaredDifference = 4, ReluGrad = 5, SigmoidGrad = 6, Minimum = 7, Maximum = 8 }
/** upsample's direction: small → large, or the gradient large → small (block sums). */
export enum UpsampleMode { Upscale = 0, Gradient = 1 }
/** compare's test: a > b or a ≤ b (false where either side is NaN, as tfjs's Greater and LessEqual). */
export enum ComparisonOp { Greater = 0, LessEqual = 1 }

/** The members of a numeric TypeScript enum by name (without its reverse value → name entries). */
function members(enumObject: Record<string, string | number>): Record<string, number> {
  return Object.fromEntries(Object.entries(enumObject).filter((entry): entry is [string, number] => typeof entry[1] === "number"));
}

/** Every enum as the addon exports them: { ConvMode: { Forward: 0, … }, … }. */
export const NATIVE_ENUMS: Record<string, Record<string, number>> = {
  ConvMode: members(ConvMode),
  ConvAlgorithm: members(ConvAlgorithm),
  UnaryOp: members(UnaryOp),
  BinaryOp: members(BinaryOp),
  UpsampleMode: members(UpsampleMode),
  ComparisonOp: members(ComparisonOp),
};

/** Where the addon's enums differ from these (one line each), or [] when they agree. */
export function enumMismatches(addonEnums: unknown): string[] {
  const theirs = (addonEnums ?? {}) as Record<string, Record<string, number> | undefined>;
  const problems: string[] = [];
  for (const name of new Set([...Object.keys(NATIVE_ENUMS), ...Object.keys(theirs)])) {
    const ours = NATIVE_ENUMS[name] ?? {};
    const other = theirs[name] ?? {};
    for (const member of new Set([...Object.keys(ours), ...Object.keys(other)])) {
      if (ours[member] !== other[member]) problems.push(`${name}.${member}: TypeScript ${ours[member] ?? "missing"}, addon ${other[member] ?? "missing"}`);
    }
  }
  return problems;
}
