import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SeriesKey } from '../../../contracts/metric-series.js';
import type { MinuteRow } from '../../../services/store/metrics-store.js';
import { openSqliteStore } from '../../../services/store/sqlite-store.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'apiary-minutes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MINUTE = 60_000;
const BASE = Date.parse('2026-01-01T03:00:00.000Z');

function row(hiveId: string, index: number, cpu: number, lastOffsetMs = 50_000): MinuteRow {
  const values = new Map<SeriesKey, number>([['cpu', cpu]]);
  if (index % 2 === 0) values.set('gpu.GPU-0.utilization', cpu / 2);
  return { hiveId, minute: BASE + index * MINUTE, last: BASE + index * MINUTE + lastOffsetMs, values };
}

describe('metrics archive in SQLite', () => {
  it('keeps minutes across a reopen, answers a range by minute and by its last sample, forgets and prunes', async () => {
    const first = openSqliteStore(dir);
    await first.writeMinutes({ rows: [0, 1, 2, 3].map((index) => row('a', index, index * 10)), forgotten: [] });
    await first.writeMinutes({ rows: [row('b', 0, 99)], forgotten: [] });
    await first.close();

    const store = openSqliteStore(dir);
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
});
