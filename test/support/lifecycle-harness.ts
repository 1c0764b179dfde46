import { type Actor, createActor, fromPromise } from 'xstate';
import type { HeartbeatAck } from '../../contracts/heartbeat.js';
import {
  type LifecycleInput,
  type LifecycleSettings,
  lifecycleMachine,
  lifecycleStateName,
  type SendRequest,
} from '../../machines/lifecycle.js';
import type { SendOutcome } from '../../machines/send-outcome.js';
import { SteppingClock } from './stepping-clock.js';

export const QUEEN_A = 'http://queen-a.test:7833';
export const QUEEN_B = 'http://queen-b.test:7833';

/** docs/protocol.md: Command line defaults, without jitter so attempt times are exact. */
export const DEFAULT_SETTINGS: LifecycleSettings = {
  heartbeatIntervalMs: 30_000,
  backoffMs: [0, 2_000, 4_000, 8_000, 16_000],
  maxFailures: 5,
  probeIntervalMs: 60_000,
  jitter: 0,
};

export interface RecordedSend {
  /** Simulated time when the send started. */
  at: number;
  request: SendRequest;
  /** Aborted when the machine leaves the sending state before the answer. */
  signal: AbortSignal;
}

export type SendScript = (request: SendRequest, index: number) => SendOutcome | Promise<SendOutcome>;

export function ok(queenEpoch = 'epoch-1', resync = false): SendOutcome {
  const ack: HeartbeatAck = { status: 'ok', queen_epoch: queenEpoch, resync };
  return { ok: true, value: ack };
}

export function refused(): SendOutcome {
  return { ok: false, error: { kind: 'refused', message: 'connect ECONNREFUSED' } };
}

/** A follower's answer: the heartbeat belongs to `leaderUrl`. */
export function redirect(leaderUrl: string): SendOutcome {
  return { ok: false, error: { kind: 'redirect', leaderUrl, message: `307: the leader is ${leaderUrl}` } };
}

export interface LifecycleHarnessOptions {
  input?: Partial<LifecycleInput>;
  script?: SendScript;
  clock?: SteppingClock;
}

export interface LifecycleHarness {
  clock: SteppingClock;
  actor: Actor<typeof lifecycleMachine>;
  sends: RecordedSend[];
  /** Top-level state name. */
  state(): string;
  /** Start times of the sends, optionally only those of one reason. */
  times(reason?: SendRequest['reason']): number[];
}

/** A real lifecycle actor on a SteppingClock whose `send` actor records each request and answers from a script. */
export function startLifecycle(options: LifecycleHarnessOptions = {}): LifecycleHarness {
  const clock = options.clock ?? new SteppingClock();
  const sends: RecordedSend[] = [];
  const script = options.script ?? (() => ok());
  const machine = lifecycleMachine.provide({
    actors: {
      send: fromPromise<SendOutcome, SendRequest>(async ({ input, signal }) => {
        const index = sends.push({ at: clock.now(), request: input, signal }) - 1;
        return script(input, index);
      }),
    },
  });
  const actor = createActor(machine, {
    clock,
    input: { ...DEFAULT_SETTINGS, queenUrl: QUEEN_A, ...options.input },
  });
  actor.start();
  return {
    clock,
    actor,
    sends,
    state: () => lifecycleStateName(actor.getSnapshot().value),
    times: (reason) => sends.filter((send) => reason === undefined || send.request.reason === reason).map((s) => s.at),
  };
}
