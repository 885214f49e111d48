/**
 * npm run kernel:install [-- --user | --prefix DIR]
 *
 * Registers a Jupyter kernelspec that starts this project's own tslab with this Node
 * (absolute paths, no global install, no IPython), so JupyterLab and Notebook open the
 * notebooks with exactly the kernel the headless runner uses.
 */
import * as os from "os";
import * as path from "path";
import { parseArgs } from "util";
import { KERNEL_DISPLAY_NAME, KERNEL_NAME, kernelArgv, projectRoot } from "./kernel-command";
import { writeFileAtomic } from "./notebook";

export interface KernelspecOptions {
  /** Install under PREFIX/share/jupyter/kernels (like `jupyter kernelspec install --prefix`). */
  prefix?: string;
  /** Jupyter's data dir for a per-user install (default: $JUPYTER_DATA_DIR, else ~/.local/share/jupyter). */
  dataDir?: string;
  /** Project root holding node_modules/tslab (default: found from this file). */
  root?: string;
}

/** The kernel.json content: absolute node (with KERNEL_NODE_FLAGS) + absolute tslab + `kernel --config-path {connection_file}`. */
export function kernelSpec(root: string = projectRoot()): Record<string, unknown> {
  return {
    argv: kernelArgv("{connection_file}", { root }),
    display_name: KERNEL_DISPLAY_NAME,
    language: "typescript",
    interrupt_mode: "signal",
    metadata: { debugger: false },
  };
}

/** The folder the kernelspec goes into. */
export function kernelspecDir(options: KernelspecOptions = {}): string {
  if (options.prefix) return path.resolve(options.prefix, "share", "jupyter", "kernels", KERNEL_NAME);
  const dataDir = options.dataDir ?? process.env.JUPYTER_DATA_DIR ?? path.join(os.homedir(), ".local", "share", "jupyter");
  return path.join(path.resolve(dataDir), "kernels", KERNEL_NAME);
}

/** Write kernel.json (atomically) and return its path. */
export function installKernelspec(options: KernelspecOptions = {}): string {
  const file = path.join(kernelspecDir(options), "kernel.json");
  writeFileAtomic(file, `${JSON.stringify(kernelSpec(options.root), null, 1)}\n`);
  return file;
}

/** Command-line entry: --user (default) or --prefix DIR. */
export function main(argv: string[]): number {
  try {
    const { values } = parseArgs({ args: argv, options: { user: { type: "boolean" }, prefix: { type: "string" }, help: { type: "boolean", short: "h" } } });
    if (values.help) {
      process.stdout.write("usage: npm run kernel:install [-- --user | --prefix DIR]\n");
      return 0;
    }
    if (values.user && values.prefix) throw new Error("give either --user or --prefix, not both");
    const file = installKernelspec({ prefix: values.prefix });
    process.stdout.write(`installed kernelspec "${KERNEL_NAME}" (${KERNEL_DISPLAY_NAME}) in ${file}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`kernel:install: ${(error as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
