import type { QueenRole } from '../../contracts/election.js';

/** What the queen's HTTP API needs to know of the election: its role, the leader, and where heartbeats go. */
export interface Leadership {
  role(): QueenRole;
  /** The leader etcd last showed, or null. */
  leaderUrl(): string | null;
  /** Where heartbeats go while this queen does not judge: the leader, when one is known; else null. */
  redirectTo(): string | null;
}

/** The app is built before the queen listens, and the election needs the queen's URL: it answers once attached. */
export function lateLeadership(): { leadership: Leadership; attach(source: Leadership): void } {
  let source: Leadership | undefined;
  return {
    leadership: {
      role: () => source?.role() ?? 'candidate',
      leaderUrl: () => source?.leaderUrl() ?? null,
      redirectTo: () => source?.redirectTo() ?? null,
    },
    attach: (attached) => {
      source = attached;
    },
  };
}
