import { describe, expect, it } from 'vitest';
import type { SendRequest } from '../../machines/lifecycle.js';
import type { SendOutcome } from '../../machines/send-outcome.js';
import { deferred } from '../support/deferred.js';
import { ok, QUEEN_A, refused, startLifecycle } from '../support/lifecycle-harness.js';
import { SteppingClock } from '../support/stepping-clock.js';

/** Sends 0 and 1 (discovery, then the first heartbeat) both go out at 0 s; heartbeat n > 0 at n × 30 s. */
const BEAT = 30_000;

/** The host's side of capability changes: pending until a send that carried them succeeds. */
function fakeHost(clock: SteppingClock, answer: (index: number) => SendOutcome | Promise<SendOutcome>) {
  const pending = new Set<string>();
  const carried: Array<{ at: number; reason: SendRequest['reason']; changes: string[] }> = [];
  return {
    pending,
    carried,
    script: async (request: SendRequest, index: number): Promise<SendOutcome> => {
      const changes = [...pending];
      carried.push({ at: clock.now(), reason: request.reason, changes });
      const outcome = await answer(index);
      if (outcome.ok) for (const change of changes) pending.delete(change);
      return outcome;
    },
  };
}

describe('lifecycle: failures while heartbeating', () => {
  it('retries a failed heartbeat after the backoff, and goes back to push discovery after 5 consecutive failures', async () => {
    const h = startLifecycle({ script: (_request, index) => (index < 2 ? ok() : refused()) });
    await h.clock.advanceTo(BEAT + 14_000);
    expect(h.state()).toBe('HEARTBEATING');
    expect(h.actor.getSnapshot().context.failures).toBe(4);
    await h.clock.advanceTo(BEAT + 30_000);
    expect(h.state()).toBe('DISCOVERY_PUSH');
    expect(h.times('discovery')).toEqual([0, BEAT + 30_000]);
    // Retries after 2, 4, 8 and 16 s: a lost heartbeat never leaves a gap of two intervals.
    expect(h.times('heartbeat')).toEqual([0, BEAT, BEAT + 2_000, BEAT + 6_000, BEAT + 14_000, BEAT + 30_000]);
  });

  it('never retries later than the next regular heartbeat would go out', async () => {
    const h = startLifecycle({
      input: { heartbeatIntervalMs: 3_000 },
      script: (_request, index) => (index < 2 ? ok() : refused()),
    });
    await h.clock.advanceTo(3_000 + 2_000 + 3_000 + 3_000);
    expect(h.times('heartbeat')).toEqual([0, 3_000, 5_000, 8_000, 11_000]);
  });

  it('counts only consecutive failures: a success in between resets the count', async () => {
    const h = startLifecycle({ script: (_request, index) => (index < 2 || index === 6 ? ok() : refused()) });
    await h.clock.advanceTo(BEAT + 30_000);
    expect(h.state()).toBe('HEARTBEATING');
    expect(h.actor.getSnapshot().context.failures).toBe(0);
    await h.clock.advanceTo(2 * BEAT + 30_000 + 14_000);
    expect(h.actor.getSnapshot().context.failures).toBe(4);
    expect(h.times('discovery')).toEqual([0]);
    await h.clock.advanceTo(2 * BEAT + 30_000 + 30_000);
    expect(h.state()).toBe('DISCOVERY_PUSH');
  });
});

