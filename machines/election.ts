import { assign, fromCallback, type SnapshotFrom, setup } from 'xstate';
import type { QueenRole } from '../contracts/election.js';

/**
 * A queen's part in the leader election of several queens (high availability): candidate → leader ⇄ follower.
 * The host provides the two actors: `campaign` (a bid for leadership: a key on a lease, which reports LEASE_LOST or
 * ETCD_UNREACHABLE when it ends) and `observe` (the current leader, as LEADER). A campaigning queen leads once etcd
 * shows its own bid as the leader — the observer, not the campaign, says so. Only the states tagged `judging` may judge
 * liveness: a lease lost, or another leader seen, leaves them at once. Without etcd nobody can be elected, so a
 * leader that loses contact with etcd keeps judging (`isolated`) until etcd shows it another leader.
 */

/** Who a queen is in the election: where senders reach it, and which process it is. */
export interface QueenIdentity {
  url: string;
  epoch: string;
}

export interface ElectionInput {
  self: QueenIdentity;
  /** Wait before a new campaign after one ended. */
  retryMs: number;
}

export interface ElectionContext extends ElectionInput {
  /** The leader etcd last showed; null while there is none (or none seen yet). */
  leader: QueenIdentity | null;
}

export type ElectionEvent =
  /** etcd said the campaign's lease is expired or revoked. */
  | { type: 'LEASE_LOST' }
  /** The campaign ended without word from etcd: it could not be reached. */
  | { type: 'ETCD_UNREACHABLE' }
  /** The observer's view of the election changed. */
  | { type: 'LEADER'; leader: QueenIdentity | null }
  /** A write found this queen's campaign key gone from etcd: another queen leads, whatever the observer saw yet. */
  | { type: 'DEPOSED' }
  | { type: 'STOP' };

export const sameQueen = (a: QueenIdentity | null, b: QueenIdentity | null): boolean =>
  a !== null && b !== null && a.url === b.url && a.epoch === b.epoch;

export const electionMachine = setup({
  types: {
    context: {} as ElectionContext,
    events: {} as ElectionEvent,
    input: {} as ElectionInput,
    tags: {} as 'judging',
  },
  actors: {
    /** Provided by the host: campaign with `input` as this queen's value until stopped. */
    campaign: fromCallback<ElectionEvent, QueenIdentity>(() => {
      throw new Error('the election host must provide the campaign actor');
    }),
    /** Provided by the host: report every change of leader until stopped. */
    observe: fromCallback<ElectionEvent, QueenIdentity>(() => {
      throw new Error('the election host must provide the observe actor');
    }),
  },
  delays: {
    retry: ({ context }) => context.retryMs,
  },
  guards: {
    otherLeader: ({ context, event }) =>
      event.type === 'LEADER' && event.leader !== null && !sameQueen(event.leader, context.self),
    selfLeader: ({ context, event }) => event.type === 'LEADER' && sameQueen(event.leader, context.self),
    knowsOtherLeader: ({ context }) => context.leader !== null && !sameQueen(context.leader, context.self),
  },
  actions: {
    recordLeader: assign({
      leader: ({ context, event }) => (event.type === 'LEADER' ? event.leader : context.leader),
    }),
  },
}).createMachine({
  id: 'election',
  context: ({ input }) => ({ ...input, leader: null }),
  invoke: { id: 'observe', src: 'observe', input: ({ context }) => context.self },
  on: {
    LEADER: { actions: 'recordLeader' },
    STOP: '.stopped',
  },
  initial: 'campaigning',
  states: {
    campaigning: {
      invoke: { id: 'campaign', src: 'campaign', input: ({ context }) => context.self },
      on: {
        LEASE_LOST: '#election.waiting',
        ETCD_UNREACHABLE: '#election.waiting',
      },
      initial: 'candidate',
      states: {
        candidate: {
          // The observer reports changes only: a leader it showed before this campaign is followed at once.
          always: { guard: 'knowsOtherLeader', target: 'follower' },
          on: {
            LEADER: [
              { guard: 'selfLeader', target: 'leader', actions: 'recordLeader' },
              { guard: 'otherLeader', target: 'follower', actions: 'recordLeader' },
              { actions: 'recordLeader' },
            ],
          },
        },
        follower: {
          on: {
            LEADER: [
              { guard: 'selfLeader', target: 'leader', actions: 'recordLeader' },
              { guard: 'otherLeader', actions: 'recordLeader' },
              { target: 'candidate', actions: 'recordLeader' },
            ],
          },
        },
        leader: {
          tags: 'judging',
          on: {
            // Another queen holds the key: stop judging now. "No leader" may be an observer behind our own key: kept.
            LEADER: { guard: 'otherLeader', target: '#election.waiting', actions: 'recordLeader' },
            DEPOSED: '#election.waiting',
            ETCD_UNREACHABLE: '#election.isolated',
          },
        },
      },
    },
    /** Not campaigning, after a campaign ended: a new one after the retry delay. */
    waiting: {
      after: { retry: 'campaigning' },
    },
    /** A leader whose campaign lost etcd: nobody can be elected without etcd, so it keeps judging from memory. */
    isolated: {
      tags: 'judging',
      on: {
        LEADER: { guard: 'otherLeader', target: 'waiting', actions: 'recordLeader' },
        // Its lease expired while it could not reach etcd: the first word from etcd ends its judging.
        DEPOSED: 'waiting',
      },
      after: { retry: 'campaigning.leader' },
    },
    stopped: { type: 'final' },
  },
});

export type ElectionMachine = typeof electionMachine;

/** The role `/health` shows for a state of the machine. */
export function electionRole(snapshot: SnapshotFrom<ElectionMachine>): QueenRole {
  if (snapshot.hasTag('judging')) return 'leader';
  return snapshot.matches({ campaigning: 'follower' }) ? 'follower' : 'candidate';
}
