import type { Timers } from '../timers.js';

/**
 * `inner` timers whose callbacks, once due, wait while `holdFor()` says so (ms, 0: run now): the queen's sweeps held
 * after a stall, or while it is not the leader. A held callback asks again after the hold.
 */
export function heldTimers(inner: Timers, holdFor: () => number): Timers {
  const pending = new Map<number, unknown>();
  let nextId = 0;
  return {
    setTimeout: (callback, ms) => {
      const id = nextId++;
      const arm = (delay: number): void => {
        pending.set(
          id,
          inner.setTimeout(() => {
            const hold = holdFor();
            if (hold > 0) return arm(hold);
            pending.delete(id);
            callback();
          }, delay),
        );
      };
      arm(ms);
      return id;
    },
    clearTimeout: (id) => {
      inner.clearTimeout(pending.get(id));
      pending.delete(id);
    },
  };
}
