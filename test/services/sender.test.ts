import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { SendRequest } from '../../machines/lifecycle.js';
import type { SendOutcome } from '../../machines/send-outcome.js';
import { createLogger, LOG_LEVELS } from '../../services/logger.js';
import { createSender, type Sender, senderSetup } from '../../services/sender.js';
import { deferred } from '../support/deferred.js';
import { DEFAULT_SETTINGS, ok, QUEEN_A, QUEEN_B, redirect, refused } from '../support/lifecycle-harness.js';
import { SteppingClock } from '../support/stepping-clock.js';

const LogLine = z.looseObject({ level: z.enum(LOG_LEVELS), msg: z.string() });
type LogLine = z.infer<typeof LogLine>;

interface Payload {
  n: number;
  request: SendRequest;
}

interface Posted {
  at: number;
  queenUrl: string;
  payload: Payload;
  signal: AbortSignal;
}

/** A sender on a SteppingClock with a fake poster answering from `answer`, logging into `lines`. */
function harness(options: {
  queenUrl?: string | null;
  queenUrls?: readonly string[];
  answer?: (index: number) => SendOutcome | Promise<SendOutcome>;
}) {
  const clock = new SteppingClock();
  const posted: Posted[] = [];
  const built: SendRequest[] = [];
  const sent: Array<{ payload: Payload; outcome: SendOutcome; request: SendRequest }> = [];
  /** Each log line with the number of posts answered when it was written. */
  const lines: Array<LogLine & { answered: number }> = [];
  let answered = 0;
  const answer = options.answer ?? (() => ok());
  const sender = createSender<Payload>({
    systemId: 'test-lifecycle',
    settings: DEFAULT_SETTINGS,
    queenUrl: options.queenUrl === undefined ? QUEEN_A : options.queenUrl,
    ...(options.queenUrls ? { queenUrls: options.queenUrls } : {}),
    buildPayload: (request) => {
      built.push(request);
      return { n: built.length, request };
    },
    post: async (queenUrl, payload, signal) => {
      const outcome = await answer(posted.push({ at: clock.now(), queenUrl, payload, signal }) - 1);
      answered++;
      return outcome;
    },
    onSent: (payload, outcome, request) => sent.push({ payload, outcome, request }),
    logger: createLogger({
      level: 'debug',
      write: (line) => lines.push({ ...LogLine.parse(JSON.parse(line)), answered }),
    }),
    clock,
  });
  senders.push(sender);
  return { clock, sender, posted, built, sent, lines };
}

const senders: Sender[] = [];
afterEach(() => {
  for (const sender of senders.splice(0)) sender.actor.stop();
});

