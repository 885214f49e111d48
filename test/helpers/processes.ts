/** Child processes in tests: whether one exists, and a helper process that reports on its first line of stdout. */
import type { ChildProcess } from "child_process";

/** The first line a child prints on stdout, or a rejection naming `what` after `timeoutMs`. */
export function firstStdoutLine(child: ChildProcess, what: string, timeoutMs: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`${what} did not report within ${timeoutMs / 1000} s`)), timeoutMs);
    child.stdout?.on("data", (chunk) => {
      out += chunk;
      if (out.includes("\n")) {
        clearTimeout(timer);
        resolve(out.split("\n")[0]);
      }
    });
  });
}

/** True when a process (or, with a negative id, a process group) exists. */
export function exists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
