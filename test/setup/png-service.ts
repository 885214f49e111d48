/**
 * Vitest global setup: one chromium with plotly.js for the figures' PNGs of every notebook
 * kernel the tests start through runQuick (test/helpers/notebooks.ts), served on loopback
 * (lib/runner/png-service.ts) as `npm run notebooks` serves its kernels. Chromium starts on the
 * first figure (never in a run without notebook tests); each kernel would otherwise start its
 * own, about 6 s of CPU apiece. figure-bundle's saved-form run uses it too; the kernels that
 * test the in-kernel browser itself (figure-bundle's no-chromium run, frontend) do not get it.
 */
import type { TestProject } from "vitest/node";
import { PngFiller } from "../../lib/runner/plot-png";
import { startPngService } from "../../lib/runner/png-service";

declare module "vitest" {
  export interface ProvidedContext {
    /** The run's PNG service for notebook kernels (absent without this global setup). */
    pngServiceUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const filler = new PngFiller();
  const service = await startPngService(filler);
  project.provide("pngServiceUrl", service.url);
  return async () => {
    await service.close();
    await filler.close();
  };
}
