import type { Logger } from '../logger.js';
import type { StateStore, StoredState } from '../store/state-store.js';
import type { QueenElection } from './election.js';
import type { Leadership } from './leadership.js';

/**
 * Judging follows the election: a queen that leads loads the state and gives every entry the restart grace before it
 * judges, takes a heartbeat or issues a secret — before that it would judge on an empty or stale registry, and hand a
 * known hive a second identity. A load that fails is tried again while it still leads, never taken as an empty state.
 * One that stops leading stops judging at once, and ends its streams: their clients reconnect and read the leader's.
 */

export interface FollowedElection extends Leadership {
  /** The leader, once it has loaded the state. */
  judging(): boolean;
}

export interface FollowOptions {
  election: Pick<QueenElection, 'role' | 'leaderUrl' | 'judging' | 'onChange'>;
  /** This queen's URL, as it campaigns with it. */
  selfUrl: string;
  /** Takes the loaded state (the registries, the open alert problems) and, leading no more, ends its streams. */
  queen: { lead(loaded: StoredState): void; stepDown(): void };
  store: StateStore;
  logger: Logger;
  /** Wait before a failed load is tried again. */
  retryMs: number;
}

export function followElection(options: FollowOptions): FollowedElection {
  const { election, queen, store, logger } = options;
  /** Counts the times this queen became leader: a load finished in an earlier term is not this term's state. */
  let term = 0;
  let leading = false;
  let loaded = false;
  let loading = false;
  let failing = false;
  let retry: NodeJS.Timeout | undefined;

  const load = (): void => {
    if (loading || loaded || !leading) return;
    loading = true;
    const started = term;
    store.load().then(
      (state) => {
        loading = false;
        if (started !== term || !leading) return load();
        queen.lead(state);
        loaded = true;
        failing = false;
        logger.info('leading: state loaded', { hives: state.hives.length, workers: state.workers.length });
      },
      (error: unknown) => {
        loading = false;
        if (!failing) logger.error('leading: the state could not be loaded; heartbeats wait until it is', { error });
        failing = true;
        retry = setTimeout(load, options.retryMs);
        retry.unref();
      },
    );
  };

  const follow = (): void => {
    if (election.judging() === leading) return;
    leading = election.judging();
    loaded = false;
    clearTimeout(retry);
    if (leading) term += 1;
    else queen.stepDown();
    load();
  };
  election.onChange(follow);
  follow();

  const judging = (): boolean => leading && loaded && election.judging();
  return {
    judging,
    role: () => election.role(),
    leaderUrl: () => election.leaderUrl(),
    route: () => {
      if (judging()) return { to: 'self' };
      if (election.judging()) return { to: 'none', why: 'this queen was just elected and is loading the state' };
      const url = election.leaderUrl();
      // etcd may still show this queen's own bid, deposed: never a redirect to itself.
      return url === null || url === options.selfUrl
        ? { to: 'none', why: 'no queen leads now' }
        : { to: 'leader', url };
    },
  };
}