describe('createSender', () => {
  it('builds a payload for every send and posts exactly that payload to the queen', async () => {
    const h = harness({});
    await h.clock.advanceTo(60_000);
    expect(h.built.map((r) => r.reason)).toEqual(['discovery', 'heartbeat', 'heartbeat', 'heartbeat']);
    expect(h.posted.map((p) => [p.at, p.queenUrl, p.payload.n])).toEqual([
      [0, QUEEN_A, 1],
      [0, QUEEN_A, 2],
      [30_000, QUEEN_A, 3],
      [60_000, QUEEN_A, 4],
    ]);
    expect(h.posted[0]?.payload.request).toEqual({ queenUrl: QUEEN_A, reason: 'discovery', full: true });
  });

  it('tells onSent every outcome with the payload and request it belongs to', async () => {
    const h = harness({ answer: (index) => (index === 2 ? refused() : ok()) });
    await h.clock.advanceTo(60_000);
    expect(h.sent.map((s) => [s.payload.n, s.request.reason, s.outcome.ok])).toEqual([
      [1, 'discovery', true],
      [2, 'heartbeat', true],
      [3, 'heartbeat', false],
      [4, 'heartbeat', true],
    ]);
    expect(h.sent[2]?.outcome).toEqual(refused());
  });

  it('turns a post that throws into a failed send: the machine retries, the failure is kept', async () => {
    const h = harness({
      answer: (index) => {
        if (index === 1) throw new Error('payload too odd to build');
        return ok();
      },
    });
    await h.clock.advanceTo(0);
    expect(h.sender.actor.getSnapshot().context.lastFailure).toEqual({
      kind: 'network',
      code: 'SEND_ACTOR_ERROR',
      message: 'payload too odd to build',
    });
    await h.clock.advanceTo(30_000);
    expect(h.sender.actor.getSnapshot().status).toBe('active');
    expect(h.posted.length).toBeGreaterThanOrEqual(3);
    expect(h.sender.actor.getSnapshot().context.lastFailure).toBeNull();
  });

  it('logs one warn line for 20 failed sends in a row and one info line on recovery', async () => {
    const h = harness({ answer: (index) => (index >= 2 && index < 22 ? refused() : ok()) });
    for (let step = 0; step < 100 && h.posted.length < 24; step++) await h.clock.advanceTo(h.clock.nextDue() ?? 0);
    expect(h.posted).toHaveLength(24);
    expect(h.sender.state()).toBe('HEARTBEATING');
    const warns = h.lines.filter((line) => line.level === 'warn' || line.level === 'error');
    expect(warns.map((line) => [line.msg, line.answered])).toEqual([['heartbeat failed', 3]]);
    const recoveries = h.lines.filter((line) => line.msg === 'queen reachable again');
    expect(recoveries.map((line) => [line.level, line.answered])).toEqual([['info', 23]]);
    // Apart from those two, only lifecycle state changes are logged: never a line per retry.
    expect(h.lines.filter((line) => line.msg !== 'lifecycle')).toHaveLength(2);
    expect(h.lines.filter((line) => line.msg === 'lifecycle').length).toBeLessThanOrEqual(6);
  });

  it('logs each kind of failure of a run once, naming the queen that failed and the one tried next', async () => {
    const forbidden: SendOutcome = { ok: false, error: { kind: 'http', status: 403, message: '403 Forbidden' } };
    // A refuses connections and B answers 403, turn about, until both answer again after 12 sends.
    const h = harness({
      queenUrls: [QUEEN_A, QUEEN_B],
      answer: (index) => (index >= 2 && index < 14 ? (index % 2 === 0 ? refused() : forbidden) : ok()),
    });
    for (let step = 0; step < 200 && h.posted.length < 16; step++) await h.clock.advanceTo(h.clock.nextDue() ?? 0);
    expect(h.posted.slice(2, 14).map((post) => post.queenUrl)).toEqual(
      Array.from({ length: 12 }, (_, index) => (index % 2 === 0 ? QUEEN_A : QUEEN_B)),
    );
    const warns = h.lines.filter((line) => line.level === 'warn' || line.level === 'error');
    expect(warns).toMatchObject([
      { msg: 'heartbeat failed', queen_url: QUEEN_A, next_queen_url: QUEEN_B, failure: { kind: 'refused' } },
      { msg: 'heartbeat failed', queen_url: QUEEN_B, next_queen_url: QUEEN_A, failure: { kind: 'http', status: 403 } },
    ]);
    expect(warns.map((line) => line.answered)).toEqual([3, 4]);
    expect(h.lines.filter((line) => line.msg === 'queen reachable again')).toHaveLength(1);
  });

  it('logs a redirect off its list of queens once, as not followed, however often the queens repeat it', async () => {
    const planted = 'http://planted.test:7833';
    const h = harness({ queenUrls: [QUEEN_A, QUEEN_B], answer: () => redirect(planted) });
    for (let step = 0; step < 100 && h.posted.length < 20; step++) await h.clock.advanceTo(h.clock.nextDue() ?? 0);
    expect(h.posted.map((post) => post.queenUrl)).not.toContain(planted);
    const warns = h.lines.filter((line) => line.level === 'warn' || line.level === 'error');
    expect(warns.map((line) => [line.msg, line.answered])).toEqual([['redirect not followed', 1]]);
    expect(warns[0]).toMatchObject({ failure: { kind: 'redirect', leaderUrl: planted } });
  });

  it('discovers, reports changes, and stops with one final send', async () => {
    const h = harness({ queenUrl: null });
    expect(h.sender.state()).toBe('DISCOVERY_WAIT');
    expect(h.sender.queenUrl()).toBeNull();
    h.sender.discover(QUEEN_A);
    await h.clock.advanceTo(1_000);
    h.sender.changed();
    await h.clock.advanceTo(1_000);
    expect(h.sender.state()).toBe('HEARTBEATING');
    expect(h.sender.queenUrl()).toBe(QUEEN_A);
    await h.sender.stop();
    expect(h.sender.state()).toBe('STOPPED');
    expect(h.posted.map((p) => [p.at, p.payload.request.reason, p.payload.request.full])).toEqual([
      [0, 'heartbeat', true],
      [1_000, 'sync', false],
      [1_000, 'final', false],
    ]);
    await h.sender.stop();
    expect(h.posted).toHaveLength(3);
  });

  it('logs a change sent at once at debug, however often it comes; other lifecycle steps at info', async () => {
    const h = harness({});
    await h.clock.advanceTo(1_000);
    for (let change = 0; change < 5; change++) {
      h.sender.changed();
      await h.clock.advanceTo(1_000 + change);
    }
    expect(h.posted.filter((post) => post.payload.request.reason === 'sync')).toHaveLength(5);
    const steps = h.lines.filter((line) => line.msg === 'lifecycle').map((line) => [line.level, line.from, line.to]);
    const routine = (step: unknown[]) =>
      (step[1] === 'HEARTBEATING' && step[2] === 'CAPABILITY_SYNC') ||
      (step[1] === 'CAPABILITY_SYNC' && step[2] === 'HEARTBEATING');
    expect(steps.filter(routine).length).toBeGreaterThanOrEqual(5);
    expect(steps.filter(routine).every((step) => step[0] === 'debug')).toBe(true);
    expect(steps.filter((step) => !routine(step))).toEqual([
      ['info', null, 'DISCOVERY_PUSH'],
      ['info', 'DISCOVERY_PUSH', 'HEARTBEATING'],
    ]);
  });

  it('aborts the in-flight post on stop', async () => {
    const held = deferred<SendOutcome>();
    const h = harness({ answer: (index) => (index === 2 ? held.promise : ok()) });
    await h.clock.advanceTo(30_000);
    const stopped = h.sender.stop();
    expect(h.posted[2]?.signal.aborted).toBe(true);
    held.resolve(refused());
    await stopped;
    expect(h.posted.map((p) => p.payload.request.reason)).toEqual(['discovery', 'heartbeat', 'heartbeat', 'final']);
  });
});

describe('senderSetup', () => {
  it("takes a role's options as its lifecycle settings, the first queen first, with the role's probe interval", () => {
    const options = { heartbeatInterval: 30_000, backoff: [0, 2_000], maxFailures: 5, jitter: 0.1 };
    expect(senderSetup({ ...options, queenUrl: [QUEEN_A, QUEEN_B] }, 60_000)).toEqual({
      settings: {
        heartbeatIntervalMs: 30_000,
        backoffMs: [0, 2_000],
        maxFailures: 5,
        probeIntervalMs: 60_000,
        jitter: 0.1,
      },
      queenUrl: QUEEN_A,
      queenUrls: [QUEEN_A, QUEEN_B],
    });
    expect(senderSetup({ ...options, queenUrl: [] }, 0)).toMatchObject({ queenUrl: null, queenUrls: [] });
  });
});
