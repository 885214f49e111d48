/**
 * Vitest global setup: the run's TypeScript service (lib/runner/ts-service.ts) on the socket that
 * vitest.config.ts puts into the workers' environment as AE_TS_SERVICE, so every kernel that a
 * test starts compiles its cells there (the declaration files parsed once per run). Stopped at
 * the end of the run. Tests that need a kernel compiling on its own set AE_TS_SERVICE to "".
 */
import type { TestProject } from "vitest/node";
import { startTsService, TS_SERVICE_ENV } from "../../lib/runner/ts-service";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const socket = project.config.env?.[TS_SERVICE_ENV];
  if (typeof socket !== "string" || socket === "") throw new Error(`test/setup/ts-service.ts: vitest.config.ts must set test.env.${TS_SERVICE_ENV} to a socket path`);
  const service = await startTsService({ socket });
  return () => service.close();
}
