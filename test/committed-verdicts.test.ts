/**
 * The verdicts of the committed full runs, pinned: a re-run whose "Paper vs ours" verdicts
 * differ must change this file too, in the same commit, so a flipped verdict is never
 * committed unnoticed. (The notebooks' own tests pin what quick mode reaches.)
 */
import * as path from "path";
import { describe, expect, it } from "vitest";
import { CodeCell, readNotebook } from "../lib/runner/notebook";
import { joinText, ROOT } from "./helpers/notebooks";

/** claim → verdict from the last Markdown table in a committed notebook that starts with `start` (its title or header row). */
function committedVerdicts(file: string, start: string): Record<string, string> {
  const notebook = readNotebook(path.join(ROOT, "notebooks", file));
  const tables = notebook.cells
    .filter((c): c is CodeCell => c.cell_type === "code")
    .flatMap((c) => c.outputs)
    .map((o) => joinText((o as { data?: Record<string, unknown> }).data?.["text/markdown"]))
    .filter((m) => m.startsWith(start));
  expect(tables.length, `a table starting "${start}" in ${file}`).toBeGreaterThan(0);
  const rows = tables[tables.length - 1].split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| claim") && !l.startsWith("| :"));
  return Object.fromEntries(rows.map((l) => {
    const cells = l.split(" | ").map((c) => c.replace(/^\| |\s\|$/g, "").trim());
    return [cells[0], cells[cells.length - 1]];
  }));
}

describe("committed full runs' verdicts", () => {
  it("notebook 1 (4 seeds)", () => {
    expect(committedVerdicts("1-functionally-separate-autoencoder.ipynb", "**The pre-registered claims over seeds**")).toEqual({
      "the abstract network's test accuracy is 98.3–99 %": "holds",
      "a jump connection makes the output more similar to the input": "holds",
      "negative feedback with the jump connection raises the similarity further": "does not hold",
      "negative feedback does not help without a jump connection": "holds",
    });
  });

  it("notebook 2 (30 seeds)", () => {
    expect(committedVerdicts("2-autoencoder-learning-process-demo.ipynb", "| claim | paper | measured | rule | ours | verdict |")).toEqual({
      "Momentum reaches a lower loss than SGD": "within noise",
      "RMSProp reaches a lower loss than SGD": "holds",
      "Adam reaches a lower loss than SGD": "holds",
      "a non-linear activation learns what the identity cannot": "holds",
      "several phases of learning can be told apart": "holds",
      "a linear network stops at the PCA limit": "holds",
      "sigmoid cannot go below its output floor": "holds",
    });
  });

  it("notebook 5 (5 seeds)", () => {
    expect(committedVerdicts("5-autoencoders-lecture-slides.ipynb", "**Pre-registered claims over seeds (full mode)**")).toEqual({
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
    });
  });
});
