import { describe, expect, it } from 'vitest';
import type { SendOutcome } from '../../machines/send-outcome.js';
import { deferred } from '../support/deferred.js';
import { ok, QUEEN_A, refused, startLifecycle } from '../support/lifecycle-harness.js';

describe('lifecycle: STOP', () => {
  it('sends exactly one final heartbeat, then is done', async () => {
    const h = startLifecycle();
    await h.clock.advanceTo(10_000);
    h.actor.send({ type: 'STOP' });
    await h.clock.advanceTo(10_000);
    expect(h.actor.getSnapshot().status).toBe('done');
    await h.clock.advanceTo(300_000);
    expect(h.sends.map((s) => [s.at, s.request])).toEqual([
      [0, { queenUrl: QUEEN_A, reason: 'discovery', full: true }],
      [0, { queenUrl: QUEEN_A, reason: 'heartbeat', full: false }],
      [10_000, { queenUrl: QUEEN_A, reason: 'final', full: false }],
    ]);
  });

  it('is done without a send when no queen URL is known', async () => {
    const h = startLifecycle({ input: { queenUrl: null } });
    await h.clock.advanceTo(5_000);
    h.actor.send({ type: 'STOP' });
    await h.clock.advanceTo(5_000);
    expect(h.actor.getSnapshot().status).toBe('done');
    expect(h.sends).toHaveLength(0);
  });

  it('aborts an in-flight send, then sends the final heartbeat', async () => {
    const held = deferred<SendOutcome>();
    const h = startLifecycle({ script: (_request, index) => (index === 2 ? held.promise : ok()) });
    await h.clock.advanceTo(30_100);
    expect(h.sends[2]?.signal.aborted).toBe(false);
    h.actor.send({ type: 'STOP' });
    expect(h.sends[2]?.signal.aborted).toBe(true);
    held.resolve(ok());
    await h.clock.advanceTo(30_100);
    expect(h.sends.slice(2).map((s) => [s.at, s.request.reason])).toEqual([
      [30_000, 'heartbeat'],
      [30_100, 'final'],
    ]);
    expect(h.actor.getSnapshot().status).toBe('done');
  });

  it('is done after the final heartbeat fails, and during backoff too', async () => {
    const h = startLifecycle({ script: () => refused() });
    await h.clock.advanceTo(3_000);
    h.actor.send({ type: 'STOP' });
    h.actor.send({ type: 'STOP' });
    h.actor.send({ type: 'QUEEN_URL', url: QUEEN_A });
    await h.clock.advanceTo(60_000);
    expect(h.actor.getSnapshot().status).toBe('done');
    expect(h.times()).toEqual([0, 2_000, 3_000]);
    expect(h.sends.at(-1)?.request.reason).toBe('final');
  });
});
