import { Election, Etcd3, EtcdLeaseInvalidError } from 'etcd3';
import { type Actor, createActor, fromCallback, type InspectionEvent } from 'xstate';
import type { QueenRole } from '../../contracts/election.js';
import { LeaderValue } from '../../contracts/election.js';
import {
  type ElectionEvent,
  electionMachine,
  electionRole,
  type QueenIdentity,
  sameQueen,
} from '../../machines/election.js';
import type { Logger } from '../logger.js';
import { parseJson } from '../parse-json.js';
import type { EtcdSecurity } from '../store/etcd-security.js';
import type { LeaderKey, WriteFence } from '../store/etcd-writer.js';
import { type LeaderBid, observeLeader } from './leader-observer.js';

/**
 * Hosts the election machine on etcd (`--etcd`): its `campaign` actor is etcd3's Election campaign under
 * `<prefix>/election/queen/`, with this queen's URL and epoch on a lease of `ttlSeconds`, and its `observe` actor
 * reads the earliest bid there (leader-observer). Tells the queen whether it judges, and where heartbeats belong
 * while it does not.
 */

export interface QueenElectionOptions {
  endpoints: readonly string[];
  /** Client TLS and etcd user, as the options give them. */
  security?: EtcdSecurity;
  /** Keys of this cluster live under it (`--etcd-prefix`). */
  prefix: string;
  /** Lease of the campaign (`--leader-ttl`), in whole seconds as etcd counts. */
  ttlSeconds: number;
  self: QueenIdentity;
  logger: Logger;
  inspect?: ((event: InspectionEvent) => void) | undefined;
  /** Wait before a new campaign or a new observer after one ended; the lease's TTL by default. */
  retryMs?: number;
}

export interface QueenElection {
  readonly actor: Actor<typeof electionMachine>;
  role(): QueenRole;
  /** The leader etcd last showed, or null. */
  leaderUrl(): string | null;
  /** Only the leader judges liveness; false from the moment it loses its lease. */
  judging(): boolean;
  /** What the state store fences its writes with: this queen's campaign key while it judges. */
  readonly fence: WriteFence;
  /** Called on every change of role or leader; returns the unsubscribe. */
  onChange(listener: () => void): () => void;
  /** Resigns (a leader's successor is elected at once) and closes the etcd client. */
  stop(): Promise<void>;
}

/** The name of the election among this cluster's queens. */
const ELECTION = 'queen';
/** How long stopping waits for a leader's resignation to reach etcd. */
const RESIGN_TIMEOUT_MS = 500;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

