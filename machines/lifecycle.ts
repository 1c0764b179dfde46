import { and, assign, fromPromise, or, setup, stateIn } from 'xstate';
import type { HeartbeatAck } from '../contracts/heartbeat.js';
import type { SendFailure, SendOutcome } from './send-outcome.js';

/**
 * The one heartbeat lifecycle of every sender, hive and worker alike (docs/protocol.md: The sender lifecycle):
 * STARTUP → DISCOVERY_PUSH | DISCOVERY_WAIT → DISCOVERED → HEARTBEATING ⇄ CAPABILITY_SYNC, and STOPPING.
 * It decides when to send and whether to send everything; the host's `send` actor builds and posts the payload.
 * With several queens it follows the leader a follower redirects to, and moves on to the next queen of its list
 * after a failed send.
 */

export interface LifecycleSettings {
  /** Base interval between heartbeats. */
  heartbeatIntervalMs: number;
  /** Delay before each discovery attempt; the last value repeats if there are more attempts than values. */
  backoffMs: readonly number[];
  /** Discovery attempts before giving up, and consecutive heartbeat failures before rediscovery. */
  maxFailures: number;
  /** Period of the slow re-probe of a known queen while waiting; 0 turns it off. */
  probeIntervalMs: number;
  /** Every delay is scaled by a random factor in [1 − jitter, 1 + jitter]. */
  jitter: number;
}

export interface LifecycleInput extends LifecycleSettings {
  /** Known at start (`--queen-url`): push discovery; otherwise wait to be discovered. */
  queenUrl: string | null;
  /**
   * Every queen of `--queen-url`, in order: a failed send moves on to the next, and with more than one a redirect
   * is followed only to one of them. `[queenUrl]` when not given.
   */
  queenUrls?: readonly string[];
  /** Source of randomness for jitter, in [0, 1); injected so simulations are reproducible. */
  random?: () => number;
}

export type SendReason = 'discovery' | 'probe' | 'heartbeat' | 'sync' | 'final';

/** What the host's `send` actor is asked to do. */
export interface SendRequest {
  queenUrl: string;
  reason: SendReason;
  /** Put the full capabilities in this heartbeat (discovery, resync, a new queen). */
  full: boolean;
}

export interface LifecycleContext extends LifecycleSettings {
  queenUrl: string | null;
  queenUrls: readonly string[];
  /** Redirects followed since the last success: two followers pointing at each other must not loop hot. */
  redirects: number;
  random: () => number;
  /** Discovery attempts made in the current DISCOVERY_PUSH. */
  attempt: number;
  /** Consecutive failed sends since the last success. */
  failures: number;
  /** The next heartbeat carries full capabilities. */
  needFull: boolean;
  /** Whether the send in flight carries full capabilities. */
  sendingFull: boolean;
  /** Something changed after the payload in flight was built: sync again once it is done. */
  changed: boolean;
  queenEpoch: string | null;
  lastFailure: SendFailure | null;
  /** The queen the last failed send went to (`queenUrl` has moved on to the next one since). */
  failedQueenUrl: string | null;
}

export type LifecycleEvent =
  | { type: 'QUEEN_URL'; url: string }
  /** Capabilities or status changed: tell the queen within a second. */
  | { type: 'CHANGED' }
  /** Clean exit: one final heartbeat, then stop. */
  | { type: 'STOP' };

function jittered(context: LifecycleContext, ms: number): number {
  if (ms <= 0) return 0;
  return Math.round(ms * (1 - context.jitter + 2 * context.jitter * context.random()));
}

function backoffBefore(context: LifecycleContext, attempt: number): number {
  const list = context.backoffMs;
  return list[Math.min(attempt, list.length - 1)] ?? 0;
}

/** After the n-th consecutive failed heartbeat, retry after the discovery backoff's n-th delay, never later than the
 * next regular heartbeat: one lost heartbeat must not leave a gap of two intervals (the queen's suspect window). */
