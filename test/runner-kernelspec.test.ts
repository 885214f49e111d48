/** `npm run kernel:install -- --prefix DIR` writes a kernelspec that starts this project's own tslab. */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installKernelspec, kernelspecDir } from "../lib/runner/kernelspec";
import { libScriptArgs } from "./helpers/build";

const ROOT = path.resolve(__dirname, "..");
let tmp: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kernelspec-"));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("kernelspec", () => {
  it("the command installs kernel.json under PREFIX/share/jupyter/kernels and says where", async () => {
    const prefix = path.join(tmp, "prefix");
    const run = spawnSync(process.execPath, [...(await libScriptArgs("lib/runner/kernelspec.ts")), "--prefix", prefix], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const file = path.join(prefix, "share", "jupyter", "kernels", "autoencoder-notebooks", "kernel.json");
    expect(run.stdout).toContain(file);
    const spec = JSON.parse(fs.readFileSync(file, "utf8"));
    expect(spec).toEqual({
      argv: [process.execPath, "--max-semi-space-size=64", path.join(ROOT, "node_modules", "tslab", "bin", "tslab"), "kernel", "--config-path", "{connection_file}"],
      display_name: "TypeScript (autoencoder-notebooks)",
      language: "typescript",
      interrupt_mode: "signal",
      metadata: { debugger: false },
    });
    for (const part of [spec.argv[0], spec.argv[2]]) expect(fs.existsSync(part), part).toBe(true);
    expect(spec.argv.join(" ")).not.toMatch(/python|ipython/i);
  }, 60_000);

  it("the per-user default honours JUPYTER_DATA_DIR, and installing twice overwrites cleanly", () => {
    const saved = process.env.JUPYTER_DATA_DIR;
    try {
      delete process.env.JUPYTER_DATA_DIR;
      expect(kernelspecDir()).toBe(path.join(os.homedir(), ".local", "share", "jupyter", "kernels", "autoencoder-notebooks"));
      const dataDir = path.join(tmp, "data");
      process.env.JUPYTER_DATA_DIR = dataDir;
      expect(kernelspecDir()).toBe(path.join(dataDir, "kernels", "autoencoder-notebooks"));
      const first = installKernelspec();
      expect(installKernelspec()).toBe(first);
      expect(fs.readdirSync(path.dirname(first))).toEqual(["kernel.json"]);
    } finally {
      if (saved === undefined) delete process.env.JUPYTER_DATA_DIR;
      else process.env.JUPYTER_DATA_DIR = saved;
    }
  });
});
