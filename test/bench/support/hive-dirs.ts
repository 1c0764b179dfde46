import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** A hive's models, worker-manifest and state directories in a temp dir: two small model files, no extra types. */
export interface HiveDirs {
  modelsDir: string;
  workersDir: string;
  stateDir: string;
  remove(): Promise<void>;
}

export async function createHiveDirs(): Promise<HiveDirs> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'apiary-bench-hive-'));
  const modelsDir = path.join(root, 'models');
  const workersDir = path.join(root, 'workers');
  await mkdir(modelsDir);
  await mkdir(workersDir);
  await writeFile(path.join(modelsDir, 'llama-3.1-8b-instruct-q4_k_m.gguf'), 'GGUF');
  await writeFile(path.join(modelsDir, 'mistral-7b-instruct-v0.3.safetensors'), '{}');
  return {
    modelsDir,
    workersDir,
    stateDir: path.join(root, 'state'),
    remove: () => rm(root, { recursive: true, force: true }),
  };
}

/** The hive arguments every benchmark uses besides its own. */
export function hiveArgs(dirs: HiveDirs, queenUrl: string, hiveId: string): string[] {
  return [
    ...['--host', '127.0.0.1', '--port', '0', '--queen-url', queenUrl, '--hive-id', hiveId],
    ...['--heartbeat-interval', '1s', '--models-dir', dirs.modelsDir, '--workers-dir', dirs.workersDir],
    ...['--state-dir', dirs.stateDir],
  ];
}
