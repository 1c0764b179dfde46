import { describe, expect, it } from 'vitest';
import type { Capabilities, Model } from '../../../contracts/capabilities.js';
import { LIMITS } from '../../../contracts/common.js';
import { CapabilitySet, capabilityBytes, capabilityExcess, measureSet } from '../../../machines/capability-set.js';
import { fitCapabilities } from '../../../services/capabilities/capability-budget.js';
import { capabilities } from '../../fixtures/examples.js';

const { devices: DEVICES, workers: WORKERS } = capabilities;

/** `count` models with 120-character ids in id order, as a large Hugging Face cache lists them. */
function models(count: number, from = 0): Model[] {
  return Array.from({ length: count }, (_, i) => ({
    model_id: `org/${String(from + i).padStart(6, '0')}-${'x'.repeat(109)}`,
    size_gb: 1.5,
  }));
}

describe('fitCapabilities', () => {
  it('leaves a set within the bound as it is', () => {
    const set: Capabilities = { devices: DEVICES, models: models(3), workers: WORKERS };
    expect(fitCapabilities(set)).toEqual({ capabilities: set, leftOut: { workers: 0, models: 0 } });
  });

  it('keeps the devices, the workers and the leading models that fit, which the queen then takes whole', () => {
    const all = models(1_400);
    const fitted = fitCapabilities({ devices: DEVICES, models: all, workers: WORKERS });
    const { capabilities, leftOut } = fitted;
    expect(capabilityBytes({ devices: DEVICES, models: all, workers: WORKERS })).toBeGreaterThan(
      LIMITS.capabilityBytes,
    );
    expect(capabilities.devices).toEqual(DEVICES);
    expect(capabilities.workers).toEqual(WORKERS);
    expect(capabilities.models).toEqual(all.slice(0, capabilities.models.length));
    expect(leftOut).toEqual({ workers: 0, models: all.length - capabilities.models.length });
    // The queen's own measure: within its bound, and one model more would not be.
    expect(capabilityExcess(measureSet(capabilities))).toBeNull();
    const oneMore = { ...capabilities, models: all.slice(0, capabilities.models.length + 1) };
    expect(capabilityExcess(measureSet(oneMore))).toMatch(/bytes of capabilities/);
  });

  it('keeps the set the queen holds after the changes to a cut set within its bound', () => {
    const small: Capabilities = { devices: DEVICES, models: models(2), workers: WORKERS };
    const held = new CapabilitySet(small);
    const grown = fitCapabilities({ ...small, models: [...small.models, ...models(1_400, 2)] }).capabilities;
    const added = grown.models.slice(2).map((model) => ({ ...model, action: 'added' as const }));
    expect(capabilityExcess(held.measure({ models: added, workers: [] }))).toBeNull();
  });

  it('cuts worker types past their limit, and models past theirs, by count as well', () => {
    const workers = Array.from({ length: LIMITS.workerTypes + 5 }, (_, i) => ({
      worker_type: `w${String(i).padStart(5, '0')}`,
      version: '1',
    }));
    const tiny = Array.from({ length: LIMITS.models + 3 }, (_, i) => ({ model_id: `m${i}`, size_gb: 0 }));
    const { capabilities, leftOut } = fitCapabilities(
      { devices: DEVICES, models: tiny, workers },
      Number.POSITIVE_INFINITY,
    );
    expect(capabilities.workers).toEqual(workers.slice(0, LIMITS.workerTypes));
    expect(capabilities.models).toEqual(tiny.slice(0, LIMITS.models));
    expect(leftOut).toEqual({ workers: 5, models: 3 });
  });
});
