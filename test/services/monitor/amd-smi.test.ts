import { describe, expect, it } from 'vitest';
import { parseAmdSmi } from '../../../services/monitor/amd-smi.js';
import { AMD_SMI_METRIC, AMD_SMI_STATIC } from '../../fixtures/gpu-tools.js';

describe('parseAmdSmi', () => {
  it('reads load, VRAM and temperature, named from the static answer; N/A stays unknown', () => {
    expect(parseAmdSmi(AMD_SMI_METRIC, AMD_SMI_STATIC)).toEqual([
      {
        index: 0,
        name: 'AMD Instinct MI300X',
        memoryUsedMiB: 2048,
        memoryTotalMiB: 196592,
        temperatureC: 51,
        utilizationPercent: 42,
        computeCapability: undefined,
      },
      {
        index: 1,
        name: 'Radeon Pro W7700',
        memoryUsedMiB: undefined,
        memoryTotalMiB: 16368,
        temperatureC: 40,
        utilizationPercent: undefined,
        computeCapability: undefined,
      },
    ]);
  });

  it('reads the bare values of older versions and the gpu_data wrapper of newer ones, without a static answer', () => {
    const older = [{ gpu: 3, usage: { gfx_activity: 0 }, mem_usage: { total_vram: 8176, used_vram: 0 } }];
    expect(parseAmdSmi({ gpu_data: older }, undefined)).toEqual([
      {
        index: 3,
        name: 'AMD GPU 3',
        memoryUsedMiB: 0,
        memoryTotalMiB: 8176,
        temperatureC: undefined,
        utilizationPercent: 0,
        computeCapability: undefined,
      },
    ]);
  });

  it('skips what is not a GPU', () => {
    expect(parseAmdSmi([{ gpu: 'x' }, { gpu: -1 }, 'N/A', null], [])).toEqual([]);
    expect(parseAmdSmi({ error: 'no devices' }, [])).toEqual([]);
  });
});
