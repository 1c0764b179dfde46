import { describe, expect, it } from 'vitest';
import { createQueenClock, type QueenClock } from '../../../services/queen/queen-clock.js';
import { SteppingClock } from '../../support/stepping-clock.js';

const TICK = 100;
const TOLERANCE = 150;
const GRACE = 250;
const MAX_HOLD = 5_000;

/** A queen clock on a SteppingClock: `advanceTo` is time passing with the queen running, `stall` a frozen process. */
function harness(): { clock: QueenClock; timers: SteppingClock; stalls: number[]; stall(ms: number): void } {
  const timers = new SteppingClock();
  const stalls: number[] = [];
  const clock = createQueenClock({
    base: { now: () => timers.now(), wallNow: () => 1_000_000 + timers.now() },
    timers,
    tickMs: TICK,
    toleranceMs: TOLERANCE,
    graceMs: GRACE,
    maxHoldMs: MAX_HOLD,
    onStall: (ms) => stalls.push(ms),
  });
  return {
    clock,
    timers,
    stalls,
    // One jump: no timer runs until the process is back, then every due one runs seeing the end time.
    stall: (ms) => timers.set(timers.now() + ms),
  };
}

describe('queen clock', () => {
  it('follows the raw clock while the queen runs, late ticks within the tolerance included', async () => {
    const { clock, timers, stalls } = harness();
    await timers.advanceTo(10_000);
    expect(clock.now()).toBe(10_000);
    // A tick late by less than the tolerance is ordinary load, counted as time.
    timers.set(timers.now() + TICK + TOLERANCE - 1);
    expect(clock.now()).toBe(timers.now());
    expect(clock.stalledMs).toBe(0);
    expect(stalls).toEqual([]);
    expect(clock.wallNow()).toBe(1_000_000 + timers.now());
    clock.stop();
  });

  it('leaves a stall and its hold out of now(), while they last and after the ticker saw them, never going back', async () => {
    const { clock, timers, stalls } = harness();
    await timers.advanceTo(1_000);
    const before = clock.now();
    const readings: number[] = [];
    // The process is frozen: nothing runs; a timer due before the next tick, run first at the end, reads the clock.
    timers.setTimeout(() => readings.push(clock.now()), TICK / 2);
    timers.set(timers.now() + 60_000);
    const frozenAt = before + TICK + TOLERANCE;
    expect(readings).toEqual([frozenAt]);
    expect(stalls).toHaveLength(1);
    expect(stalls[0]).toBe(60_000 - TICK - TOLERANCE);
    expect(clock.now()).toBe(frozenAt);
    // The hold after a stall this long is the cap: the clock stands still through it, then runs on.
    const resumed = timers.now();
    await timers.advanceTo(resumed + MAX_HOLD - 1);
    expect(clock.now()).toBe(frozenAt);
    await timers.advanceTo(resumed + MAX_HOLD + 1_000);
    expect(clock.now()).toBe(frozenAt + 1_000);
    expect(clock.stalledMs).toBe(60_000 - TICK - TOLERANCE);
    clock.stop();
  });

  it('holds sweeps due during a stall for as long as it lasted, within the grace and the cap', async () => {
    const { clock, timers, stall } = harness();
    const sweepTimers = clock.sweepTimers(timers);
    const ran: number[] = [];
    await timers.advanceTo(1_000);
    sweepTimers.setTimeout(() => ran.push(timers.now()), 200);
    await timers.advanceTo(1_200);
    expect(ran).toEqual([1_200]);

    // A 2 s stall: sweeps wait about 2 s after it.
    sweepTimers.setTimeout(() => ran.push(timers.now()), 200);
    stall(2_000);
    expect(ran).toEqual([1_200]);
    const resumed = timers.now();
    await timers.advanceTo(resumed + 1_500);
    expect(ran).toEqual([1_200]);
    await timers.advanceTo(resumed + 2_500);
    expect(ran).toHaveLength(2);
    expect(ran[1]).toBeGreaterThanOrEqual(resumed + 2_000 - TICK - TOLERANCE);

    // A 10 min stall: the hold is capped.
    sweepTimers.setTimeout(() => ran.push(timers.now()), 200);
    stall(600_000);
    const later = timers.now();
    await timers.advanceTo(later + MAX_HOLD + TICK);
    expect(ran).toHaveLength(3);
    expect(ran[2]).toBeGreaterThanOrEqual(later + MAX_HOLD - TICK);

    // A short pause just over the tolerance: the shortest hold, the grace.
    sweepTimers.setTimeout(() => ran.push(timers.now()), 50);
    stall(TICK + TOLERANCE + 10);
    const short = timers.now();
    await timers.advanceTo(short + GRACE + TICK);
    expect(ran).toHaveLength(4);
    expect(ran[3]).toBeGreaterThanOrEqual(short + GRACE - TICK);
    clock.stop();
  });

  it('never stands still under sustained load: late ticks get no hold, and after a hold the clock runs as long', async () => {
    const { clock, timers, stall } = harness();
    const sweepTimers = clock.sweepTimers(timers);
    const ran: number[] = [];
    await timers.advanceTo(1_000);
    // Every tick 260 ms late, for a minute: only the lateness past the tolerance is left out, nothing is held.
    let start = clock.now();
    let rawStart = timers.now();
    sweepTimers.setTimeout(() => ran.push(timers.now()), 1_000);
    while (timers.now() < rawStart + 60_000) stall(TICK + 260);
    expect(clock.now() - start).toBeGreaterThanOrEqual(
      ((timers.now() - rawStart) * (TICK + TOLERANCE)) / (TICK + 260) - TICK,
    );
    expect(ran).toHaveLength(1);
    expect(ran[0]).toBeLessThan(rawStart + 2_000);

    // Pauses of 2 s one after another: a hold after one of them at most every other, so the clock keeps moving.
    start = clock.now();
    rawStart = timers.now();
    for (let i = 0; i < 20; i++) stall(2_000);
    expect(clock.now() - start).toBeGreaterThanOrEqual(10 * (TICK + TOLERANCE));
    clock.stop();
  });

  it('cancels a held sweep, and stops ticking when stopped', async () => {
    const { clock, timers, stall, stalls } = harness();
    const sweepTimers = clock.sweepTimers(timers);
    const ran: string[] = [];
    const id = sweepTimers.setTimeout(() => ran.push('held'), 100);
    stall(2_000);
    sweepTimers.clearTimeout(id);
    await timers.advanceTo(timers.now() + 10_000);
    expect(ran).toEqual([]);
    clock.stop();
    expect(timers.nextDue()).toBeUndefined();
    expect(stalls).toHaveLength(1);
  });
});
