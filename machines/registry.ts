import { setup } from 'xstate';
import { hiveRegistryMachine, type RegistryPartInput } from './hive-registry.js';
import type { HiveStore } from './hive-store.js';
import { workerRegistryMachine } from './worker-registry.js';
import type { WorkerStore } from './worker-store.js';

/**
 * The queen's registries (docs/protocol.md: Liveness): the hive registry and the worker registry as two named child actors
 * (`hive-registry`, `worker-registry` in the inspector), each over a store its host owns.
 */
export interface RegistryInput {
  hives: RegistryPartInput<HiveStore>;
  workers: RegistryPartInput<WorkerStore>;
}

export const registryMachine = setup({
  types: {
    context: {} as RegistryInput,
    input: {} as RegistryInput,
    children: {} as { hives: 'hiveRegistry'; workers: 'workerRegistry' },
  },
  actors: {
    hiveRegistry: hiveRegistryMachine,
    workerRegistry: workerRegistryMachine,
  },
}).createMachine({
  id: 'registry',
  context: ({ input }) => input,
  invoke: [
    { id: 'workers', systemId: 'worker-registry', src: 'workerRegistry', input: ({ context }) => context.workers },
    { id: 'hives', systemId: 'hive-registry', src: 'hiveRegistry', input: ({ context }) => context.hives },
  ],
});
