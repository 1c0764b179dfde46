import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventQuery } from '../../../contracts/events.js';
import { openEtcdStore } from '../../../services/store/etcd-store.js';
import { openSqliteStore } from '../../../services/store/sqlite-store.js';
import type {
  HiveRecord,
  NewEvent,
  StateBatch,
  StateStore,
  WorkerRecord,
} from '../../../services/store/state-store.js';
import { capabilities, periodicHeartbeat, workerHeartbeat } from '../../fixtures/examples.js';
import { type EtcdCluster, startEtcd, stopAllEtcd } from '../../support/etcd.js';
import { eventually } from '../../support/role-process.js';

/** The one contract of the queen's durable state, held by both stores: SQLite (one queen) and etcd (several). */

let etcd: EtcdCluster | undefined;
let prefixes = 0;
beforeAll(async () => {
  etcd = await startEtcd(1);
}, 60_000);
const root = mkdtempSync(path.join(os.tmpdir(), 'apiary-contract-'));
afterAll(async () => {
  await stopAllEtcd();
  rmSync(root, { recursive: true, force: true });
});

const WALL = Date.parse('2026-01-01T00:00:00.000Z');

function hive(id: string, lastSeen = WALL): HiveRecord {
  return {
    id,
    liveness: 'online',
    expected: false,
    lastSeen,
    clockOffsetMs: 0,
    hiveUrl: `http://${id}.lan:7835`,
    report: { ...periodicHeartbeat, hive_id: id },
    capabilities,
    capabilitiesVersion: 3,
    secretHash: `hash-of-${id}`,
    secretProven: true,
  };
}

function worker(id: string, hiveId: string): WorkerRecord {
  return { id, liveness: 'online', lastSeen: WALL, heartbeat: { ...workerHeartbeat, worker_id: id, hive_id: hiveId } };
}

function event(id: string, at: number, kind: NewEvent['kind'] = 'hive'): NewEvent {
  return {
    time: new Date(at).toISOString(),
    kind,
    id,
    type: 'liveness',
    from: 'online',
    to: 'suspect',
    reason: 'missed heartbeats',
  };
}

function batch(parts: Partial<StateBatch>): StateBatch {
  return { hives: [], workers: [], removedHives: [], removedWorkers: [], events: [], ...parts };
}

const stores: Record<string, () => StateStore> = {
  // A database file: in memory (`--state-dir none`) SQLite keeps only the history.
  sqlite: () => openSqliteStore(mkdtempSync(path.join(root, 'sqlite-'))),
  etcd: () => {
    if (!etcd) throw new Error('etcd did not start');
    prefixes += 1;
    return openEtcdStore({ endpoints: etcd.endpoints, prefix: `/contract-${prefixes}` });
  },
};

