/**
 * One TypeScript service for every kernel of a run (lib/runner/tslab-patch/ts-service.js). A
 * kernel that imports the library spends about 3 s of CPU parsing and binding declaration files
 * (Node's, the ES library's, tfjs's and ours) before its first cell runs; the service parses them
 * once and compiles the cells of every kernel that AE_TS_SERVICE points at it, each kernel with
 * its own converter. A kernel whose service fails says so once and compiles on its own.
 *
 *   const service = await startTsService();   // env: { [TS_SERVICE_ENV]: service.socket }
 *   …
 *   await service.close();
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { projectRoot } from "./kernel-command";

/** The environment variable that points a kernel at a run's TypeScript service (a Unix socket); unset or empty: the kernel compiles on its own. */
export const TS_SERVICE_ENV = "AE_TS_SERVICE";

/** What the service has done so far. */
export interface TsServiceStats {
  /** Kernels' converters held now. */
  sessions: number;
  /** Converters made (one per kernel, again after one was dropped as least recently used). */
  converters: number;
  /** Calls answered (cells compiled, completions, inspections). */
  calls: number;
}

export interface TsService {
  /** The Unix socket it listens on: the value of AE_TS_SERVICE for the kernels. */
  socket: string;
  stats(): Promise<TsServiceStats>;
  /** Stop it (SIGTERM, SIGKILL after 5 s) and remove its socket (and the folder made for it). */
  close(): Promise<void>;
}

export interface TsServiceOptions {
  /** Socket path (default: a new one in the system's temp folder). */
  socket?: string;
  /** Project root holding node_modules/tslab (default: found from this file). */
  root?: string;
  /** Longest wait for it to listen (default 30 s). */
  startTimeoutMs?: number;
}

/** The service's script (plain JavaScript beside the tslab patch it relies on). */
export function tsServiceScript(root: string = projectRoot()): string {
  return path.join(root, "lib", "runner", "tslab-patch", "ts-service.js");
}

/** GET /stats of the service at `socket`. */
export function tsServiceStats(socket: string): Promise<TsServiceStats> {
  return new Promise((resolve, reject) => {
    const request = http.get({ socketPath: socket, path: "/stats" }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")) as TsServiceStats);
        } catch (error) {
          reject(new Error(`the TypeScript service at ${socket} answered /stats with something other than JSON: ${(error as Error).message}`));
        }
      });
    });
    request.on("error", reject);
  });
}

/** Start the service as a child process; resolves once it listens. It also ends when this process does (its standard input closes). */
export async function startTsService(options: TsServiceOptions = {}): Promise<TsService> {
  const folder = options.socket === undefined ? fs.mkdtempSync(path.join(os.tmpdir(), "ae-ts-")) : undefined;
  const socket = options.socket ?? path.join(folder as string, "service.sock");
  if (!path.isAbsolute(socket)) throw new Error(`startTsService: socket must be an absolute path, got ${JSON.stringify(socket)}`);
  // A folder of its own is removed by the service as it ends, even when this process is gone first.
  const child: ChildProcess = spawn(process.execPath, [tsServiceScript(options.root), socket, ...(folder ? ["--remove-folder"] : [])], { stdio: ["pipe", "pipe", "inherit"] });
  const removeFolder = (): void => {
    if (folder) fs.rmSync(folder, { recursive: true, force: true });
  };
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  await new Promise<void>((resolve, reject) => {
    let out = "";
    const fail = (why: string): void => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      removeFolder();
      reject(new Error(`the TypeScript service did not start on ${socket} (${why})`));
    };
    const timer = setTimeout(() => fail(`no "listening" line within ${timeoutMs} ms`), timeoutMs);
    child.once("exit", (code, signal) => fail(`it exited with ${signal ?? `code ${code}`}`));
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
      if (!out.includes(`listening ${socket}\n`)) return;
      clearTimeout(timer);
      child.removeAllListeners("exit");
      resolve();
    });
  });
  child.unref();
  (child.stdin as unknown as { unref?: () => void })?.unref?.();
  (child.stdout as unknown as { unref?: () => void })?.unref?.();
  return {
    socket,
    stats: () => tsServiceStats(socket),
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise<void>((resolve) => {
          // A service in the middle of a long compile answers SIGTERM only after it: 5 s, then SIGKILL.
          const kill = setTimeout(() => child.kill("SIGKILL"), 5_000);
          child.once("exit", () => {
            clearTimeout(kill);
            resolve();
          });
          child.kill("SIGTERM");
        });
      }
      if (options.socket !== undefined) fs.rmSync(socket, { force: true });
      removeFolder();
    },
  };
}
