import { type GpuReading, reportedNumber, reportedText } from './gpu-reading.js';
import { at, isRecord } from './tool-json.js';

export const AMD_SMI_METRIC_ARGS = ['metric', '--json'];
export const AMD_SMI_STATIC_ARGS = ['static', '--json'];

/** A `{"value": 42, "unit": "%"}` measure (newer amd-smi) or a bare value (older); `N/A` is unknown. */
function measure(value: unknown): number | undefined {
  return reportedNumber(isRecord(value) ? value.value : value);
}

/** amd-smi prints a list of GPUs, or (ROCm 6.4 and later) an object holding it as `gpu_data`. */
function gpuList(json: unknown): unknown[] {
  if (Array.isArray(json)) return json;
  const wrapped = at(json, 'gpu_data');
  return Array.isArray(wrapped) ? wrapped : [];
}

/** GPUs from `amd-smi metric --json`, named from `amd-smi static --json`; memory in MB as amd-smi counts it (MiB). */
export function parseAmdSmi(metric: unknown, staticInfo: unknown): GpuReading[] {
  const statics = new Map(gpuList(staticInfo).map((entry) => [reportedNumber(at(entry, 'gpu')), entry]));
  const gpus: GpuReading[] = [];
  for (const entry of gpuList(metric)) {
    const index = reportedNumber(at(entry, 'gpu'));
    if (index === undefined || !Number.isInteger(index) || index < 0) continue;
    const known = statics.get(index);
    const temperature = at(entry, 'temperature');
    gpus.push({
      index,
      name: reportedText(at(known, 'asic', 'market_name')) ?? `AMD GPU ${index}`,
      memoryUsedMiB: measure(at(entry, 'mem_usage', 'used_vram')),
      memoryTotalMiB: measure(at(entry, 'mem_usage', 'total_vram')) ?? measure(at(known, 'vram', 'size')),
      temperatureC: measure(at(temperature, 'edge')) ?? measure(at(temperature, 'hotspot')),
      utilizationPercent: measure(at(entry, 'usage', 'gfx_activity')),
      computeCapability: undefined,
    });
  }
  return gpus;
}
