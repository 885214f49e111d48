/**
 * Start and stop the project's tslab kernel as a child process: connection file in a
 * private temp dir (loopback tcp, free ports, random HMAC key), its own process group
 * so that the whole group can be killed, captured stdout/stderr, and a guaranteed
 * cleanup (also when the runner crashes or exits early).
 */
import { ChildProcess, spawn } from "child_process";
import { randomInt, randomUUID } from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { ConnectionInfo, KernelClient } from "./client";
import { KERNEL_NAME, kernelArgv, projectRoot } from "./kernel-command";
import { newSigningKey } from "./protocol";
import { anySignal, deferred, sleep, withTimeout } from "./timeouts";

/** tslab aborts every execute request that arrives within 200 ms after a failed cell; we wait longer. */
export const ABORT_WINDOW_MS = 300;

export interface StartKernelOptions {
  /** The kernel's working directory: the notebook's folder (relative imports and files resolve from there). */
  cwd: string;
  /** Extra environment variables (merged over process.env), e.g. { AE_MODE: "quick" }. */
  env?: Record<string, string>;
  /** How long the kernel may take to answer kernel_info, per attempt (default 30 s; a failed start is tried once more). */
  startTimeoutMs?: number;
  /** Project root holding node_modules/tslab (default: found from this file). */
  root?: string;
  signal?: AbortSignal;
}

export interface ShutdownOptions {
  /** The last cell failed: wait out tslab's abort window before sending anything (default false). */
  afterError?: boolean;
  /** Time allowed for a polite shutdown_request before the process group is killed (default 2 s). */
  graceMs?: number;
  /** Skip the shutdown_request (the kernel is busy or stuck): go straight to SIGTERM/SIGKILL (default false). */
  force?: boolean;
}

/** How the kernel process ended. */
export interface KernelExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Keep at most this much of the kernel's own stdout/stderr (tslab's crashes, warnings). */
const MAX_CAPTURE = 64 * 1024;

const liveKernels = new Set<RunningKernel>();
let exitHookInstalled = false;

/** Kill every kernel still alive when the runner process exits, however it exits. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const kernel of liveKernels) kernel.killNow();
  });
}

/** Linux's range for ephemeral (outgoing and port-0) ports, or null where it cannot be read. */
export function ephemeralPortRange(file = "/proc/sys/net/ipv4/ip_local_port_range"): [number, number] | null {
  try {
    const [low, high] = fs.readFileSync(file, "utf8").trim().split(/\s+/).map(Number);
    return Number.isInteger(low) && Number.isInteger(high) && low <= high ? [low, high] : null;
  } catch {
    return null;
  }
}

/** True when `port` can be bound on `host` right now. */
async function canBind(port: number, host: string): Promise<boolean> {
  const server = net.createServer();
  const ok = await new Promise<boolean>((resolve) => {
    server.once("error", () => resolve(false));
    server.listen(port, host, () => resolve(true));
  });
  if (ok) await new Promise<void>((resolve) => server.close(() => resolve()));
  return ok;
}

/**
 * `count` distinct free TCP ports on 127.0.0.1 for the kernel to bind, chosen BELOW the
 * ephemeral range where there is room. A port from the ephemeral range (what listen(0) hands
 * out) can be taken between our probe and the kernel's bind by any outgoing connection —
 * including ZeroMQ's own reconnect attempts, which can even connect a socket to itself when
 * source and destination port coincide — and then the kernel never answers. Ports below the
 * range are never handed out implicitly.
 */
export async function freePorts(count: number, host = "127.0.0.1"): Promise<number[]> {
  const range = ephemeralPortRange();
  const low = 10_000;
  const high = range ? range[0] - 1 : 0;
  const ports: number[] = [];
  if (high - low >= 1_000) {
    for (let tries = 0; ports.length < count && tries < 200; tries++) {
      const port = randomInt(low, high + 1);
      if (!ports.includes(port) && (await canBind(port, host))) ports.push(port);
    }
    if (ports.length === count) return ports;
  }
  // No room below the range (or no Linux): let the OS choose.
  const servers: net.Server[] = [];
  try {
    ports.length = 0;
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, host, () => resolve());
      });
      ports.push((server.address() as net.AddressInfo).port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }
}

