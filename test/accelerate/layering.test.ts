/**
 * The accelerator's door, checked from the sources: the teaching library (all of lib/ but the
 * accelerator and the bench tools) imports lib/accelerate only in lib/backend.ts and only through its index (accelerateWasm); the accelerator imports from
 * the teaching library only its basics (the Adam hook, the batch-norm and sum-of-squares kernel names, option checks); the barrel re-exports none
 * of it; and lib/ has no import cycles.
 */
import * as fs from "fs";
import * as path from "path";
import { expect, test } from "vitest";

const LIB = path.resolve(__dirname, "../../lib");

/** Every .ts file under lib/ (not the compiled build), as paths relative to lib/. */
function libFiles(dir = LIB): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "dist" || entry.name === "build" || entry.name === "node_modules" ? [] : libFiles(full);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [path.relative(LIB, full)] : [];
  });
}

/** The lib-relative files a file imports or re-exports (relative specifiers only), resolved to .ts files. */
function importsOf(file: string): string[] {
  // Comments out first (doc comments show imports such as `import * as ae from "../lib"`).
  const source = fs.readFileSync(path.join(LIB, file), "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const specifiers = [...source.matchAll(/(?:import|export)\s[^;]*?from\s+"(\.[^"]*)"|require\("(\.[^"]*)"\)/g)].map((m) => m[1] ?? m[2]);
  return specifiers.flatMap((specifier) => {
    const base = path.resolve(path.dirname(path.join(LIB, file)), specifier);
    const candidate = [`${base}.ts`, path.join(base, "index.ts")].find((f) => fs.existsSync(f));
    return candidate ? [path.relative(LIB, candidate)] : [];
  });
}

const files = libFiles();
const graph = new Map(files.map((file) => [file, importsOf(file)]));
const inAccelerator = (file: string) => file.startsWith(`accelerate${path.sep}`);
/** Tools that measure and tune the accelerator (npm run bench, the profiler) may reach into it; they are not the teaching library. */
const isTool = (file: string) => file.startsWith(`bench${path.sep}`);

test("the sources were found (a guard for the checks below)", () => {
  expect(files).toContain(path.join("accelerate", "index.ts"));
  expect(files).toContain("backend.ts");
  expect(graph.get("backend.ts")).toContain(path.join("accelerate", "index.ts"));
});

test("the teaching library imports the accelerator only in backend.ts, through lib/accelerate/index.ts", () => {
  const entries = files.filter((file) => !inAccelerator(file) && !isTool(file)).flatMap((file) => graph.get(file)!.filter(inAccelerator).map((target) => `${file} → ${target}`));
  expect(entries).toEqual([`backend.ts → ${path.join("accelerate", "index.ts")}`]);
});

test("the accelerator imports from the teaching library only its basics (the Adam hook, the batch-norm and sum-of-squares kernel names, option checks)", () => {
  const allowed = new Set(["optimizer-hooks.ts", "checks.ts", path.join("models", "batch-norm.ts"), path.join("train", "loss-terms.ts")]);
  const outward = files.filter(inAccelerator).flatMap((file) => graph.get(file)!.filter((t) => !inAccelerator(t) && !allowed.has(t)).map((t) => `${file} → ${t}`));
  expect(outward).toEqual([]);
});

test("the public barrel re-exports nothing of the accelerator", () => {
  expect(graph.get("index.ts")!.filter(inAccelerator)).toEqual([]);
  expect(graph.get("index.ts")).toContain("backend.ts");
  // backend.ts passes on no accelerator names either (only its own types and functions).
  expect(fs.readFileSync(path.join(LIB, "backend.ts"), "utf8")).not.toMatch(/^export\s*(\*|\{[^}]*\})\s*from\s*"\.\/accelerate/m);
});

test("lib/ has no import cycles", () => {
  const state = new Map<string, "open" | "done">();
  const cycles: string[] = [];
  const visit = (file: string, trail: string[]): void => {
    if (state.get(file) === "done") return;
    if (state.get(file) === "open") {
      cycles.push([...trail.slice(trail.indexOf(file)), file].join(" → "));
      return;
    }
    state.set(file, "open");
    for (const next of graph.get(file) ?? []) visit(next, [...trail, file]);
    state.set(file, "done");
  };
  for (const file of files) visit(file, []);
  expect(cycles).toEqual([]);
});
