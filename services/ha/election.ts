import { Election, Etcd3, EtcdLeaseInvalidError, type Namespace } from 'etcd3';
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
import { hostBreaker } from './host-breaker.js';
import { type LeaderBid, observeLeader } from './leader-observer.js';

/**
 * Hosts the election machine on etcd (`--etcd`): its `campaign` actor puts a bid under `<prefix>/election/queen/`
 * (etcd3's Election layout: one key per lease) with this queen's URL and epoch on a lease of `ttlSeconds` and keeps
 * that lease alive until etcd says it is gone, and its `observe` actor reads the earliest bid there
 * (leader-observer). Tells the queen whether it judges, and where heartbeats belong while it does not.
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
/** Wait before a lease renewal that failed is tried again. */
const RENEW_RETRY_MS = 100;
/** How long stopping waits for a leader's resignation to reach etcd. */
const RESIGN_TIMEOUT_MS = 500;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

export function startQueenElection(options: QueenElectionOptions): QueenElection {
  const { logger } = options;
  const retryMs = options.retryMs ?? options.ttlSeconds * 1_000;
  const client = new Etcd3({
    hosts: [...options.endpoints],
    ...options.security,
    faultHandling: { host: () => hostBreaker(options.ttlSeconds * 1_000) },
  });
  const scope = client.namespace(`${options.prefix.replace(/\/+$/, '')}/`);
  // The keys the campaigns write, where etcd3's Election keeps an election of this name within the namespace.
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
  const renewal: Renewal = {
    ttlSeconds: options.ttlSeconds,
    failed: (error) => logger.warn('etcd unreachable: election lease not renewed', { error }),
    renewed: () => logger.info('election lease renewed again'),
  };
  const machine = electionMachine.provide({
    actors: {
      campaign: fromCallback<ElectionEvent, QueenIdentity>(({ sendBack, input }) =>
        campaign(bids, input, renewal, sendBack, campaignEnded, resignations),
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

/** How a campaign's lease is kept alive, and what it tells of a run of failed renewals. */
interface Renewal {
  ttlSeconds: number;
  /** The first renewal of a run that did not reach etcd. */
  failed(error: Error): void;
  /** The first renewal that did, after such a run. */
  renewed(): void;
}

/**
 * One campaign until the actor stops, reporting how it ended: LEASE_LOST or ETCD_UNREACHABLE. It grants a lease, puts
 * this queen's bid on it (under the lease's id, as etcd3's Election does) and renews the lease every third of its TTL.
 * A renewal that does not reach etcd ends nothing: etcd expires no lease while it has no quorum and gives every lease a
 * whole TTL again when it elects a leader, so a leader through a quorum loss still holds its bid, and with it the fence
 * of its buffered writes, once quorum is back. Only etcd's word that the lease is gone ends a campaign whose bid is in;
 * a grant or a put that fails ends it as unreachable.
 */
function campaign(
  bids: Namespace,
  self: QueenIdentity,
  renewal: Renewal,
  sendBack: (event: ElectionEvent) => void,
  report: (lost: boolean, error: Error) => void,
  resignations: Set<Promise<void>>,
): () => void {
  let ended = false;
  let timer: NodeJS.Timeout | undefined;
  let failing = false;
  const ttlMs = renewal.ttlSeconds * 1_000;
  const value: LeaderValue = { queen_url: self.url, queen_epoch: self.epoch };
  const lease = bids.lease(renewal.ttlSeconds, { autoKeepAlive: false });
  const end = (error: unknown): void => {
    if (ended) return;
    ended = true;
    clearTimeout(timer);
    const cause = error instanceof Error ? error : new Error(String(error));
    const lost = leaseLost(cause);
    report(lost, cause);
    sendBack(lost ? { type: 'LEASE_LOST' } : { type: 'ETCD_UNREACHABLE' });
  };
  /**
   * One renewal; resolves to the wait before the next, or null once etcd said the lease is gone. Its attempts overlap:
   * while none has answered, another starts every third of the TTL, so an attempt held by a member that cannot answer
   * yet (no raft leader, a connection still coming up) never uses up the lease's time; each is bounded by the TTL, so a
   * slow answer still renews.
   */
  const renewOnce = (): Promise<number | null> =>
    new Promise((resolve) => {
      const started = Date.now();
      let settled = false;
      let inFlight = 0;
      let overlap: NodeJS.Timeout | undefined;
      const settle = (wait: number | null): void => {
        if (settled) return;
        settled = true;
        clearTimeout(overlap);
        resolve(wait);
      };
      const attempt = (): void => {
        // A campaign stopped or lost meanwhile renews nothing.
        if (ended) {
          settle(null);
          return;
        }
        inFlight += 1;
        overlap = setTimeout(attempt, ttlMs / 3);
        lease.keepaliveOnce({ deadline: Date.now() + ttlMs }).then(
          () => {
            inFlight -= 1;
            if (settled) return;
            if (failing) renewal.renewed();
            failing = false;
            settle(Math.max(0, started + ttlMs / 3 - Date.now()));
          },
          (error: unknown) => {
            inFlight -= 1;
            if (error instanceof EtcdLeaseInvalidError) {
              end(error);
              settle(null);
              return;
            }
            if (settled || ended) {
              settle(null);
              return;
            }
            if (!failing) renewal.failed(error instanceof Error ? error : new Error(String(error)));
            failing = true;
            // Soon again, on another member maybe: with one member down a third of the attempts fail.
            if (inFlight === 0) settle(RENEW_RETRY_MS);
          },
        );
      };
      attempt();
    });
  const renew = (): void => {
    void renewOnce().then((wait) => {
      if (wait !== null && !ended) timer = setTimeout(renew, wait);
    });
  };
  void (async () => {
    const id = await lease.grant();
    if (ended) return;
    await bids
      .if(id, 'Create', '==', 0)
      .then(bids.put(id).value(JSON.stringify(value)).lease(id))
      .commit();
    if (!ended) timer = setTimeout(renew, ttlMs / 3);
  })().catch(end);
  return () => {
    ended = true;
    clearTimeout(timer);
    // A leader that stops hands over at once: revoking its lease deletes its key.
    const resignation = lease.revoke().catch(() => undefined);
    resignations.add(resignation);
    void resignation.then(() => resignations.delete(resignation));
  };
}

/** etcd itself said the lease is expired or revoked (the campaign renews by hand, so no client-side expiry says so). */
function leaseLost(error: Error): boolean {
  return error instanceof EtcdLeaseInvalidError;
}

/** The queen a campaign value names; a value no queen wrote counts as no leader. */
function identityOf(value: string | undefined, logger: Logger): QueenIdentity | null {
  if (value === undefined) return null;
  const parsed = parseJson(LeaderValue, value);
  if (parsed.ok) return { url: parsed.value.queen_url, epoch: parsed.value.queen_epoch };
  logger.warn('election value is not a queen', { value });
  return null;
}
