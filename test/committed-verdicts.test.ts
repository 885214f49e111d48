/**
 * The verdicts of the committed full runs, pinned: a re-run whose "Paper vs ours" verdicts
 * differ must change this file too, in the same commit, so a flipped verdict is never
 * committed unnoticed. (The notebooks' own tests pin what quick mode reaches.)
 */
import * as path from "path";
import { describe, expect, it } from "vitest";
import { CodeCell, readNotebook } from "../lib/runner/notebook";
import { parseDuration } from "../lib/runner/run-times";
import { joinText, ROOT, tableRows } from "./helpers/notebooks";

/** The last Markdown output of a committed notebook that starts with `start` (a table's title or header row). */
function lastMarkdownTable(file: string, start: string): string {
  const notebook = readNotebook(path.join(ROOT, "notebooks", file));
  const tables = notebook.cells
    .filter((c): c is CodeCell => c.cell_type === "code")
    .flatMap((c) => c.outputs)
    .map((o) => joinText((o as { data?: Record<string, unknown> }).data?.["text/markdown"]))
    .filter((m) => m.startsWith(start));
  expect(tables.length, `a table starting "${start}" in ${file}`).toBeGreaterThan(0);
  return tables[tables.length - 1];
}

/** claim → verdict from the last Markdown table in a committed notebook that starts with `start` (its title or header row). */
function committedVerdicts(file: string, start: string): Record<string, string> {
  return Object.fromEntries(tableRows(lastMarkdownTable(file, start)).map((cells) => [cells[0], cells[cells.length - 1]]));
}

