import { assertEvent, enqueueActions, setup } from 'xstate';
import type { WorkerHeartbeat } from '../contracts/heartbeat.js';
import type { RegistryInput } from './hive-registry.js';
import { orderedLiveness, sweepPeriodMs } from './liveness.js';
import type { RegistryChanges } from './registry-changes.js';
import type { Received } from './registry-clock.js';
import { WorkerStore } from './worker-store.js';

/** The queen's worker registry (PROTOCOL §5): worker heartbeats, liveness sweeps on a named delay, and a hive's
 * offline taking its workers with it. */

export interface WorkerRegistryContext {
  // A mutable store, mutated only by this machine's named actions: immutable copies would make a heartbeat O(n).
  store: WorkerStore;
  sweepMs: number;
}

export type WorkerRegistryEvent =
  /** Heartbeats received since the last batch, in order. */
  { type: 'WORKER_HEARTBEATS'; heartbeats: Received<WorkerHeartbeat>[] } | { type: 'HIVES_OFFLINE'; hiveIds: string[] };

export const workerRegistryMachine = setup({
  types: {
    context: {} as WorkerRegistryContext,
    events: {} as WorkerRegistryEvent,
    input: {} as RegistryInput,
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
    sweep: ({ context }) => context.store.sweep(),
    publish: enqueueActions(({ context, enqueue }) => {
      const changes = context.store.takeChanges();
      if (changes.length > 0) enqueue.emit({ type: 'changes', changes });
    }),
  },
}).createMachine({
  id: 'worker-registry',
  context: ({ input }) => {
    const settings = orderedLiveness(input.settings);
    return { store: new WorkerStore(settings, input.clock), sweepMs: sweepPeriodMs(settings) };
  },
  on: {
    WORKER_HEARTBEATS: { actions: ['receive', 'publish'] },
    HIVES_OFFLINE: { actions: ['followHives', 'publish'] },
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
