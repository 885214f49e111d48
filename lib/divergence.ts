/**
 * Divergence without NaN: training that has blown up or died while every number stays
 * finite. Checked at epoch ends only (one read-back of a few scalars per epoch):
 * - blown up: the largest |weight| of the trained variables has grown more than
 *   `growthLimit` times its value at the start (measured: the 784-400-40-400-784 MLP
 *   autoencoder on 512 MNIST images reaches 3.8e6 after one epoch of Adam at lr 1e6, SGD at
 *   lr 1e6 reaches 7.8e2 from 0.12, i.e. 6,500×; normal training at lr 1e-3 grows < 1.3×); the
 *   start counts as at least 0.1, so weights that start at zero must pass 100;
 * - stalled: every loss term has stopped moving (relative change ≤ `flatTolerance` for
 *   `flatEpochs` epochs in a row; measured: dead ReLUs leave the epoch loss moving by < 1e-7
 *   relative (float32 summation order), while live training moves it by ≥ 1e-3 per epoch). A
 *   plateau of plain SGD with a small step also trips it (notebook 2's SGD sweep moves by
 *   ≤ 1e-6 per epoch from epoch 87), so the message names both causes.
 * trainModel warns once through `warn`, naming the model, the term and the epoch.
 */
import * as tf from "@tensorflow/tfjs";

export interface DivergenceOptions {
  /** What is trained, as the warning names it (e.g. the model's name). */
  modelName: string;
  /** The trained variables (their largest |value| is tracked). */
  variables: tf.Variable[];
  /** Warn when max |w| exceeds this multiple of its starting value (default 1000). */
  growthLimit?: number;
  /** Floor for the starting max |w|, so weights that start at or near 0 must pass growthLimit·minStart = 100 (default 0.1). */
  minStart?: number;
  /** Relative change of a term's epoch mean that counts as "not moving" (default 1e-6). */
  flatTolerance?: number;
  /** Consecutive flat epochs before warning (default 2, i.e. three equal epoch means). */
  flatEpochs?: number;
  /** Where the one warning goes (default console.warn). */
  warn?: (message: string) => void;
  /** Prefix of the warning (default "trainModel"). */
  caller?: string;
}

/** One epoch-end check; `check` resolves to the warning it gave, if any. */
export interface DivergenceDetector {
  check(epoch: number, terms: Record<string, number>): Promise<string | null>;
  /** Free the kept starting value. */
  dispose(): void;
}

/** Largest |value| of each variable, as one rank-1 tensor (no read-back). */
function maxAbsPerVariable(variables: tf.Variable[]): tf.Tensor1D {
  return tf.tidy(() => tf.stack(variables.map((v) => tf.max(tf.abs(v)))) as tf.Tensor1D);
}

/** The terms a warning names: all but "total", unless "total" is the only one. */
function watchedTerms(terms: Record<string, number>): string[] {
  const names = Object.keys(terms).filter((n) => n !== "total");
  return names.length > 0 ? names : Object.keys(terms);
}

function termsText(terms: Record<string, number>, names: string[]): string {
  return names.map((n) => `'${n}' = ${terms[n].toPrecision(5)}`).join(", ");
}

function relativeChange(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-30);
}

/** Start tracking (keeps one small tensor: each variable's max |w| now, read at the first check). */
export function createDivergenceDetector(options: DivergenceOptions): DivergenceDetector {
  const growthLimit = options.growthLimit ?? 1000;
  const minStart = options.minStart ?? 0.1;
  const flatTolerance = options.flatTolerance ?? 1e-6;
  const flatEpochs = options.flatEpochs ?? 2;
  const warn = options.warn ?? ((message: string) => console.warn(message));
  const caller = options.caller ?? "trainModel";
  const variables = options.variables;
  let startTensor: tf.Tensor1D | null = variables.length > 0 ? maxAbsPerVariable(variables) : null;
  let start: number | null = null;
  let previous: Record<string, number> | null = null;
  let flatRun = 0;
  let warned = false;

  const say = (message: string): string => {
    warned = true;
    const text = `${caller}: ${options.modelName}: ${message}`;
    warn(text);
    return text;
  };

  async function checkWeights(epoch: number, terms: Record<string, number>): Promise<string | null> {
    if (variables.length === 0) return null;
    const now = maxAbsPerVariable(variables);
    const values = await now.data();
    now.dispose();
    if (start === null && startTensor) {
      start = Math.max(...(await startTensor.data()));
      startTensor.dispose();
      startTensor = null;
    }
    let worst = 0;
    for (let i = 1; i < values.length; i++) if (values[i] > values[worst]) worst = i;
    const base = Math.max(start ?? 0, minStart);
    if (!(values[worst] > growthLimit * base)) return null;
    const names = watchedTerms(terms);
    return say(`training has blown up in epoch ${epoch}: the largest weight, |${variables[worst].name}| = ${values[worst].toExponential(2)}, ` +
      `is ${Math.round(values[worst] / base).toLocaleString("en-US")}× the largest at the start (${base.toPrecision(2)}); loss term${names.length > 1 ? "s" : ""} ${termsText(terms, names)}. ` +
      `Try a lower learning rate.`);
  }

  function checkFlat(epoch: number, terms: Record<string, number>): string | null {
    const watched = watchedTerms(terms);
    const flat = previous !== null && watched.some((n) => Math.abs(terms[n]) > 1e-12) && watched.every((n) => previous![n] !== undefined && relativeChange(terms[n], previous![n]) <= flatTolerance);
    flatRun = flat ? flatRun + 1 : 0;
    previous = { ...terms };
    if (flatRun < flatEpochs) return null;
    return say(`training has stalled by epoch ${epoch}: loss term${watched.length > 1 ? "s" : ""} ${termsText(terms, watched)} ` +
      `ha${watched.length > 1 ? "ve" : "s"} not moved (relative change ≤ ${flatTolerance.toExponential(0)}) for ${flatRun} epochs: no gradient flows ` +
      `(dead ReLUs, saturated outputs) or the steps are too small to move the loss. If that is not expected, try another learning rate or initialisation.`);
  }

  return {
    async check(epoch, terms) {
      if (warned) return null;
      return (await checkWeights(epoch, terms)) ?? checkFlat(epoch, terms);
    },
    dispose() {
      startTensor?.dispose();
      startTensor = null;
    },
  };
}

/** How a warning names what is trained: the label, else the models' names, else "N variables". */
export function trainedName(label: string | undefined, models: ReadonlyArray<{ name: string }> | undefined, variableCount: number): string {
  if (label) return label;
  if (models && models.length > 0) return models.map((m) => m.name).join(" + ");
  return `${variableCount} variable${variableCount === 1 ? "" : "s"}`;
}
