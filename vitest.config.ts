import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: tensor tests and kernel-driving tests compete for them, so keep workers few.
    maxWorkers: 2,
  },
});
