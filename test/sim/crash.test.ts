import { afterEach, describe, expect, it } from 'vitest';
import { sweepPeriodMs } from '../../machines/liveness.js';
import { laterTransitions, sample, transitionsOf } from './analysis.js';
import { type Cluster, createCluster, SIM_TEST_TIMEOUT_MS } from './cluster.js';
import { derive } from './random.js';
import { report, summarize } from './stats.js';

const N = 200;
const CRASHED = 20;
const CRASH_AT = 3 * 60_000;

let cluster: Cluster | undefined;
afterEach(() => cluster?.close());

describe('simulation: 20 hives crash at once', { timeout: SIM_TEST_TIMEOUT_MS }, () => {
  it('takes each through suspect, offline and forgotten within its window, and leaves the other 180 alone', async () => {
    const sim = createCluster({ seed: 606, hives: N });
    cluster = sim;
    const { suspectAfterMs, offlineAfterMs, forgetAfterMs } = sim.liveness;
    const sweep = sweepPeriodMs(sim.liveness);
    const { maxDelayMs } = sim.network.settings;
    const crashed = sample(sim.hives, CRASHED, derive(606, 'crash'));
    sim.scheduler.at(CRASH_AT, () => {
      for (const hive of crashed) hive.crash();
    });
    await sim.runUntil(CRASH_AT + forgetAfterMs + 60_000);

    const crashedIds = new Set(crashed.map((hive) => hive.id));
    const later = laterTransitions(sim);
    const of = (to: string) => later.filter((t) => t.to === to);
    const sinceCrash = (to: string) => of(to).map((t) => t.at - CRASH_AT);
    const rows = {
      'suspect after crash': summarize(sinceCrash('suspect')),
      'offline after crash': summarize(sinceCrash('offline')),
      'forgotten after crash': summarize(sinceCrash('forgotten')),
      'suspect: silence when judged': summarize(of('suspect').map((t) => t.silentMs ?? Number.NaN)),
      'offline: silence when judged': summarize(of('offline').map((t) => t.silentMs ?? Number.NaN)),
    };
    report('20 of 200 hives crash', rows);

    for (const hive of crashed) {
      expect(transitionsOf(sim, hive.id).map((t) => `${t.from}→${t.to}`)).toEqual([
        'null→online',
        'online→suspect',
        'suspect→offline',
        'offline→forgotten',
      ]);
    }
    expect(later.every((t) => crashedIds.has(t.id))).toBe(true);
    // A heartbeat already on its way when the hive died still lands: the window counts from the crash plus one delay.
    expect(rows['suspect after crash'].max).toBeLessThanOrEqual(suspectAfterMs + sweep + maxDelayMs);
    expect(rows['offline after crash'].max).toBeLessThanOrEqual(offlineAfterMs + sweep + maxDelayMs);
    expect(rows['forgotten after crash'].max).toBeLessThanOrEqual(forgetAfterMs + sweep + maxDelayMs);
    // Judged on the queen's clock from the last receipt: never early, at most one sweep late.
    expect(rows['suspect: silence when judged'].min).toBeGreaterThanOrEqual(suspectAfterMs);
    expect(rows['suspect: silence when judged'].max).toBeLessThanOrEqual(suspectAfterMs + sweep);
    expect(rows['offline: silence when judged'].min).toBeGreaterThanOrEqual(offlineAfterMs);
    expect(rows['offline: silence when judged'].max).toBeLessThanOrEqual(offlineAfterMs + sweep);
    const health = await sim.queen.health();
    expect(health.hives).toEqual({ expected: 0, online: N - CRASHED, suspect: 0, offline: 0 });
  });
});

describe('simulation: a hive crashes and restarts within seconds', { timeout: SIM_TEST_TIMEOUT_MS }, () => {
  it('is taken back at once with its new boot: no false suspect, offline or refusal', async () => {
    const sim = createCluster({ seed: 909, hives: 10 });
    cluster = sim;
    const hive = sim.hives[3];
    if (!hive) throw new Error('no hive-003');
    sim.scheduler.at(CRASH_AT, () => hive.crash());
    sim.scheduler.at(CRASH_AT + 2_000, () => hive.start());
    await sim.runUntil(CRASH_AT + 5 * 60_000);

    expect(laterTransitions(sim)).toEqual([]);
    expect(hive.state()).toBe('HEARTBEATING');
    const view = (await sim.queen.hives()).find((entry) => entry.hive_id === hive.id);
    expect(view?.boot_id).toBe(`boot-${hive.id}-2`);
    expect(view?.liveness).toBe('online');
  });
});