function retryBefore(context: LifecycleContext): number {
  return Math.min(backoffBefore(context, context.failures), context.heartbeatIntervalMs);
}

function sendRequest(context: LifecycleContext, reason: SendReason): SendRequest {
  return { queenUrl: context.queenUrl ?? '', reason, full: reason === 'final' ? false : context.needFull };
}

const sendFailed = (outcome: SendOutcome): SendFailure | null => (outcome.ok ? null : outcome.error);

/** The leader a follower named, if this outcome is such a redirect. */
const leaderOf = (outcome: SendOutcome): string | null =>
  !outcome.ok && outcome.error.kind === 'redirect' ? outcome.error.leaderUrl : null;

/**
 * Whether a sender may follow a redirect to `leader`: given several queens, only to one of them (a follower names
 * whatever leader etcd shows, and the sender hands that queen its token and secret); given one or none, it has no
 * list to check against and follows, as the only way to reach the leader of queens it was not told of.
 */
function mayFollow(context: LifecycleContext, leader: string): boolean {
  return context.queenUrls.length <= 1 || context.queenUrls.includes(leader);
}

/** The queen after the current one in the list (the first when the current one is not in it). */
function nextQueenUrl(context: LifecycleContext): string | null {
  const { queenUrls, queenUrl } = context;
  if (queenUrls.length === 0) return queenUrl;
  const index = queenUrl === null ? -1 : queenUrls.indexOf(queenUrl);
  return queenUrls[(index + 1) % queenUrls.length] ?? queenUrl;
}

/** The finished send's outcome, as the guards and actions below take it. */
const outcome = ({ event }: { event: { output: SendOutcome } }) => ({ outcome: event.output });

const recordFailure = { type: 'recordFailure', params: outcome } as const;

/** Where a send leads: on success; on failure while `retry.guard` holds; on failure otherwise. */
interface SendTargets {
  succeeded: string;
  retry?: { guard: 'attemptsLeft' | 'failuresLeft'; target: string };
  failed: string;
}

/**
 * The one invoke of the host's `send` actor, as every sending state has it: a follower's redirect is followed (the
 * leader, at once, with everything, as long as redirects do not go round), then success, retry or giving up.
 */
function sending(reason: SendReason, targets: SendTargets) {
  return {
    src: 'send',
    input: ({ context }: { context: LifecycleContext }) => sendRequest(context, reason),
    onDone: [
      {
        guard: { type: 'redirected', params: outcome },
        target: '#lifecycle.HEARTBEATING.sending',
        reenter: true,
        actions: { type: 'followLeader', params: outcome },
      },
      {
        guard: { type: 'succeeded', params: outcome },
        target: targets.succeeded,
        actions: { type: 'recordSuccess', params: outcome },
      },
      ...(targets.retry ? [{ guard: targets.retry.guard, target: targets.retry.target, actions: recordFailure }] : []),
      { target: targets.failed, actions: recordFailure },
    ],
  } as const;
}

