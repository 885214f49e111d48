/**
 * package.json's install script: a failed native build is only a note for a user without a
 * compiler (wasm alone runs), but fails the install in CI (CI=true). Run here with the build
 * replaced by a command that fails, and by one that succeeds.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { expect, test } from "vitest";

const ROOT = path.resolve(__dirname, "../..");
const install = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts.install;
const BUILD = "node-gyp rebuild --directory=lib/accelerate/native --loglevel=error";

/** The install script with its build step replaced by `build`, run by sh as npm does, with CI set or not. */
function run(build: "true" | "false", ci: string | undefined) {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (ci === undefined) delete env.CI;
  else env.CI = ci;
  return spawnSync("sh", ["-c", install.replace(BUILD, build)], { cwd: ROOT, env, encoding: "utf8" });
}

test("the install script builds the addon in lib/accelerate/native (the command replaced below)", () => {
  expect(install.startsWith(`${BUILD} || `)).toBe(true);
});

test("without CI a failed build is a note and the install goes on (wasm alone will run)", () => {
  for (const ci of [undefined, "", "false"]) {
    const result = run("false", ci);
    expect(result.status, `CI=${ci}`).toBe(0);
    expect(result.stdout).toContain("native kernels not built (they need python3, make and a C++ compiler): wasm alone will run");
  }
});

test("with CI=true a failed build fails the install, saying why", () => {
  const result = run("false", "true");
  expect(result.status).toBe(1);
  expect(result.stderr).toContain("native addon failed to build, and CI=true requires it");
});

test("a build that succeeds prints nothing more, in CI or not", () => {
  for (const ci of [undefined, "true"]) {
    const result = run("true", ci);
    expect(result.status).toBe(0);
    expect(result.stdout + result.stderr).toBe("");
  }
});
