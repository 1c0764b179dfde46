import type { Clock } from '../sender.js';

/** XState's timer source with the run time of every callback reported: for the registries, each one is a sweep. */

/** Node's own timers as XState's timer source. */
export const realTimers: Clock = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (id) => clearTimeout(id),
};

/** `timers` (real ones by default) whose callbacks report how long they held the event loop, in ms. */
export function timedTimers(observe: (ms: number) => void, timers: Clock = realTimers): Clock {
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
