/**
 * Which notebooks a command means: none named → every notebooks/*.ipynb (sorted);
 * a name is a path to a notebook or a bare stem matched against notebooks/<stem>*.ipynb.
 */
import * as fs from "fs";
import * as path from "path";

/** Every .ipynb directly in `dir`, sorted by name (absolute paths). */
export function listNotebooks(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((name) => name.endsWith(".ipynb") && !name.startsWith("."))
    .sort()
    .map((name) => path.join(dir, name));
}

/** Resolve one name: an existing path, a path ending in .ipynb (reported missing later), or a unique stem in `notebooksDir`. */
export function resolveNotebookName(name: string, notebooksDir: string, cwd: string = process.cwd()): string {
  const asPath = path.resolve(cwd, name);
  if (fs.existsSync(asPath) && fs.statSync(asPath).isFile()) return asPath;
  if (name.endsWith(".ipynb") || name.includes("/") || name.includes(path.sep)) return asPath; // readNotebook reports it missing
  const all = listNotebooks(notebooksDir);
  const exact = all.find((file) => path.basename(file) === `${name}.ipynb`);
  if (exact) return exact;
  const matches = all.filter((file) => path.basename(file).startsWith(name));
  if (matches.length === 1) return matches[0];
  if (matches.length === 0) {
    const known = all.map((file) => path.basename(file, ".ipynb")).join(", ") || "none";
    throw new Error(`no notebook matches "${name}" in ${notebooksDir} (notebooks: ${known})`);
  }
  throw new Error(`"${name}" matches several notebooks: ${matches.map((file) => path.basename(file)).join(", ")}; give more of the name`);
}

/** The notebooks to run for the given names (all of notebooksDir when there are none). */
export function selectNotebooks(names: string[], notebooksDir: string, cwd: string = process.cwd()): string[] {
  if (names.length === 0) return listNotebooks(notebooksDir);
  return names.map((name) => resolveNotebookName(name, notebooksDir, cwd));
}
