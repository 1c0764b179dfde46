import { afterEach, describe, expect, it } from 'vitest';
import { interArrivals, laterTransitions } from './analysis.js';
import { type Cluster, createCluster } from './cluster.js';
import { SIM_TICK_MS } from './queen.js';
import { report, summarize } from './stats.js';

const N = 200;
const STALL_AT = 2 * 60_000;
/** Long enough after the stall for every hive to have been judged had it been charged for it. */
const AFTER_MS = 3 * 60_000;

let cluster: Cluster | undefined;
afterEach(() => cluster?.close());

describe.each([
  { name: '5 s', stallMs: 5_000 },
  { name: '10 min', stallMs: 10 * 60_000 },
])('simulation: the queen stalls for $name', ({ name, stallMs }) => {
  it('receives nothing during the stall, then everything at once, and takes no hive offline for it', async () => {
    const sim = createCluster({ seed: 404, hives: N });
    cluster = sim;
    const { heartbeatIntervalMs: interval, jitter } = sim.lifecycle;
    const { maxDelayMs } = sim.network.settings;
    sim.scheduler.at(STALL_AT, () => sim.queen.stall(stallMs));
    await sim.runUntil(STALL_AT + stallMs + AFTER_MS);

    const during = sim.queen.receipts.filter((r) => r.at >= STALL_AT && r.at < STALL_AT + stallMs);
    const atResume = sim.queen.receipts.filter((r) => r.at === STALL_AT + stallMs);
    const timedOut = sim.network.events.filter(
      (e) => e.kind === 'timeout' && e.at >= STALL_AT && e.at <= STALL_AT + stallMs + maxDelayMs,
    );
    const gaps = interArrivals(sim.queen.receipts);
    const health = await sim.queen.health();
    report(
      `queen stalls ${name}, 200 hives`,
      { 'heartbeat inter-arrival': summarize(gaps) },
      {
        'received during the stall': during.length,
        'held, received at resume': atResume.length,
        'hive sends timed out by the stall': timedOut.length,
        'stall left out of the queen clock (ms)': sim.queen.stalledMs,
        'liveness transitions after registration': laterTransitions(sim).length,
      },
    );

    expect(during).toEqual([]);
    // Every request was handled in the simulated instant it arrived in.
    expect(sim.queen.straddled).toBe(0);
    // Heartbeats sent during the stall wait, and are received when the queen resumes.
    expect(atResume.length).toBeGreaterThan(15);
    expect(laterTransitions(sim)).toEqual([]);
    expect(health.hives).toEqual({ expected: 0, online: N, suspect: 0, offline: 0 });
    // The queen's clock left out the stall but for a tick and its tolerance.
    expect(sim.queen.stalledMs).toBeGreaterThanOrEqual(stallMs - 2 * SIM_TICK_MS);
    if (stallMs < interval) {
      // The stall stretches one interval of the held hives by at most its length.
      expect(summarize(gaps).max).toBeLessThanOrEqual(interval * (1 + jitter) + 3 * maxDelayMs + stallMs);
    }
  }, 120_000);
});
