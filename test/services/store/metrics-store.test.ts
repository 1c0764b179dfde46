import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SeriesKey } from '../../../contracts/metric-series.js';
import { openEtcdMetricsStore } from '../../../services/store/etcd-metrics-store.js';
import type { MetricsStore, MinuteRow } from '../../../services/store/metrics-store.js';
import { openSqliteStore } from '../../../services/store/sqlite-store.js';
import { type EtcdCluster, startEtcd, stopAllEtcd, withEtcdLock } from '../../support/etcd.js';
import { leaderFence, type TestFence } from '../../support/etcd-fence.js';

/**
 * The one contract of the per-minute metrics archive, held by both stores: SQLite (one queen) and etcd (several, where
 * only the leader writes).
 */

const dir = mkdtempSync(path.join(os.tmpdir(), 'apiary-minutes-'));
let etcd: EtcdCluster | undefined;
beforeAll(async () => {
  etcd = await startEtcd(1);
}, withEtcdLock(60_000));
afterAll(async () => {
  await stopAllEtcd();
  rmSync(dir, { recursive: true, force: true });
});

type Closable = MetricsStore & { close(): Promise<void> };

const fences: TestFence[] = [];
afterAll(() => {
  for (const fence of fences.splice(0)) fence.close();
});

function endpoints(): string[] {
  if (!etcd) throw new Error('etcd did not start');
  return etcd.endpoints;
}

/** The leader of `prefix`, as an election would have made it: the one queen whose writes etcd takes. */
async function leaderOf(prefix: string): Promise<TestFence> {
  const fence = await leaderFence(endpoints(), prefix);
  fences.push(fence);
  return fence;
}

/** Each store by name: `place` names where it keeps its rows, so that opening the same place again reads them back. */
const stores: Record<string, (place: string) => Promise<Closable>> = {
  sqlite: async (place) => openSqliteStore(path.join(dir, place)),
  etcd: async (place) => {
    const prefix = `/minutes-${place}`;
    return openEtcdMetricsStore({ endpoints: endpoints(), prefix, fence: (await leaderOf(prefix)).fence });
  },
};

const MINUTE = 60_000;
const BASE = Date.parse('2026-01-01T03:00:00.000Z');

function row(hiveId: string, index: number, cpu: number, lastOffsetMs = 50_000): MinuteRow {
  const values = new Map<SeriesKey, number>([['cpu', cpu]]);
  if (index % 2 === 0) values.set('gpu.GPU-0.utilization', cpu / 2);
  return { hiveId, minute: BASE + index * MINUTE, last: BASE + index * MINUTE + lastOffsetMs, values };
}

