import { describe, expect, it } from 'vitest';
import type { CapabilityChanges, Model } from '../../contracts/capabilities.js';
import { LIMITS } from '../../contracts/common.js';
import { CapabilitySet, capabilityBytes, capabilityExcess } from '../../machines/capability-set.js';
import { capabilities } from '../fixtures/examples.js';

const model = (i: number): Model => ({ model_id: `m/${'x'.repeat(40)}-${i}`, size_gb: i });
const adding = (models: Model[]): CapabilityChanges => ({
  models: models.map((m) => ({ action: 'added', ...m })),
  workers: [],
});

describe('CapabilitySet sameAs', () => {
  it('is the same set item for item, whatever the objects or their key order, and not after any change', () => {
    const set = new CapabilitySet(structuredClone(capabilities));
    expect(set.sameAs(structuredClone(capabilities))).toBe(true);
    const reordered = {
      workers: capabilities.workers.map(({ version, worker_type }) => ({ version, worker_type })),
      models: capabilities.models,
      devices: capabilities.devices,
    };
    expect(set.sameAs(reordered)).toBe(true);
    const changed = (edit: (copy: typeof capabilities) => void): boolean => {
      const copy = structuredClone(capabilities);
      edit(copy);
      return set.sameAs(copy);
    };
    expect(changed((c) => c.models.pop())).toBe(false);
    expect(changed((c) => c.models.reverse())).toBe(false);
    expect(changed((c) => c.workers.push({ worker_type: 'rocm', version: '0.1.0' }))).toBe(false);
    expect(changed((c) => Object.assign(c.models[0] ?? {}, { size_gb: 4.59 }))).toBe(false);
    expect(changed((c) => delete c.devices[0]?.compute_capability)).toBe(false);
    expect(changed((c) => Object.assign(c.devices[2] ?? {}, { vram_gb: 0 }))).toBe(false);
    // After a change the set is compared as it is now.
    const changes = adding([model(1)]);
    set.apply(changes);
    expect(set.sameAs(structuredClone(capabilities))).toBe(false);
    expect(set.sameAs({ ...structuredClone(capabilities), models: [...capabilities.models, model(1)] })).toBe(true);
  });
});

describe('CapabilitySet bytes', () => {
  it('measures a change as applying it would, and keeps its bytes equal to its JSON', () => {
    const set = new CapabilitySet(structuredClone(capabilities));
    const exact = (): number => Buffer.byteLength(JSON.stringify(set.toJSON()));
    // Each list's last item has no comma after it: the measure is at most 3 bytes over.
    expect(set.bytes - exact()).toBeGreaterThanOrEqual(0);
    expect(set.bytes - exact()).toBeLessThanOrEqual(3);
    const first = capabilities.models[0];
    if (!first) throw new Error('the example has a model');
    const changes: CapabilityChanges = {
      models: [
        { action: 'added', ...model(1) },
        { action: 'added', ...model(1), size_gb: 12.5 },
        { action: 'removed', ...first },
        { action: 'removed', ...model(99) },
      ],
      workers: [{ action: 'added', worker_type: 'rocm', version: '0.2.0' }],
      devices: [{ action: 'added', id: 'GPU-7', name: 'Spare', device_type: 'gpu' }],
    };
    const before = set.bytes;
    const measured = set.measure(changes);
    expect(set.bytes).toBe(before);
    expect(set.toJSON()).toEqual(capabilities);
    set.apply(changes);
    expect(measured).toEqual({
      devices: set.toJSON().devices.length,
      models: set.toJSON().models.length,
      workers: set.toJSON().workers.length,
      bytes: set.bytes,
    });
    expect(set.bytes).toBe(capabilityBytes(set.toJSON()));
  });

  it('holds a model a full set listed twice once, and its bytes so, from the first change on', () => {
    const twice = { ...structuredClone(capabilities), models: [model(1), model(2), { ...model(1), size_gb: 3 }] };
    const set = new CapabilitySet(twice);
    expect(set.bytes).toBe(capabilityBytes(twice));
    const changes = adding([model(4)]);
    const measured = set.measure(changes);
    set.apply(changes);
    expect(set.toJSON().models.map((m) => m.model_id)).toEqual([model(1), model(2), model(4)].map((m) => m.model_id));
    expect(set.bytes).toBe(capabilityBytes(set.toJSON()));
    expect(measured.bytes).toBe(set.bytes);
  });

  it('counts UTF-8 bytes, not characters: a bound in bytes holds for names in any script', () => {
    const wide = (i: number): Model => ({ model_id: `模型/${'量'.repeat(300)}-${i}`, size_gb: i });
    const set = new CapabilitySet({ devices: [], models: [wide(0)], workers: [] });
    expect(set.bytes).toBe(Buffer.byteLength(JSON.stringify(set.toJSON())) + 1);
    const changes = adding([wide(1), wide(2)]);
    const measured = set.measure(changes);
    set.apply(changes);
    expect(measured.bytes).toBe(set.bytes);
    expect(set.bytes).toBe(Buffer.byteLength(JSON.stringify(set.toJSON())) + 1);
    // Three bytes a character: 250 such models pass the bound that 250 ASCII ones stay under.
    const many = Array.from({ length: 250 }, (_, i) => wide(i));
    expect(
      capabilityExcess(new CapabilitySet({ devices: [], models: [], workers: [] }).measure(adding(many))),
    ).toContain('bytes of capabilities');
    const ascii = many.map((m) => ({ ...m, model_id: 'x'.repeat(m.model_id.length) }));
    expect(
      capabilityExcess(new CapabilitySet({ devices: [], models: [], workers: [] }).measure(adding(ascii))),
    ).toBeNull();
  });

  it("names the bound a change would pass: models past the list limit, bytes past a hive's share", () => {
    const set = new CapabilitySet({ devices: [], models: [], workers: [] });
    const many = Array.from({ length: LIMITS.models + 1 }, (_, i) => ({ model_id: `m${i}`, size_gb: 0 }));
    expect(capabilityExcess(set.measure(adding(many)))).toContain(`${LIMITS.models + 1} models`);
    const fat = Array.from({ length: 5_000 }, (_, i) => model(i));
    expect(capabilityExcess(set.measure(adding(fat)))).toContain('bytes of capabilities');
    expect(capabilityExcess(set.measure(adding(fat.slice(0, 10))))).toBeNull();
  });
});
