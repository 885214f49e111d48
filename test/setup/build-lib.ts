/**
 * Vitest global setup: a folder where the first test file that needs a current lib/dist builds
 * it (tsc -b tsconfig.build.json: about 1 s when lib/dist is current, a compile of what changed
 * otherwise) for the whole run, and the others read the result (test/helpers/build.ts). The files
 * that start kernels then do not each run the compiler, and a run without such files builds
 * nothing. In watch mode every rerun builds again.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** Where this run's lib/dist build is made once and shared (absent without this global setup). */
    libBuildDir: string;
  }
}

export default function setup(project: TestProject): () => void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ae-lib-build-"));
  project.provide("libBuildDir", dir);
  project.onTestsRerun(() => {
    for (const entry of fs.readdirSync(dir)) fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
  });
  return () => fs.rmSync(dir, { recursive: true, force: true });
}
