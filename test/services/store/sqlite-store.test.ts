import { describe, expect, it } from 'vitest';
import { EventQuery } from '../../../contracts/events.js';
import { hiveRecord } from '../../../services/queen/records.js';
import { openSqliteStore } from '../../../services/store/sqlite-store.js';
import type { NewEvent, StateBatch } from '../../../services/store/state-store.js';
import { hiveBeat, startRegistry } from '../../support/queen-registry.js';

describe('the queen database in memory (--state-dir none)', () => {
  it('keeps the history, and none of the entries it would never read back', async () => {
    const h = startRegistry();
    h.registry.receiveHive(hiveBeat('gpu-a'));
    const entry = h.registry.hives.get('gpu-a');
    if (!entry) throw new Error('gpu-a registered');
    const store = openSqliteStore(null);
    const batch: StateBatch = {
      hives: [hiveRecord(entry)],
      workers: [],
      removedHives: [],
      removedWorkers: [],
      events: [{ time: new Date(0).toISOString(), kind: 'hive', id: 'gpu-a', type: 'registered', to: 'online' }],
      problems: null,
    };
    await store.write(batch);
    expect((await store.load()).hives).toEqual([]);
    expect(
      (await store.events({ order: 'oldest', kind: 'hive', id: 'gpu-a', after: 0, limit: 10 })).events,
    ).toMatchObject([{ id: 'gpu-a', type: 'registered' }]);
    await store.close();
    await h.registry.stop();
  });

  it('numbers the history on from the last process’s numbers, though it kept none of them', async () => {
    const event: NewEvent = { time: new Date(0).toISOString(), kind: 'hive', id: 'gpu-a', type: 'registered' };
    const batch: StateBatch = {
      hives: [],
      workers: [],
      removedHives: [],
      removedWorkers: [],
      events: [event, event],
      problems: null,
    };
    const seqs: number[] = [];
    for (let run = 0; run < 2; run += 1) {
      const store = openSqliteStore(null);
      await store.write(batch);
      seqs.push(...(await store.events(EventQuery.parse({}))).events.map((e) => e.seq));
      await store.close();
    }
    // A client reading on with `after` from the first run's last number sees the second run's events.
    expect(seqs[2]).toBeGreaterThan(seqs[1] ?? Number.POSITIVE_INFINITY);
    expect(seqs[3]).toBe((seqs[2] ?? 0) + 1);
  });
});
