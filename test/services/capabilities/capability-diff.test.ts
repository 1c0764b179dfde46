import { describe, expect, it } from 'vitest';
import type { Capabilities } from '../../../contracts/capabilities.js';
import {
  applyCapabilityChanges,
  diffCapabilities,
  hasChanges,
} from '../../../services/capabilities/capability-diff.js';

const BEFORE: Capabilities = {
  devices: [{ id: 'CPU-0', name: 'Test CPU', device_type: 'cpu' }],
  models: [
    { model_id: 'llama/7b', size_gb: 3.8 },
    { model_id: 'mistral', size_gb: 4.1 },
    { model_id: 'phi', size_gb: 1.6 },
  ],
  workers: [
    { worker_type: 'cpu', version: '0.1.0' },
    { worker_type: 'vllm', version: '0.5.0' },
  ],
};

const AFTER: Capabilities = {
  devices: BEFORE.devices,
  models: [
    { model_id: 'gemma', size_gb: 5 },
    { model_id: 'llama/7b', size_gb: 3.8 },
    { model_id: 'phi', size_gb: 2.2 },
  ],
  workers: [
    { worker_type: 'cpu', version: '0.1.0' },
    { worker_type: 'vllm', version: '0.6.0' },
  ],
};

describe('diffCapabilities', () => {
  it('lists what went away, what appeared, and what changed as added again', () => {
    expect(diffCapabilities(BEFORE, AFTER)).toEqual({
      models: [
        { action: 'removed', model_id: 'mistral', size_gb: 4.1 },
        { action: 'added', model_id: 'gemma', size_gb: 5 },
        { action: 'added', model_id: 'phi', size_gb: 2.2 },
      ],
      workers: [{ action: 'added', worker_type: 'vllm', version: '0.6.0' }],
    });
  });

  it('finds nothing between equal sets, whatever their order', () => {
    const shuffled = { ...BEFORE, models: [...BEFORE.models].reverse(), workers: [...BEFORE.workers].reverse() };
    const changes = diffCapabilities(BEFORE, shuffled);
    expect(changes).toEqual({ models: [], workers: [] });
    expect(hasChanges(changes)).toBe(false);
    expect(hasChanges(diffCapabilities(BEFORE, AFTER))).toBe(true);
  });

  it('round-trips: the diff applied to the old set gives the new one', () => {
    expect(applyCapabilityChanges(BEFORE, diffCapabilities(BEFORE, AFTER))).toEqual(AFTER);
    expect(applyCapabilityChanges(AFTER, diffCapabilities(AFTER, BEFORE))).toEqual(BEFORE);
  });

  it('lists a GPU that left or came back, and only then has a devices entry', () => {
    const gpu = (index: number) => ({
      id: `GPU-${index}`,
      name: 'NVIDIA L4',
      device_type: 'gpu' as const,
      vram_gb: 22.5,
    });
    const cpu = BEFORE.devices[0];
    if (!cpu) throw new Error('BEFORE has a CPU');
    const all = { ...BEFORE, devices: [gpu(0), gpu(2), gpu(10), cpu] };
    const lost = { ...BEFORE, devices: [gpu(0), gpu(10), cpu] };
    expect(diffCapabilities(all, lost)).toEqual({
      devices: [{ action: 'removed', ...gpu(2) }],
      models: [],
      workers: [],
    });
    expect(diffCapabilities(lost, all).devices).toEqual([{ action: 'added', ...gpu(2) }]);
    expect(hasChanges(diffCapabilities(all, lost))).toBe(true);
    expect(applyCapabilityChanges(lost, diffCapabilities(lost, all))).toEqual(all);
    expect(applyCapabilityChanges(all, diffCapabilities(all, lost))).toEqual(lost);
  });
});
