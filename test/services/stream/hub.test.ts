import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { jsonPieces } from '../../../services/json-pieces.js';
import { createStreamHub, type StreamHub } from '../../../services/stream/hub.js';
import { SseReader } from '../../support/sse-reader.js';

let hub: StreamHub | undefined;
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] });
});
afterEach(() => {
  hub?.closeAll();
  hub = undefined;
  vi.useRealTimers();
});

function start(queueBytes = 1024, greeting: string[] = [JSON.stringify({ type: 'hello' })]) {
  const dropped: number[] = [];
  let state = 0;
  const h = createStreamHub({
    eventName: 'heartbeat',
    snapshot: (rev) => jsonPieces([JSON.stringify({ type: 'snapshot', rev, state })]),
    greeting: () => greeting,
    queueBytes,
    onDropped: (count) => dropped.push(count),
  });
  hub = h;
  const publish = (n: number) => {
    state = n;
    h.publish(() => JSON.stringify({ type: 'beat', n, pad: 'x'.repeat(100) }));
  };
  return { hub: h, dropped, publish };
}

describe('stream hub', () => {
  it('starts every client with a snapshot and its greeting, then numbers messages by revision, never one id twice', async () => {
    const { hub, publish } = start();
    publish(1);
    const client = new SseReader(hub.connect());
    publish(3);
    const [snapshot, hello, beat] = await client.take(3);
    expect(snapshot).toMatchObject({ event: 'heartbeat', id: 1, data: { type: 'snapshot', rev: 1, state: 1 } });
    expect(hello).toMatchObject({ id: 2, data: { type: 'hello' } });
    expect(beat).toMatchObject({ id: 3, data: { type: 'beat', n: 3 } });
  });

  it('never lets a slow client hold back a fast one, and gives the slow one a fresh snapshot for what it lost', async () => {
    const { hub, publish, dropped } = start(1024);
    const fast = new SseReader(hub.connect());
    const slow = new SseReader(hub.connect());
    // Revisions 1 and 2 are the two greetings.
    await fast.take(2);
    const received: number[] = [];
    for (let n = 3; n <= 42; n++) {
      publish(n);
      const [message] = await fast.take(1);
      received.push(Number(message?.id));
    }
    expect(received).toEqual(Array.from({ length: 40 }, (_, i) => i + 3));
    expect(dropped.reduce((a, b) => a + b, 0)).toBeGreaterThan(20);
    const [first, fresh] = await slow.take(2);
    expect(first).toMatchObject({ id: 1, data: { type: 'snapshot', rev: 1 } });
    expect(fresh).toMatchObject({ id: 42, data: { type: 'snapshot', rev: 42, state: 42 } });
    publish(43);
    expect((await slow.take(1))[0]).toMatchObject({ id: 43, data: { type: 'beat', n: 43 } });
  });

  it('holds a greeting larger than the queue bound outside the queue: a new client gets it and one snapshot', async () => {
    const big = JSON.stringify({ type: 'hello', pad: 'x'.repeat(2_000) });
    const { hub, publish, dropped } = start(1024, [big]);
    const client = new SseReader(hub.connect());
    publish(3);
    const messages = await client.take(3);
    expect(messages).toMatchObject([
      { id: 0, data: { type: 'snapshot' } },
      { id: 1, data: { type: 'hello' } },
      { id: 2, data: { type: 'beat' } },
    ]);
    expect(dropped).toEqual([]);
  });

  it('counts a greeting lost in an overflow with the queued messages, and sends a fresh snapshot in their place', async () => {
    const { hub, publish, dropped } = start(300);
    const client = new SseReader(hub.connect());
    for (let n = 2; n <= 4; n++) publish(n);
    const [first, fresh] = await client.take(2);
    expect(first).toMatchObject({ id: 0, data: { type: 'snapshot', rev: 0 } });
    expect(fresh).toMatchObject({ id: 4, data: { type: 'snapshot', rev: 4, state: 4 } });
    // The greeting and the three beats: one queued, one that did not fit, one while overflowed.
    expect(dropped).toEqual([3, 1]);
  });

  it('queues a summary larger than the bound beside it, and lets a later summary replace one still unread', async () => {
    const { hub, publish, dropped } = start(1024);
    const summary = (n: number) =>
      hub.publish(() => JSON.stringify({ type: 'summary', n, pad: 'x'.repeat(2_000) }), 'summary');
    const late = new SseReader(hub.connect());
    summary(2);
    publish(3);
    summary(4);
    publish(5);
    const messages = await late.take(5);
    expect(messages.map((m) => m.id)).toEqual([0, 1, 3, 4, 5]);
    expect(messages[3]).toMatchObject({ data: { type: 'summary', n: 4 } });
    expect(dropped).toEqual([]);
    // The bound still holds for the other messages: ten beats of ~150 bytes pass 1 KiB, and the client is resent a snapshot.
    for (let n = 6; n <= 15; n++) publish(n);
    summary(16);
    expect(dropped.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect((await late.take(1))[0]).toMatchObject({ data: { type: 'snapshot', rev: 16 } });
  });

  it('keeps what fits in the queue of a client that reads late', async () => {
    const { hub, publish, dropped } = start(10_000);
    const late = new SseReader(hub.connect());
    for (let n = 2; n <= 6; n++) publish(n);
    const messages = await late.take(7);
    expect(messages.map((m) => m.id)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(dropped).toEqual([]);
  });

  it('sends a keep-alive comment every 15 s', async () => {
    const { hub } = start();
    const client = new SseReader(hub.connect());
    await client.take(2);
    vi.advanceTimersByTime(15_000);
    expect((await client.next())?.comment).toBe('keep-alive');
  });

  it('forgets a client that went away, and ends every stream on closeAll', async () => {
    const { hub, publish } = start();
    const gone = new SseReader(hub.connect());
    const stays = new SseReader(hub.connect());
    expect(hub.clients).toBe(2);
    await gone.cancel();
    expect(hub.clients).toBe(1);
    publish(1);
    hub.closeAll();
    expect(hub.clients).toBe(0);
    expect((await stays.take(3)).map((m) => m.id)).toEqual([1, 2, 3]);
    expect(await stays.next()).toBeUndefined();
    expect(await new SseReader(hub.connect()).next()).toBeUndefined();
  });

  it('ends every stream on endAll, and serves the clients that connect after it', async () => {
    const { hub, publish } = start();
    const ended = new SseReader(hub.connect());
    publish(1);
    hub.endAll();
    expect(hub.clients).toBe(0);
    expect(await ended.take(3)).toMatchObject([
      { data: { type: 'snapshot' } },
      { data: { type: 'hello' } },
      { data: { type: 'beat', n: 1 } },
    ]);
    expect(await ended.next()).toBeUndefined();
    const again = new SseReader(hub.connect());
    publish(2);
    expect(hub.clients).toBe(1);
    expect(await again.take(3)).toMatchObject([
      { data: { type: 'snapshot', state: 1 } },
      { data: { type: 'hello' } },
      { data: { type: 'beat', n: 2 } },
    ]);
  });

  it('builds nothing for a message when no one listens, but still counts the revision', () => {
    const { hub } = start();
    const data = vi.fn(() => 'x');
    hub.publish(data);
    expect(data).not.toHaveBeenCalled();
    expect(hub.revision).toBe(1);
  });
});