describe.each(Object.keys(stores))('state store: %s', (name) => {
  const open = (): StateStore => {
    const opener = stores[name];
    if (!opener) throw new Error(`no store ${name}`);
    return opener();
  };

  it('loads what was written, records replaced by id and removed ones gone, identities included', async () => {
    const store = open();
    await store.write(batch({ hives: [hive('a'), hive('b')], workers: [worker('w1', 'a'), worker('w2', 'b')] }));
    await store.write(batch({ hives: [hive('a', WALL + 5)], removedHives: ['b'], removedWorkers: ['w2'] }));
    const loaded = await store.load();
    expect(loaded.hives).toEqual([hive('a', WALL + 5)]);
    expect(loaded.workers).toEqual([worker('w1', 'a')]);
    await store.close();
  });

  it('numbers events in order across batches larger than one transaction, filters them and pages them', async () => {
    const store = open();
    const many = Array.from({ length: 150 }, (_, i) => hive(`h${i}`));
    const first = Array.from({ length: 130 }, (_, i) => event(`h${i % 3}`, WALL + i));
    await store.write(batch({ hives: many, events: first }));
    await store.write(batch({ events: [event('w', WALL + 200, 'worker')] }));
    expect((await store.load()).hives).toHaveLength(150);
    const all = await store.events({ order: 'oldest', after: 0, limit: 1000 });
    expect(all.events).toHaveLength(131);
    const seqs = all.events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(131);
    expect(all.events.at(-1)).toMatchObject({ kind: 'worker', id: 'w' });
    expect(all.next).toBeNull();
    const h1 = await store.events({ order: 'oldest', after: 0, limit: 10, kind: 'hive', id: 'h1' });
    expect(h1.events.map((e) => e.id)).toEqual(Array(10).fill('h1'));
    expect(h1.next).toBe(h1.events.at(-1)?.seq);
    const rest = await store.events({ order: 'oldest', after: h1.next ?? 0, limit: 1000, kind: 'hive', id: 'h1' });
    expect(rest.events).toHaveLength(43 - 10);
    await store.close();
  });

  it('takes a hive’s workers’ events with its own under `hive`, and reads newest first back from `before`', async () => {
    const store = open();
    const ofWorker = (id: string, hiveId: string, at: number): NewEvent => ({
      ...event(id, at, 'worker'),
      hive_id: hiveId,
    });
    // More than one scan page of another hive's events between, so a reader must page to find the rest.
    const between = Array.from({ length: 600 }, (_, i) => event('b', WALL + 10 + i));
    await store.write(
      batch({ events: [event('a', WALL), ofWorker('a-1', 'a', WALL + 1), ofWorker('b-1', 'b', WALL + 2), ...between] }),
    );
    await store.write(batch({ events: [ofWorker('a-2', 'a', WALL + 900), event('a', WALL + 901)] }));
    const oldest = await store.events(EventQuery.parse({ hive: 'a' }));
    expect(oldest.events.map((e) => e.id)).toEqual(['a', 'a-1', 'a-2', 'a']);
    expect(oldest.next).toBeNull();
    const top = await store.events(EventQuery.parse({ hive: 'a', order: 'newest', limit: 3 }));
    expect(top.events.map((e) => e.id)).toEqual(['a', 'a-2', 'a-1']);
    expect(top.next).toBe(top.events.at(-1)?.seq);
    const older = await store.events(EventQuery.parse({ hive: 'a', order: 'newest', before: top.next, limit: 3 }));
    expect(older).toEqual({ events: [oldest.events[0]], next: null });
    // A window read newest first: after and before bound it, the page stops at its limit.
    const all = (await store.events(EventQuery.parse({ limit: 1000 }))).events;
    const [low, high] = [all[100]?.seq ?? 0, all[110]?.seq ?? 0];
    const window = await store.events(EventQuery.parse({ order: 'newest', after: low, before: high, limit: 5 }));
    expect(window.events.map((e) => e.seq)).toEqual(
      all
        .slice(105, 110)
        .reverse()
        .map((e) => e.seq),
    );
    expect(window.next).toBe(all[105]?.seq);
    await store.close();
  });

  it('prunes the events older than a time and keeps the rest', async () => {
    const store = open();
    await store.write(batch({ events: [event('a', WALL), event('a', WALL + 10), event('a', WALL + 20)] }));
    expect(await store.prune(WALL + 15)).toBe(2);
    const left = await store.events({ order: 'oldest', after: 0, limit: 10 });
    expect(left.events.map((e) => e.time)).toEqual([new Date(WALL + 20).toISOString()]);
    await store.close();
  });
});

describe('state store: etcd, several queens', () => {
  it('two writers at once never give two events the same number', async () => {
    if (!etcd) throw new Error('etcd did not start');
    const options = { endpoints: etcd.endpoints, prefix: '/contract-writers' };
    const [one, two] = [openEtcdStore(options), openEtcdStore(options)];
    await Promise.all(
      [one, two].flatMap((store, s) =>
        [0, 1, 2, 3, 4].map((i) => store.write(batch({ events: [event(`s${s}-${i}`, WALL + i)] }))),
      ),
    );
    const { events } = await one.events({ order: 'oldest', after: 0, limit: 100 });
    expect(events.map((e) => e.id).sort()).toEqual(
      [0, 1].flatMap((s) => [0, 1, 2, 3, 4].map((i) => `s${s}-${i}`)).sort(),
    );
    expect(new Set(events.map((e) => e.seq)).size).toBe(10);
    await Promise.all([one.close(), two.close()]);
  });

  it('rejects a write while etcd is down, and takes the same batch once it is back', async () => {
    if (!etcd) throw new Error('etcd did not start');
    const store = openEtcdStore({ endpoints: etcd.endpoints, prefix: '/contract-down', timeoutMs: 1_000 });
    const [member] = etcd.members;
    await member?.kill();
    const pending = batch({ hives: [hive('kept')], events: [event('kept', WALL)] });
    await expect(store.write(pending)).rejects.toThrow();
    await member?.start();
    await etcd.healthy();
    // The journal hands a failed batch over again with the next one; the client may refuse a while after etcd is back.
    await eventually(
      () =>
        store.write(pending).then(
          () => true,
          () => undefined,
        ),
      'the batch written',
      30_000,
    );
    expect((await store.load()).hives.map((h) => h.id)).toEqual(['kept']);
    expect((await store.events({ order: 'oldest', after: 0, limit: 10 })).events).toHaveLength(1);
    await store.close();
  }, 60_000);
});
