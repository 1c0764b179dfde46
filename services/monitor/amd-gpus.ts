import { fail, ok } from '../../machines/result.js';
import { jsonOf } from '../parse-json.js';
import { AMD_SMI_METRIC_ARGS, AMD_SMI_STATIC_ARGS, parseAmdSmi } from './amd-smi.js';
import type { GpuQueryResult, GpuReader, GpuReading } from './gpu-reading.js';
import { parseRocmSmi, ROCM_SMI_ARGS } from './rocm-smi.js';
import { runTool } from './run-tool.js';

export interface AmdGpuReaderOptions {
  /** Names looked up on PATH, or paths. */
  amdSmi?: string;
  rocmSmi?: string;
  timeoutMs: number;
}

/** AMD GPUs through `amd-smi`, or through `rocm-smi` on machines that only have the older tool. */
export function createAmdGpuReader(options: AmdGpuReaderOptions): GpuReader {
  const amdSmi = options.amdSmi ?? 'amd-smi';
  const rocmSmi = options.rocmSmi ?? 'rocm-smi';
  const { timeoutMs } = options;
  let useRocmSmi = false;
  /** Names and sizes do not change while the hive runs: read once. */
  let staticInfo: unknown;

  async function readRocmSmi(signal?: AbortSignal): Promise<GpuQueryResult> {
    const result = await runTool(rocmSmi, ROCM_SMI_ARGS, timeoutMs, signal);
    return result.ok ? json(result.value, 'rocm-smi', parseRocmSmi) : result;
  }

  return {
    async read(signal) {
      if (useRocmSmi) return readRocmSmi(signal);
      const metric = await runTool(amdSmi, AMD_SMI_METRIC_ARGS, timeoutMs, signal);
      if (!metric.ok && metric.error.kind === 'missing') {
        useRocmSmi = true;
        return readRocmSmi(signal);
      }
      if (!metric.ok) return metric;
      if (staticInfo === undefined) {
        const found = await runTool(amdSmi, AMD_SMI_STATIC_ARGS, timeoutMs, signal);
        if (found.ok) staticInfo = jsonOf(found.value);
      }
      return json(metric.value, 'amd-smi', (parsed) => parseAmdSmi(parsed, staticInfo));
    },
  };
}

function json(stdout: string, tool: string, parse: (json: unknown) => GpuReading[]): GpuQueryResult {
  const parsed = jsonOf(stdout);
  return parsed === undefined ? fail({ kind: 'failed', message: `${tool} printed no JSON` }) : ok(parse(parsed));
}
