import { afterEach, describe, expect, it } from 'vitest';
import { laterTransitions, lossRuns } from './analysis.js';
import { type Cluster, createCluster, SIM_TEST_TIMEOUT_MS } from './cluster.js';
import { report, summarize } from './stats.js';

const N = 200;
const LOSS = 0.1;
/** Losses begin once every hive is registered and heartbeating: its first two beats go out back to back. */
const LOSS_FROM_MS = 60_000;
const LOSSY_MS = 30 * 60_000;
/** Losses stop for the last minutes, so every run of losses has ended when the books are closed. */
const QUIET_MS = 3 * 60_000;

let cluster: Cluster | undefined;
afterEach(() => cluster?.close());

describe('simulation: 10 % of heartbeats lost at random', { timeout: SIM_TEST_TIMEOUT_MS }, () => {
  it('takes no hive offline and marks one suspect only for two or more losses in a row, within its window', async () => {
    const sim = createCluster({ seed: 202, hives: N });
    cluster = sim;
    const { suspectAfterMs } = sim.liveness;
    sim.scheduler.at(LOSS_FROM_MS, () => sim.network.setLossRate(LOSS));
    sim.scheduler.at(LOSS_FROM_MS + LOSSY_MS, () => sim.network.setLossRate(0));
    await sim.runUntil(LOSS_FROM_MS + LOSSY_MS + QUIET_MS);

    const runs = lossRuns(sim.network.events);
    const later = laterTransitions(sim);
    const suspects = later.filter((t) => t.to === 'suspect');
    const offlines = later.filter((t) => t.to === 'offline');
    const allRuns = [...runs.values()].flat();
    const lossy = sim.network.events.filter((e) => e.at >= LOSS_FROM_MS && e.at < LOSS_FROM_MS + LOSSY_MS);
    const lost = lossy.filter((e) => e.kind === 'lost').length;
    const attempts = lost + lossy.filter((e) => e.kind === 'answered').length;

    // A failed heartbeat is retried after the backoff (2 s, then 4 s, …): one lost beat leaves a gap of about one
    // interval + request timeout + 2 s (< 45 s), so only runs of two or more losses can make a hive suspect, and
    // none of the runs that occur here (up to 4) reaches the offline window.
    const suspectedIds = new Set(suspects.map((t) => t.id));
    const longRunIds = new Set([...runs].filter(([, lengths]) => lengths.some((k) => k >= 2)).map(([id]) => id));
    // Expected suspects from the loss rate: a run of two or more losses starts at a success followed by two losses,
    // p²(1 − p) per attempt. Bounded at mean + 3σ of the binomial.
    const bound = (trials: number, q: number) => Math.ceil(trials * q + 3 * Math.sqrt(trials * q * (1 - q)));
    const suspectBound = bound(attempts, LOSS * LOSS * (1 - LOSS));
    const recoveries = later.filter((t) => t.to === 'online' && t.from !== null);
    report(
      '10 % heartbeats lost, 200 hives, 30 min',
      {
        'suspect: silence when judged': summarize(suspects.map((t) => t.silentMs ?? Number.NaN)),
        'offline: silence when judged': summarize(offlines.map((t) => t.silentMs ?? Number.NaN)),
        'loss run length': summarize(allRuns),
      },
      {
        'send attempts': attempts,
        'lost requests': lost,
        'runs of 1 loss': allRuns.filter((k) => k === 1).length,
        'runs of ≥ 2 losses': allRuns.filter((k) => k >= 2).length,
        'suspect transitions': suspects.length,
        'suspect bound (mean + 3σ)': suspectBound,
        'offline transitions': offlines.length,
        'back online': recoveries.length,
      },
    );

    expect(offlines).toEqual([]);
    expect(suspects.length).toBeLessThanOrEqual(allRuns.filter((k) => k >= 2).length);
    expect(suspects.length).toBeLessThanOrEqual(suspectBound);
    expect([...suspectedIds].every((id) => longRunIds.has(id))).toBe(true);
    // Never early, never later than one sweep period.
    for (const t of suspects) expect(t.silentMs).toBeGreaterThanOrEqual(suspectAfterMs);
    for (const t of suspects) expect(t.silentMs).toBeLessThanOrEqual(suspectAfterMs + 1_000);
    expect((await sim.queen.health()).hives).toEqual({ expected: 0, online: N, suspect: 0, offline: 0 });
  });
});
