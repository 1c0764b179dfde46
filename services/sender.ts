import { type Actor, createActor, fromPromise, type InspectionEvent, toPromise } from 'xstate';
import {
  type LifecycleSettings,
  lifecycleMachine,
  lifecycleStateName,
  type SendRequest,
} from '../machines/lifecycle.js';
import { fail } from '../machines/result.js';
import type { SendOutcome } from '../machines/send-outcome.js';
import { defined } from './defined.js';
import { describe } from './describe-error.js';
import type { Logger } from './logger.js';
import type { Timers } from './timers.js';

/**
 * Hosts the lifecycle machine for one sender — the one piece hive and worker share: it provides the machine's
 * `send` actor from a payload builder and a poster, and logs state changes and the first failure of a run only.
 */
export interface SenderOptions<P> {
  /** Actor name in logs and the inspector: `hive-lifecycle`, `worker-lifecycle`. */
  systemId: string;
  settings: LifecycleSettings;
  /** Known at start: push discovery; null: wait to be discovered. */
  queenUrl: string | null;
  /** Every queen to move on to when one stops answering, in order (`--queen-url` with several). */
  queenUrls?: readonly string[];
  /** Builds the payload for one send; called when the send starts, so it carries everything pending then. */
  buildPayload: (request: SendRequest) => P;
  /** Posts one payload; resolves to the outcome, never rejects. */
  post: (queenUrl: string, payload: P, signal: AbortSignal) => Promise<SendOutcome>;
  /** Told of every finished send, e.g. to acknowledge the capability changes it carried. */
  onSent?: (payload: P, outcome: SendOutcome, request: SendRequest) => void;
  logger: Logger;
  inspect?: ((event: InspectionEvent) => void) | undefined;
  clock?: Timers;
  random?: () => number;
}

/** What hive and worker read alike from their command line for their sender. */
export interface SenderCommandLine {
  heartbeatInterval: number;
  backoff: readonly number[];
  maxFailures: number;
  jitter: number;
  queenUrl: readonly string[];
}

/** A sender's settings and queens from its role's command line; how often it re-probes a known queen is the role's. */
export function senderSetup(
  options: SenderCommandLine,
  probeIntervalMs: number,
): Pick<SenderOptions<unknown>, 'settings' | 'queenUrl' | 'queenUrls'> {
  return {
    settings: {
      heartbeatIntervalMs: options.heartbeatInterval,
      backoffMs: options.backoff,
      maxFailures: options.maxFailures,
      probeIntervalMs,
      jitter: options.jitter,
    },
    queenUrl: options.queenUrl[0] ?? null,
    queenUrls: options.queenUrl,
  };
}

export interface Sender {
  readonly actor: Actor<typeof lifecycleMachine>;
  /** The top-level lifecycle state, as `/health` shows it. */
  state(): string;
  queenUrl(): string | null;
  /** A queen made itself known (`GET /capabilities?queen_url=`). */
  discover(queenUrl: string): void;
  /** Something the queen should hear about soon changed. */
  changed(): void;
  /** One final heartbeat (when a queen is known), then the machine stops. */
  stop(): Promise<void>;
}

export function createSender<P>(options: SenderOptions<P>): Sender {
  const { logger } = options;
  const machine = lifecycleMachine.provide({
    actors: {
      send: fromPromise<SendOutcome, SendRequest>(async ({ input, signal }) => {
        try {
          const payload = options.buildPayload(input);
          const outcome = await options.post(input.queenUrl, payload, signal);
          options.onSent?.(payload, outcome, input);
          return outcome;
        } catch (error) {
          // The machine only knows outcomes: a payload that cannot be built, or a throwing hook, is a failed send.
          return fail({ kind: 'network', code: 'SEND_ACTOR_ERROR', message: describe(error) });
        }
      }),
    },
  });
  const actor = createActor(machine, {
    systemId: options.systemId,
    input: {
      ...options.settings,
      queenUrl: options.queenUrl,
      ...defined({ queenUrls: options.queenUrls, random: options.random }),
    },
    ...defined({ inspect: options.inspect, clock: options.clock }),
  });

  let lastState = '';
  let lastEpoch: string | null = null;
  // The kinds of failure logged in this run of failures, keyed on lastFailure, which only a success clears (`failures`
  // also restarts with each discovery): a run that turns from a timeout to a 403 says so, once each.
  const logged = new Set<string>();
  actor.subscribe((snapshot) => {
    const state = lifecycleStateName(snapshot.value);
    const { lastFailure, queenUrl, queenEpoch, failedQueenUrl } = snapshot.context;
    // Once per queen process that answers: a failover or a followed redirect, never per heartbeat.
    if (queenEpoch !== null && queenEpoch !== lastEpoch && lastEpoch !== null) {
      logger.info('queen changed', { queen_url: queenUrl, queen_epoch: queenEpoch });
    }
    lastEpoch = queenEpoch;
    if (lastFailure) {
      const kind = 'status' in lastFailure ? `${lastFailure.kind} ${lastFailure.status}` : lastFailure.kind;
      if (!logged.has(kind)) {
        logged.add(kind);
        // A redirect lands here only when it was not followed (off the list, to itself, or going round).
        const what = lastFailure.kind === 'redirect' ? 'redirect not followed' : 'heartbeat failed';
        const next = failedQueenUrl !== null && failedQueenUrl !== queenUrl ? { next_queen_url: queenUrl } : {};
        logger.warn(what, { queen_url: failedQueenUrl ?? queenUrl, failure: lastFailure, ...next });
      }
    } else if (logged.size > 0) {
      logged.clear();
      logger.info('queen reachable again', { queen_url: queenUrl });
    }
    if (state !== lastState) {
      const level = isRoutine(lastState, state) ? 'debug' : 'info';
      logger[level]('lifecycle', { from: lastState || null, to: state, queen_url: queenUrl });
    }
    lastState = state;
  });
  actor.start();

  return {
    actor,
    state: () => lifecycleStateName(actor.getSnapshot().value),
    queenUrl: () => actor.getSnapshot().context.queenUrl,
    discover: (queenUrl) => actor.send({ type: 'QUEEN_URL', url: queenUrl }),
    changed: () => actor.send({ type: 'CHANGED' }),
    stop: async () => {
      if (actor.getSnapshot().status !== 'active') return;
      actor.send({ type: 'STOP' });
      await toPromise(actor);
    },
  };
}

/**
 * A change sent at once and back to the heartbeat pace: a worker turning busy or ready does it with each burst of
 * requests, so at info it would be a line per burst from a healthy sender.
 */
function isRoutine(from: string, to: string): boolean {
  return (from === 'HEARTBEATING' && to === 'CAPABILITY_SYNC') || (from === 'CAPABILITY_SYNC' && to === 'HEARTBEATING');
}
