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