export const lifecycleMachine = setup({
  types: {
    context: {} as LifecycleContext,
    events: {} as LifecycleEvent,
    input: {} as LifecycleInput,
  },
  actors: {
    /** Provided by the host: build the payload for `request` and post it; a failed send (a throw included) resolves to a SendFailure. */
    send: fromPromise<SendOutcome, SendRequest>(async () => {
      throw new Error('the lifecycle host must provide the send actor');
    }),
  },
  delays: {
    backoff: ({ context }) => jittered(context, backoffBefore(context, context.attempt)),
    heartbeatInterval: ({ context }) => jittered(context, context.heartbeatIntervalMs),
    retryBackoff: ({ context }) => jittered(context, retryBefore(context)),
    probeInterval: ({ context }) => jittered(context, context.probeIntervalMs),
  },
  guards: {
    hasQueenUrl: ({ context }) => context.queenUrl !== null,
    noBackoffDelay: ({ context }) => backoffBefore(context, context.attempt) <= 0,
    attemptsLeft: ({ context }) => context.attempt < context.maxFailures,
    failuresLeft: ({ context }) => context.failures + 1 < context.maxFailures,
    probeEnabled: ({ context }) => context.queenUrl !== null && context.probeIntervalMs > 0,
    // A queen that asks again right after a full heartbeat gets the next one at the interval, never a hot loop.
    fullDueNow: ({ context }) => context.needFull && !context.sendingFull,
    changed: ({ context }) => context.changed,
    sameQueenUrl: ({ context, event }) => event.type === 'QUEEN_URL' && event.url === context.queenUrl,
    succeeded: (_, params: { outcome: SendOutcome }) => params.outcome.ok,
    // Not followed (a failed send, on to the next queen): a redirect to itself, round and round, or off the list.
    redirected: ({ context }, params: { outcome: SendOutcome }) => {
      const leader = leaderOf(params.outcome);
      return (
        leader !== null &&
        leader !== context.queenUrl &&
        context.redirects < context.maxFailures &&
        mayFollow(context, leader)
      );
    },
  },
  actions: {
    adoptQueenUrl: assign({
      queenUrl: ({ context, event }) => (event.type === 'QUEEN_URL' ? event.url : context.queenUrl),
      needFull: true,
    }),
    beginDiscovery: assign({ attempt: 0, failures: 0 }),
    countAttempt: assign({ attempt: ({ context }) => context.attempt + 1 }),
    beginSend: assign({ sendingFull: ({ context }) => context.needFull, changed: false }),
    markChanged: assign({ changed: true }),
    recordSuccess: assign(({ context }, params: { outcome: SendOutcome }) => {
      if (!params.outcome.ok) return {};
      const ack: HeartbeatAck = params.outcome.value;
      const newQueen = context.queenEpoch !== null && ack.queen_epoch !== context.queenEpoch;
      return {
        failures: 0,
        redirects: 0,
        lastFailure: null,
        failedQueenUrl: null,
        queenEpoch: ack.queen_epoch,
        // A new queen that was just sent everything (discovery, a switch of URL) needs no second full heartbeat.
        needFull: ack.resync || ((newQueen || context.needFull) && !context.sendingFull),
      };
    }),
    followLeader: assign(({ context }, params: { outcome: SendOutcome }) => ({
      queenUrl: leaderOf(params.outcome) ?? context.queenUrl,
      redirects: context.redirects + 1,
      needFull: true,
    })),
    recordFailure: assign(({ context }, params: { outcome: SendOutcome }) => ({
      failures: context.failures + 1,
      queenUrl: nextQueenUrl(context),
      lastFailure: sendFailed(params.outcome) ?? context.lastFailure,
      failedQueenUrl: context.queenUrl,
    })),
  },
}).createMachine({
  id: 'lifecycle',
  context: ({ input }) => ({
    heartbeatIntervalMs: input.heartbeatIntervalMs,
    backoffMs: input.backoffMs,
    maxFailures: input.maxFailures,
    probeIntervalMs: input.probeIntervalMs,
    jitter: input.jitter,
    queenUrl: input.queenUrl,
    // Each once: a URL listed twice would be its own next one, and the sender would never fail over.
    queenUrls: [...new Set(input.queenUrls ?? (input.queenUrl === null ? [] : [input.queenUrl]))],
    redirects: 0,
    random: input.random ?? Math.random,
    attempt: 0,
    failures: 0,
    needFull: true,
    sendingFull: false,
    changed: false,
    queenEpoch: null,
    lastFailure: null,
    failedQueenUrl: null,
  }),
  initial: 'STARTUP',
  on: {
    QUEEN_URL: [
      {
        // Already talking to this queen: a second discovery for the same URL must not start a second loop.
        guard: and([
          'sameQueenUrl',
          or([
            stateIn('#lifecycle.DISCOVERED'),
            stateIn('#lifecycle.HEARTBEATING'),
            stateIn('#lifecycle.CAPABILITY_SYNC'),
          ]),
        ]),
      },
      { target: '.DISCOVERED', actions: 'adoptQueenUrl' },
    ],
    STOP: [{ guard: 'hasQueenUrl', target: '.STOPPING' }, { target: '.STOPPED' }],
  },
  states: {
    STARTUP: {
      always: [{ guard: 'hasQueenUrl', target: 'DISCOVERY_PUSH' }, { target: 'DISCOVERY_WAIT' }],
    },
    DISCOVERY_PUSH: {
      entry: 'beginDiscovery',
      initial: 'waiting',
      states: {
        waiting: {
          always: { guard: 'noBackoffDelay', target: 'attempting' },
          after: { backoff: 'attempting' },
        },
        attempting: {
          entry: ['countAttempt', 'beginSend'],
          invoke: sending('discovery', {
            succeeded: '#lifecycle.DISCOVERED',
            retry: { guard: 'attemptsLeft', target: 'waiting' },
            failed: '#lifecycle.DISCOVERY_WAIT',
          }),
        },
      },
    },
    DISCOVERY_WAIT: {
      initial: 'idle',
      states: {
        idle: {
          after: { probeInterval: { guard: 'probeEnabled', target: 'probing' } },
        },
        probing: {
          entry: 'beginSend',
          invoke: sending('probe', { succeeded: '#lifecycle.DISCOVERED', failed: 'idle' }),
        },
      },
    },
    DISCOVERED: {
      entry: assign({ attempt: 0, failures: 0 }),
      always: 'HEARTBEATING',
    },
    HEARTBEATING: {
      initial: 'sending',
      states: {
        sending: {
          entry: 'beginSend',
          on: { CHANGED: { actions: 'markChanged' } },
          invoke: sending('heartbeat', {
            succeeded: 'settling',
            retry: { guard: 'failuresLeft', target: 'retrying' },
            failed: '#lifecycle.DISCOVERY_PUSH',
          }),
        },
        /** After a success: a resync or a new queen is answered at once, a change made meanwhile is synced. */
        settling: {
          always: [
            { guard: 'fullDueNow', target: 'sending' },
            { guard: 'changed', target: '#lifecycle.CAPABILITY_SYNC' },
            { target: 'waiting' },
          ],
        },
        waiting: {
          on: { CHANGED: '#lifecycle.CAPABILITY_SYNC' },
          after: { heartbeatInterval: 'sending' },
        },
        /** After a failed send: the next heartbeat (carrying whatever is pending) goes out after a short backoff. */
        retrying: {
          on: { CHANGED: '#lifecycle.CAPABILITY_SYNC' },
          after: { retryBackoff: 'sending' },
        },
      },
    },
    CAPABILITY_SYNC: {
      entry: 'beginSend',
      on: { CHANGED: { actions: 'markChanged' } },
      // A failed sync leaves the change pending in the host: it rides the next heartbeat.
      invoke: sending('sync', {
        succeeded: '#lifecycle.HEARTBEATING.settling',
        retry: { guard: 'failuresLeft', target: '#lifecycle.HEARTBEATING.retrying' },
        failed: '#lifecycle.DISCOVERY_PUSH',
      }),
    },
    STOPPING: {
      // Stopping is final in intent: later discoveries and stops change nothing.
      on: { QUEEN_URL: {}, STOP: {} },
      invoke: {
        src: 'send',
        input: ({ context }) => sendRequest(context, 'final'),
        onDone: 'STOPPED',
      },
    },
    STOPPED: { type: 'final' },
  },
});

export type LifecycleMachine = typeof lifecycleMachine;

/** The top-level state name, as `/health` shows it. */
export function lifecycleStateName(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') return Object.keys(value)[0] ?? 'UNKNOWN';
  return 'UNKNOWN';
}
