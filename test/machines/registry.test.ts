import { describe, expect, it } from 'vitest';
import type { CapabilityChanges, Device } from '../../contracts/capabilities.js';
import { capabilityChanges } from '../fixtures/examples.js';
import { hiveBeat, issuedSecret, startRegistry, WALL_BASE, workerBeat } from '../support/queen-registry.js';

const HOUR = 3_600_000;

describe('registry liveness on the queen clock', () => {
  it('turns a silent hive suspect at exactly suspect-after, offline at offline-after, forgets it at forget-after', async () => {
    const h = startRegistry();
    h.registry.receiveHive(hiveBeat('h1'));
    const liveness = () => h.registry.hives.get('h1')?.liveness ?? 'forgotten';
    await h.timers.advanceTo(44_999);
    expect(liveness()).toBe('online');
    await h.timers.advanceTo(45_000);
    expect(liveness()).toBe('suspect');
    await h.timers.advanceTo(89_999);
    expect(liveness()).toBe('suspect');
    await h.timers.advanceTo(90_000);
    expect(liveness()).toBe('offline');
    await h.timers.advanceTo(599_999);
    expect(liveness()).toBe('offline');
    await h.timers.advanceTo(600_000);
    expect(liveness()).toBe('forgotten');
    expect(h.registry.hives.size).toBe(0);
    expect(h.transitions()).toEqual([
      'hive h1 new→online (heartbeat) @0',
      'hive h1 online→suspect (missed heartbeats) @45000',
      'hive h1 suspect→offline (missed heartbeats) @90000',
      'hive h1 offline→forgotten (forgotten) @600000',
    ]);
  });

  it('sees a transition within one sweep period of its threshold when beats fall between sweeps', async () => {
    const h = startRegistry();
    h.registry.receiveHive(hiveBeat('h1'));
    await h.timers.advanceTo(300);
    h.registry.receiveWorker(workerBeat('w1', 'h1'));
    await h.timers.advanceTo(45_299);
    expect(h.registry.workers.get('w1')?.liveness).toBe('online');
    await h.timers.advanceTo(46_000);
    expect(h.registry.workers.get('w1')?.liveness).toBe('suspect');
  });

  it('judges liveness by receipt, not by the sender timestamp an hour in the past or the future', async () => {
    const h = startRegistry();
    const past = new Date(WALL_BASE - HOUR).toISOString();
    const future = new Date(WALL_BASE + HOUR).toISOString();
    h.registry.receiveHive(hiveBeat('past', { timestamp: past }));
    h.registry.receiveHive(hiveBeat('future', { timestamp: future }));
    h.registry.receiveWorker(workerBeat('w-past', 'past', { timestamp: past }));
    await h.timers.advanceTo(30_000);
    expect(h.registry.hives.get('past')?.liveness).toBe('online');
    expect(h.registry.hives.get('future')?.liveness).toBe('online');
    expect(h.registry.workers.get('w-past')?.liveness).toBe('online');
    expect(h.registry.hives.get('past')?.clockOffsetMs).toBe(-HOUR);
    expect(h.registry.hives.get('future')?.clockOffsetMs).toBe(HOUR);
    await h.timers.advanceTo(45_000);
    expect(h.registry.hives.get('future')?.liveness).toBe('suspect');
  });

  it('keeps a hive that beats every interval online indefinitely', async () => {
    const h = startRegistry();
    for (let t = 0; t <= 600_000; t += 30_000) {
      await h.timers.advanceTo(t);
      h.registry.receiveHive(hiveBeat('h1', {}, true));
    }
    expect(h.registry.hives.get('h1')?.liveness).toBe('online');
    expect(h.transitions()).toEqual(['hive h1 new→online (heartbeat) @0']);
  });

  it('takes a stopping hive offline at once, with its workers', async () => {
    const h = startRegistry();
    h.registry.receiveHive(hiveBeat('h1'));
    h.registry.receiveWorker(workerBeat('w1', 'h1'));
    h.registry.receiveWorker(workerBeat('w2', 'h1', { status: 'busy' }));
    h.registry.receiveHive(hiveBeat('h2'));
    h.registry.receiveWorker(workerBeat('w3', 'h2'));
    await h.timers.advanceTo(5_000);
    h.registry.receiveHive(hiveBeat('h1', { status: 'stopping' }, true));
    expect(h.registry.hives.get('h1')?.liveness).toBe('offline');
    expect(h.registry.hives.get('h1')?.report?.status).toBe('stopping');
    expect(h.registry.workers.get('w1')?.liveness).toBe('offline');
    expect(h.registry.workers.get('w2')?.liveness).toBe('offline');
    expect(h.registry.workers.get('w3')?.liveness).toBe('online');
    expect(h.transitions().slice(-3)).toEqual([
      'hive h1 online→offline (graceful stop) @5000',
      'worker w1 online→offline (hive offline) @5000',
      'worker w2 online→offline (hive offline) @5000',
    ]);
  });

  it('takes a stopped worker offline at once', () => {
    const h = startRegistry();
    h.registry.receiveHive(hiveBeat('h1'));
    h.registry.receiveWorker(workerBeat('w1', 'h1'));
    expect(h.registry.workers.availableCount).toBe(1);
    h.registry.receiveWorker(workerBeat('w1', 'h1', { status: 'stopped' }));
    expect(h.registry.workers.get('w1')?.liveness).toBe('offline');
    expect(h.registry.workers.availableCount).toBe(0);
    expect(h.transitions()).toEqual([
      'hive h1 new→online (heartbeat) @0',
      'worker w1 new→online (heartbeat) @0',
      'worker w1 online→offline (graceful stop) @0',
    ]);
  });

  it('takes the workers of a hive that stopped beating offline with it, though they still beat', async () => {
    const h = startRegistry();
    h.registry.receiveHive(hiveBeat('h1'));
    for (let t = 0; t < 90_000; t += 20_000) {
      await h.timers.advanceTo(t);
      h.registry.receiveWorker(workerBeat('w1', 'h1'));
    }
    await h.timers.advanceTo(90_000);
    expect(h.registry.hives.get('h1')?.liveness).toBe('offline');
    expect(h.registry.workers.get('w1')?.liveness).toBe('offline');
    expect(h.transitions()).toContain('worker w1 online→offline (hive offline) @90000');
  });

  it('brings suspect and offline entries straight back online on a heartbeat', async () => {
    const h = startRegistry();
    h.registry.receiveHive(hiveBeat('h1'));
    h.registry.receiveWorker(workerBeat('w1', 'h1'));
    await h.timers.advanceTo(50_000);
    h.registry.receiveHive(hiveBeat('h1', {}, true));
    await h.timers.advanceTo(140_000);
    expect(h.registry.workers.get('w1')?.liveness).toBe('offline');
    h.registry.receiveWorker(workerBeat('w1', 'h1'));
    expect(h.registry.workers.get('w1')?.liveness).toBe('online');
    // The two registries sweep on their own timers: their order at one instant is not defined.
    expect(h.transitions().filter((t) => t.startsWith('hive'))).toEqual([
      'hive h1 new→online (heartbeat) @0',
      'hive h1 online→suspect (missed heartbeats) @45000',
      'hive h1 suspect→online (heartbeat) @50000',
      'hive h1 online→suspect (missed heartbeats) @95000',
      'hive h1 suspect→offline (missed heartbeats) @140000',
    ]);
    expect(h.transitions().filter((t) => t.startsWith('worker'))).toEqual([
      'worker w1 new→online (heartbeat) @0',
      'worker w1 online→suspect (missed heartbeats) @45000',
      'worker w1 suspect→offline (missed heartbeats) @90000',
      'worker w1 offline→online (heartbeat) @140000',
    ]);
  });

  it('keeps its counts equal to a full count after many transitions', async () => {
    const h = startRegistry();
    for (let i = 0; i < 40; i++) {
      await h.timers.advanceTo(i * 3_000);
      h.registry.receiveHive(hiveBeat(`h${i % 10}`, {}, i >= 10));
      h.registry.receiveWorker(workerBeat(`w${i}`, `h${i % 10}`, { status: i % 3 === 0 ? 'busy' : 'ready' }));
    }
    for (const t of [150_000, 200_000, 400_000, 700_000]) {
      await h.timers.advanceTo(t);
      const hives = [...h.registry.hives.entries()];
      const workers = [...h.registry.workers.entries()];
      for (const liveness of ['online', 'suspect', 'offline'] as const) {
        expect(h.registry.hives.count(liveness)).toBe(hives.filter((e) => e.liveness === liveness).length);
        expect(h.registry.workers.count(liveness)).toBe(workers.filter((e) => e.liveness === liveness).length);
      }
      const available = workers.filter((e) => e.liveness === 'online' && e.heartbeat.status === 'ready').length;
      expect(h.registry.workers.availableCount).toBe(available);
    }
  });
});

