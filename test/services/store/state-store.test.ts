import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventQuery } from '../../../contracts/events.js';
import { type EtcdStoreOptions, openEtcdStore } from '../../../services/store/etcd-store.js';
import { openSqliteStore } from '../../../services/store/sqlite-store.js';
import {
  type NewEvent,
  type StateBatch,
  type StateStore,
  StateWriteError,
} from '../../../services/store/state-store.js';
import { type EtcdCluster, startEtcd, stopAllEtcd, withEtcdLock } from '../../support/etcd.js';
import { leaderFence, type TestFence } from '../../support/etcd-fence.js';
import { eventually } from '../../support/role-process.js';
import {
  batchOf as batch,
  livenessEvent as event,
  storedHive as hive,
  WALL,
  storedWorker as worker,
} from '../../support/stored-records.js';

/** The one contract of the queen's durable state, held by both stores: SQLite (one queen) and etcd (several). */

let etcd: EtcdCluster | undefined;
let prefixes = 0;
beforeAll(async () => {
  etcd = await startEtcd(1);
}, withEtcdLock(60_000));
const root = mkdtempSync(path.join(os.tmpdir(), 'apiary-contract-'));
afterAll(async () => {
  await stopAllEtcd();
  rmSync(root, { recursive: true, force: true });
});

function cluster(): EtcdCluster {
  if (!etcd) throw new Error('etcd did not start');
  return etcd;
}

const fences: TestFence[] = [];
afterAll(() => {
  for (const fence of fences.splice(0)) fence.close();
});

/** An etcd store on a prefix of its own, writing as the leader of that prefix unless given another fence. */
async function etcdStore(
  options: Partial<EtcdStoreOptions> = {},
): Promise<{ store: StateStore; leader: TestFence; prefix: string }> {
  prefixes += 1;
  const prefix = options.prefix ?? `/contract-${prefixes}`;
  const leader = await leaderFence(cluster().endpoints, prefix);
  fences.push(leader);
  const store = openEtcdStore({ endpoints: cluster().endpoints, prefix, fence: leader.fence, ...options });
  return { store, leader, prefix };
}

const stores: Record<string, () => Promise<StateStore>> = {
  // A database file: in memory (`--state-dir none`) SQLite keeps only the history.
  sqlite: async () => openSqliteStore(mkdtempSync(path.join(root, 'sqlite-'))),
  etcd: async () => (await etcdStore()).store,
};

describe.each(Object.keys(stores))('state store: %s', (name) => {
  const open = (): Promise<StateStore> => {
    const opener = stores[name];
    if (!opener) throw new Error(`no store ${name}`);
    return opener();
  };

  it('loads what was written, records replaced by id and removed ones gone, identities included', async () => {
    const store = await open();
    await store.write(batch({ hives: [hive('a'), hive('b')], workers: [worker('w1', 'a'), worker('w2', 'b')] }));
    await store.write(batch({ hives: [hive('a', WALL + 5)], removedHives: ['b'], removedWorkers: ['w2'] }));
    const loaded = await store.load();
    expect(loaded.hives).toEqual([hive('a', WALL + 5)]);
    expect(loaded.workers).toEqual([worker('w1', 'a')]);
    await store.close();
  });

  it('numbers events in order across batches larger than one transaction, filters them and pages them', async () => {
    const store = await open();
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
    const store = await open();
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

  it('keeps the open alert problems, replaced whole when they change, for whoever loads the state next', async () => {
    const store = await open();
    const offline = {
      event: 'hive_offline',
      state: 'open',
      kind: 'hive',
      id: 'h1',
      time: new Date(WALL).toISOString(),
      reason: 'missed heartbeats',
    } as const;
    const other = { ...offline, id: 'h2' };
    expect((await store.load()).problems).toEqual([]);
    await store.write(batch({ problems: [offline, other] }));
    // A batch that does not name them leaves them as they are.
    await store.write(batch({ hives: [hive('h3')] }));
    expect((await store.load()).problems).toEqual([offline, other]);
    await store.write(batch({ problems: [other] }));
    expect((await store.load()).problems).toEqual([other]);
    await store.close();
  });

  it('prunes the events older than a time and keeps the rest', async () => {
    const store = await open();
    await store.write(batch({ events: [event('a', WALL), event('a', WALL + 10), event('a', WALL + 20)] }));
    expect(await store.prune(WALL + 15)).toBe(2);
    const left = await store.events({ order: 'oldest', after: 0, limit: 10 });
    expect(left.events.map((e) => e.time)).toEqual([new Date(WALL + 20).toISOString()]);
    await store.close();
  });

  it('prunes by time, not by number: an event numbered after a younger one (it waited in memory) goes alone', async () => {
    const store = await open();
    // A younger event numbered first, then two older ones that waited while the store was away.
    await store.write(batch({ events: [event('young', WALL + 30)] }));
    await store.write(batch({ events: [event('old', WALL), event('old', WALL + 10)] }));
    expect(await store.prune(WALL + 20)).toBe(2);
    const left = await store.events({ order: 'oldest', after: 0, limit: 10 });
    expect(left.events.map((e) => e.id)).toEqual(['young']);
    await store.close();
  });
});

describe('state store: etcd, several queens', () => {
  it('two writers at once never give two events the same number; one that keeps losing gives its batch back', async () => {
    const { store: one, leader } = await etcdStore({ prefix: '/contract-writers' });
    const two = openEtcdStore({ endpoints: cluster().endpoints, prefix: '/contract-writers', fence: leader.fence });
    // As the journal does: what a write gives back goes out again, and nothing it wrote does.
    const writeAll = async (store: StateStore, pending: StateBatch): Promise<void> => {
      let left = pending;
      for (;;) {
        const given = await store.write(left).then(
          () => null,
          (error: unknown) => (error instanceof StateWriteError ? error.unwritten : left),
        );
        if (given === null || given.events.length === 0) return;
        left = given;
      }
    };
    await Promise.all(
      [one, two].flatMap((store, s) =>
        [0, 1, 2, 3, 4].map((i) => writeAll(store, batch({ events: [event(`s${s}-${i}`, WALL + i)] }))),
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
    const etcd = cluster();
    const { store } = await etcdStore({ prefix: '/contract-down', timeoutMs: 1_000 });
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
