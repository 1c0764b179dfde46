import { describe, expect, it } from 'vitest';
import { createNumbering } from '../../../services/heartbeat-numbering.js';
import { createWorkerPayload } from '../../../services/worker/heartbeat-payload.js';
import { hiveBeat, startRegistry, startServedRegistry, workerBeat } from '../../support/queen-registry.js';

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

  it('refuses the older of two in one batch of a served queen, whichever is applied last', async () => {
    const r = startServedRegistry();
    expect((await r.submitHive(hiveBeat('h1'))).ok).toBe(true);
    const beat = (seq: number, status: 'ready' | 'stopped') => workerBeat('w1', 'h1', { boot_id: 'wb-1', seq, status });
    expect((await r.submitWorker(beat(0, 'ready'))).ok).toBe(true);
    // The last heartbeat and a late one arrive in the same event-loop turn, the late one second.
    const [last, late] = await Promise.all([r.submitWorker(beat(2, 'stopped')), r.submitWorker(beat(1, 'ready'))]);
    expect(last.ok).toBe(true);
    expect(late).toMatchObject({ ok: false, error: { kind: 'stale' } });
    expect(r.workers.get('w1')?.heartbeat).toMatchObject({ status: 'stopped', seq: 2 });
    expect(r.workers.get('w1')?.liveness).toBe('offline');
  });

  it('refuses anything of a process its hive reported gone, even a heartbeat newer than the last one taken', () => {
    const r = startRegistry().registry;
    r.receiveHive(hiveBeat('h1'));
    expect(r.receiveWorker(workerBeat('w1', 'h1', { boot_id: 'wb-1', seq: 7 })).ok).toBe(true);
    // The worker died; its hive reports it (no boot_id: it speaks for a process that is gone).
    expect(r.receiveWorker(workerBeat('w1', 'h1', { status: 'error', requests_served: 0 })).ok).toBe(true);
    // Its last heartbeats, held up on the way, arrive after the report.
    for (const seq of [8, 3]) {
      expect(r.receiveWorker(workerBeat('w1', 'h1', { boot_id: 'wb-1', seq }))).toMatchObject({
        ok: false,
        error: { kind: 'stale' },
      });
    }
    expect(r.workers.get('w1')?.heartbeat.status).toBe('error');
    // The worker its hive starts again is a new process.
    expect(r.receiveWorker(workerBeat('w1', 'h1', { boot_id: 'wb-2', seq: 0 })).ok).toBe(true);
    expect(r.workers.get('w1')?.heartbeat.status).toBe('ready');
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

  it('cannot lock a worker out: one forged seq far ahead costs the real worker one refused heartbeat', () => {
    const r = startRegistry().registry;
    r.receiveHive(hiveBeat('h1'));
    let boots = 0;
    const numbering = createNumbering(() => `wb-${++boots}`);
    const build = createWorkerPayload({
      identity: {
        workerId: 'w1',
        hiveId: 'h1',
        model: 'tiny',
        device: 'GPU-0',
        port: 9001,
        workerUrl: 'http://h1:9001',
      },
      status: () => 'ready',
      requestsServed: () => 0,
      startedAt: 0,
      numbering,
      hiveSecret: () => undefined,
    });
    const send = (): string => {
      const verdict = r.receiveWorker(build({ queenUrl: 'http://q', reason: 'heartbeat', full: false }));
      const status = verdict.ok ? 200 : 409;
      numbering.sent(
        verdict.ok
          ? { ok: true, value: { status: 'ok', queen_epoch: 'q', resync: false } }
          : { ok: false, error: { kind: 'http', status, message: verdict.error.message } },
      );
      return verdict.ok ? 'ok' : verdict.error.kind;
    };
    expect(send()).toBe('ok');
    // Its boot_id is in every view; one holder of the hive's secret sends the largest seq there is under it.
    const bootId = r.workers.get('w1')?.heartbeat.boot_id;
    expect(r.receiveWorker(workerBeat('w1', 'h1', { boot_id: bootId, seq: Number.MAX_SAFE_INTEGER })).ok).toBe(true);
    expect([send(), send(), send()]).toEqual(['stale', 'ok', 'ok']);
    expect(r.workers.get('w1')?.heartbeat).toMatchObject({ boot_id: 'wb-2', seq: 1 });
  });
});
