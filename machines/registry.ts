import { sendTo, setup } from 'xstate';
import { type HivesOfflineEvent, hiveRegistryMachine, type RegistryInput } from './hive-registry.js';
import { workerRegistryMachine } from './worker-registry.js';

/**
 * The queen's registries (PROTOCOL §5): the hive registry and the worker registry as two named child actors
 * (`hive-registry`, `worker-registry` in the inspector), one clock and one liveness setting for both. The parent
 * only carries a hive's offline over to its workers.
 */
export const registryMachine = setup({
  types: {
    context: {} as RegistryInput,
    events: {} as HivesOfflineEvent,
    input: {} as RegistryInput,
    children: {} as { hives: 'hiveRegistry'; workers: 'workerRegistry' },
  },
  actors: {
    hiveRegistry: hiveRegistryMachine,
    workerRegistry: workerRegistryMachine,
  },
  actions: {
    forwardToWorkers: sendTo('workers', ({ event }) => event),
  },
}).createMachine({
  id: 'registry',
  context: ({ input }) => input,
  invoke: [
    { id: 'workers', systemId: 'worker-registry', src: 'workerRegistry', input: ({ context }) => context },
    { id: 'hives', systemId: 'hive-registry', src: 'hiveRegistry', input: ({ context }) => context },
  ],
  on: {
    HIVES_OFFLINE: { actions: 'forwardToWorkers' },
  },
});