describe.each(Object.keys(stores))('metrics archive: %s', (name) => {
  const open = (place: string): Promise<Closable> => {
    const opener = stores[name];
    if (!opener) throw new Error(`no store ${name}`);
    return opener(place);
  };

  it('keeps minutes across a reopen, answers a range by minute and by its last sample, forgets and prunes', async () => {
    const first = await open('reopen');
    await first.writeMinutes({ rows: [0, 1, 2, 3].map((index) => row('a', index, index * 10)), forgotten: [] });
    await first.writeMinutes({ rows: [row('b', 0, 99)], forgotten: [] });
    await first.close();

    const store = await open('reopen');
    try {
      const all = await store.minutes('a', 0, Number.POSITIVE_INFINITY);
      expect(all.map((minute) => (minute.minute - BASE) / MINUTE)).toEqual([0, 1, 2, 3]);
      expect(all[2]?.values).toEqual(
        new Map([
          ['cpu', 20],
          ['gpu.GPU-0.utilization', 10],
        ]),
      );
      // A series unknown all minute has no entry, never a 0.
      expect(all[1]?.values.has('gpu.GPU-0.utilization')).toBe(false);
      // From minute 1, and only minutes whose last sample came before minute 3's (at 3:50).
      const range = await store.minutes('a', BASE + MINUTE, BASE + 3 * MINUTE + 50_000);
      expect(range.map((minute) => (minute.minute - BASE) / MINUTE)).toEqual([1, 2]);

      // The first writer of a minute keeps it: a restarted queen's later part of that minute changes nothing.
      await store.writeMinutes({ rows: [row('a', 3, 77, 59_000), row('a', 4, 40)], forgotten: [] });
      const again = await store.minutes('a', BASE + 3 * MINUTE, Number.POSITIVE_INFINITY);
      expect(again.map((minute) => [minute.values.get('cpu'), minute.last - minute.minute])).toEqual([
        [30, 50_000],
        [40, 50_000],
      ]);

      // A forget goes before the rows of the same batch: a hive forgotten and back starts afresh.
      await store.writeMinutes({ rows: [row('b', 5, 1)], forgotten: ['b'] });
      expect((await store.minutes('b', 0, Number.POSITIVE_INFINITY)).map((minute) => minute.values.get('cpu'))).toEqual(
        [1],
      );

      expect(await store.pruneMinutes(BASE + 2 * MINUTE)).toBe(2);
      expect((await store.minutes('a', 0, Number.POSITIVE_INFINITY)).map((m) => (m.minute - BASE) / MINUTE)).toEqual([
        2, 3, 4,
      ]);
    } finally {
      await store.close();
    }
  });

  it('keeps hives apart whatever their ids, and prunes and forgets each one alone', async () => {
    const store = await open('apart');
    const ids = ['a', 'a/b', 'ab', 'a b%'];
    try {
      await store.writeMinutes({
        rows: ids.flatMap((id) => [0, 1, 2].map((index) => row(id, index, ids.indexOf(id)))),
        forgotten: [],
      });
      for (const id of ids) {
        expect(
          (await store.minutes(id, 0, Number.POSITIVE_INFINITY)).map((m) => [m.hiveId, m.values.get('cpu')]),
        ).toEqual(Array(3).fill([id, ids.indexOf(id)]));
      }
      // A batch naming one minute twice keeps its first row, like a minute kept before.
      await store.writeMinutes({ rows: [row('ab', 3, 5), row('ab', 3, 6)], forgotten: ['a'] });
      expect(await store.minutes('a', 0, Number.POSITIVE_INFINITY)).toEqual([]);
      expect(
        (await store.minutes('ab', BASE + 3 * MINUTE, Number.POSITIVE_INFINITY)).map((m) => m.values.get('cpu')),
      ).toEqual([5]);
      expect(await store.pruneMinutes(BASE + MINUTE)).toBe(3);
      expect((await store.minutes('a/b', 0, Number.POSITIVE_INFINITY)).map((m) => (m.minute - BASE) / MINUTE)).toEqual([
        1, 2,
      ]);
    } finally {
      await store.close();
    }
  });
});

describe('metrics archive: etcd, several queens', () => {
  it('is written and pruned by the leader alone: a follower changes nothing, and a deposed leader finds out', async () => {
    const prefix = '/minutes-fenced';
    const leader = await leaderOf(prefix);
    const store = openEtcdMetricsStore({ endpoints: endpoints(), prefix, fence: leader.fence });
    const notLeading = { current: () => null, lost: () => {} };
    const follower = openEtcdMetricsStore({ endpoints: endpoints(), prefix, fence: notLeading });
    const kept = async (): Promise<number[]> =>
      (await follower.minutes('a', 0, Number.POSITIVE_INFINITY)).map((minute) => (minute.minute - BASE) / MINUTE);
    try {
      await store.writeMinutes({ rows: [0, 1, 2].map((index) => row('a', index, index)), forgotten: [] });
      expect(await follower.pruneMinutes(BASE + 10 * MINUTE)).toBe(0);
      await expect(follower.writeMinutes({ rows: [row('b', 0, 1)], forgotten: ['a'] })).rejects.toThrow(/not lead/);
      expect(await kept()).toEqual([0, 1, 2]);
      expect(await follower.minutes('b', 0, Number.POSITIVE_INFINITY)).toEqual([]);
      // Its campaign key gone (its lease expired): its next prune is refused, and it is told it leads no more.
      await leader.revoke();
      await expect(store.pruneMinutes(BASE + 10 * MINUTE)).rejects.toThrow(/gone/);
      expect(leader.lost()).toBe(1);
      expect(await kept()).toEqual([0, 1, 2]);
    } finally {
      await Promise.all([store.close(), follower.close()]);
    }
  });
});