describe('registry capabilities and resync', () => {
  it('asks an unknown hive for its capabilities, and takes the full set without asking again', () => {
    const h = startRegistry();
    expect(h.registry.receiveHive(hiveBeat('h1', {}, true))).toMatchObject({ ok: true, value: { resync: 'unknown' } });
    expect(h.registry.hives.get('h1')?.capabilities).toBeNull();
    expect(h.registry.receiveHive(hiveBeat('h1'))).toMatchObject({ ok: true, value: { resync: null } });
    expect(h.registry.hives.get('h1')?.capabilities?.toJSON().models).toHaveLength(3);
    expect(h.registry.receiveHive(hiveBeat('h1', {}, true))).toMatchObject({ ok: true, value: { resync: null } });
  });

  it('applies the next version of the changes and refuses a gap', () => {
    const h = startRegistry();
    h.registry.receiveHive(hiveBeat('h1'));
    const delta = { capability_changes: capabilityChanges, capabilities_version: 1 };
    expect(h.registry.receiveHive(hiveBeat('h1', delta, true))).toMatchObject({ ok: true, value: { resync: null } });
    const held = h.registry.hives.get('h1');
    expect(held?.capabilitiesVersion).toBe(1);
    expect(held?.capabilities?.toJSON().models.map((m) => m.model_id)).toEqual([
      'llama-3.1-8b-instruct-q4_k_m',
      'qwen2.5/qwen2.5-14b-instruct-q5_k_m',
      'phi-3-mini-4k-instruct-q4',
    ]);
    expect(held?.capabilities?.toJSON().workers.map((w) => w.worker_type)).toEqual(['cpu', 'cuda', 'vllm']);
    const gap = { capability_changes: { models: [], workers: [] }, capabilities_version: 3 };
    expect(h.registry.receiveHive(hiveBeat('h1', gap, true))).toMatchObject({ ok: true, value: { resync: 'gap' } });
    expect(h.registry.hives.get('h1')?.capabilitiesVersion).toBe(1);
    expect(h.registry.receiveHive(hiveBeat('h1', { capabilities_version: 2 }, true))).toMatchObject({
      ok: true,
      value: { resync: 'gap' },
    });
  });

  it('applies a GPU that left and came back, keeping GPUs in index order before the CPU', () => {
    const h = startRegistry();
    h.registry.receiveHive(hiveBeat('h1'));
    const ids = () =>
      h.registry.hives
        .get('h1')
        ?.capabilities?.toJSON()
        .devices.map((device) => device.id);
    const gpu1: Device = { id: 'GPU-1', name: 'NVIDIA GeForce RTX 3090', device_type: 'gpu', vram_gb: 24 };
    const gone: CapabilityChanges = { models: [], workers: [], devices: [{ action: 'removed', ...gpu1 }] };
    expect(
      h.registry.receiveHive(hiveBeat('h1', { capability_changes: gone, capabilities_version: 1 }, true)),
    ).toMatchObject({ ok: true, value: { resync: null } });
    expect(ids()).toEqual(['GPU-0', 'CPU-0']);
    const back: CapabilityChanges = { models: [], workers: [], devices: [{ action: 'added', ...gpu1 }] };
    h.registry.receiveHive(hiveBeat('h1', { capability_changes: back, capabilities_version: 2 }, true));
    expect(ids()).toEqual(['GPU-0', 'GPU-1', 'CPU-0']);
    expect(h.registry.hives.get('h1')?.capabilities?.toJSON().devices[1]).toEqual(gpu1);
    // A sender without device changes leaves the devices as they are.
    h.registry.receiveHive(hiveBeat('h1', { capability_changes: capabilityChanges, capabilities_version: 3 }, true));
    expect(ids()).toEqual(['GPU-0', 'GPU-1', 'CPU-0']);
  });

  it('records a full set sent again as a change only when it differs, small or large, even at the same size', () => {
    const h = startRegistry();
    const capabilityEvents = () => h.changes.filter(({ change }) => change.type === 'capabilities').length;
    const setOf = (count: number, letter: string) => ({
      devices: [],
      models: Array.from({ length: count }, (_, i) => ({
        model_id: `${letter}-${String(i).padStart(4, '0')}`,
        size_gb: 1,
      })),
      workers: [],
    });
    // A few models (its JSON kept with it), then enough to weigh more than a few KiB (made again when compared).
    for (const count of [3, 400]) {
      const id = `h${count}`;
      h.registry.receiveHive(hiveBeat(id, { capabilities: setOf(count, 'a') }));
      const before = capabilityEvents();
      h.registry.receiveHive(hiveBeat(id, { capabilities: setOf(count, 'a') }));
      expect(capabilityEvents()).toBe(before);
      h.registry.receiveHive(hiveBeat(id, { capabilities: setOf(count, 'b') }));
      expect(capabilityEvents()).toBe(before + 1);
      h.registry.receiveHive(hiveBeat(id, { capabilities: setOf(count, 'b') }));
      expect(capabilityEvents()).toBe(before + 1);
    }
  });

  it('keeps the held set when the same full set comes again, and takes the version it came with', () => {
    const h = startRegistry();
    h.registry.receiveHive(hiveBeat('h1', { capabilities_version: 4 }));
    const held = h.registry.hives.get('h1')?.capabilities;
    if (!held) throw new Error('a discovery heartbeat carries capabilities');
    // The same set, rebuilt as a parse would, under a later version: nothing to replace, the version moves on.
    const again = structuredClone(held.toJSON());
    expect(
      h.registry.receiveHive(hiveBeat('h1', { capabilities: again, capabilities_version: 7 }, true)),
    ).toMatchObject({ ok: true, value: { resync: null } });
    expect(h.registry.hives.get('h1')?.capabilities).toBe(held);
    expect(h.registry.hives.get('h1')?.capabilitiesVersion).toBe(7);
    // Its next heartbeat, at that version and without a set, is not taken for a gap.
    expect(h.registry.receiveHive(hiveBeat('h1', { capabilities_version: 7 }, true))).toMatchObject({
      ok: true,
      value: { resync: null },
    });
    // One model more is a new set: held in its place.
    const grown = structuredClone(again);
    grown.models.push({ model_id: 'extra', size_gb: 1 });
    h.registry.receiveHive(hiveBeat('h1', { capabilities: grown, capabilities_version: 8 }, true));
    expect(h.registry.hives.get('h1')?.capabilities).not.toBe(held);
    expect(h.registry.hives.get('h1')?.capabilities?.toJSON()).toEqual(grown);
  });

  it('asks a restarted hive (new boot id) that sends no capabilities for them', async () => {
    const h = startRegistry();
    h.registry.receiveHive(hiveBeat('h1'));
    h.registry.receiveHive(hiveBeat('h1', { status: 'stopping' }, true));
    expect(h.registry.receiveHive(hiveBeat('h1', { boot_id: 'b-new' }, true))).toMatchObject({
      ok: true,
      value: { resync: 'restart' },
    });
    expect(h.registry.hives.get('h1')?.report?.boot_id).toBe('b-new');
    expect(h.registry.hives.get('h1')?.liveness).toBe('online');
  });
});

