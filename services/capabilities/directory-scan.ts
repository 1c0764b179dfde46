import { constants, type Dirent } from 'node:fs';
import { access, readdir, stat } from 'node:fs/promises';
import path from 'node:path';

/** A file a scan accepted: a regular file, or a symbolic link to one. */
export interface ScannedFile {
  path: string;
  /** Relative to the scanned root, always with `/` separators. */
  relative: string;
  size: number;
  /** Changes whenever the file is written: two scans with the same signature saw a settled file. */
  signature: string;
}

export interface ScanProblem {
  path: string;
  problem: string;
}

export interface DirectoryScan {
  /** False when the root is missing or not a directory: then nothing else is set. */
  exists: boolean;
  files: ScannedFile[];
  /** Every directory walked, the root first. */
  directories: string[];
  problems: ScanProblem[];
}

export interface ScanOptions {
  recursive: boolean;
  /** Which file names to look at; the rest are not even stat'ed. */
  accept: (name: string) => boolean;
}

export async function scanDirectory(root: string, options: ScanOptions): Promise<DirectoryScan> {
  const scan: DirectoryScan = { exists: false, files: [], directories: [], problems: [] };
  let entries: Dirent[];
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch {
    return scan;
  }
  scan.exists = true;
  await walk(root, root, entries, options, scan);
  return scan;
}

async function walk(root: string, dir: string, entries: Dirent[], options: ScanOptions, scan: DirectoryScan) {
  scan.directories.push(dir);
  const subdirectories: string[] = [];
  await Promise.all(
    entries.map(async (entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (options.recursive) subdirectories.push(full);
        return;
      }
      if (!options.accept(entry.name)) return;
      const file = await inspect(root, full, entry.isSymbolicLink());
      if (file === null) return;
      if ('problem' in file) scan.problems.push(file);
      else scan.files.push(file);
    }),
  );
  // Directories one after another: a deep tree never opens more than one listing at a time.
  for (const subdirectory of subdirectories.sort()) {
    try {
      await walk(root, subdirectory, await readdir(subdirectory, { withFileTypes: true }), options, scan);
    } catch (error) {
      if (code(error) !== 'ENOENT') scan.problems.push({ path: subdirectory, problem: describe(error) });
    }
  }
}

/** Null for a file that vanished during the scan. Symbolic links to files count (model caches use them). */
async function inspect(root: string, file: string, isLink: boolean): Promise<ScannedFile | ScanProblem | null> {
  try {
    const stats = await stat(file);
    if (!stats.isFile()) return { path: file, problem: 'not a regular file' };
    await access(file, constants.R_OK);
    return {
      path: file,
      relative: path.relative(root, file).split(path.sep).join('/'),
      size: stats.size,
      signature: `${stats.ino}:${stats.size}:${stats.mtimeMs}`,
    };
  } catch (error) {
    if (code(error) === 'ENOENT' && !isLink) return null;
    return { path: file, problem: describe(error) };
  }
}

function code(error: unknown): unknown {
  return error instanceof Error && 'code' in error ? error.code : undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
