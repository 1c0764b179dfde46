import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assembleQueen } from '../../../actors/assemble-queen.js';
import type { WebhookAlert } from '../../../contracts/alert.js';
import { silentLogger } from '../../../services/logger.js';
import { createQueenRegistry } from '../../../services/queen/registry.js';
import { openSqliteStore } from '../../../services/store/sqlite-store.js';
import type { StateStore, StoredState } from '../../../services/store/state-store.js';
import {
  DEFAULT_LIVENESS,
  hiveBeat,
  issuedSecret,
  rememberingSecrets,
  steppedClocks,
  WALL_BASE,
  workerBeat,
} from '../../support/queen-registry.js';
import { webhookAlerts } from '../../support/recording-alerts.js';
import { eventually } from '../../support/role-process.js';

/**
 * Restart semantics on simulated clocks over a real database file: what one queen wrote, the next one restores, its
 * open alert problems included.
 */

const dir = mkdtempSync(path.join(os.tmpdir(), 'apiary-restart-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A registry on fresh stepped clocks that restores what the one before wrote to `stateDir`. */
async function restartedOn(stateDir: string) {
  const store = openSqliteStore(stateDir);
  return createQueenRegistry({ settings: DEFAULT_LIVENESS, ...steppedClocks(), store, restored: await store.load() });
}

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
    const after = await restartedOn(stateDir);
    expect(after.receiveHive(hiveBeat('h1', { hive_secret: 'guessed' })).ok).toBe(false);
    const proven = after.receiveHive(hiveBeat('h1', { hive_secret: secret }));
    expect(proven).toMatchObject({ ok: true, value: { secret: null } });
    expect(after.hives.get('h1')?.liveness).toBe('online');
    await after.stop();
  });

  it('keeps the end of a worker process its hive reported gone: what that process sent is still late', async () => {
    const stateDir = path.join(dir, 'ended');
    const before = createQueenRegistry({
      settings: DEFAULT_LIVENESS,
      ...steppedClocks(),
      store: openSqliteStore(stateDir),
    });
    const hive_secret = issuedSecret(before.receiveHive(hiveBeat('h1')));
    before.receiveWorker(workerBeat('w1', 'h1', { boot_id: 'wb-1', seq: 7, hive_secret }));
    // The worker died and its hive said so; the queen restarts before the dead process's last heartbeat arrives.
    before.receiveWorker(workerBeat('w1', 'h1', { status: 'error', hive_secret }));
    await before.stop();
    const after = await restartedOn(stateDir);
    expect(after.receiveWorker(workerBeat('w1', 'h1', { boot_id: 'wb-1', seq: 8, hive_secret }))).toMatchObject({
      ok: false,
      error: { kind: 'stale' },
    });
    expect(after.workers.get('w1')?.heartbeat.status).toBe('error');
    expect(after.receiveWorker(workerBeat('w1', 'h1', { boot_id: 'wb-2', seq: 0, hive_secret })).ok).toBe(true);
    await after.stop();
  });

  it('keeps the secrets a hive was issued before the latest while it proved none', async () => {
    const stateDir = path.join(dir, 'b2');
    const before = createQueenRegistry({
      settings: DEFAULT_LIVENESS,
      ...steppedClocks(),
      store: openSqliteStore(stateDir),
    });
    // The hive kept the first; its delayed first attempt, delivered later, was issued the second.
    const kept = issuedSecret(before.receiveHive(hiveBeat('h1')));
    issuedSecret(before.receiveHive(hiveBeat('h1')));
    await before.stop();
    const after = await restartedOn(stateDir);
    expect(after.receiveHive(hiveBeat('h1', { hive_secret: kept }))).toMatchObject({
      ok: true,
      value: { secret: null },
    });
    await after.stop();
  });

  it('keeps the open alert problems: the restarted queen resolves what it alerted on, and opens nothing again', async () => {
    const stateDir = path.join(dir, 'c');
    const sent: WebhookAlert[] = [];
    const clocks = steppedClocks();
    const queenOn = (store: StateStore, restored?: StoredState) =>
      assembleQueen({
        settings: DEFAULT_LIVENESS,
        streamIntervalMs: 2_500,
        logger: silentLogger,
        ...clocks,
        alerts: webhookAlerts(sent),
        store,
        ...(restored ? { restored } : {}),
      });
    const before = queenOn(openSqliteStore(stateDir));
    before.registry.receiveHive(hiveBeat('lost'));
    await clocks.timers.advanceTo(DEFAULT_LIVENESS.offlineAfterMs + 1_000);
    await eventually(() => sent.find((alert) => alert.state === 'open'), 'the open alert', 5_000);
    await before.close();

    const store = openSqliteStore(stateDir);
    const restored = await store.load();
    expect(restored.problems).toEqual([expect.objectContaining({ event: 'hive_offline', id: 'lost', state: 'open' })]);
    const after = queenOn(store, restored);
    expect(after.registry.hives.get('lost')?.liveness).toBe('offline');
    after.registry.receiveHive(hiveBeat('lost'));
    await eventually(() => sent.find((alert) => alert.state === 'resolved'), 'the resolution', 5_000);
    await after.close();
    expect(sent.map((alert) => `${alert.event} ${alert.id} ${alert.state}`)).toEqual([
      'hive_offline lost open',
      'hive_offline lost resolved',
    ]);
    // Resolved, it is kept no more: a third queen has nothing to resolve.
    const third = openSqliteStore(stateDir);
    expect((await third.load()).problems).toEqual([]);
    await third.close();
  });
});
