import { describe, expect, it } from 'vitest';
import { EventQuery } from '../../../contracts/events.js';
import { openSqliteStore } from '../../../services/store/sqlite-store.js';
import type { NewEvent } from '../../../services/store/state-store.js';
import { batchOf, storedHive } from '../../support/stored-records.js';

describe('the queen database in memory (--state-dir none)', () => {
  it('keeps the history, and none of the entries it would never read back', async () => {
    const store = openSqliteStore(null);
    const registered: NewEvent = {
      time: new Date(0).toISOString(),
      kind: 'hive',
      id: 'gpu-a',
      type: 'registered',
      to: 'online',
    };
    await store.write(batchOf({ hives: [storedHive('gpu-a')], events: [registered] }));
    expect((await store.load()).hives).toEqual([]);
    expect(
      (await store.events({ order: 'oldest', kind: 'hive', id: 'gpu-a', after: 0, limit: 10 })).events,
    ).toMatchObject([{ id: 'gpu-a', type: 'registered' }]);
    await store.close();
  });

  it('numbers the history on from the last process’s numbers, though it kept none of them', async () => {
    const event: NewEvent = { time: new Date(0).toISOString(), kind: 'hive', id: 'gpu-a', type: 'registered' };
    const seqs: number[] = [];
    for (let run = 0; run < 2; run += 1) {
      const store = openSqliteStore(null);
      await store.write(batchOf({ events: [event, event] }));
      seqs.push(...(await store.events(EventQuery.parse({}))).events.map((e) => e.seq));
      await store.close();
    }
    // A client reading on with `after` from the first run's last number sees the second run's events.
    expect(seqs[2]).toBeGreaterThan(seqs[1] ?? Number.POSITIVE_INFINITY);
    expect(seqs[3]).toBe((seqs[2] ?? 0) + 1);
  });
});
