import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { WorkerType } from '../../contracts/capabilities.js';

const PackageJson = z.object({ name: z.literal('apiary'), version: z.string().min(1).max(64) });

let cached: string | undefined;

/** This package's version, read once from its package.json (found upward from here, in sources and in `dist/`). */
export function packageVersion(): string {
  cached ??= findVersion(path.dirname(fileURLToPath(import.meta.url)));
  return cached;
}

/** The worker types every hive has: `cpu` always, `cuda` with an NVIDIA GPU; versioned as this package. */
export function builtInWorkerTypes(hasNvidiaGpu: boolean): WorkerType[] {
  const version = packageVersion();
  return [{ worker_type: 'cpu', version }, ...(hasNvidiaGpu ? [{ worker_type: 'cuda', version }] : [])];
}

function findVersion(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const parsed = PackageJson.safeParse(readJson(path.join(dir, 'package.json')));
    if (parsed.success) return parsed.data.version;
    if (path.dirname(dir) === dir) throw new Error(`no apiary package.json above ${from}`);
  }
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}
