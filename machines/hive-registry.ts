import { assertEvent, enqueueActions, setup } from 'xstate';
import type { AdmittedHive, DiscoveredHive, ExpectedHive, HiveEntry, HiveStore } from './hive-store.js';
import type { RegistryChanges } from './registry-changes.js';
import type { WorkerRegistryEvent } from './worker-registry.js';

/**
 * The queen's hive registry (docs/protocol.md: Liveness): applies the hive heartbeats its owner admitted and the discovery answers,
 * sweeps liveness on a named delay, and emits every change. Hives going offline or forgotten are sent straight to
 * the worker registry, whose workers follow them.
 */

export interface RegistryPartInput<S> {
  // A mutable store owned by the queen's registry host, mutated only by this machine's named actions: immutable
  // copies would make a heartbeat O(n).
  store: S;
  sweepMs: number;
}

export type HiveRegistryEvent =
  /** Heartbeats admitted since the last batch, in order of receipt. */
  | { type: 'HIVE_HEARTBEATS'; admitted: AdmittedHive[] }
  | { type: 'HIVE_DISCOVERED'; hive: DiscoveredHive }
  | { type: 'EXPECT_HIVES'; hives: ExpectedHive[] }
  /** The operator forgets a hive, its workers and its identity. */
  | { type: 'FORGET_HIVE'; id: string }
  /** This queen has just become the leader: the hives it loaded, merged with those it held, oldest first. */
  | { type: 'HIVES_RELOADED'; entries: HiveEntry[] };

const toWorkers = (event: WorkerRegistryEvent) => event;

export const hiveRegistryMachine = setup({
  types: {
    context: {} as RegistryPartInput<HiveStore>,
    events: {} as HiveRegistryEvent,
    input: {} as RegistryPartInput<HiveStore>,
    emitted: {} as RegistryChanges,
  },
  delays: {
    sweepPeriod: ({ context }) => context.sweepMs,
  },
  actions: {
    receive: ({ context, event }) => {
      assertEvent(event, 'HIVE_HEARTBEATS');
      for (const admitted of event.admitted) context.store.receive(admitted);
    },
    registerDiscovered: ({ context, event }) => {
      assertEvent(event, 'HIVE_DISCOVERED');
      context.store.discovered(event.hive);
    },
    expect: ({ context, event }) => {
      assertEvent(event, 'EXPECT_HIVES');
      context.store.expect(event.hives);
    },
    forget: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'FORGET_HIVE');
      if (!context.store.forget(event.id)) return;
      enqueue.sendTo(
        ({ system }) => system.get('worker-registry'),
        toWorkers({ type: 'FORGET_HIVE_WORKERS', hiveId: event.id }),
      );
    }),
    reload: ({ context, event }) => {
      assertEvent(event, 'HIVES_RELOADED');
      context.store.reload(event.entries);
    },
    sweep: ({ context }) => context.store.sweep(),
    publish: enqueueActions(({ context, enqueue }) => {
      const changes = context.store.takeChanges();
      if (changes.length === 0) return;
      enqueue.emit({ type: 'changes', changes });
      const hiveIds = changes.flatMap((change) =>
        change.type === 'liveness' &&
        (change.to === 'offline' || (change.to === 'forgotten' && change.from !== 'offline'))
          ? [change.id]
          : [],
      );
      if (hiveIds.length > 0)
        enqueue.sendTo(({ system }) => system.get('worker-registry'), toWorkers({ type: 'HIVES_OFFLINE', hiveIds }));
    }),
  },
}).createMachine({
  id: 'hive-registry',
  context: ({ input }) => input,
  on: {
    HIVE_HEARTBEATS: { actions: ['receive', 'publish'] },
    HIVE_DISCOVERED: { actions: ['registerDiscovered', 'publish'] },
    EXPECT_HIVES: { actions: ['expect', 'publish'] },
    FORGET_HIVE: { actions: ['forget', 'publish'] },
    HIVES_RELOADED: { actions: ['reload', 'publish'] },
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
