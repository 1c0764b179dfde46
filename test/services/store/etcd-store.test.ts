import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Capabilities } from '../../../contracts/capabilities.js';
import { type EtcdStoreOptions, openEtcdStore } from '../../../services/store/etcd-store.js';
import { type NewEvent, type StateStore, StateWriteError } from '../../../services/store/state-store.js';
import { capabilities, workerHeartbeat } from '../../fixtures/examples.js';
import { type EtcdCluster, startEtcd, stopAllEtcd, withEtcdLock } from '../../support/etcd.js';
import { leaderFence, type TestFence } from '../../support/etcd-fence.js';
import { batchOf as batch, storedHive as hive, WALL } from '../../support/stored-records.js';

/**
 * What only the etcd store must do, on a real member: write only as the leader (fenced by its campaign key), cut
 * transactions by bytes, keep a hive's capabilities on a key written when they change, give back only what a failed
 * write did not write, and load a state larger than one answer of etcd may carry, page by page.
 */

let etcd: EtcdCluster | undefined;
let admin: Etcd3 | undefined;
beforeAll(async () => {
  etcd = await startEtcd(1);
  admin = new Etcd3({ hosts: etcd.endpoints });
}, withEtcdLock(60_000));
const opened: { store: StateStore; leader: TestFence }[] = [];
afterAll(async () => {
  for (const { store, leader } of opened.splice(0)) {
    await store.close();
    leader.close();
  }
  admin?.close();
  await stopAllEtcd();
});

let prefixes = 0;

async function open(
  options: Partial<EtcdStoreOptions> = {},
): Promise<{ store: StateStore; leader: TestFence; prefix: string }> {
  if (!etcd) throw new Error('etcd did not start');
  prefixes += 1;
  const prefix = `/etcd-store-${prefixes}`;
  const leader = await leaderFence(etcd.endpoints, prefix);
  const store = openEtcdStore({ endpoints: etcd.endpoints, prefix, fence: leader.fence, ...options });
  opened.push({ store, leader });
  return { store, leader, prefix };
}

/** Capabilities of about `kib` KiB of JSON: that many models with long names. */
function heavyCapabilities(kib: number, tag = ''): Capabilities {
  const models = Array.from({ length: kib * 8 }, (_, i) => ({
    model_id: `model-${tag}-${String(i).padStart(6, '0')}-${'x'.repeat(90)}`,
    size_gb: 1,
  }));
  return { ...capabilities, models };
}

function event(id: string, at = WALL): NewEvent {
  return { time: new Date(at).toISOString(), kind: 'hive', id, type: 'registered', to: 'online', reason: 'heartbeat' };
}

async function modRevision(key: string): Promise<string | undefined> {
  const [kv] = (await admin?.get(key).exec())?.kvs ?? [];
  return kv?.mod_revision;
}