describe('registry identities', () => {
  it('refuses a heartbeat of a known hive id without its secret, and changes nothing but one refusal', () => {
    const h = startRegistry();
    h.registry.receiveHive(hiveBeat('h1'));
    const before = h.changes.length;
    const verdict = h.registry.receiveHive(
      hiveBeat('h1', { boot_id: 'b-other', hive_url: 'http://192.168.1.22:7835', hive_secret: 'guessed' }),
      '192.168.1.22',
    );
    expect(verdict.ok).toBe(false);
    h.registry.receiveHive(hiveBeat('h1', { hive_secret: 'guessed again' }), '192.168.1.22');
    expect(h.registry.hives.get('h1')?.report?.boot_id).toBe('b-5d21e0c4');
    expect(h.changes.slice(before).map(({ change }) => change.type)).toEqual(['identity_refused']);
  });

  it('refuses a worker heartbeat that claims a hive with an identity without its secret', () => {
    const h = startRegistry();
    h.registry.receiveHive(hiveBeat('h1'));
    expect(h.registry.receiveWorker(workerBeat('w1', 'h1', { hive_secret: 'guessed' })).ok).toBe(false);
    expect(h.registry.workers.get('w1')).toBeUndefined();
    expect(h.registry.receiveWorker(workerBeat('w1', 'h1')).ok).toBe(true);
    // Moving a worker of h1 to a hive without an identity still needs h1's secret.
    expect(h.registry.receiveWorker(workerBeat('w1', 'h9', { hive_secret: 'guessed' })).ok).toBe(false);
    expect(h.registry.workers.get('w1')?.heartbeat.hive_id).toBe('h1');
  });

  it('accepts a new boot with the secret from any address at once: the hive restarted or moved', () => {
    const h = startRegistry();
    h.registry.receiveHive(hiveBeat('h1'));
    expect(h.registry.receiveHive(hiveBeat('h1', { boot_id: 'b-2', hive_url: 'http://10.9.9.9:7835' })).ok).toBe(true);
    expect(h.registry.hives.get('h1')?.report?.boot_id).toBe('b-2');
    expect(h.registry.hives.get('h1')?.liveness).toBe('online');
  });

  it('keeps only the hash of the secret it issues, once per hive id', () => {
    const h = startRegistry();
    const first = issuedSecret(h.registry.receiveHive(hiveBeat('h1')));
    expect(first.length).toBeGreaterThanOrEqual(43);
    expect(h.registry.receiveHive(hiveBeat('h1', {}, true))).toMatchObject({ ok: true, value: { secret: null } });
    const hash = h.registry.hives.get('h1')?.secretHash;
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).not.toContain(first);
  });
});