export function startQueenElection(options: QueenElectionOptions): QueenElection {
  const { logger } = options;
  const retryMs = options.retryMs ?? options.ttlSeconds * 1_000;
  const client = new Etcd3({ hosts: [...options.endpoints], ...options.security });
  const scope = client.namespace(`${options.prefix.replace(/\/+$/, '')}/`);
  const election = scope.election(ELECTION, options.ttlSeconds);
  // The keys the campaigns write: etcd3 keeps each election under this name within the namespace.
  const bids = scope.namespace(`${Election.prefix}/${ELECTION}/`);
  // Resignations under way: `stop` waits for them before it closes the client.
  const resignations = new Set<Promise<void>>();
  // This queen's bid when the observer last named it leader (relative to the cluster's prefix): kept when the observer
  // names nobody, so that a write finds out whether it is gone.
  let ownKey: LeaderKey | null = null;
  const named = (bid: LeaderBid | undefined): QueenIdentity | null => {
    const leader = identityOf(bid?.value, logger);
    if (bid && sameQueen(leader, options.self)) {
      ownKey = { key: `${Election.prefix}/${ELECTION}/${bid.key}`, createRevision: bid.createRevision };
    } else if (bid) ownKey = null;
    return leader;
  };
  // A campaign that keeps ending the same way (etcd down, credentials refused) is logged once, not at every retry.
  let lastFailure: string | null = null;
  const campaignEnded = (lost: boolean, error: Error): void => {
    const failure = `${lost} ${error.message}`;
    if (!lost && failure === lastFailure) return;
    lastFailure = failure;
    logger.warn(lost ? 'election lease lost' : 'etcd unreachable: campaign ended', { error });
  };
  const machine = electionMachine.provide({
    actors: {
      campaign: fromCallback<ElectionEvent, QueenIdentity>(({ sendBack, input }) =>
        campaign(election, input, sendBack, campaignEnded, resignations),
      ),
      observe: fromCallback<ElectionEvent, QueenIdentity>(({ sendBack }) =>
        observeLeader({
          bids,
          retryMs,
          logger,
          onLeader: (bid) => sendBack({ type: 'LEADER', leader: named(bid) }),
        }),
      ),
    },
  });
  const actor = createActor(machine, {
    systemId: 'election',
    input: { self: options.self, retryMs },
    ...(options.inspect ? { inspect: options.inspect } : {}),
  });

  const listeners = new Set<() => void>();
  let last = '';
  actor.subscribe((snapshot) => {
    const role = electionRole(snapshot);
    const leaderUrl = snapshot.context.leader?.url ?? null;
    const now = `${role} ${leaderUrl}`;
    if (now === last) return;
    last = now;
    if (role !== 'candidate') lastFailure = null;
    logger.info('election', { role, leader_url: leaderUrl, state: snapshot.value });
    for (const listener of listeners) listener();
  });
  actor.start();

  const judging = (): boolean => actor.getSnapshot().hasTag('judging');
  const leaderUrl = (): string | null => actor.getSnapshot().context.leader?.url ?? null;
  let stopping: Promise<void> | undefined;
  return {
    actor,
    role: () => electionRole(actor.getSnapshot()),
    judging,
    leaderUrl,
    fence: {
      current: () => (judging() ? ownKey : null),
      lost: () => actor.send({ type: 'DEPOSED' }),
    },
    onChange: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop: () => {
      stopping ??= (async () => {
        actor.send({ type: 'STOP' });
        actor.stop();
        // With etcd down a resignation never ends: the lease then expires by itself.
        await Promise.race([Promise.all(resignations), delay(RESIGN_TIMEOUT_MS)]);
        client.close();
      })();
      return stopping;
    },
  };
}

/**
 * One campaign until the actor stops, reporting how it ended: LEASE_LOST or ETCD_UNREACHABLE. Its `elected` event is
 * not used: etcd3 1.1 checks the earlier bids under a nested namespace with the prefix twice, and so can report
 * several queens elected at once; the observer (the first bid by creation) is right.
 */
function campaign(
  election: Election,
  self: QueenIdentity,
  sendBack: (event: ElectionEvent) => void,
  report: (lost: boolean, error: Error) => void,
  resignations: Set<Promise<void>>,
): () => void {
  let ended = false;
  const value: LeaderValue = { queen_url: self.url, queen_epoch: self.epoch };
  const bid = election.campaign(JSON.stringify(value));
  bid.on('error', (error: Error) => {
    if (ended) return;
    ended = true;
    const lost = leaseLost(error);
    report(lost, error);
    sendBack(lost ? { type: 'LEASE_LOST' } : { type: 'ETCD_UNREACHABLE' });
  });
  return () => {
    ended = true;
    // A leader that stops hands over at once: revoking its lease deletes its key.
    const resignation = bid.resign().catch(() => undefined);
    resignations.add(resignation);
    void resignation.then(() => resignations.delete(resignation));
  };
}

/**
 * etcd itself said the lease is expired or revoked. etcd3 uses the same error class when it merely could not reach
 * etcd for two TTLs, saying so in the message: that is no word from etcd, and nobody can be elected without etcd.
 */
function leaseLost(error: Error): boolean {
  return error instanceof EtcdLeaseInvalidError && !error.message.includes('lost connection to etcd');
}

/** The queen a campaign value names; a value no queen wrote counts as no leader. */
function identityOf(value: string | undefined, logger: Logger): QueenIdentity | null {
  if (value === undefined) return null;
  const parsed = parseJson(LeaderValue, value);
  if (parsed.ok) return { url: parsed.value.queen_url, epoch: parsed.value.queen_epoch };
  logger.warn('election value is not a queen', { value });
  return null;
}
