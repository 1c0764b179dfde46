import { describe, expect, it } from 'vitest';
import { Device } from '../../../contracts/capabilities.js';
import { scanDevices } from '../../../services/capabilities/devices.js';

describe('scanDevices', () => {
  it('lists every GPU as GPU-<index>, then the CPU as CPU-0', () => {
    const devices = scanDevices(
      [
        { index: 0, name: 'NVIDIA GeForce RTX 4090', vram_gb: 23.988, compute_capability: '8.9' },
        { index: 1, name: 'NVIDIA GH200' },
      ],
      'Intel Xeon Gold 6338',
    );
    expect(devices).toEqual([
      { id: 'GPU-0', name: 'NVIDIA GeForce RTX 4090', device_type: 'gpu', vram_gb: 23.988, compute_capability: '8.9' },
      { id: 'GPU-1', name: 'NVIDIA GH200', device_type: 'gpu' },
      { id: 'CPU-0', name: 'Intel Xeon Gold 6338', device_type: 'cpu' },
    ]);
    for (const device of devices) expect(Device.parse(device)).toEqual(device);
  });

  it('names a CPU without a brand, on a machine without GPUs', () => {
    expect(scanDevices([], '  ')).toEqual([{ id: 'CPU-0', name: 'CPU', device_type: 'cpu' }]);
  });
});