describe('registry expected hives', () => {
  it('lists a hive of the hives config as expected and offline until heard from, and never forgets it', async () => {
    const h = startRegistry();
    h.registry.expect([{ hiveId: 'gpu-node-2', hiveUrl: 'http://10.0.0.2:7835' }]);
    const entry = h.registry.hives.get('gpu-node-2');
    expect(entry).toMatchObject({ expected: true, liveness: 'offline', seenAt: null });
    expect([h.registry.hives.expectedCount, h.registry.hives.expectedOnline]).toEqual([1, 0]);
    h.registry.receiveHive(hiveBeat('gpu-node-2'));
    expect(h.registry.hives.expectedOnline).toBe(1);
    await h.timers.advanceTo(2 * 600_000);
    expect(h.registry.hives.get('gpu-node-2')).toMatchObject({ expected: true, liveness: 'offline' });
    expect(h.registry.hives.expectedOnline).toBe(0);
  });

  it("lets a discovery answer from the expected address under another id take the placeholder's place", () => {
    const h = startRegistry();
    h.registry.expect([{ hiveId: 'alias', hiveUrl: 'http://10.0.0.2:7835' }]);
    expect(h.registry.hives.placeholderAt('http://10.0.0.2:7835/')).toBe(true);
    const { capabilities, monitor_data } = hiveBeat('x');
    h.registry.discovered({
      response: { hive_id: 'real-name', monitor_data, ...(capabilities ?? { devices: [], models: [], workers: [] }) },
      hiveUrl: 'http://10.0.0.2:7835',
    });
    expect(h.registry.hives.get('alias')).toBeUndefined();
    expect(h.registry.hives.placeholderAt('http://10.0.0.2:7835')).toBe(false);
    expect(h.registry.hives.get('real-name')).toMatchObject({ expected: true, liveness: 'online' });
    expect([h.registry.hives.expectedCount, h.registry.hives.expectedOnline]).toEqual([1, 1]);
    expect(h.transitions()).toEqual([
      'hive alias offline→forgotten (discovered) @0',
      'hive real-name new→online (discovered) @0',
    ]);
  });

  it("does not let a heartbeat that claims the expected address take the placeholder's place", () => {
    const h = startRegistry();
    h.registry.expect([{ hiveId: 'e2', hiveUrl: 'http://127.0.0.3:9' }]);
    h.registry.receiveHive(hiveBeat('imp', { hive_url: 'http://127.0.0.3:9' }));
    expect(h.registry.hives.get('e2')).toMatchObject({ expected: true, liveness: 'offline', seenAt: null });
    expect(h.registry.hives.get('imp')).toMatchObject({ expected: false, liveness: 'online' });
    expect([h.registry.hives.expectedCount, h.registry.hives.expectedOnline]).toEqual([1, 0]);
    // Discovery keeps calling the address: the placeholder waits there, whoever claims it.
    expect(h.registry.hives.placeholderAt('http://127.0.0.3:9')).toBe(true);
    expect(h.registry.hives.onlineAt('http://127.0.0.3:9')).toBe(false);
    // A failed call there does not make the claimant expected either.
    h.registry.expect([{ hiveId: 'e2', hiveUrl: 'http://127.0.0.3:9' }]);
    expect(h.registry.hives.get('imp')?.expected).toBe(false);
    expect(h.transitions()).toEqual(['hive imp new→online (heartbeat) @0']);
  });

  it('lets a hive with an identity whose heartbeats give the expected address take the placeholder once it answers there', () => {
    const h = startRegistry();
    h.registry.expect([{ hiveId: 'alias', hiveUrl: 'http://10.0.0.2:7835' }]);
    h.registry.receiveHive(hiveBeat('real-name', { hive_url: 'http://10.0.0.2:7835' }));
    h.registry.receiveHive(hiveBeat('elsewhere', { hive_url: 'http://10.0.0.9:7835' }));
    // Discovery's answer for an id with an identity: only the expected flag is taken.
    h.registry.expect([{ hiveId: 'elsewhere', hiveUrl: 'http://10.0.0.2:7835' }]);
    expect(h.registry.hives.get('alias')).toMatchObject({ expected: true, liveness: 'offline' });
    h.registry.expect([{ hiveId: 'real-name', hiveUrl: 'http://10.0.0.2:7835' }]);
    expect(h.registry.hives.get('alias')).toBeUndefined();
    expect(h.registry.hives.get('real-name')).toMatchObject({ expected: true, liveness: 'online' });
    expect(h.registry.hives.onlineAt('http://10.0.0.2:7835')).toBe(true);
    expect(h.transitions()).toEqual([
      'hive real-name new→online (heartbeat) @0',
      'hive elsewhere new→online (heartbeat) @0',
      'hive alias offline→forgotten (discovered) @0',
    ]);
  });

  it('registers a discovered hive online and expected, with its answer as capabilities', () => {
    const h = startRegistry();
    const { capabilities, monitor_data } = hiveBeat('x');
    h.registry.discovered({
      response: { hive_id: 'h1', monitor_data, ...(capabilities ?? { devices: [], models: [], workers: [] }) },
      hiveUrl: 'http://127.0.0.2:7835',
    });
    expect(h.registry.hives.get('h1')).toMatchObject({
      expected: true,
      liveness: 'online',
      hiveUrl: 'http://127.0.0.2:7835',
      capabilitiesVersion: null,
    });
    expect(h.transitions()).toEqual(['hive h1 new→online (discovered) @0']);
    // Its first versioned heartbeat without the full set is asked for it: the answer had no version.
    expect(h.registry.receiveHive(hiveBeat('h1', {}, true)).ok && h.registry.hives.get('h1')?.liveness).toBe('online');
  });

  it('does not take a discovery answer for a hive id with an identity: it carries no secret, so only heartbeats prove it', async () => {
    const h = startRegistry();
    h.registry.receiveHive(hiveBeat('h1', { hive_url: 'http://10.0.0.1:7835' }));
    await h.timers.advanceTo(50_000);
    const before = JSON.stringify([...h.registry.hives.entries()]);
    const { monitor_data } = hiveBeat('x');
    const taken = h.registry.discovered({
      response: { hive_id: 'h1', monitor_data, devices: [], models: [{ model_id: 'rogue', size_gb: 1 }], workers: [] },
      hiveUrl: 'http://10.6.6.6:7835',
    });
    expect(taken).toEqual({ ok: true, value: 'identified' });
    expect(JSON.stringify([...h.registry.hives.entries()])).toBe(before);
    expect(h.registry.hives.get('h1')?.liveness).toBe('suspect');
  });
});
