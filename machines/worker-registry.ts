import { assertEvent, enqueueActions, setup } from 'xstate';
import type { WorkerReport } from '../contracts/heartbeat.js';
import type { RegistryPartInput } from './hive-registry.js';
import type { RegistryChanges } from './registry-changes.js';
import type { Received } from './registry-clock.js';
import type { WorkerEntry, WorkerStore } from './worker-store.js';

/** The queen's worker registry (docs/protocol.md: Liveness): worker heartbeats, liveness sweeps on a named delay, and a hive's
 * offline taking its workers with it. */

export type WorkerRegistryEvent =
  /** Heartbeats admitted since the last batch, in order of receipt. */
  | { type: 'WORKER_HEARTBEATS'; heartbeats: Received<WorkerReport>[] }
  /** Sent by the hive registry: these hives went offline (or were forgotten while not offline). */
  | { type: 'HIVES_OFFLINE'; hiveIds: string[] }
  /** The operator forgets workers now. */
  | { type: 'FORGET_WORKERS'; workerIds: string[] }
  /** Sent by the hive registry: the operator forgot this hive. */
  | { type: 'FORGET_HIVE_WORKERS'; hiveId: string }
  /** This queen has just become the leader: the workers it loaded, merged with those it held, oldest first. */
  | { type: 'WORKERS_RELOADED'; entries: WorkerEntry[] };

export const workerRegistryMachine = setup({
  types: {
    context: {} as RegistryPartInput<WorkerStore>,
    events: {} as WorkerRegistryEvent,
    input: {} as RegistryPartInput<WorkerStore>,
    emitted: {} as RegistryChanges,
  },
  delays: {
    sweepPeriod: ({ context }) => context.sweepMs,
  },
  actions: {
    receive: ({ context, event }) => {
      assertEvent(event, 'WORKER_HEARTBEATS');
      for (const arrival of event.heartbeats) context.store.receive(arrival);
    },
    followHives: ({ context, event }) => {
      assertEvent(event, 'HIVES_OFFLINE');
      context.store.hivesOffline(event.hiveIds);
    },
    forget: ({ context, event }) => {
      assertEvent(event, ['FORGET_WORKERS', 'FORGET_HIVE_WORKERS']);
      context.store.forget(
        event.type === 'FORGET_WORKERS' ? event.workerIds : (context.store.idsOfHive(event.hiveId) ?? []),
      );
    },
    reload: ({ context, event }) => {
      assertEvent(event, 'WORKERS_RELOADED');
      context.store.reload(event.entries);
    },
    sweep: ({ context }) => context.store.sweep(),
    publish: enqueueActions(({ context, enqueue }) => {
      const changes = context.store.takeChanges();
      if (changes.length > 0) enqueue.emit({ type: 'changes', changes });
    }),
  },
}).createMachine({
  id: 'worker-registry',
  context: ({ input }) => input,
  on: {
    WORKER_HEARTBEATS: { actions: ['receive', 'publish'] },
    HIVES_OFFLINE: { actions: ['followHives', 'publish'] },
    FORGET_WORKERS: { actions: ['forget', 'publish'] },
    FORGET_HIVE_WORKERS: { actions: ['forget', 'publish'] },
    WORKERS_RELOADED: { actions: ['reload', 'publish'] },
  },
  initial: 'watching',
  states: {
    watching: {
      after: {
        sweepPeriod: { target: 'watching', reenter: true, actions: ['sweep', 'publish'] },
      },
    },
  },
});
