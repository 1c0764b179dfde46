import { describe, expect, it } from 'vitest';
import { ok, QUEEN_A, QUEEN_B, redirect, refused, startLifecycle } from '../support/lifecycle-harness.js';

/** Several queens (`--queen-url A,B,C`): the sender follows a follower's redirect and moves on from a dead queen. */

const QUEEN_C = 'http://queen-c.test:7833';
const BEAT = 30_000;

describe('lifecycle: following the leader', () => {
  it("follows a follower's redirect at once, with everything, and stays with the leader", async () => {
    const h = startLifecycle({
      input: { queenUrls: [QUEEN_A, QUEEN_B] },
      script: (request) => (request.queenUrl === QUEEN_A ? redirect(QUEEN_B) : ok()),
    });
    await h.clock.advanceTo(2 * BEAT);
    expect(h.sends.map((send) => [send.at, send.request.queenUrl, send.request.reason, send.request.full])).toEqual([
      [0, QUEEN_A, 'discovery', true],
      [0, QUEEN_B, 'heartbeat', true],
      [BEAT, QUEEN_B, 'heartbeat', false],
      [2 * BEAT, QUEEN_B, 'heartbeat', false],
    ]);
    expect(h.actor.getSnapshot().context).toMatchObject({ failures: 0, redirects: 0, lastFailure: null });
  });

  it('moves on to the next queen of its list after a failed send, round the list', async () => {
    const alive = new Set([QUEEN_C]);
    const h = startLifecycle({
      input: { queenUrls: [QUEEN_A, QUEEN_B, QUEEN_C], backoffMs: [0, 2_000] },
      script: (request) => (alive.has(request.queenUrl) ? ok() : refused()),
    });
    await h.clock.advanceTo(4_000);
    expect(h.sends.map((send) => [send.at, send.request.queenUrl, send.request.reason])).toEqual([
      [0, QUEEN_A, 'discovery'],
      [2_000, QUEEN_B, 'discovery'],
      [4_000, QUEEN_C, 'discovery'],
      [4_000, QUEEN_C, 'heartbeat'],
    ]);
    // Its queen dies: the retry goes to the next of the list, the first again.
    alive.clear();
    alive.add(QUEEN_A);
    await h.clock.advanceTo(4_000 + BEAT + 2_000);
    expect(h.sends.slice(4).map((send) => [send.at, send.request.queenUrl, send.request.reason])).toEqual([
      [4_000 + BEAT, QUEEN_C, 'heartbeat'],
      [4_000 + BEAT + 2_000, QUEEN_A, 'heartbeat'],
    ]);
    expect(h.state()).toBe('HEARTBEATING');
    expect(h.actor.getSnapshot().context.failures).toBe(0);
  });

  it('fails over from a queen listed twice as from any other', async () => {
    const h = startLifecycle({
      input: { queenUrls: [QUEEN_A, QUEEN_A, QUEEN_B], backoffMs: [0, 2_000] },
      script: (request) => (request.queenUrl === QUEEN_B ? ok() : refused()),
    });
    await h.clock.advanceTo(2_000);
    expect(h.sends.map((send) => [send.at, send.request.queenUrl, send.request.reason])).toEqual([
      [0, QUEEN_A, 'discovery'],
      [2_000, QUEEN_B, 'discovery'],
      [2_000, QUEEN_B, 'heartbeat'],
    ]);
  });

  it('two followers naming each other never loop: past max-failures redirects it counts a failure and waits', async () => {
    const h = startLifecycle({
      input: { queenUrls: [QUEEN_A, QUEEN_B], maxFailures: 3 },
      script: (request) => redirect(request.queenUrl === QUEEN_A ? QUEEN_B : QUEEN_A),
    });
    await h.clock.advanceTo(0);
    // The discovery attempt and three followed redirects at 0 s, then the fourth redirect is a failure.
    expect(h.times()).toEqual([0, 0, 0, 0]);
    expect(h.actor.getSnapshot().context.failures).toBe(1);
    expect(h.actor.getSnapshot().context.lastFailure?.kind).toBe('redirect');
    expect(h.clock.nextDue()).toBeGreaterThan(0);
  });

  it('given several queens, never follows a redirect off its list: a failed send, on to the next of the list', async () => {
    const planted = 'http://planted.test:7833';
    const h = startLifecycle({
      input: { queenUrls: [QUEEN_A, QUEEN_B], backoffMs: [0, 2_000], maxFailures: 3 },
      script: () => redirect(planted),
    });
    await h.clock.advanceTo(4_000);
    expect(h.sends.map((send) => [send.at, send.request.queenUrl])).toEqual([
      [0, QUEEN_A],
      [2_000, QUEEN_B],
      [4_000, QUEEN_A],
    ]);
    expect(h.sends.some((send) => send.request.queenUrl === planted)).toBe(false);
    expect(h.actor.getSnapshot().context.lastFailure).toMatchObject({ kind: 'redirect', leaderUrl: planted });
  });

  it('given one queen, follows its redirect wherever it leads: it has no list to check against', async () => {
    const leader = 'http://leader.test:7833';
    const h = startLifecycle({ script: (request) => (request.queenUrl === QUEEN_A ? redirect(leader) : ok()) });
    await h.clock.advanceTo(BEAT);
    expect(h.sends.map((send) => [send.at, send.request.queenUrl])).toEqual([
      [0, QUEEN_A],
      [0, leader],
      [BEAT, leader],
    ]);
    expect(h.actor.getSnapshot().context.lastFailure).toBeNull();
  });

  it('keeps a single queen when its list has one', async () => {
    const h = startLifecycle({ script: (_request, index) => (index < 2 ? ok() : refused()) });
    await h.clock.advanceTo(BEAT + 2_000);
    expect(new Set(h.sends.map((send) => send.request.queenUrl))).toEqual(new Set([QUEEN_A]));
  });
});
