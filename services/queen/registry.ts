import { type Actor, createActor, type InspectionEvent } from 'xstate';
import type { HiveHeartbeat, WorkerHeartbeat } from '../../contracts/heartbeat.js';
import type { DiscoveredHive, ExpectedHive, HiveAdmission, HiveRegistryReader } from '../../machines/hive-store.js';
import type { LivenessSettings } from '../../machines/liveness.js';
import { registryMachine } from '../../machines/registry.js';
import type { RegistryChange, RegistryKind } from '../../machines/registry-changes.js';
import { type Received, type RegistryClock, received, systemClock } from '../../machines/registry-clock.js';
import type { WorkerRegistryReader } from '../../machines/worker-store.js';
import type { Clock } from '../sender.js';

/**
 * Hosts the registry actors for the queen's HTTP routes, discovery and stream: sends them events and reads their
 * stores. The `receive…` calls are synchronous: when they return, the registries and every listener are up to date.
 * The `submit…` calls, for the HTTP routes, settle once their heartbeat is applied (batched, see `batch`).
 */
export interface QueenRegistryOptions {
  settings: LivenessSettings;
  /** The queen's clocks; `performance.now()` and `Date.now()` unless a test or the simulation drives them. */
  clock?: RegistryClock;
  /** XState's timer source for the sweeps: real timers unless a test gives a SimulatedClock. */
  timers?: Clock;
  inspect?: ((event: InspectionEvent) => void) | undefined;
  /**
   * Gather the heartbeats submitted in one event-loop turn into one event per registry (a served queen: an actor
   * event costs far more than applying a heartbeat). Off, each submitted heartbeat is applied before its promise
   * settles, with no macrotask between: what a promise-only simulation needs.
   */
  batch?: boolean;
}

export type ChangeListener = (kind: RegistryKind, changes: readonly RegistryChange[]) => void;

export interface QueenRegistry {
  readonly hives: HiveRegistryReader;
  readonly workers: WorkerRegistryReader;
  readonly clock: RegistryClock;
  readonly actor: Actor<typeof registryMachine>;
  /** Admits and applies a hive heartbeat at once; a refused one changes nothing. */
  receiveHive(heartbeat: HiveHeartbeat): HiveAdmission;
  receiveWorker(heartbeat: WorkerHeartbeat): void;
  /** Like `receiveHive`, applied with the other heartbeats of this event-loop turn. */
  submitHive(heartbeat: HiveHeartbeat): Promise<HiveAdmission>;
  submitWorker(heartbeat: WorkerHeartbeat): Promise<void>;
  discovered(hive: DiscoveredHive): void;
  expect(hives: ExpectedHive[]): void;
  /** Called with each batch of changes, in order; returns the unsubscribe. */
  onChanges(listener: ChangeListener): () => void;
  /** Applies what was submitted, then stops the actors. */
  stop(): void;
}

interface Pending<H, R> {
  heartbeats: Received<H>[];
  settle: ((result: R) => void)[];
}

const realTimers: Clock = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (id) => clearTimeout(id),
};

export function createQueenRegistry(options: QueenRegistryOptions): QueenRegistry {
  const clock = options.clock ?? systemClock;
  const timers = options.timers ?? realTimers;
  let flush = (): void => {};
  const actor = createActor(registryMachine, {
    systemId: 'registry',
    input: { settings: options.settings, clock },
    ...(options.inspect ? { inspect: options.inspect } : {}),
    // The registries' timers are their sweeps: each first applies what was received before it.
    clock: {
      setTimeout: (callback, ms) =>
        timers.setTimeout(() => {
          flush();
          callback();
        }, ms),
      clearTimeout: (id) => timers.clearTimeout(id),
    },
  });
  actor.start();
  const { hives, workers } = actor.getSnapshot().children;
  if (!hives || !workers) throw new Error('the registry actors did not start');

  const listeners = new Set<ChangeListener>();
  hives.on('changes', ({ changes }) => {
    for (const listener of listeners) listener('hive', changes);
  });
  workers.on('changes', ({ changes }) => {
    for (const listener of listeners) listener('worker', changes);
  });
  const hiveStore = hives.getSnapshot().context.store;
  const workerStore = workers.getSnapshot().context.store;

  const applyHives = (heartbeats: Received<HiveHeartbeat>[]): HiveAdmission[] => {
    hives.send({ type: 'HIVE_HEARTBEATS', heartbeats });
    return hiveStore.takeAdmissions();
  };
  const applyWorkers = (heartbeats: Received<WorkerHeartbeat>[]): void => {
    workers.send({ type: 'WORKER_HEARTBEATS', heartbeats });
  };

  let hivePending: Pending<HiveHeartbeat, HiveAdmission> = { heartbeats: [], settle: [] };
  let workerPending: Pending<WorkerHeartbeat, undefined> = { heartbeats: [], settle: [] };
  let scheduled: NodeJS.Immediate | undefined;
  flush = (): void => {
    if (scheduled) clearImmediate(scheduled);
    scheduled = undefined;
    const hiveBatch = hivePending;
    const workerBatch = workerPending;
    hivePending = { heartbeats: [], settle: [] };
    workerPending = { heartbeats: [], settle: [] };
    if (hiveBatch.heartbeats.length > 0) {
      const admissions = applyHives(hiveBatch.heartbeats);
      hiveBatch.settle.forEach((settle, index) => {
        settle(admissions[index] ?? { ok: false, error: 'the hive registry did not judge this heartbeat' });
      });
    }
    if (workerBatch.heartbeats.length > 0) {
      applyWorkers(workerBatch.heartbeats);
      for (const settle of workerBatch.settle) settle(undefined);
    }
  };
  const schedule = (): void => {
    if (options.batch) scheduled ??= setImmediate(flush);
    else flush();
  };

  return {
    hives: hiveStore,
    workers: workerStore,
    clock,
    actor,
    receiveHive: (heartbeat) => {
      flush();
      const [admission] = applyHives([received(heartbeat, clock)]);
      return admission ?? { ok: false, error: 'the hive registry did not judge this heartbeat' };
    },
    receiveWorker: (heartbeat) => {
      flush();
      applyWorkers([received(heartbeat, clock)]);
    },
    submitHive: (heartbeat) =>
      new Promise((resolve) => {
        hivePending.heartbeats.push(received(heartbeat, clock));
        hivePending.settle.push(resolve);
        schedule();
      }),
    submitWorker: (heartbeat) =>
      new Promise((resolve) => {
        workerPending.heartbeats.push(received(heartbeat, clock));
        workerPending.settle.push(resolve);
        schedule();
      }),
    discovered: (hive) => hives.send({ type: 'HIVE_DISCOVERED', hive }),
    expect: (expected) => hives.send({ type: 'EXPECT_HIVES', hives: expected }),
    onChanges: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop: () => {
      flush();
      actor.stop();
    },
  };
}
