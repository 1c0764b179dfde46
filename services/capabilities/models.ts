import path from 'node:path';
import type { Model } from '../../contracts/capabilities.js';
import type { ScannedFile, ScanProblem } from './directory-scan.js';

/** docs/protocol.md: Where capabilities come from: the file extensions that make a file in `--models-dir` a model. */
export const MODEL_EXTENSIONS: ReadonlySet<string> = new Set(['.gguf', '.safetensors', '.bin', '.pt', '.onnx']);

const MAX_MODEL_ID = 1024;
const GIB = 1024 ** 3;

export function isModelFile(name: string): boolean {
  return MODEL_EXTENSIONS.has(path.extname(name).toLowerCase());
}

/** `model_id` is the path under the models dir without its extension; `size_gb` is bytes / 1024³. */
export function modelOf(file: ScannedFile): Model | ScanProblem {
  const modelId = file.relative.slice(0, file.relative.length - path.extname(file.relative).length);
  if (modelId.length > MAX_MODEL_ID) return { path: file.path, problem: `model id longer than ${MAX_MODEL_ID}` };
  return { model_id: modelId, size_gb: file.size / GIB };
}
