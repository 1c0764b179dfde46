import { describe, expect, it } from 'vitest';
import { hiveRecord } from '../../../services/queen/records.js';
import { openSqliteStore } from '../../../services/store/sqlite-store.js';
import type { StateBatch } from '../../../services/store/state-store.js';
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
    expect((await store.events({ kind: 'hive', id: 'gpu-a', after: 0, limit: 10 })).events).toMatchObject([
      { id: 'gpu-a', type: 'registered' },
    ]);
    await store.close();
    await h.registry.stop();
  });
});
