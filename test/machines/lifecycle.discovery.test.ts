import { describe, expect, it } from 'vitest';
import type { SendOutcome } from '../../machines/send-outcome.js';
import { deferred } from '../support/deferred.js';
import { DEFAULT_SETTINGS, ok, QUEEN_A, QUEEN_B, refused, startLifecycle } from '../support/lifecycle-harness.js';

const MINUTE = 60_000;

/** A deterministic source in [0, 1) cycling through `values`. */
function cycle(values: readonly number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length] ?? 0;
}

describe('lifecycle: push discovery (docs/protocol.md: The sender lifecycle)', () => {
  it('attempts at 0, 2, 6, 14 and 30 s with the default backoff, each a full discovery heartbeat', async () => {
    const h = startLifecycle({ script: () => refused() });
    await h.clock.advanceTo(29_999);
    expect(h.times()).toEqual([0, 2_000, 6_000, 14_000]);
    await h.clock.advanceTo(30_000);
    expect(h.times()).toEqual([0, 2_000, 6_000, 14_000, 30_000]);
    expect(h.sends.map((s) => s.request)).toEqual(
      Array.from({ length: 5 }, () => ({ queenUrl: QUEEN_A, reason: 'discovery', full: true })),
    );
  });

  it('follows a custom backoff, repeating its last delay', async () => {
    const h = startLifecycle({ input: { backoffMs: [500, 1_000, 3_000], maxFailures: 5 }, script: () => refused() });
    await h.clock.advanceTo(20_000);
    expect(h.times()).toEqual([500, 1_500, 4_500, 7_500, 10_500]);
  });

  it('scales each delay by the jitter factor drawn from the injected random source', async () => {
    const h = startLifecycle({
      input: { jitter: 0.1, random: cycle([0, 0.5, 0.999_999, 0.25]) },
      script: () => refused(),
    });
    await h.clock.advanceTo(MINUTE);
    const gaps = h
      .times()
      .slice(1)
      .map((at, i) => at - (h.times()[i] ?? 0));
    // The first delay is 0 and draws nothing; then 2 s × 0.9, 4 s × 1.0, 8 s × 1.1, 16 s × 0.95.
    expect(gaps).toEqual([1_800, 4_000, 8_800, 15_200]);
  });

  it('keeps jittered heartbeat intervals within [0.9, 1.1] of the interval', async () => {
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const h = startLifecycle({ input: { jitter: 0.1, random } });
    await h.clock.advanceTo(60 * MINUTE);
    const beats = h.times('heartbeat');
    const gaps = beats.slice(1).map((at, i) => at - (beats[i] ?? 0));
    expect(gaps.length).toBeGreaterThan(100);
    for (const gap of gaps) {
      expect(gap).toBeGreaterThanOrEqual(27_000);
      expect(gap).toBeLessThanOrEqual(33_000);
    }
    expect(new Set(gaps).size).toBeGreaterThan(10);
  });

  it('gives up after the last attempt and waits', async () => {
    const h = startLifecycle({ script: () => refused() });
    await h.clock.advanceTo(29_999);
    expect(h.state()).toBe('DISCOVERY_PUSH');
    await h.clock.advanceTo(30_000);
    expect(h.state()).toBe('DISCOVERY_WAIT');
  });

  it('re-probes the known queen every probe interval while waiting, and heartbeats once it answers', async () => {
    const h = startLifecycle({ script: (_request, index) => (index < 7 ? refused() : ok()) });
    await h.clock.advanceTo(30_000 + 3 * MINUTE);
    expect(h.times('probe')).toEqual([30_000 + MINUTE, 30_000 + 2 * MINUTE, 30_000 + 3 * MINUTE]);
    expect(h.state()).toBe('HEARTBEATING');
    expect(h.sends.at(-1)?.request).toEqual({ queenUrl: QUEEN_A, reason: 'heartbeat', full: false });
    expect(h.sends.at(-1)?.at).toBe(30_000 + 3 * MINUTE);
  });

  it('does not re-probe when the probe interval is 0', async () => {
    const h = startLifecycle({ input: { probeIntervalMs: 0 }, script: () => refused() });
    await h.clock.advanceTo(30 * MINUTE);
    expect(h.sends).toHaveLength(5);
    expect(h.state()).toBe('DISCOVERY_WAIT');
  });

  it('sends nothing while waiting without a queen URL', async () => {
    const h = startLifecycle({ input: { queenUrl: null } });
    await h.clock.advanceTo(30 * MINUTE);
    expect(h.state()).toBe('DISCOVERY_WAIT');
    expect(h.sends).toHaveLength(0);
  });
});

