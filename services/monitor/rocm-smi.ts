import { type GpuReading, reportedNumber, reportedText } from './gpu-reading.js';
import { isRecord } from './tool-json.js';

export const ROCM_SMI_ARGS = ['--showuse', '--showmeminfo', 'vram', '--showtemp', '--showproductname', '--json'];

const MIB = 1024 * 1024;

/** GPUs from `rocm-smi … --json`: one `cardN` object each, every value a string, memory in bytes. */
export function parseRocmSmi(json: unknown): GpuReading[] {
  if (!isRecord(json)) return [];
  const gpus: GpuReading[] = [];
  for (const [key, card] of Object.entries(json)) {
    const index = /^card(\d+)$/.exec(key)?.[1];
    if (index === undefined || !isRecord(card)) continue;
    const used = reportedNumber(card['VRAM Total Used Memory (B)']);
    const total = reportedNumber(card['VRAM Total Memory (B)']);
    gpus.push({
      index: Number(index),
      name: reportedText(card['Card Series']) ?? reportedText(card['Card SKU']) ?? `AMD GPU ${index}`,
      memoryUsedMiB: used === undefined ? undefined : used / MIB,
      memoryTotalMiB: total === undefined ? undefined : total / MIB,
      temperatureC:
        reportedNumber(card['Temperature (Sensor edge) (C)']) ??
        reportedNumber(card['Temperature (Sensor junction) (C)']),
      utilizationPercent: reportedNumber(card['GPU use (%)']),
      computeCapability: undefined,
    });
  }
  return gpus.sort((a, b) => a.index - b.index);
}
