import { assertEvent, enqueueActions, setup } from 'xstate';
import type { HiveHeartbeat } from '../contracts/heartbeat.js';
import { type DiscoveredHive, type ExpectedHive, HiveStore } from './hive-store.js';
import { type LivenessSettings, orderedLiveness, sweepPeriodMs } from './liveness.js';
import type { RegistryChanges } from './registry-changes.js';
import type { Received, RegistryClock } from './registry-clock.js';

/**
 * The queen's hive registry (PROTOCOL §5): accepts hive heartbeats and discovery answers, sweeps liveness on a named
 * delay, and emits every change. Its hives going offline are sent to the parent, which hands them to the workers.
 */

export interface RegistryInput {
  settings: LivenessSettings;
  clock: RegistryClock;
}

export interface HiveRegistryContext {
  // A mutable store, mutated only by this machine's named actions: immutable copies would make a heartbeat O(n).
  store: HiveStore;
  sweepMs: number;
}

export type HiveRegistryEvent =
  /** Heartbeats received since the last batch, in order; each is admitted or refused (see `takeAdmissions`). */
  | { type: 'HIVE_HEARTBEATS'; heartbeats: Received<HiveHeartbeat>[] }
  | { type: 'HIVE_DISCOVERED'; hive: DiscoveredHive }
  | { type: 'EXPECT_HIVES'; hives: ExpectedHive[] };

/** Sent to the parent when hives went offline. */
export interface HivesOfflineEvent {
  type: 'HIVES_OFFLINE';
  hiveIds: string[];
}

export const hiveRegistryMachine = setup({
  types: {
    context: {} as HiveRegistryContext,
    events: {} as HiveRegistryEvent,
    input: {} as RegistryInput,
    emitted: {} as RegistryChanges,
  },
  delays: {
    sweepPeriod: ({ context }) => context.sweepMs,
  },
  actions: {
    receive: ({ context, event }) => {
      assertEvent(event, 'HIVE_HEARTBEATS');
      for (const arrival of event.heartbeats) context.store.admitAndReceive(arrival);
    },
    registerDiscovered: ({ context, event }) => {
      assertEvent(event, 'HIVE_DISCOVERED');
      context.store.discovered(event.hive);
    },
    expect: ({ context, event }) => {
      assertEvent(event, 'EXPECT_HIVES');
      context.store.expect(event.hives);
    },
    sweep: ({ context }) => context.store.sweep(),
    publish: enqueueActions(({ context, enqueue }) => {
      const changes = context.store.takeChanges();
      if (changes.length > 0) enqueue.emit({ type: 'changes', changes });
    }),
    cascade: enqueueActions(({ context, enqueue }) => {
      const hiveIds = context.store.takeWentOffline();
      if (hiveIds.length > 0) enqueue.sendParent({ type: 'HIVES_OFFLINE', hiveIds } satisfies HivesOfflineEvent);
    }),
  },
}).createMachine({
  id: 'hive-registry',
  context: ({ input }) => {
    const settings = orderedLiveness(input.settings);
    return { store: new HiveStore(settings, input.clock), sweepMs: sweepPeriodMs(settings) };
  },
  on: {
    HIVE_HEARTBEATS: { actions: ['receive', 'publish', 'cascade'] },
    HIVE_DISCOVERED: { actions: ['registerDiscovered', 'publish'] },
    EXPECT_HIVES: { actions: ['expect', 'publish'] },
  },
  initial: 'watching',
  states: {
    watching: {
      after: {
        sweepPeriod: { target: 'watching', reenter: true, actions: ['sweep', 'publish', 'cascade'] },
      },
    },
  },
});
