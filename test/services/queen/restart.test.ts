import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createQueenRegistry } from '../../../services/queen/registry.js';
import { openSqliteStore } from '../../../services/store/sqlite-store.js';
import {
  DEFAULT_LIVENESS,
  hiveBeat,
  issuedSecret,
  rememberingSecrets,
  steppedClocks,
  WALL_BASE,
  workerBeat,
} from '../../support/queen-registry.js';

/** Restart semantics on simulated clocks over a real database file: what one queen wrote, the next one restores. */

const dir = mkdtempSync(path.join(os.tmpdir(), 'apiary-restart-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('queen registry across a restart', () => {
  it('brings online entries back suspect (queen restart), offline ones offline, with their real last_seen', async () => {
    const stateDir = path.join(dir, 'a');
    const first = steppedClocks();
    const before = rememberingSecrets(
      createQueenRegistry({ settings: DEFAULT_LIVENESS, ...first, store: openSqliteStore(stateDir) }),
    );
    before.receiveHive(hiveBeat('live'));
    before.receiveWorker(workerBeat('w-live', 'live'));
    before.receiveHive(hiveBeat('gone'));
    await first.timers.advanceTo(10_000);
    before.receiveHive(hiveBeat('gone', { status: 'stopping' }, true));
    await first.timers.advanceTo(20_000);
    await before.stop();

    // The second queen starts an hour later on the wall clock, its monotonic clock at 0 again.
    const later = steppedClocks();
    const down = 3_600_000;
    const clock = { now: later.clock.now, wallNow: () => later.clock.wallNow() + 20_000 + down };
    const store = openSqliteStore(stateDir);
    const after = createQueenRegistry({
      settings: DEFAULT_LIVENESS,
      clock,
      timers: later.timers,
      store,
      restored: await store.load(),
    });
    const live = after.hives.get('live');
    expect(live).toMatchObject({ liveness: 'suspect', seenWall: WALL_BASE });
    expect(after.workers.get('w-live')?.liveness).toBe('suspect');
    expect(after.hives.get('gone')).toMatchObject({ liveness: 'offline', seenWall: WALL_BASE + 10_000 });
    // Its age is the real one; its deadline counts from the restart.
    expect(clock.now() - (live?.seenAt ?? 0)).toBe(20_000 + down);
    await later.timers.advanceTo(DEFAULT_LIVENESS.offlineAfterMs - 1);
    expect(after.hives.get('live')?.liveness).toBe('suspect');
    await later.timers.advanceTo(DEFAULT_LIVENESS.offlineAfterMs);
    expect(after.hives.get('live')?.liveness).toBe('offline');
    expect(after.workers.get('w-live')?.liveness).toBe('offline');
    const { events } = await after.events({ order: 'oldest', after: 0, limit: 1000 });
    expect(
      events.filter((event) => event.reason === 'queen restart').map((event) => `${event.kind} ${event.id}`),
    ).toEqual(['hive live']);
    await after.stop();
  });

  it('keeps identities: the restored hive needs its secret, and gets none anew', async () => {
    const stateDir = path.join(dir, 'b');
    const first = steppedClocks();
    const before = createQueenRegistry({ settings: DEFAULT_LIVENESS, ...first, store: openSqliteStore(stateDir) });
    const secret = issuedSecret(before.receiveHive(hiveBeat('h1')));
    await before.stop();
    const store = openSqliteStore(stateDir);
    const after = createQueenRegistry({
      settings: DEFAULT_LIVENESS,
      ...steppedClocks(),
      store,
      restored: await store.load(),
    });
    expect(after.receiveHive(hiveBeat('h1', { hive_secret: 'guessed' })).ok).toBe(false);
    const proven = after.receiveHive(hiveBeat('h1', { hive_secret: secret }));
    expect(proven).toMatchObject({ ok: true, value: { secret: null } });
    expect(after.hives.get('h1')?.liveness).toBe('online');
    await after.stop();
  });
});
