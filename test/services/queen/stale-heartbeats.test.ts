import { describe, expect, it } from 'vitest';
import { hiveBeat, startRegistry, workerBeat } from '../../support/queen-registry.js';

describe('late and replayed hive heartbeats', () => {
  it('refuses a heartbeat of the same start older than the last one taken, and it keeps no hive alive', async () => {
    const h = startRegistry();
    const r = h.registry;
    expect(r.receiveHive(hiveBeat('h1', { boot_id: 'b-1', seq: 0 })).ok).toBe(true);
    expect(r.receiveHive(hiveBeat('h1', { boot_id: 'b-1', seq: 1 }, true)).ok).toBe(true);
    // The hive dies; a copy of its last heartbeat, or an older one, arrives after it is offline.
    await h.timers.advanceTo(90_000);
    expect(r.hives.get('h1')?.liveness).toBe('offline');
    for (const seq of [1, 0]) {
      expect(r.receiveHive(hiveBeat('h1', { boot_id: 'b-1', seq }, true))).toMatchObject({
        ok: false,
        error: { kind: 'stale' },
      });
    }
    expect(r.hives.get('h1')?.liveness).toBe('offline');
    expect(h.transitions().filter((t) => t.endsWith('→online (heartbeat) @90000'))).toEqual([]);
  });

  it('never lets an older full set replace a newer one', () => {
    const r = startRegistry().registry;
    const older = hiveBeat('h1', { boot_id: 'b-1', seq: 3, capabilities_version: 5 });
    r.receiveHive(hiveBeat('h1', { boot_id: 'b-1', seq: 0, capabilities_version: 5 }));
    const full = hiveBeat('h1', { boot_id: 'b-1', seq: 4, capabilities_version: 6 });
    const newer = { ...full, capabilities: { devices: [], workers: [], ...full.capabilities, models: [] } };
    expect(r.receiveHive(newer).ok).toBe(true);
    expect(r.receiveHive(older)).toMatchObject({ ok: false, error: { kind: 'stale' } });
    expect(r.hives.get('h1')?.capabilities?.toJSON().models).toEqual([]);
    expect(r.hives.get('h1')?.capabilitiesVersion).toBe(6);
  });

  it('takes a new start from 0, and a heartbeat without a seq as before', () => {
    const r = startRegistry().registry;
    expect(r.receiveHive(hiveBeat('h1', { boot_id: 'b-1', seq: 40 })).ok).toBe(true);
    expect(r.receiveHive(hiveBeat('h1', { boot_id: 'b-2', seq: 0 })).ok).toBe(true);
    expect(r.receiveHive(hiveBeat('h1', { boot_id: 'b-2' }, true)).ok).toBe(true);
    expect(r.receiveHive(hiveBeat('h1', { boot_id: 'b-2', seq: 1 }, true)).ok).toBe(true);
  });
});

describe('late and replayed worker heartbeats', () => {
  it('refuses one of the same start older than the last taken: a stopped worker is not brought back, nor its status rolled back', async () => {
    const h = startRegistry();
    const r = h.registry;
    r.receiveHive(hiveBeat('h1'));
    const beat = (seq: number, status: 'ready' | 'busy' | 'stopped') =>
      workerBeat('w1', 'h1', { boot_id: 'wb-1', seq, status });
    expect(r.receiveWorker(beat(0, 'ready')).ok).toBe(true);
    expect(r.receiveWorker(beat(1, 'busy')).ok).toBe(true);
    // The busy report of seq 0's time, delivered after seq 1: the worker stays as seq 1 said.
    expect(r.receiveWorker(beat(0, 'ready'))).toMatchObject({ ok: false, error: { kind: 'stale' } });
    expect(r.workers.get('w1')?.heartbeat.status).toBe('busy');
    expect(r.receiveWorker(beat(2, 'stopped')).ok).toBe(true);
    expect(r.workers.get('w1')?.liveness).toBe('offline');
    for (const seq of [2, 1]) {
      expect(r.receiveWorker(beat(seq, 'busy'))).toMatchObject({ ok: false, error: { kind: 'stale' } });
    }
    expect(r.workers.get('w1')?.liveness).toBe('offline');
    expect(r.workers.get('w1')?.heartbeat.status).toBe('stopped');
  });

  it("takes a new start from 0, a heartbeat without a seq, and its hive's report on its behalf", () => {
    const r = startRegistry().registry;
    r.receiveHive(hiveBeat('h1'));
    expect(r.receiveWorker(workerBeat('w1', 'h1', { boot_id: 'wb-1', seq: 9 })).ok).toBe(true);
    expect(r.receiveWorker(workerBeat('w1', 'h1', { status: 'error' })).ok).toBe(true);
    expect(r.receiveWorker(workerBeat('w1', 'h1', { boot_id: 'wb-2', seq: 0 })).ok).toBe(true);
    expect(r.receiveWorker(workerBeat('w1', 'h1', { boot_id: 'wb-2' })).ok).toBe(true);
    expect(r.receiveWorker(workerBeat('w1', 'h1', { boot_id: 'wb-2', seq: 1 })).ok).toBe(true);
    expect(r.workers.get('w1')?.heartbeat).toMatchObject({ boot_id: 'wb-2', seq: 1 });
  });
});
