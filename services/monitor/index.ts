export { createAmdGpuReader } from './amd-gpus.js';
export { createAppleGpuReader } from './apple-gpus.js';
export type { GpuQueryResult, GpuReader, GpuReading } from './gpu-reading.js';
export { createMonitor, type GpuInfo, type Monitor, type MonitorOptions } from './monitor.js';
export { parseNvidiaSmi } from './nvidia-smi.js';
