import { signalGroup as signalProcessGroup } from './process-group.js';
import type { Watchdog } from './watchdog-client.js';

/**
 * The process groups of the roles a launcher started, each guarded by its watchdog while any process of it runs. A
 * group is forgotten (here and by the watchdog) once its leader has exited and nothing of it is left, so a process
 * later given its number is never signalled for it; a group that outlives its leader (a crashed hive's workers) is
 * held until its last process is gone.
 */

export interface HeldGroupsOptions {
  watchdog: Pick<Watchdog, 'guard' | 'forget'>;
  /** Signals a whole group (0: only checks it); false once none of it is left. */
  signalGroup?: (group: number, signal: NodeJS.Signals | 0) => boolean;
  /** How often a group that outlived its leader is checked for its last process. */
  checkEveryMs?: number;
}

export interface HeldGroups {
  /** Holds the group of a leader just started in a group of its own (its pid is the group id). */
  hold(group: number, leaderExited: Promise<unknown>): void;
  /** Signals `group` if it is still held; false when it is not (gone and forgotten, or never held). */
  signal(group: number, signal: NodeJS.Signals): boolean;
  /** No more checks: the launcher is leaving. */
  stop(): void;
}

export const GROUP_CHECK_MS = 1_000;

export function createHeldGroups(options: HeldGroupsOptions): HeldGroups {
  const signalGroup = options.signalGroup ?? signalProcessGroup;
  const checkEveryMs = options.checkEveryMs ?? GROUP_CHECK_MS;
  const held = new Set<number>();
  const checks = new Set<ReturnType<typeof setTimeout>>();
  let stopped = false;

  const forgetWhenEmpty = (group: number): void => {
    if (stopped || !held.has(group)) return;
    if (!signalGroup(group, 0)) {
      held.delete(group);
      options.watchdog.forget(group);
      return;
    }
    const check = setTimeout(() => {
      checks.delete(check);
      forgetWhenEmpty(group);
    }, checkEveryMs);
    // A check never keeps the launcher alive on its own.
    check.unref();
    checks.add(check);
  };

  return {
    hold(group, leaderExited) {
      held.add(group);
      options.watchdog.guard(group);
      void leaderExited.then(() => forgetWhenEmpty(group));
    },
    signal(group, signal) {
      return held.has(group) && signalGroup(group, signal);
    },
    stop() {
      stopped = true;
      for (const check of checks) clearTimeout(check);
      checks.clear();
    },
  };
}