describe('lifecycle: capability changes', () => {
  it('syncs a change at once while waiting, then heartbeats an interval after the sync', async () => {
    const h = startLifecycle();
    await h.clock.advanceTo(10_000);
    h.actor.send({ type: 'CHANGED' });
    await h.clock.advanceTo(10_000);
    expect(h.sends.at(-1)).toMatchObject({ at: 10_000, request: { queenUrl: QUEEN_A, reason: 'sync', full: false } });
    await h.clock.advanceTo(10_000 + BEAT);
    expect(h.times()).toEqual([0, 0, 10_000, 10_000 + BEAT]);
    expect(h.state()).toBe('HEARTBEATING');
  });

  it('keeps a change pending across a failed sync: the next heartbeat carries it', async () => {
    const clock = new SteppingClock();
    const host = fakeHost(clock, (index) => (index === 2 ? refused() : ok()));
    const h = startLifecycle({ clock, script: host.script });
    await h.clock.advanceTo(10_000);
    host.pending.add('model:llama-3-8b');
    h.actor.send({ type: 'CHANGED' });
    await h.clock.advanceTo(10_000);
    expect(h.state()).toBe('HEARTBEATING');
    expect(host.pending.size).toBe(1);
    await h.clock.advanceTo(12_000 + BEAT);
    expect(host.carried.slice(2)).toEqual([
      { at: 10_000, reason: 'sync', changes: ['model:llama-3-8b'] },
      { at: 12_000, reason: 'heartbeat', changes: ['model:llama-3-8b'] },
      { at: 12_000 + BEAT, reason: 'heartbeat', changes: [] },
    ]);
    expect(host.pending.size).toBe(0);
  });

  it('syncs a change made during an in-flight heartbeat right after it', async () => {
    const held = deferred<SendOutcome>();
    const clock = new SteppingClock();
    const host = fakeHost(clock, (index) => (index === 2 ? held.promise : ok()));
    const h = startLifecycle({ clock, script: host.script });
    await h.clock.advanceTo(BEAT + 500);
    host.pending.add('worker:cuda');
    h.actor.send({ type: 'CHANGED' });
    await h.clock.advanceTo(BEAT + 800);
    expect(h.sends).toHaveLength(3);
    held.resolve(ok());
    await h.clock.advanceTo(BEAT + 800);
    expect(host.carried.slice(2)).toEqual([
      { at: BEAT, reason: 'heartbeat', changes: [] },
      { at: BEAT + 800, reason: 'sync', changes: ['worker:cuda'] },
    ]);
    expect(host.pending.size).toBe(0);
  });

  it('syncs again when a change arrives during an in-flight sync', async () => {
    const held = deferred<SendOutcome>();
    const clock = new SteppingClock();
    const host = fakeHost(clock, (index) => (index === 2 ? held.promise : ok()));
    const h = startLifecycle({ clock, script: host.script });
    await h.clock.advanceTo(1_000);
    host.pending.add('model:a');
    h.actor.send({ type: 'CHANGED' });
    await h.clock.advanceTo(1_200);
    host.pending.add('model:b');
    h.actor.send({ type: 'CHANGED' });
    held.resolve(ok());
    await h.clock.advanceTo(1_200);
    expect(host.carried.slice(2)).toEqual([
      { at: 1_000, reason: 'sync', changes: ['model:a'] },
      { at: 1_200, reason: 'sync', changes: ['model:b'] },
    ]);
  });
});

describe('lifecycle: resync and queen epoch', () => {
  it.each([
    ['resync: true', (index: number) => (index === 2 ? ok('epoch-1', true) : ok())],
    ['a changed queen_epoch', (index: number) => ok(index < 2 ? 'epoch-1' : 'epoch-2')],
  ])('answers %s with an immediate full heartbeat', async (_what, answer) => {
    const h = startLifecycle({ script: (_request, index) => answer(index) });
    await h.clock.advanceTo(2 * BEAT);
    expect(h.sends.map((s) => [s.at, s.request.full])).toEqual([
      [0, true],
      [0, false],
      [BEAT, false],
      [BEAT, true],
      [2 * BEAT, false],
    ]);
  });

  it('never loops on a queen that asks for a resync after every full heartbeat', async () => {
    // It stops asking after 10 answers, so that a regression fails here instead of spinning forever.
    const h = startLifecycle({ script: (_request, index) => ok('epoch-1', index < 10) });
    await h.clock.advanceTo(2 * BEAT);
    expect(h.sends.map((s) => [s.at, s.request.reason, s.request.full])).toEqual([
      [0, 'discovery', true],
      [0, 'heartbeat', true],
      [BEAT, 'heartbeat', true],
      [2 * BEAT, 'heartbeat', true],
    ]);
  });

  it('puts full capabilities in the first heartbeat when the discovery ack asks for a resync', async () => {
    const h = startLifecycle({ script: (_request, index) => ok('epoch-1', index === 0) });
    await h.clock.advanceTo(BEAT);
    expect(h.sends.map((s) => [s.at, s.request.reason, s.request.full])).toEqual([
      [0, 'discovery', true],
      [0, 'heartbeat', true],
      [BEAT, 'heartbeat', false],
    ]);
  });

  it('sends full: false heartbeats after discovery when the queen neither resyncs nor changes', async () => {
    const h = startLifecycle();
    await h.clock.advanceTo(5 * BEAT);
    expect(h.sends.map((s) => [s.request.reason, s.request.full])).toEqual([
      ['discovery', true],
      ...Array.from({ length: 6 }, () => ['heartbeat', false]),
    ]);
  });
});