export async function writeConnectionFile(): Promise<{ dir: string; file: string; info: ConnectionInfo }> {
  const [shell, iopub, stdin, control, hb] = await freePorts(5);
  const info: ConnectionInfo = {
    transport: "tcp",
    ip: "127.0.0.1",
    shell_port: shell,
    iopub_port: iopub,
    stdin_port: stdin,
    control_port: control,
    hb_port: hb,
    signature_scheme: "hmac-sha256",
    key: newSigningKey(),
    kernel_name: KERNEL_NAME,
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ae-kernel-"));
  const file = path.join(dir, "connection.json");
  fs.writeFileSync(file, JSON.stringify(info, null, 1), { mode: 0o600 });
  return { dir, file, info };
}

/** Append to a bounded text buffer, dropping the oldest text. */
function appendBounded(buffer: string, chunk: string): string {
  const joined = buffer + chunk;
  return joined.length > MAX_CAPTURE ? joined.slice(joined.length - MAX_CAPTURE) : joined;
}

/** A started kernel: its process, connected client and timing. Always call `shutdown()`. */
export class RunningKernel {
  /** Milliseconds from spawn to the first kernel_info_reply (with iopub connected). */
  startMs = 0;
  private output = "";
  private exitInfo: KernelExit | null = null;
  private readonly exitDeferred = deferred<KernelExit>();
  private readonly deathController = new AbortController();
  private stopped = false;

  constructor(
    readonly child: ChildProcess,
    readonly client: KernelClient,
    private readonly tempDir: string,
  ) {
    child.stdout?.setEncoding("utf8");
    child.stderr?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => (this.output = appendBounded(this.output, chunk)));
    child.stderr?.on("data", (chunk: string) => (this.output = appendBounded(this.output, chunk)));
    child.on("exit", (code, signal) => {
      this.exitInfo = { code, signal };
      this.deathController.abort(new Error(`the kernel process exited (${signal ?? `code ${code}`})`));
      this.exitDeferred.resolve(this.exitInfo);
    });
    child.on("error", (error) => {
      this.output = appendBounded(this.output, `\n[spawn error] ${error.message}\n`);
      this.exitInfo = this.exitInfo ?? { code: null, signal: null };
      this.deathController.abort(error);
      this.exitDeferred.resolve(this.exitInfo);
    });
  }

  /** The connection file the kernel was started with (removed again by shutdown). */
  get connectionFile(): string {
    return path.join(this.tempDir, "connection.json");
  }

  /** Process id of the kernel (also its process group id). */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Fires when the kernel process dies; pass it to every wait on the kernel. */
  get deathSignal(): AbortSignal {
    return this.deathController.signal;
  }

  /** Resolves when the process has exited. */
  get exited(): Promise<KernelExit> {
    return this.exitDeferred.promise;
  }

  /** How the process ended, or null while it runs. */
  get exitStatus(): KernelExit | null {
    return this.exitInfo;
  }

  /** True until the process has exited. */
  isAlive(): boolean {
    return this.exitInfo === null;
  }

  /** What the kernel process wrote to its real stdout/stderr (not what cells print: that goes to iopub). */
  processOutput(): string {
    return this.output;
  }

  /** Send a signal to the kernel's whole process group (ignores groups that are already gone). */
  signalGroup(signal: NodeJS.Signals): void {
    if (this.pid <= 0) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      try {
        if (this.isAlive()) process.kill(this.pid, signal);
      } catch {
        // already gone
      }
    }
  }

  /** True while any process of the kernel's process group exists (zombies included). */
  groupExists(): boolean {
    if (this.pid <= 0) return false;
    try {
      process.kill(-this.pid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === "EPERM";
    }
  }

  /** Wait (up to `ms`) until the kernel has exited and its process group is empty. */
  private async waitUntilGone(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    if (this.isAlive()) await withTimeout(this.exited, ms, "kernel exit").catch(() => undefined);
    while (this.groupExists() && Date.now() < deadline) await sleep(25);
  }

  /** Synchronous last-resort cleanup (process 'exit' hook): SIGKILL the group, remove temp files. */
  killNow(): void {
    this.signalGroup("SIGKILL");
    this.client.close();
    fs.rmSync(this.tempDir, { recursive: true, force: true });
  }

  /**
   * Stop the kernel: after a failed cell wait out the abort window, ask politely
   * (shutdown_request on control), then SIGTERM and finally SIGKILL the process group.
   * Always closes the sockets and removes the connection file.
   */
  async shutdown(options: ShutdownOptions = {}): Promise<KernelExit> {
    if (this.stopped) return this.exited;
    this.stopped = true;
    const graceMs = options.graceMs ?? 2000;
    try {
      if (this.isAlive() && !options.force) {
        if (options.afterError) await sleep(ABORT_WINDOW_MS);
        await this.client.request("control", "shutdown_request", { restart: false }, graceMs, this.deathSignal).catch(() => undefined);
        await withTimeout(this.exited, 500, "kernel exit").catch(() => undefined);
      }
      // tslab closes its sockets on shutdown but may leave the process (and anything it started) running.
      this.signalGroup("SIGTERM");
      await this.waitUntilGone(graceMs);
      if (this.groupExists() || this.isAlive()) {
        this.signalGroup("SIGKILL");
        await this.waitUntilGone(graceMs);
      }
    } finally {
      this.client.close();
      fs.rmSync(this.tempDir, { recursive: true, force: true });
      liveKernels.delete(this);
    }
    return this.exitInfo ?? { code: null, signal: null };
  }
}