describe('etcd store', () => {
  it('writes a batch past etcd’s request limit in transactions cut by bytes, and loads more than one answer holds', async () => {
    // 20 hives of 240 KiB of capabilities: 4.8 MB, over etcd's 1.5 MiB request and gRPC's 4 MiB answer.
    const hives = Array.from({ length: 20 }, (_, i) => hive(`h${i}`, WALL, heavyCapabilities(240, `h${i}`)));
    const workers = Array.from({ length: 7 }, (_, i) => ({
      id: `w${i}`,
      liveness: 'online' as const,
      lastSeen: WALL,
      heartbeat: { ...workerHeartbeat, worker_id: `w${i}`, hive_id: 'h0' },
    }));
    const { store, prefix } = await open();
    await store.write(batch({ hives, workers, events: [event('h0')] }));
    const loaded = await store.load();
    expect(loaded.hives.map((h) => h.id).sort()).toEqual(hives.map((h) => h.id).sort());
    expect(loaded.hives.find((h) => h.id === 'h7')).toEqual(hives[7]);
    expect(loaded.workers).toHaveLength(7);
    // Another reader of the same keys, two keys a page: the pages join up to the same state.
    if (!etcd) throw new Error('etcd did not start');
    const paged = openEtcdStore({
      endpoints: etcd.endpoints,
      prefix,
      fence: { current: () => null, lost: () => {} },
      pageKeys: 2,
    });
    const again = await paged.load();
    await paged.close();
    expect(again.hives.map((h) => h.id).sort()).toEqual(hives.map((h) => h.id).sort());
    expect(again.workers.map((w) => w.id).sort()).toEqual(workers.map((w) => w.id).sort());
  }, 60_000);

  it('names a record larger than one transaction in a clear error, writes the rest, and gives it back never', async () => {
    const { store } = await open({ maxTxnBytes: 64 * 1024 });
    const error = await store
      .write(batch({ hives: [hive('small'), hive('big', WALL, heavyCapabilities(100))], events: [event('small')] }))
      .then(
        () => null,
        (caught: unknown) => caught,
      );
    expect(error).toBeInstanceOf(StateWriteError);
    if (!(error instanceof StateWriteError)) return;
    expect(error.message).toContain('hive big');
    expect(error.message).toContain(String(64 * 1024));
    expect(error.unwritten).toEqual(batch({}));
    expect((await store.load()).hives.map((h) => h.id)).toEqual(['small']);
    expect((await store.events({ order: 'oldest', after: 0, limit: 10 })).events.map((e) => e.id)).toEqual(['small']);
  });

  it('writes a hive’s capabilities only when they change, however often its record is', async () => {
    const { store, prefix } = await open();
    await store.write(batch({ hives: [hive('a')] }));
    const capabilitiesKey = `${prefix}/state/capabilities/a`;
    const hiveKey = `${prefix}/state/hives/a`;
    const [written, record] = [await modRevision(capabilitiesKey), await modRevision(hiveKey)];
    expect(written).toBeDefined();
    await store.write(batch({ hives: [hive('a', WALL + 30_000)] }));
    expect(await modRevision(hiveKey)).not.toBe(record);
    expect(await modRevision(capabilitiesKey)).toBe(written);
    // A new leader knows what etcd holds once it has loaded it.
    if (!etcd) throw new Error('etcd did not start');
    const leader = await leaderFence(etcd.endpoints, prefix, 'next');
    const next = openEtcdStore({ endpoints: etcd.endpoints, prefix, fence: leader.fence });
    opened.push({ store: next, leader });
    await next.load();
    await next.write(batch({ hives: [hive('a', WALL + 60_000)] }));
    expect(await modRevision(capabilitiesKey)).toBe(written);
    const changed = { ...capabilities, models: [] };
    await next.write(batch({ hives: [hive('a', WALL + 90_000, changed)] }));
    expect(await modRevision(capabilitiesKey)).not.toBe(written);
    expect((await next.load()).hives).toEqual([hive('a', WALL + 90_000, changed)]);
  });

  it('writes nothing once its campaign key is gone, and says so: the deposed leader steps down', async () => {
    const { store, leader } = await open();
    await store.write(batch({ hives: [hive('before')] }));
    await leader.revoke();
    await expect(store.write(batch({ hives: [hive('after')], events: [event('after')] }))).rejects.toThrow(
      /campaign key .* is gone/,
    );
    expect(leader.lost()).toBe(1);
    expect((await store.load()).hives.map((h) => h.id)).toEqual(['before']);
    expect((await store.events({ order: 'oldest', after: 0, limit: 10 })).events).toEqual([]);
  });

  it('a queen that does not lead writes nothing and prunes nothing', async () => {
    const { store, prefix } = await open();
    await store.write(batch({ events: [event('old', WALL - 1_000)] }));
    if (!etcd) throw new Error('etcd did not start');
    const follower = openEtcdStore({
      endpoints: etcd.endpoints,
      prefix,
      fence: { current: () => null, lost: () => {} },
    });
    await expect(follower.write(batch({ hives: [hive('follower')] }))).rejects.toThrow(/does not lead/);
    expect(await follower.prune(WALL)).toBe(0);
    await follower.close();
    expect((await store.load()).hives).toEqual([]);
    expect((await store.events({ order: 'oldest', after: 0, limit: 10 })).events.map((e) => e.id)).toEqual(['old']);
  });

  it('gives back only what a failed write did not write: no event is numbered twice', async () => {
    if (!etcd) throw new Error('etcd did not start');
    const { leader, prefix } = await open();
    // The fence holds for the first transaction only: the second finds this queen no longer leading.
    let calls = 0;
    const store = openEtcdStore({
      endpoints: etcd.endpoints,
      prefix,
      maxTxnBytes: 8 * 1024,
      fence: { current: () => (calls++ === 0 ? leader.fence.current() : null), lost: () => {} },
    });
    const events = Array.from({ length: 40 }, (_, i) => event(`e${i}`, WALL + i));
    const error = await store.write(batch({ events })).then(
      () => null,
      (caught: unknown) => caught,
    );
    const written = (await store.events({ order: 'oldest', after: 0, limit: 100 })).events.map((e) => e.id);
    await store.close();
    expect(error).toBeInstanceOf(StateWriteError);
    if (!(error instanceof StateWriteError)) return;
    expect(written.length).toBeGreaterThan(0);
    expect(written.length).toBeLessThan(40);
    // Written and given back: each event exactly once, in order.
    expect([...written, ...error.unwritten.events.map((e) => e.id)]).toEqual(events.map((e) => e.id));
  });

  it('reads at most scanKeys event keys for one filtered query, and its cursor resumes the scan', async () => {
    const { store, prefix } = await open({ scanKeys: 4, pageKeys: 2 });
    // Twelve events, two of them about the hive asked for: the filter takes few, as a hive's are in a long history.
    const ids = Array.from({ length: 12 }, (_, i) => (i === 2 || i === 9 ? 'needle' : `hay${i}`));
    await store.write(batch({ events: ids.map((id, i) => event(id, WALL + i)) }));
    if (!etcd) throw new Error('etcd did not start');
    const unbounded = openEtcdStore({
      endpoints: etcd.endpoints,
      prefix,
      fence: { current: () => null, lost: () => {} },
    });
    const seqs = (await unbounded.events({ order: 'oldest', after: 0, limit: 100 })).events.map((e) => e.seq);
    await unbounded.close();
    expect(seqs).toHaveLength(12);
    for (const order of ['oldest', 'newest'] as const) {
      const pages: { ids: string[]; next: number | null }[] = [];
      let cursor: number | null = order === 'oldest' ? 0 : null;
      do {
        const window =
          order === 'oldest' ? { after: cursor ?? 0 } : { after: 0, ...(cursor ? { before: cursor } : {}) };
        const page = await store.events({ order, hive: 'needle', limit: 10, ...window });
        pages.push({ ids: page.events.map((e) => e.id), next: page.next });
        cursor = page.next;
      } while (cursor !== null && pages.length < 10);
      const scanned = order === 'oldest' ? seqs : [...seqs].reverse();
      // Each answer stops after four keys, its cursor on the fourth one read; the needles lie in the first and third.
      expect(pages.slice(0, 3), order).toEqual([
        { ids: ['needle'], next: scanned[3] },
        { ids: [], next: scanned[7] },
        { ids: ['needle'], next: scanned[11] },
      ]);
      expect(pages.flatMap((page) => page.ids)).toEqual(['needle', 'needle']);
      expect(pages.at(-1)?.next).toBeNull();
    }
    // A query that takes every event still answers a whole page at once.
    const all = await store.events({ order: 'oldest', after: 0, limit: 3 });
    expect(all).toEqual({ events: expect.any(Array), next: seqs[2] });
    expect(all.events.map((e) => e.seq)).toEqual(seqs.slice(0, 3));
  });
});
