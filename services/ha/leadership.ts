import type { QueenRole } from '../../contracts/election.js';

/** Where a request that changes the cluster's state (a heartbeat, a DELETE) goes while several queens share it. */
export type Route =
  /** This queen leads and has loaded the state: it takes it. */
  | { to: 'self' }
  /** Another queen leads: sent on to it (307). */
  | { to: 'leader'; url: string }
  /** Nobody can take it now (no leader known, or the new one still loading the state): 503, to be retried. */
  | { to: 'none'; why: string };

/** What the queen's HTTP API needs to know of the election: its role, the leader, and where changes go. */
export interface Leadership {
  role(): QueenRole;
  /** The leader etcd last showed, or null. */
  leaderUrl(): string | null;
  route(): Route;
}

/** The app is built before the queen listens, and the election needs the queen's URL: it answers once attached. */
export function lateLeadership(): { leadership: Leadership; attach(source: Leadership): void } {
  let source: Leadership | undefined;
  return {
    leadership: {
      role: () => source?.role() ?? 'candidate',
      leaderUrl: () => source?.leaderUrl() ?? null,
      route: () => source?.route() ?? { to: 'none', why: 'the queen is joining the election' },
    },
    attach: (attached) => {
      source = attached;
    },
  };
}
