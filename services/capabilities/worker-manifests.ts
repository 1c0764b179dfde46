import { readFile } from 'node:fs/promises';
import which from 'which';
import type { z } from 'zod';
import { WorkerType } from '../../contracts/capabilities.js';
import { EngineManifest, type EngineSpec } from '../../contracts/engine.js';
import { issueLine, issuesOf } from '../parse-json.js';
import type { ScannedFile, ScanProblem } from './directory-scan.js';

/** A manifest is a few dozen bytes; anything this large is not one. */
const MAX_MANIFEST_BYTES = 64 * 1024;

/** A worker type as a manifest declared it, with the engine it starts (null: the built-in demo backend). */
export interface WorkerManifest extends WorkerType {
  engine: EngineSpec | null;
}

export function isManifestFile(name: string): boolean {
  return name.endsWith('.json');
}

/**
 * A `{ "worker_type": "cuda", "version": "0.2.0" }` manifest, or one that also says how to start an engine
 * (`engine`, `command`, ...), or why it is neither: a bad field, or a program not found on PATH.
 */
export async function readManifest(file: ScannedFile, path = process.env.PATH): Promise<WorkerManifest | ScanProblem> {
  if (file.size > MAX_MANIFEST_BYTES) return { path: file.path, problem: `larger than ${MAX_MANIFEST_BYTES} bytes` };
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file.path, 'utf8'));
  } catch (error) {
    return { path: file.path, problem: error instanceof Error ? error.message : String(error) };
  }
  const startsEngine = typeof json === 'object' && json !== null && ('engine' in json || 'command' in json);
  if (!startsEngine) {
    const parsed = WorkerType.safeParse(json);
    if (!parsed.success) return notAManifest(file, parsed.error);
    return { worker_type: parsed.data.worker_type, version: parsed.data.version, engine: null };
  }
  const parsed = EngineManifest.safeParse(json);
  if (!parsed.success) return notAManifest(file, parsed.error);
  const { worker_type, version, ...engine } = parsed.data;
  const program = engine.command[0] ?? '';
  if (program.includes('{')) return { path: file.path, problem: 'command[0] must name the program, not a placeholder' };
  if ((await which(program, { nothrow: true, path })) === null) {
    return { path: file.path, problem: `command[0] ${JSON.stringify(program)} is not found on PATH` };
  }
  return { worker_type, version, engine };
}

function notAManifest(file: ScannedFile, error: z.ZodError): ScanProblem {
  return { path: file.path, problem: `not a worker manifest (${issueLine(issuesOf(error))})` };
}