/**
 * Spawn tslab in `cwd` and wait until it answers; kills it again if it does not come up. A start
 * that fails (timeout, or the kernel died) is tried once more on fresh ports before giving up.
 */
export async function startKernel(options: StartKernelOptions): Promise<RunningKernel> {
  if (!fs.existsSync(options.cwd) || !fs.statSync(options.cwd).isDirectory()) {
    throw new Error(`startKernel: working directory ${options.cwd} does not exist`);
  }
  installExitHook();
  try {
    return await startKernelOnce(options);
  } catch (error) {
    if (options.signal?.aborted) throw error;
    try {
      return await startKernelOnce(options);
    } catch (second) {
      throw new Error(`${(second as Error).message}\n(first attempt: ${(error as Error).message})`);
    }
  }
}

/** One start: connection file on fresh ports, spawn, wait for kernel_info (default 30 s). */
async function startKernelOnce(options: StartKernelOptions): Promise<RunningKernel> {
  const { dir, file, info } = await writeConnectionFile();
  const [command, ...args] = kernelArgv(file, { root: options.root ?? projectRoot(), watchdog: true });
  const started = Date.now();
  let child: ChildProcess;
  try {
    child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true, // own process group: Ctrl-C in the terminal reaches only the runner, and we can kill the group
    });
  } catch (error) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const kernel = new RunningKernel(child, KernelClient.connect(info, randomUUID()), dir);
  liveKernels.add(kernel);
  try {
    const signal = anySignal([kernel.deathSignal, options.signal]);
    await kernel.client.waitForReady({ timeoutMs: options.startTimeoutMs ?? 30_000, signal });
    kernel.startMs = Date.now() - started;
    return kernel;
  } catch (error) {
    const output = kernel.processOutput().trim();
    await kernel.shutdown({ graceMs: 500 });
    const detail = output ? `\nkernel output:\n${output}` : "";
    throw new Error(`the tslab kernel did not start in ${options.cwd}: ${(error as Error).message}${detail}`);
  }
}


