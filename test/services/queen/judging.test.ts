import { describe, expect, it } from 'vitest';
import { assembleQueen, type QueenParts } from '../../../actors/assemble-queen.js';
import type { WebhookAlert } from '../../../contracts/alert.js';
import { capabilityBytes } from '../../../machines/capability-set.js';
import type { AlertInput } from '../../../services/alerts/index.js';
import { silentLogger } from '../../../services/logger.js';
import { hiveRecord, workerRecord } from '../../../services/queen/records.js';
import type { RegistryCapacity } from '../../../services/queen/registry.js';
import { openSqliteStore } from '../../../services/store/sqlite-store.js';
import type { HiveRecord, StateStore, StoredState, WorkerRecord } from '../../../services/store/state-store.js';
import { DEFAULT_LIVENESS, hiveBeat, steppedClocks, workerBeat } from '../../support/queen-registry.js';
import { recordingAlerts, webhookAlerts } from '../../support/recording-alerts.js';
import { eventually } from '../../support/role-process.js';

/**
 * A queen among several on simulated clocks: while it does not judge it sweeps nothing and alerts nothing; once it
 * leads it takes the loaded state, every entry given the restart grace, and judges from then on.
 */

const { offlineAfterMs } = DEFAULT_LIVENESS;

/** A queen on its own stepped clocks, with the test's other parts. */
function queenWith(parts: Partial<QueenParts> = {}) {
  const clocks = steppedClocks();
  const queen = assembleQueen({
    settings: DEFAULT_LIVENESS,
    streamIntervalMs: 2_500,
    logger: silentLogger,
    ...clocks,
    ...parts,
  });
  return { queen, timers: clocks.timers };
}

/** What a former leader kept: two hives and a worker, all online when it died. */
function formerLeaderState(): StoredState {
  const { queen } = queenWith();
  queen.registry.receiveHive(hiveBeat('kept'));
  queen.registry.receiveHive(hiveBeat('silent'));
  queen.registry.receiveWorker(workerBeat('w-kept', 'kept'));
  const state = {
    hives: [...queen.registry.hives.entries()].map(hiveRecord),
    workers: [...queen.registry.workers.entries()].map(workerRecord),
  };
  void queen.close();
  return state;
}

function startFollower(capacity?: RegistryCapacity) {
  const { timers, clock } = steppedClocks();
  const alerts: AlertInput[] = [];
  let judging = false;
  const queen = assembleQueen({
    settings: DEFAULT_LIVENESS,
    streamIntervalMs: 2_500,
    logger: silentLogger,
    clock,
    timers,
    store: openSqliteStore(null),
    alerts: recordingAlerts(alerts),
    judging: () => judging,
    ...(capacity ? { capacity } : {}),
  });
  const transitions: string[] = [];
  queen.registry.onChanges((kind, changes) => {
    for (const change of changes) {
      if (change.type === 'liveness') transitions.push(`${kind} ${change.id} ${change.to} (${change.reason})`);
    }
  });
  return { queen, timers, alerts, transitions, lead: () => (judging = true) };
}

