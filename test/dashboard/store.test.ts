import { describe, expect, it } from 'vitest';
import type { HiveView, WorkerView } from '../../contracts/registry.js';
import type { LivenessEvent } from '../../contracts/stream.js';
import { DashboardStore } from '../../dashboard/store.js';

const TIMESTAMP = '2026-01-01T00:00:00.000Z';

function hive(id: string, overrides: Partial<HiveView> = {}): HiveView {
  return {
    hive_id: id,
    liveness: 'online',
    expected: false,
    last_seen: TIMESTAMP,
    last_seen_age_ms: 1000,
    clock_offset_ms: 0,
    status: 'ready',
    timestamp: TIMESTAMP,
    boot_id: 'boot',
    hive_url: null,
    monitor_data: null,
    capabilities: null,
    capabilities_version: null,
    ...overrides,
  };
}

function worker(id: string, hiveId: string, overrides: Partial<WorkerView> = {}): WorkerView {
  return {
    worker_id: id,
    hive_id: hiveId,
    timestamp: TIMESTAMP,
    status: 'ready',
    model: 'tiny',
    device: 'gpu0',
    port: 9000,
    requests_served: 0,
    uptime_seconds: 1,
    liveness: 'online',
    available: true,
    last_seen: TIMESTAMP,
    last_seen_age_ms: 0,
    ...overrides,
  };
}

function liveness(kind: LivenessEvent['kind'], id: string, to: LivenessEvent['to']): LivenessEvent {
  return { type: 'liveness', kind, id, from: 'online', to, reason: 'missed heartbeats', timestamp: TIMESTAMP };
}

describe('DashboardStore', () => {
  it('replaces everything on a snapshot and counts locally until the queen reports', () => {
    const store = new DashboardStore();
    store.apply({ type: 'snapshot', rev: 1, hives: [hive('old')], workers: [] }, 0);
    store.takeChanges();
    store.apply(
      {
        type: 'snapshot',
        rev: 2,
        hives: [hive('a'), hive('b', { expected: true, liveness: 'offline', last_seen: null, last_seen_age_ms: null })],
        workers: [worker('w1', 'a'), worker('w2', 'a', { available: false, status: 'busy' })],
      },
      10_000,
    );
    const changes = store.takeChanges();
    expect(changes.reset).toBe(true);
    expect(store.cardIds()).toEqual(['a', 'b']);
    expect(store.hiveSeenAtOf('a')).toBe(9000);
    expect(store.hiveSeenAtOf('b')).toBeUndefined();
    expect(store.workersOf('a').map((w) => w.worker_id)).toEqual(['w1', 'w2']);
    expect(store.counts()).toMatchObject({
      hivesOnline: 1,
      hivesExpected: 1,
      hivesOffline: 1,
      workersOnline: 2,
      workersAvailable: 1,
      queenEpoch: null,
    });
  });

  it('counts from the cards it shows, so the header never disagrees with them; the queen event gives the epoch', () => {
    const store = new DashboardStore();
    store.apply({ type: 'snapshot', rev: 1, hives: [hive('a')], workers: [] }, 0);
    store.apply(
      {
        type: 'queen',
        queen_epoch: 'e1',
        workers_online: 7,
        workers_available: 5,
        hives_online: 3,
        hives_available: 3,
        hives_expected: 4,
        worker_ids: [],
        hive_ids: [],
        timestamp: TIMESTAMP,
      },
      0,
    );
    expect(store.counts()).toMatchObject({ hivesOnline: 1, workersOnline: 0, workersAvailable: 0, queenEpoch: 'e1' });
    expect(store.takeChanges().summary).toBe(true);
  });

  it('marks only the touched hives as changed and records transitions', () => {
    const store = new DashboardStore();
    store.apply({ type: 'snapshot', rev: 1, hives: [hive('a'), hive('b')], workers: [worker('w1', 'b')] }, 0);
    store.takeChanges();
    store.apply(liveness('hive', 'a', 'suspect'), 0);
    store.apply(liveness('worker', 'w1', 'offline'), 0);
    const changes = store.takeChanges();
    expect(changes.reset).toBe(false);
    expect([...changes.hiveIds].sort()).toEqual(['a', 'b']);
    expect(changes.transitions.map((t) => `${t.id}:${t.to}`)).toEqual(['a:suspect', 'w1:offline']);
    expect(store.hive('a')?.liveness).toBe('suspect');
    expect(store.workersOf('b')[0]).toMatchObject({ liveness: 'offline', available: false });
    expect(store.takeChanges().hiveIds.size).toBe(0);
  });

  it('drops forgotten entries, logs transitions of unknown ones, and gives orphan workers a card', () => {
    const store = new DashboardStore();
    store.apply({ type: 'snapshot', rev: 1, hives: [hive('a')], workers: [worker('w1', 'a')] }, 0);
    store.apply(liveness('worker', 'w1', 'forgotten'), 0);
    store.apply(liveness('hive', 'a', 'forgotten'), 0);
    store.apply(liveness('hive', 'ghost', 'offline'), 0);
    expect(store.cardIds()).toEqual([]);
    store.apply({ type: 'worker', ...worker('w9', 'unseen') }, 0);
    expect(store.cardIds()).toEqual(['unseen']);
    expect(store.hive('unseen')).toBeUndefined();
    expect(store.takeChanges().transitions).toHaveLength(3);
  });

  it('moves a worker that reports another hive', () => {
    const store = new DashboardStore();
    store.apply({ type: 'snapshot', rev: 1, hives: [hive('a'), hive('b')], workers: [worker('w1', 'a')] }, 0);
    store.takeChanges();
    store.apply({ type: 'worker', ...worker('w1', 'b') }, 0);
    expect(store.workersOf('a')).toEqual([]);
    expect(store.workersOf('b').map((w) => w.worker_id)).toEqual(['w1']);
    expect([...store.takeChanges().hiveIds].sort()).toEqual(['a', 'b']);
  });
});
