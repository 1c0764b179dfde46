import type { MonitorData } from './heartbeat.js';

/**
 * The series a hive's monitor readings make, by key: `cpu` (%), `ram_used_gb`, `ram_total_gb`, and per GPU
 * `gpu.<device_id>.utilization` (%), `.vram_used_gb`, `.vram_total_gb`, `.temperature` (°C). Free of zod, so the
 * dashboard loads this very module to extend its sparklines from stream events exactly as the queen records them.
 */
export type GpuMetric = 'utilization' | 'vram_used_gb' | 'vram_total_gb' | 'temperature';
export type SeriesKey = 'cpu' | 'ram_used_gb' | 'ram_total_gb' | `gpu.${string}.${GpuMetric}`;

export function gpuSeriesKey(deviceId: string, metric: GpuMetric): SeriesKey {
  return `gpu.${deviceId}.${metric}`;
}

/** The values one reading reports; a value the hive left out has no entry, so it is a gap and never a 0. */
export function monitorSeries(data: MonitorData): Map<SeriesKey, number> {
  const values = new Map<SeriesKey, number>([
    ['cpu', data.cpu_usage_percent],
    ['ram_used_gb', data.ram_used_gb],
    ['ram_total_gb', data.ram_total_gb],
  ]);
  for (const device of data.devices) {
    const known: [GpuMetric, number | undefined][] = [
      ['utilization', device.utilization_percent],
      ['vram_used_gb', device.vram_used_gb],
      ['vram_total_gb', device.vram_total_gb],
      ['temperature', device.temperature_celsius],
    ];
    for (const [metric, value] of known)
      if (value !== undefined) values.set(gpuSeriesKey(device.device_id, metric), value);
  }
  return values;
}
