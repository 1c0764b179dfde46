import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { assembleQueen } from '../../../actors/assemble-queen.js';
import { silentLogger } from '../../../services/logger.js';
import { timedTimers } from '../../../services/queen/timed-timers.js';

describe('timedTimers', () => {
  it('runs each callback on the given timers and reports how long it ran', () => {
    const clock = new SimulatedClock();
    const reported: number[] = [];
    const timers = timedTimers((ms) => reported.push(ms), clock);
    const ran: string[] = [];
    timers.setTimeout(() => {
      const until = performance.now() + 5;
      // Busy on purpose: the reported time is event-loop time.
      while (performance.now() < until) {}
      ran.push('first');
    }, 100);
    const cancelled = timers.setTimeout(() => ran.push('cancelled'), 100);
    timers.clearTimeout(cancelled);

    clock.increment(99);
    expect(ran).toEqual([]);
    clock.increment(1);
    expect(ran).toEqual(['first']);
    expect(reported).toHaveLength(1);
    expect(reported[0]).toBeGreaterThanOrEqual(5);
  });

  it('gives the queen a histogram of its registry sweeps on /metrics', async () => {
    const timers = new SimulatedClock();
    const queen = assembleQueen({
      settings: { suspectAfterMs: 3_000, offlineAfterMs: 6_000, forgetAfterMs: 60_000 },
      streamIntervalMs: 60_000,
      logger: silentLogger,
      timers,
    });
    try {
      // Sweeps come every 150 ms here (suspect-after / 20), one per registry.
      timers.increment(150);
      timers.increment(150);
      const text = await (await queen.app.request('/metrics')).text();
      expect(text).toMatch(/^apiary_registry_sweep_seconds_count 4$/m);
    } finally {
      queen.close();
    }
  });
});
