import { afterEach, describe, expect, it } from 'vitest';
import { laterTransitions, lossRuns } from './analysis.js';
import { type Cluster, createCluster } from './cluster.js';
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

describe('simulation: 10 % of heartbeats lost at random', () => {
  it('marks a hive suspect only for a lost heartbeat, offline only for two in a row, and within its window', async () => {
    const sim = createCluster({ seed: 202, hives: N });
    cluster = sim;
    const { suspectAfterMs, offlineAfterMs } = sim.liveness;
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

    // With PROTOCOL's timings one lost beat leaves a gap of two intervals plus the request timeout (≥ 59 s > 45 s)
    // and two lost beats one of three intervals plus two timeouts (≥ 91 s > 90 s): the lifecycle retries a failed
    // heartbeat only at the next interval. So each run of losses is one suspect, and one offline when 2 or longer.
    // Issue 6 asks for no offline at all here, which takes a quicker retry after a failed beat: this pins today's.
    const expected = new Map<string, string[]>();
    for (const [id, lengths] of runs) {
      expected.set(
        id,
        lengths.flatMap((k) => (k === 1 ? ['suspect', 'online'] : ['suspect', 'offline', 'online'])),
      );
    }
    const observed = new Map<string, string[]>();
    for (const t of later) observed.set(t.id, [...(observed.get(t.id) ?? []), t.to]);

    // Expected counts from the loss rate: a run starts at a loss after a success, p(1 − p) per attempt; it is two
    // or longer with probability p. Bounded at mean + 3σ of the binomial.
    const bound = (trials: number, q: number) => Math.ceil(trials * q + 3 * Math.sqrt(trials * q * (1 - q)));
    const suspectBound = bound(attempts, LOSS * (1 - LOSS));
    const offlineBound = bound(attempts, LOSS * LOSS * (1 - LOSS));
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
        'offline bound (mean + 3σ)': offlineBound,
        'back online': recoveries.length,
      },
    );

    expect(observed).toEqual(expected);
    expect(suspects.length).toBe(allRuns.length);
    expect(suspects.length).toBeLessThanOrEqual(suspectBound);
    expect(offlines.length).toBe(allRuns.filter((k) => k >= 2).length);
    expect(offlines.length).toBeLessThanOrEqual(offlineBound);
    // Never early, never later than one sweep period.
    for (const t of suspects) expect(t.silentMs).toBeGreaterThanOrEqual(suspectAfterMs);
    for (const t of suspects) expect(t.silentMs).toBeLessThanOrEqual(suspectAfterMs + 1_000);
    for (const t of offlines) expect(t.silentMs).toBeGreaterThanOrEqual(offlineAfterMs);
    for (const t of offlines) expect(t.silentMs).toBeLessThanOrEqual(offlineAfterMs + 1_000);
    expect((await sim.queen.health()).hives).toEqual({ expected: 0, online: N, suspect: 0, offline: 0 });
  });
});
