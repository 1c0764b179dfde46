import { beforeEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { QUEEN_PATHS } from '../../../contracts/paths.js';
import {
  type HiveEvent,
  type LivenessEvent,
  type QueenEvent,
  SnapshotEvent,
  StreamEvent,
} from '../../../contracts/stream.js';
import { discoveryHeartbeat, QUEEN_EPOCH } from '../../fixtures/examples.js';
import { type QueenAppHarness, startQueenApp, TOKEN } from '../../support/queen-app.js';
import { hiveBeat, workerBeat } from '../../support/queen-registry.js';
import { type SseMessage, SseReader } from '../../support/sse-reader.js';

beforeEach(() => {
  // The queen's own timers only: the simulated registry clock steps with setImmediate.
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
  // Real again only once the test's queen has closed (finish hooks run last first), clearing its fake intervals.
  onTestFinished(() => {
    vi.useRealTimers();
  });
});

async function connect(q: QueenAppHarness, path: string = QUEEN_PATHS.stream): Promise<SseReader> {
  const response = await q.request(path);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  return new SseReader(response.body);
}

function event(message: SseMessage | undefined): StreamEvent {
  expect(message?.event).toBe('heartbeat');
  return StreamEvent.parse(message?.data);
}

describe('GET /v1/heartbeats/stream', () => {
  it('sends a snapshot first, then the queen event at once under the next id', async () => {
    const q = startQueenApp();
    await q.post(QUEEN_PATHS.hiveHeartbeat, discoveryHeartbeat);
    const stream = await connect(q);
    const [first, second] = await stream.take(2);
    const { rev, hives, workers } = SnapshotEvent.parse(first?.data);
    expect(first?.id).toBe(rev);
    expect(hives.map((h) => h.hive_id)).toEqual([discoveryHeartbeat.hive_id]);
    expect(workers).toEqual([]);
    expect(event(second)).toMatchObject({
      type: 'queen',
      queen_epoch: QUEEN_EPOCH,
      hives_online: 1,
      hive_ids: [discoveryHeartbeat.hive_id],
    } satisfies Partial<QueenEvent>);
    expect(second?.id).toBe(rev + 1);
  });

  it('sends the queen event every stream interval', async () => {
    const q = startQueenApp({ streamIntervalMs: 2_500 });
    await q.post(QUEEN_PATHS.hiveHeartbeat, hiveBeat('h1'));
    const stream = await connect(q);
    await stream.take(2);
    await q.post(QUEEN_PATHS.workerHeartbeat, workerBeat('w1', 'h1'));
    await stream.take(2);
    vi.advanceTimersByTime(2_499);
    await q.post(QUEEN_PATHS.workerHeartbeat, workerBeat('w1', 'h1'));
    const [beat] = await stream.take(1);
    expect(event(beat).type).toBe('worker');
    vi.advanceTimersByTime(1);
    const [tick] = await stream.take(1);
    expect(event(tick)).toMatchObject({ type: 'queen', workers_online: 1, workers_available: 1, worker_ids: ['w1'] });
    vi.advanceTimersByTime(2_500);
    expect(event((await stream.take(1))[0]).type).toBe('queen');
  });

  it('sends a liveness and a worker event for a first heartbeat, a worker event for the next, and transitions', async () => {
    const q = startQueenApp();
    await q.post(QUEEN_PATHS.hiveHeartbeat, hiveBeat('h1'));
    const stream = await connect(q);
    await stream.take(2);
    await q.post(QUEEN_PATHS.workerHeartbeat, workerBeat('w1', 'h1'));
    await q.post(QUEEN_PATHS.workerHeartbeat, workerBeat('w1', 'h1', { status: 'busy' }));
    const messages = await stream.take(3);
    expect(messages.map((m) => event(m).type)).toEqual(['liveness', 'worker', 'worker']);
    expect(event(messages[0])).toMatchObject({
      kind: 'worker',
      id: 'w1',
      from: null,
      to: 'online',
      reason: 'heartbeat',
    } satisfies Partial<LivenessEvent>);
    expect(event(messages[2])).toMatchObject({ worker_id: 'w1', status: 'busy', available: false, liveness: 'online' });
    const ids = messages.map((m) => Number(m.id));
    expect(ids).toEqual([ids[0], (ids[0] ?? 0) + 1, (ids[0] ?? 0) + 2]);
    await q.timers.advanceTo(45_000);
    const [suspect] = await stream.take(1);
    expect(event(suspect)).toMatchObject({
      type: 'liveness',
      kind: 'worker',
      id: 'w1',
      from: 'online',
      to: 'suspect',
      reason: 'missed heartbeats',
      timestamp: '2025-10-30T14:52:45.000Z',
    });
  });

  it('sends a hive event with the hive view after each accepted hive heartbeat', async () => {
    const q = startQueenApp();
    const stream = await connect(q);
    await stream.take(2);
    await q.post(QUEEN_PATHS.hiveHeartbeat, discoveryHeartbeat);
    const [, hive] = await stream.take(2);
    expect(event(hive)).toMatchObject({
      type: 'hive',
      hive_id: discoveryHeartbeat.hive_id,
      liveness: 'online',
      capabilities: discoveryHeartbeat.capabilities ?? null,
    } satisfies Partial<HiveEvent>);
  });

  it('does not let a slow client block a fast one: the slow one gets a fresh snapshot instead', async () => {
    const q = startQueenApp({ streamQueueBytes: 8 * 1024 });
    await q.post(QUEEN_PATHS.hiveHeartbeat, hiveBeat('h1'));
    const fast = await connect(q);
    const slow = await connect(q);
    await fast.take(2);
    for (let i = 0; i < 60; i++) {
      await q.post(QUEEN_PATHS.workerHeartbeat, workerBeat(`w${i}`, 'h1'));
      const [liveness, worker] = await fast.take(2);
      expect(event(worker)).toMatchObject({ type: 'worker', worker_id: `w${i}` });
      expect(event(liveness).type).toBe('liveness');
    }
    // Its first snapshot, then a fresh one: the greeting was among what it lost.
    const [, fresh] = await slow.take(2);
    const snapshot = SnapshotEvent.parse(fresh?.data);
    expect(snapshot.rev).toBe(q.stream.revision);
    expect(snapshot.workers).toHaveLength(60);
    const metrics = await (await q.request(QUEEN_PATHS.metrics)).text();
    expect(metrics).toMatch(/apiary_stream_dropped_messages_total [1-9]\d*/);
    expect(metrics).toContain('apiary_stream_subscribers 2');
  });

  it('gives a client that reconnects a fresh snapshot', async () => {
    const q = startQueenApp();
    await q.post(QUEEN_PATHS.hiveHeartbeat, hiveBeat('h1'));
    const first = await connect(q);
    await first.take(2);
    await first.cancel();
    await q.post(QUEEN_PATHS.workerHeartbeat, workerBeat('w1', 'h1'));
    const again = await connect(q);
    const [message] = await again.take(1);
    const snapshot = SnapshotEvent.parse(message?.data);
    // The hive's liveness and hive events, the first client's greeting, then the worker's liveness and worker events.
    expect(snapshot.rev).toBe(5);
    expect(snapshot.workers.map((w) => w.worker_id)).toEqual(['w1']);
    expect(q.stream.clients).toBe(1);
  });

  it('takes the token from the query string, and refuses without one', async () => {
    const q = startQueenApp();
    expect((await q.request(QUEEN_PATHS.stream, { token: null })).status).toBe(401);
    const stream = await connect(q, `${QUEEN_PATHS.stream}?token=${TOKEN}`);
    expect(event((await stream.take(1))[0]).type).toBe('snapshot');
  });

  it('ends open streams on close', async () => {
    const q = startQueenApp();
    const stream = await connect(q);
    await stream.take(2);
    q.stream.closeAll();
    expect(await stream.next()).toBeUndefined();
  });
});
