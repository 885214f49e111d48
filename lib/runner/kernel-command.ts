/**
 * The one command line that starts the project's own tslab kernel, shared by the
 * headless runner and the JupyterLab kernelspec so both run exactly the same kernel.
 */
import * as fs from "fs";
import * as path from "path";

/** Kernel name used in the kernelspec and in notebook metadata. */
export const KERNEL_NAME = "autoencoder-notebooks";

/** What JupyterLab shows in its kernel picker. */
export const KERNEL_DISPLAY_NAME = "TypeScript (autoencoder-notebooks)";

/** The project root (the folder holding package.json and node_modules). */
export function projectRoot(): string {
  // lib/runner/*.ts (ts-node) or lib/dist/runner/*.js (compiled): walk up to package.json with our name.
  let dir = __dirname;
  for (;;) {
    const manifest = path.join(dir, "package.json");
    if (fs.existsSync(manifest) && fs.existsSync(path.join(dir, "node_modules"))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`projectRoot: no package.json with node_modules above ${__dirname}`);
    dir = parent;
  }
}

/** Absolute path of the project's tslab launcher (node_modules/tslab/bin/tslab). */
export function tslabBinPath(root: string = projectRoot()): string {
  const bin = path.join(root, "node_modules", "tslab", "bin", "tslab");
  if (!fs.existsSync(bin)) throw new Error(`tslab is not installed: ${bin} is missing (run npm ci)`);
  return bin;
}

/** The script the runner preloads into its kernels so they die with it (lib/runner/parent-watchdog.js). */
export function watchdogPath(root: string = projectRoot()): string {
  return path.join(root, "lib", "runner", "parent-watchdog.js");
}

/**
 * V8 flags of every kernel. A larger young generation (64 MB semi-spaces instead of 16) lets
 * TypeScript's per-cell program and the tensors' short-lived wrappers die young in fewer
 * scavenges: notebook 3 in quick mode spent 1.9–2.0 s in GC instead of 2.3–3.0 s (three runs
 * each), for at most about 150 MB more memory.
 */
export const KERNEL_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=64"];

export interface KernelArgvOptions {
  /** Project root holding node_modules/tslab (default: found from this file). */
  root?: string;
  /** Preload the parent watchdog (the runner does; Jupyter manages its own kernels) (default false). */
  watchdog?: boolean;
}

/**
 * argv that starts the kernel: absolute node with KERNEL_NODE_FLAGS, absolute tslab, `kernel --config-path <file>`.
 * The kernelspec passes the literal `{connection_file}` placeholder that Jupyter fills in.
 */
export function kernelArgv(connectionFile: string, options: KernelArgvOptions = {}): string[] {
  const root = options.root ?? projectRoot();
  const preload = options.watchdog ? ["--require", watchdogPath(root)] : [];
  return [process.execPath, ...KERNEL_NODE_FLAGS, ...preload, tslabBinPath(root), "kernel", "--config-path", connectionFile];
}
