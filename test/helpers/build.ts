/**
 * lib/dist current before a kernel imports it, built once per test run: the first file to ask
 * builds it and the others wait for its result (the folder comes from test/setup/build-lib.ts).
 * Without that global setup, each file builds for itself.
 */
import * as fs from "fs";
import * as path from "path";
import { inject } from "vitest";
import { buildLib, BuildResult } from "../../lib/runner/build";

const ROOT = path.resolve(__dirname, "..", "..");

export async function libBuild(): Promise<BuildResult> {
  const dir = inject("libBuildDir");
  if (!dir) return buildLib({ root: ROOT });
  const result = path.join(dir, "result.json");
  try {
    fs.mkdirSync(path.join(dir, "building")); // only one worker gets it
  } catch {
    const deadline = Date.now() + 280_000;
    while (!fs.existsSync(result)) {
      if (Date.now() > deadline) throw new Error(`another test file has been building lib/dist for over 280 s (no ${result})`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return JSON.parse(fs.readFileSync(result, "utf8")) as BuildResult;
  }
  const build = buildLib({ root: ROOT });
  fs.writeFileSync(`${result}.tmp`, JSON.stringify(build));
  fs.renameSync(`${result}.tmp`, result);
  return build;
}

/** lib/dist current for a kernel to import (libBuild), or an error carrying the compiler's output. */
export async function requireLibBuild(): Promise<void> {
  const build = await libBuild();
  if (!build.ok) throw new Error(`lib does not build:\n${build.output}`);
}

/**
 * Node arguments that start one of lib/'s command-line scripts (`lib/runner/cli.ts`, …): its
 * compiled copy in lib/dist once that is current (requireLibBuild), which starts in about 0.2 s
 * of CPU where ts-node, as `npm run notebooks` runs it, takes about 2 s to load and transpile.
 * The ts-node way stays covered by the tests that pass `tsNode: true`.
 */
export async function libScriptArgs(script: string, options: { tsNode?: boolean } = {}): Promise<string[]> {
  if (!/^lib\/.+\.ts$/.test(script)) throw new Error(`libScriptArgs: expected a path like lib/runner/cli.ts, got ${JSON.stringify(script)}`);
  if (options.tsNode) return [path.join(ROOT, "node_modules", "ts-node", "dist", "bin.js"), "--transpile-only", path.join(ROOT, script)];
  await requireLibBuild();
  return [path.join(ROOT, "lib", "dist", script.slice("lib/".length).replace(/\.ts$/, ".js"))];
}
