/**
 * Debian's Jupyter for front-end tests: find the tools, start a Notebook 6 server on
 * loopback (random free port, a token, our kernelspec in a temp prefix, every Jupyter
 * folder in a temp dir) and stop it with its kernels.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { randomBytes } from "crypto";
import { installKernelspec } from "../../lib/runner/kernelspec";

/** Debian's python (jupyter-notebook and python3-nbconvert install into it, not into pyenv's). */
export const SYSTEM_PYTHON = "/usr/bin/python3";
export const NOTEBOOK_BIN = "/usr/bin/jupyter-notebook";

/** What is missing for the front-end tests (empty when all is there). */
export function missingJupyterTools(): string[] {
  const missing: string[] = [];
  if (!fs.existsSync(NOTEBOOK_BIN)) missing.push("jupyter-notebook");
  const nbconvert = fs.existsSync(SYSTEM_PYTHON) ? spawnSync(SYSTEM_PYTHON, ["-c", "import nbconvert, nbclient"], { stdio: "ignore" }).status : 1;
  if (nbconvert !== 0) missing.push("python3-nbconvert");
  return missing;
}

/** A free TCP port on 127.0.0.1 (bound, read and released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Temp Jupyter folders with our kernelspec installed; `env` points Jupyter at them. */
export interface JupyterHome {
  dir: string;
  env: NodeJS.ProcessEnv;
}

/** Make a private Jupyter home (kernelspec under DIR/prefix) so nothing user-wide is read or written. */
export function jupyterHome(): JupyterHome {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "jupyter-home-"));
  const prefix = path.join(dir, "prefix");
  installKernelspec({ prefix });
  const sub = (name: string): string => {
    const p = path.join(dir, name);
    fs.mkdirSync(p, { recursive: true });
    return p;
  };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    JUPYTER_PATH: path.join(prefix, "share", "jupyter"),
    JUPYTER_DATA_DIR: sub("data"),
    JUPYTER_CONFIG_DIR: sub("config"),
    JUPYTER_RUNTIME_DIR: sub("runtime"),
    IPYTHONDIR: sub("ipython"),
    JUPYTER_PLATFORM_DIRS: "0",
  };
  return { dir, env };
}

/** A running Notebook 6 server. */
export interface NotebookServer {
  url: string;
  token: string;
  process: ChildProcess;
  /** Its stdout + stderr so far (for failure messages). */
  log(): string;
  /** Shut down every kernel, then the server (SIGTERM, SIGKILL after 10 s); resolves when it has exited. */
  stop(): Promise<void>;
}

async function get(url: string): Promise<Response | null> {
  try {
    return await fetch(url, { signal: AbortSignal.timeout(5000) });
  } catch {
    return null;
  }
}

/** Start `jupyter-notebook` serving `notebookDir` on 127.0.0.1; resolves once its API answers. */
export async function startNotebookServer(notebookDir: string, home: JupyterHome, timeoutMs = 60_000): Promise<NotebookServer> {
  const port = await freePort();
  const token = randomBytes(16).toString("hex");
  const child = spawn(NOTEBOOK_BIN, [
    "--no-browser", "--ip=127.0.0.1", `--port=${port}`, "--port-retries=0", `--NotebookApp.token=${token}`,
    `--notebook-dir=${notebookDir}`, "--NotebookApp.shutdown_no_activity_timeout=600",
    ...(process.getuid?.() === 0 ? ["--allow-root"] : []), // CI containers run as root
  ], { env: home.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let log = "";
  child.stdout?.on("data", (d: Buffer) => void (log += d.toString()));
  child.stderr?.on("data", (d: Buffer) => void (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const kernels = await get(`${url}/api/kernels?token=${token}`);
      const list = kernels?.ok ? ((await kernels.json()) as Array<{ id: string }>) : [];
      await Promise.all(list.map((k) => fetch(`${url}/api/kernels/${k.id}?token=${token}`, { method: "DELETE", signal: AbortSignal.timeout(15_000) }).catch(() => undefined)));
      try {
        process.kill(-(child.pid as number), "SIGTERM");
      } catch { /* already gone */ }
      const timer = setTimeout(() => { try { process.kill(-(child.pid as number), "SIGKILL"); } catch { /* gone */ } }, 10_000);
      await exited;
      clearTimeout(timer);
    }
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`jupyter-notebook exited with code ${child.exitCode}:\n${log}`);
    const answer = await get(`${url}/api/status?token=${token}`);
    if (answer?.ok) return { url, token, process: child, log: () => log, stop };
    await new Promise((r) => setTimeout(r, 250));
  }
  await stop();
  throw new Error(`jupyter-notebook did not answer on ${url} within ${timeoutMs} ms:\n${log}`);
}

/** Connection files of kernels the server still has (they are removed when a kernel shuts down). */
export function kernelConnectionFiles(home: JupyterHome): string[] {
  const runtime = home.env.JUPYTER_RUNTIME_DIR as string;
  return fs.existsSync(runtime) ? fs.readdirSync(runtime).filter((f) => /^kernel-.*\.json$/.test(f)) : [];
}
