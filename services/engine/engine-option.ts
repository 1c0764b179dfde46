import { type EnginePlaceholder, EngineSpec } from '../../contracts/engine.js';
import { OptionError } from '../options/index.js';
import { issueLine, parseJson } from '../parse-json.js';

/** The worker's `--engine` JSON as a spec; a malformed one is an OptionError naming the flag (exit 2). */
export function parseEngineOption(text: string): EngineSpec {
  const parsed = parseJson(EngineSpec, text);
  if (parsed.ok) return parsed.value;
  if (parsed.error.notJson) throw new OptionError('engine', 'is not JSON');
  throw new OptionError('engine', `is not an engine spec (${issueLine(parsed.error.issues)})`);
}

/** The placeholders' values for one engine of a worker. */
export function placeholderValues(input: {
  modelPath: string;
  modelId: string;
  enginePort: number;
  device: string;
}): Record<EnginePlaceholder, string> {
  return {
    model_path: input.modelPath,
    model_id: input.modelId,
    engine_port: String(input.enginePort),
    device: input.device,
    // GPU-2 → 2, as CUDA_VISIBLE_DEVICES wants it; empty for a CPU.
    device_index: /^GPU-(\d+)$/.exec(input.device)?.[1] ?? '',
  };
}
