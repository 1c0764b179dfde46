import { describe, expect, it } from 'vitest';
import { parseRocmSmi } from '../../../services/monitor/rocm-smi.js';
import { ROCM_SMI } from '../../fixtures/gpu-tools.js';

describe('parseRocmSmi', () => {
  it('reads each card, bytes to MiB, and leaves N/A unknown', () => {
    expect(parseRocmSmi(ROCM_SMI)).toEqual([
      {
        index: 0,
        name: 'Radeon RX 7900 XT',
        memoryUsedMiB: 27856896 / 1024 ** 2,
        memoryTotalMiB: 21458059264 / 1024 ** 2,
        temperatureC: 45,
        utilizationPercent: 7,
        computeCapability: undefined,
      },
      {
        index: 1,
        name: 'AMD GPU 1',
        memoryUsedMiB: undefined,
        memoryTotalMiB: 17163091968 / 1024 ** 2,
        temperatureC: undefined,
        utilizationPercent: undefined,
        computeCapability: undefined,
      },
    ]);
  });

  it('finds nothing in an answer without cards', () => {
    expect(parseRocmSmi({ system: {} })).toEqual([]);
    expect(parseRocmSmi([])).toEqual([]);
  });
});
