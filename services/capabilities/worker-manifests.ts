import { readFile } from 'node:fs/promises';
import { WorkerType } from '../../contracts/capabilities.js';
import type { ScannedFile, ScanProblem } from './directory-scan.js';

/** A manifest is a few dozen bytes; anything this large is not one. */
const MAX_MANIFEST_BYTES = 64 * 1024;

export function isManifestFile(name: string): boolean {
  return name.endsWith('.json');
}

/** A `{ "worker_type": "cuda", "version": "0.2.0" }` manifest, or why it is not one. */
export async function readManifest(file: ScannedFile): Promise<WorkerType | ScanProblem> {
  if (file.size > MAX_MANIFEST_BYTES) return { path: file.path, problem: `larger than ${MAX_MANIFEST_BYTES} bytes` };
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file.path, 'utf8'));
  } catch (error) {
    return { path: file.path, problem: error instanceof Error ? error.message : String(error) };
  }
  const parsed = WorkerType.safeParse(json);
  if (parsed.success) return { worker_type: parsed.data.worker_type, version: parsed.data.version };
  const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  return { path: file.path, problem: `not a worker manifest (${issues.join('; ')})` };
}
