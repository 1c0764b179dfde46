import { realTimers, type Timers } from '../timers.js';

/** XState's timer source with the run time of every callback reported: for the registries, each one is a sweep. */

/** `timers` (real ones by default) whose callbacks report how long they held the event loop, in ms. */
export function timedTimers(observe: (ms: number) => void, timers: Timers = realTimers): Timers {
  return {
    setTimeout: (callback, ms) =>
      timers.setTimeout(() => {
        const start = performance.now();
        callback();
        observe(performance.now() - start);
      }, ms),
    clearTimeout: (id) => timers.clearTimeout(id),
  };
}
