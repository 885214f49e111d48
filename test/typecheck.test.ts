/**
 * npm test's type-check: `npm run typecheck` (tsc over lib, test and vitest.config.ts, strict) as
 * one test file, so that it runs on one core while the other test files run on the other,
 * instead of alone before them (about 14 s of one core from a fresh checkout, 6 s incremental).
 * A run of named files (`npx vitest run test/x.test.ts`) leaves it out.
 */
import { spawn } from "child_process";
import * as path from "path";
import { expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "..");

it("the project type-checks (npm run typecheck: tsc -p tsconfig.json, no errors)", async () => {
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn("npm", ["run", "--silent", "typecheck"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", reject);
    child.on("close", (exitCode) => resolve({ code: exitCode, output }));
  });
  expect(code, `npm run typecheck failed:\n${output}`).toBe(0);
}, 300_000);
