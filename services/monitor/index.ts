export { createMonitor, type GpuInfo, type Monitor, type MonitorOptions } from './monitor.js';
export { type GpuReading, type NvidiaSmiResult, parseNvidiaSmi } from './nvidia-smi.js';
