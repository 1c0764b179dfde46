import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Bytes of each model file a hive starts with. */
export const MODEL_BYTES = 2 * 1024 * 1024;

export interface HiveDirs {
  modelsDir: string;
  workersDir: string;
  /** The hive's own state (its identity): a hive restarted with it is still itself. */
  stateDir: string;
}

/** `<root>/<name>/{models,workers,state}`, the models dir holding `<model>.gguf` of `modelBytes` for each model id. */
export function createHiveDirs(
  root: string,
  name: string,
  models: readonly string[] = ['tiny'],
  modelBytes = MODEL_BYTES,
): HiveDirs {
  const modelsDir = path.join(root, name, 'models');
  const workersDir = path.join(root, name, 'workers');
  mkdirSync(modelsDir, { recursive: true });
  mkdirSync(workersDir, { recursive: true });
  for (const model of models) writeFileSync(path.join(modelsDir, `${model}.gguf`), Buffer.alloc(modelBytes));
  return { modelsDir, workersDir, stateDir: path.join(root, name, 'state') };
}