/** Each committed notebook's verdicts, claim → verdict, read from its last table that starts with `table`. */
const PINNED: Array<{ notebook: string; seeds: string; table: string; verdicts: Record<string, string> }> = [
  {
    notebook: "1-functionally-separate-autoencoder.ipynb",
    seeds: "4 seeds",
    table: "**The pre-registered claims over seeds**",
    verdicts: {
      "the abstract network's test accuracy is 98.3–99 %": "within noise",
      "a jump connection makes the output more similar to the input": "holds",
      "negative feedback with the jump connection raises the similarity further": "does not hold",
      "negative feedback does not help without a jump connection": "holds",
    },
  },
  {
    notebook: "2-autoencoder-learning-process-demo.ipynb",
    seeds: "30 seeds",
    table: "| claim | paper | measured | rule | ours | verdict |",
    verdicts: {
      "Momentum reaches a lower loss than SGD": "within noise",
      "RMSProp reaches a lower loss than SGD": "holds",
      "Adam reaches a lower loss than SGD": "holds",
      "a non-linear activation learns what the identity cannot": "holds",
      "several phases of learning can be told apart": "holds",
      "a linear network stops at the PCA limit": "holds",
      "sigmoid cannot go below its output floor": "holds",
    },
  },
  {
    notebook: "3-regularized-autoencoders-survey.ipynb",
    seeds: "3–5 seeds",
    table: "**Every comparison over seeds (full mode)",
    verdicts: {
      "a nonlinear AE reconstructs test digits better than PCA at k = 2": "holds",
      "a nonlinear AE reconstructs test digits better than PCA at k = 4": "holds",
      "a nonlinear AE reconstructs test digits better than PCA at k = 8": "holds",
      "a nonlinear AE reconstructs test digits better than PCA at k = 16": "holds",
      "a nonlinear AE reconstructs test digits better than PCA at k = 32": "holds",
      "L1 codes are sparser than plain ones": "holds",
      "KL codes fire less than plain ones": "holds",
      "the contractive encoder has a smaller Jacobian than plain": "holds",
      "the contractive encoder has a smaller Jacobian than l1": "holds",
      "the contractive encoder has a smaller Jacobian than kl": "holds",
      "the contractive encoder has a smaller Jacobian than denoising": "holds",
      "the denoising AE reconstructs noisy inputs better than plain": "holds",
      "the denoising AE reconstructs noisy inputs better than l1": "holds",
      "the denoising AE reconstructs noisy inputs better than kl": "holds",
      "the denoising AE reconstructs noisy inputs better than contractive": "holds",
      "a linear probe does better on plain codes than on raw pixels": "does not hold",
      "a linear probe does better on l1 codes than on raw pixels": "does not hold",
      "a linear probe does better on kl codes than on raw pixels": "holds",
      "a linear probe does better on denoising codes than on raw pixels": "does not hold",
      "a linear probe does better on contractive codes than on raw pixels": "does not hold",
      "with cross-entropy as the loss the conv DAE reconstructs better than with MSE": "holds",
      "a contractive encoder contracts across the manifold more than along it": "holds",
      "the contractive encoder is flatter across than along by more than a plain one": "does not hold",
      "the contractive AE's reconstruction has slope 'basically zero' across the data (< 0.1)": "does not hold",
      "the denoising AE's reconstruction is flatter across the data than the plain AE's": "holds",
    },
  },
  {
    notebook: "4-csae-pedcc.ipynb",
    seeds: "3 seeds",
    table: "**The paper's comparisons, over 3 seeds: verdicts",
    verdicts: {
      "the Laplacian loss raises CSAE-C's accuracy": "within noise",
      "the encoder trained towards PEDCC centroids beats basenet": "within noise",
      "the decoder helps: CSAE-C beats its encoder alone": "within noise",
      "CSAE-C beats basenet": "within noise",
      "CSAE-L reconstructs test digits more faithfully than the CVAE": "holds",
      "CSAE-L's generated digits are sharper than the CVAE's": "holds",
      "a fixed classifier recognises CSAE-L's samples as their class more often than the CVAE's": "holds",
    },
  },
  {
    notebook: "4-csae-pedcc.ipynb",
    seeds: "3 seeds, held-out digits",
    table: "**§4.4's claims on the held-out-digit stand-in**",
    verdicts: {
      "noise on the code blurs the reconstruction of unseen inputs": "holds",
      "CSAE (β = 0) reconstructs unseen inputs better than the CVAE": "holds",
    },
  },
  {
    notebook: "5-autoencoders-lecture-slides.ipynb",
    seeds: "5 seeds",
    table: "**Pre-registered claims over seeds (full mode)**",
    verdicts: {
      "pre-training raises test accuracy (600 labels)": "holds",
      "pre-training raises test accuracy (60000 labels)": "holds",
      "the gain is larger with few labels": "holds",
      "the conv denoiser cleans noisy digits: PSNR above the noisy input's at σ = 0.5": "holds",
      "with BN too, switches reconstruct better than the even spread": "holds",
      "with BN, the even spread reconstructs better than the random location": "holds",
      "a linear classifier does better on the stack's top features than on pixels (100 labels)": "holds",
      "a CNN initialised from the stack beats random initialisation (100 labels)": "within noise",
      "a linear classifier does better on the stack's top features than on pixels (600 labels)": "holds",
      "a CNN initialised from the stack beats random initialisation (600 labels)": "within noise",
      "a linear classifier does better on the stack's top features than on pixels (6000 labels)": "holds",
      "a CNN initialised from the stack beats random initialisation (6000 labels)": "within noise",
      "tied weights reconstruct test digits better than untied": "within noise",
      "tied weights also fit the training digits better": "within noise",
      "tying regularises: a smaller generalisation gap": "does not hold",
    },
  },
];

describe("committed full runs' verdicts", () => {
  it.each(PINNED)("$notebook ($seeds)", ({ notebook, table, verdicts }) => {
    expect(committedVerdicts(notebook, table)).toEqual(verdicts);
  });
});

/** The rows of the committed notebook's "What ran" table, what → value. */
function whatRan(file: string): Record<string, string> {
  return Object.fromEntries(tableRows(lastMarkdownTable(file, "**What ran")).map((cells) => [cells[0], cells.slice(1).join(" | ")]));
}

describe("notebook 4's committed run (issue 20: trained, not loaded; within 2 hours)", () => {
  it("is a full run that trained every model it uses and loaded none, in at most 2 hours", () => {
    const rows = whatRan("4-csae-pedcc.ipynb");
    expect(rows.mode).toMatch(/^full\b/);
    const models = /^(\d+): (\d+) trained in this run, (\d+) loaded from data\/weights\//.exec(rows.models ?? "");
    expect(models, `models row: ${rows.models}`).not.toBeNull();
    const [, total, trained, loaded] = models!.map(Number);
    expect(total).toBeGreaterThan(0);
    expect({ trained, loaded }).toEqual({ trained: total, loaded: 0 });
    const seconds = parseDuration(rows["wall time in all"] ?? "");
    expect(seconds, `wall time row: ${rows["wall time in all"]}`).not.toBeNull();
    expect(seconds!).toBeLessThanOrEqual(2 * 3600);
  });
});
