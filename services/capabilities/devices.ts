import type { Device } from '../../contracts/capabilities.js';
import { cutText, LIMITS } from '../../contracts/common.js';
import type { GpuInfo } from '../monitor/monitor.js';

/** docs/protocol.md: Where capabilities come from: every GPU as `GPU-<index>`, then the CPU as `CPU-0`. */
export function scanDevices(gpus: readonly GpuInfo[], cpuName: string): Device[] {
  const devices: Device[] = gpus.map(
    ({ index, ...gpu }): Device => ({ id: `GPU-${index}`, device_type: 'gpu', ...gpu }),
  );
  // Some virtual machines report no CPU brand.
  const cpu: Device = {
    id: 'CPU-0',
    name: cutText(cpuName.trim(), LIMITS.deviceNameLength) || 'CPU',
    device_type: 'cpu',
  };
  return [...devices.slice(0, LIMITS.devices - 1), cpu];
}
