/**
 * The public API (lib/index.ts): at most 250 names, each paper's machinery under its namespace,
 * no plumbing or test-only helper on it, and every `ae.…` name the notebooks use resolves there.
 */
import { describe, expect, it, beforeAll } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";
import * as ae from "../lib/index";

const ROOT = path.resolve(__dirname, "..");
const NAMESPACES = ["fsae", "demo", "regularized", "csae", "slides"] as const;

/** Top-level names of lib/index.ts (values and types) and the members of each namespace. */
function barrelNames(): { top: string[]; members: Map<string, Set<string>> } {
  const entry = path.join(ROOT, "lib/index.ts");
  const program = ts.createProgram([entry], {
    module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022,
    skipLibCheck: true, noEmit: true,
  });
  const checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
  const top = checker.getExportsOfModule(moduleSymbol);
  const members = new Map<string, Set<string>>();
  for (const symbol of top) {
    if (!(NAMESPACES as readonly string[]).includes(symbol.name)) continue;
    const target = checker.getAliasedSymbol(symbol);
    members.set(symbol.name, new Set(checker.getExportsOfModule(target).map((s) => s.name)));
  }
  return { top: top.map((s) => s.name), members };
}

/** The `ae.name` and `ae.namespace.name` references in a notebook's code cells. */
function notebookReferences(file: string): string[] {
  const notebook = JSON.parse(fs.readFileSync(file, "utf8")) as { cells: Array<{ cell_type: string; source: string[] | string }> };
  const code = notebook.cells.filter((c) => c.cell_type === "code").map((c) => (Array.isArray(c.source) ? c.source.join("") : c.source)).join("\n");
  const refs = new Set<string>();
  for (const match of code.matchAll(/\bae\.([A-Za-z_$][\w$]*)(?:\.([A-Za-z_$][\w$]*))?/g)) {
    refs.add((NAMESPACES as readonly string[]).includes(match[1]) && match[2] ? `${match[1]}.${match[2]}` : match[1]);
  }
  return [...refs].sort();
}

let names: ReturnType<typeof barrelNames>;
beforeAll(() => {
  names = barrelNames();
}, 60_000);

describe("lib/index.ts, the public API", () => {
  it("exports at most 250 names (values and types), the five paper namespaces among them", () => {
    expect(names.top.length).toBeLessThanOrEqual(250);
    expect(names.top.length).toBeGreaterThan(100);
    for (const ns of NAMESPACES) expect(names.top).toContain(ns);
  });

  it("keeps the core flat and each paper's machinery under its namespace", () => {
    for (const core of ["setup", "NotebookRun", "loadMnist", "trainModel", "meanSquaredError", "showFigure", "replicate", "cachedModel", "pca"]) {
      expect(names.top).toContain(core);
    }
    const homes: Record<(typeof NAMESPACES)[number], string[]> = {
      fsae: ["concreteNetwork", "denseInverse", "softmaxInverseApprox", "negativeFeedback"],
      demo: ["demoAutoencoder", "createAdamOptimizer", "learningPhases", "replicateDemoEnsemble"],
      regularized: ["denseAutoencoder", "bernoulliKl", "sigmoidEncoderJacobian", "reconstructionField"],
      csae: ["csaeLinear", "csaeLoss", "csaeConv", "loadOrComputePedcc", "nearestCentroidAccuracy"],
      slides: ["tiedDense", "maxPoolWithSwitches", "pretrainStackedDenoising", "transmitCodes"],
    };
    for (const [ns, members] of Object.entries(homes)) {
      for (const member of members) {
        expect(names.members.get(ns), `${ns}.${member}`).toContain(member);
        expect(names.top, `${member} is paper machinery, not core`).not.toContain(member);
      }
    }
    expect(typeof ae.csae.csaeLoss).toBe("function");
    expect(typeof ae.fsae.concreteNetwork).toBe("function");
  });

  it("carries no plumbing, accelerator internals or test-only helpers", () => {
    const plumbing = [
      "encodeIdx", "writeIdxFile", "parseIdx", "readIdxFile", "clearIdxCache", "crc32", "drawBitmapText", "fontHasGlyph",
      "saveWeights", "loadWeights", "readWeightsManifest", "parseBackendRequest", "resolveBackendRequest", "resetPlotlyLoader",
      "clearCollectedOutputs", "collectedOutputs", "createProgressReporter", "formatProgress", "regularizedIncompleteBeta",
      "logGamma", "setNativeEnabled", "nativeCounters", "setConv2DBackpropFilterMethod", "accelerateWasm", "currentSetup",
    ];
    for (const name of plumbing) expect(names.top, name).not.toContain(name);
  });

  it("resolves every ae.… name that the notebooks and the test notebooks use (the malformed fixture aside)", () => {
    const files = [
      ...fs.readdirSync(path.join(ROOT, "notebooks")).filter((f) => f.endsWith(".ipynb")).map((f) => path.join(ROOT, "notebooks", f)),
      ...fs.readdirSync(path.join(ROOT, "test/fixtures")).filter((f) => f.endsWith(".ipynb") && !f.includes("malformed")).map((f) => path.join(ROOT, "test/fixtures", f)),
    ];
    expect(files.length).toBeGreaterThanOrEqual(5);
    const missing: string[] = [];
    for (const file of files) {
      for (const ref of notebookReferences(file)) {
        const [head, member] = ref.split(".");
        const ok = member ? names.members.get(head)?.has(member) : names.top.includes(head);
        if (!ok) missing.push(`${path.basename(file)}: ae.${ref}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
