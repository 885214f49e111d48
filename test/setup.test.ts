import { afterEach, describe, expect, it, vi } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { byMode, currentSetup, modeFromEnv, parseMode, setup } from "../lib/setup";
import { restoreGlobalRandom } from "../lib/random";

describe("setup", () => {
  afterEach(() => restoreGlobalRandom());

  it("parses modes and names the bad input", () => {
    expect(parseMode("quick")).toBe("quick");
    expect(parseMode("full")).toBe("full");
    expect(() => parseMode("fast", "AE_MODE")).toThrow(/AE_MODE must be "quick" or "full", got "fast"/);
  });

  it("reads the mode from AE_MODE, quick by default", () => {
    expect(modeFromEnv({})).toBe("quick");
    expect(modeFromEnv({ AE_MODE: "full" })).toBe("full");
    expect(() => modeFromEnv({ AE_MODE: "slow" })).toThrow(/AE_MODE/);
  });

  it("seeds, picks the asked backend and reports it; byMode follows the mode", async () => {
    const first = await setup({ seed: 3, backend: "cpu", mode: "full", verbose: false });
    expect(first).toMatchObject({ mode: "full", quick: false, seed: 3 });
    expect(first.backend.name).toBe("cpu");
    expect(tf.getBackend()).toBe("cpu");
    expect(currentSetup()).toBe(first);
    expect(byMode({ quick: 1, full: 2 })).toBe(2);
    const a = tf.tidy(() => tf.randomNormal([4]).arraySync());
    await setup({ seed: 3, backend: "cpu", mode: "quick", verbose: false });
    const b = tf.tidy(() => tf.randomNormal([4]).arraySync());
    expect(b).toEqual(a);
    expect(byMode({ quick: 1, full: 2 })).toBe(1);
  });

  it("fresh: true / false sets AE_FRESH for the process (what ae.cachedModel reads), unset leaves it; the report says so", async () => {
    const saved = process.env.AE_FRESH;
    const lines: string[] = [];
    const log = vi.spyOn(console, "log").mockImplementation((line: string) => { lines.push(line); });
    try {
      delete process.env.AE_FRESH;
      await setup({ backend: "cpu", verbose: false });
      expect(process.env.AE_FRESH).toBeUndefined();
      await setup({ backend: "cpu", fresh: true });
      expect(process.env.AE_FRESH).toBe("1");
      expect(lines.at(-1)).toMatch(/^mode: \w+ · seed: 0 · backend: cpu .* · fresh: every cached model is retrained$/);
      await setup({ backend: "cpu" });
      expect(process.env.AE_FRESH).toBe("1");
      await setup({ backend: "cpu", fresh: false });
      expect(process.env.AE_FRESH).toBe("0");
      expect(lines.at(-1)).not.toMatch(/fresh/);
      await expect(setup({ backend: "cpu", fresh: "yes" as never, verbose: false })).rejects.toThrow(/fresh must be true or false, got "yes"/);
    } finally {
      log.mockRestore();
      if (saved === undefined) delete process.env.AE_FRESH;
      else process.env.AE_FRESH = saved;
    }
  });

  it("rejects a fractional seed", async () => {
    await expect(setup({ seed: 0.5, backend: "cpu", verbose: false })).rejects.toThrow(/seed must be an integer/);
  });
});
