/**
 * The size rule for the library's sources (README, layout): no TypeScript or JavaScript file in
 * lib/ over 500 lines and no C++ file over 700, so each file stays one concern a reader can hold;
 * the build outputs (lib/dist, the addon's build/) aside.
 */
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";

const LIB = path.resolve(__dirname, "..", "lib");
const SKIPPED = new Set([path.join(LIB, "dist"), path.join(LIB, "accelerate", "native", "build")]);
const LIMITS: Array<[RegExp, number]> = [[/\.(ts|js)$/, 500], [/\.(cc|h)$/, 700]];

/** Every file under `dir`, build outputs aside. */
function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (SKIPPED.has(full)) return [];
    return entry.isDirectory() ? sources(full) : [full];
  });
}

describe("lib/'s source files", () => {
  it("no TypeScript or JavaScript file over 500 lines, no C++ file over 700", () => {
    const files = sources(LIB);
    const checked = files.filter((file) => LIMITS.some(([pattern]) => pattern.test(file)));
    expect(checked.length).toBeGreaterThan(100); // the walk found the library
    const over = checked.flatMap((file) => {
      const limit = LIMITS.find(([pattern]) => pattern.test(file))![1];
      const lines = fs.readFileSync(file, "utf8").split("\n").length - 1;
      return lines > limit ? [`${path.relative(LIB, file)}: ${lines} lines (limit ${limit})`] : [];
    });
    expect(over).toEqual([]);
  });
});