describe('a queen that does not lead', () => {
  it('sweeps nothing and alerts nothing, however long its entries are silent', async () => {
    const { queen, timers, alerts, transitions } = startFollower();
    // It answered heartbeats itself before it knew a leader: then a leader appeared elsewhere.
    queen.registry.receiveHive(hiveBeat('heard-once'));
    transitions.length = 0;
    alerts.length = 0;
    await timers.advanceTo(DEFAULT_LIVENESS.forgetAfterMs * 2);
    expect(queen.registry.hives.get('heard-once')?.liveness).toBe('online');
    expect(transitions).toEqual([]);
    expect(alerts).toEqual([]);
    await queen.close();
  });

  it('once leading takes the loaded state with the restart grace: silent entries go offline a whole window later', async () => {
    const { queen, timers, alerts, transitions, lead } = startFollower();
    // A long follower life: the former leader's entries are older than any window when this queen takes over.
    await timers.advanceTo(offlineAfterMs * 3);
    lead();
    queen.registry.lead(formerLeaderState());
    expect(queen.registry.hives.get('kept')).toMatchObject({ liveness: 'suspect' });
    expect(queen.registry.hives.get('kept')?.capabilities).not.toBeNull();
    expect(queen.registry.hives.get('kept')?.secretHash).not.toBeNull();
    expect(queen.registry.workers.get('w-kept')?.liveness).toBe('suspect');
    expect(transitions).toContain('hive kept suspect (queen restart)');
    const tookOver = timers.now();
    // The hive that keeps sending is online again at its next heartbeat; the silent one has the whole window.
    queen.registry.receiveHive(hiveBeat('kept', {}, true));
    await timers.advanceTo(tookOver + offlineAfterMs - 1_000);
    expect(queen.registry.hives.get('silent')?.liveness).toBe('suspect');
    expect(transitions.filter((line) => line.includes(' offline '))).toEqual([]);
    queen.registry.receiveHive(hiveBeat('kept', {}, true));
    queen.registry.receiveWorker(workerBeat('w-kept', 'kept'));
    await timers.advanceTo(tookOver + offlineAfterMs + 1_000);
    expect(queen.registry.hives.get('silent')?.liveness).toBe('offline');
    expect(queen.registry.hives.get('kept')?.liveness).toBe('online');
    // The leader judges, so it alerts.
    expect(alerts).toContainEqual(expect.objectContaining({ type: 'liveness', id: 'silent', to: 'offline' }));
    await queen.close();
  });

  it('counts the capabilities it holds once, however many times it takes over', () => {
    const state = formerLeaderState();
    const setBytes = state.hives[0]?.capabilities ? capabilityBytes(state.hives[0].capabilities) : 0;
    expect(setBytes).toBeGreaterThan(0);
    // Room for the two hives of the state and one more set, not for the state counted twice.
    const { queen, lead } = startFollower({ hives: 10, workers: 10, capabilityBytes: 3 * setBytes });
    lead();
    queen.registry.lead(state);
    queen.registry.lead(formerLeaderState());
    expect(queen.registry.receiveHive(hiveBeat('newcomer')).ok).toBe(true);
    expect(queen.registry.receiveHive(hiveBeat('one-too-many')).ok).toBe(false);
    void queen.close();
  });

  it('resolves, once their condition clears, the alert problems its predecessor opened: they are kept with the state', async () => {
    const kept = keptState();
    const sent: WebhookAlert[] = [];
    const { queen: predecessor, timers } = queenWith({ store: kept.store, alerts: webhookAlerts(sent) });
    predecessor.registry.receiveHive(hiveBeat('lost'));
    await timers.advanceTo(offlineAfterMs + 1_000);
    await eventually(
      () => sent.find((alert) => alert.id === 'lost' && alert.state === 'open'),
      'the open alert',
      5_000,
    );
    // It dies; what it wrote last holds the open problem.
    await predecessor.close();
    const { queen: successor } = queenWith({ store: openSqliteStore(null), alerts: webhookAlerts(sent) });
    successor.lead(await kept.store.load());
    successor.registry.receiveHive(hiveBeat('lost'));
    const resolved = await eventually(
      () => sent.find((alert) => alert.id === 'lost' && alert.state === 'resolved'),
      'the resolution sent by the successor',
      5_000,
    );
    expect(resolved).toMatchObject({ event: 'hive_offline', kind: 'hive' });
    await successor.close();
  });
});

/** A state store in memory that keeps what a leader wrote last, for its successor to load. */
function keptState(): { store: StateStore } {
  const hives = new Map<string, HiveRecord>();
  const workers = new Map<string, WorkerRecord>();
  let problems: WebhookAlert[] = [];
  const store: StateStore = {
    describe: () => ({ path: null, bytes: 0 }),
    load: async () => ({ hives: [...hives.values()], workers: [...workers.values()], problems }),
    write: async (batch) => {
      for (const hive of batch.hives) hives.set(hive.id, hive);
      for (const worker of batch.workers) workers.set(worker.id, worker);
      for (const id of batch.removedHives) hives.delete(id);
      for (const id of batch.removedWorkers) workers.delete(id);
      problems = batch.problems ?? problems;
    },
    events: async () => ({ events: [], next: null }),
    prune: async () => 0,
    close: async () => {},
  };
  return { store };
}
