import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SeriesKey } from '../../../contracts/metric-series.js';
import { openEtcdMetricsStore } from '../../../services/store/etcd-metrics-store.js';
import type { MetricsStore, MinuteRow } from '../../../services/store/metrics-store.js';
import { openSqliteStore } from '../../../services/store/sqlite-store.js';
import { type EtcdCluster, startEtcd, stopAllEtcd } from '../../support/etcd.js';

/** The one contract of the per-minute metrics archive, held by both stores: SQLite (one queen) and etcd (several). */

const dir = mkdtempSync(path.join(os.tmpdir(), 'apiary-minutes-'));
let etcd: EtcdCluster | undefined;
beforeAll(async () => {
  etcd = await startEtcd(1);
}, 60_000);
afterAll(async () => {
  await stopAllEtcd();
  rmSync(dir, { recursive: true, force: true });
});

type Closable = MetricsStore & { close(): Promise<void> };

/** Each store by name: `place` names where it keeps its rows, so that opening the same place again reads them back. */
const stores: Record<string, (place: string) => Closable> = {
  sqlite: (place) => openSqliteStore(path.join(dir, place)),
  etcd: (place) => {
    if (!etcd) throw new Error('etcd did not start');
    return openEtcdMetricsStore({ endpoints: etcd.endpoints, prefix: `/minutes-${place}` });
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
  const open = (place: string): Closable => {
    const opener = stores[name];
    if (!opener) throw new Error(`no store ${name}`);
    return opener(place);
  };

  it('keeps minutes across a reopen, answers a range by minute and by its last sample, forgets and prunes', async () => {
    const first = open('reopen');
    await first.writeMinutes({ rows: [0, 1, 2, 3].map((index) => row('a', index, index * 10)), forgotten: [] });
    await first.writeMinutes({ rows: [row('b', 0, 99)], forgotten: [] });
    await first.close();

    const store = open('reopen');
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
    const store = open('apart');
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