describe('lifecycle: QUEEN_URL (docs/protocol.md: The sender lifecycle)', () => {
  it('during backoff: heartbeats the queen at once and drops the remaining attempts', async () => {
    const h = startLifecycle({ script: (request) => (request.reason === 'discovery' ? refused() : ok()) });
    await h.clock.advanceTo(1_000);
    h.actor.send({ type: 'QUEEN_URL', url: QUEEN_A });
    await h.clock.advanceTo(1_000 + DEFAULT_SETTINGS.heartbeatIntervalMs);
    expect(h.times('discovery')).toEqual([0]);
    expect(h.times('heartbeat')).toEqual([1_000, 31_000]);
    expect(h.sends[1]?.request).toEqual({ queenUrl: QUEEN_A, reason: 'heartbeat', full: true });
    expect(h.state()).toBe('HEARTBEATING');
  });

  it('during wait: heartbeats the new queen at once with full capabilities, then every interval', async () => {
    const h = startLifecycle({ input: { queenUrl: null } });
    await h.clock.advanceTo(5_000);
    h.actor.send({ type: 'QUEEN_URL', url: QUEEN_B });
    await h.clock.advanceTo(65_000);
    expect(h.times()).toEqual([5_000, 35_000, 65_000]);
    expect(h.sends.map((s) => [s.request.queenUrl, s.request.full])).toEqual([
      [QUEEN_B, true],
      [QUEEN_B, false],
      [QUEEN_B, false],
    ]);
  });

  it('twice for the same URL while heartbeating: still one loop, one send per interval', async () => {
    const h = startLifecycle();
    await h.clock.advanceTo(10_000);
    h.actor.send({ type: 'QUEEN_URL', url: QUEEN_A });
    await h.clock.advanceTo(20_000);
    h.actor.send({ type: 'QUEEN_URL', url: QUEEN_A });
    await h.clock.advanceTo(150_000);
    expect(h.times('discovery')).toEqual([0]);
    expect(h.times('heartbeat')).toEqual([0, 30_000, 60_000, 90_000, 120_000, 150_000]);
  });

  it('for the same URL during an in-flight heartbeat: changes nothing', async () => {
    const held = deferred<SendOutcome>();
    const h = startLifecycle({ script: (_request, index) => (index === 2 ? held.promise : ok()) });
    await h.clock.advanceTo(30_000);
    expect(h.sends).toHaveLength(3);
    h.actor.send({ type: 'QUEEN_URL', url: QUEEN_A });
    expect(h.sends[2]?.signal.aborted).toBe(false);
    held.resolve(ok());
    await h.clock.advanceTo(60_000);
    expect(h.times()).toEqual([0, 0, 30_000, 60_000]);
  });

  it('for a new URL: switches at once and sends only there from then on', async () => {
    const h = startLifecycle({ script: (request) => ok(request.queenUrl === QUEEN_A ? 'epoch-a' : 'epoch-b') });
    await h.clock.advanceTo(10_000);
    h.actor.send({ type: 'QUEEN_URL', url: QUEEN_B });
    await h.clock.advanceTo(70_000);
    expect(h.sends.map((s) => [s.at, s.request.queenUrl, s.request.full])).toEqual([
      [0, QUEEN_A, true],
      [0, QUEEN_A, false],
      [10_000, QUEEN_B, true],
      [40_000, QUEEN_B, false],
      [70_000, QUEEN_B, false],
    ]);
    expect(h.actor.getSnapshot().context.queenUrl).toBe(QUEEN_B);
  });
});
