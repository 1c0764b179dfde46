import type { ActorOptions, AnyActorLogic } from 'xstate';

/** XState's timer source (not exported by name): when a machine's delays fire. Real timers in production, a SimulatedClock in tests. */
export type Timers = NonNullable<ActorOptions<AnyActorLogic>['clock']>;

/** Node's own timers as XState's timer source. */
export const realTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (id) => clearTimeout(id),
};
