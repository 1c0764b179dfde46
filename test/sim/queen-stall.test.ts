import { afterEach, describe, expect, it } from 'vitest';
import { interArrivals, laterTransitions } from './analysis.js';
import { type Cluster, createCluster } from './cluster.js';
import { report, summarize } from './stats.js';

const N = 200;
const STALL_AT = 5 * 60_000;
const STALL_MS = 5_000;

let cluster: Cluster | undefined;
afterEach(() => cluster?.close());

describe('simulation: the queen stalls for 5 s', () => {
  it('receives nothing during the stall, then everything at once, and takes no hive offline for it', async () => {
    const sim = createCluster({ seed: 404, hives: N });
    cluster = sim;
    const { heartbeatIntervalMs: interval, jitter } = sim.lifecycle;
    const { maxDelayMs } = sim.network.settings;
    sim.scheduler.at(STALL_AT, () => sim.queen.stall(STALL_MS));
    await sim.runUntil(10 * 60_000);

    const during = sim.queen.receipts.filter((r) => r.at >= STALL_AT && r.at < STALL_AT + STALL_MS);
    const atResume = sim.queen.receipts.filter((r) => r.at === STALL_AT + STALL_MS);
    const timedOut = sim.network.events.filter(
      (e) => e.kind === 'timeout' && e.at >= STALL_AT && e.at <= STALL_AT + STALL_MS + maxDelayMs,
    );
    const gaps = interArrivals(sim.queen.receipts);
    const health = await sim.queen.health();
    report(
      'queen stalls 5 s, 200 hives, 10 min',
      { 'heartbeat inter-arrival': summarize(gaps) },
      {
        'received during the stall': during.length,
        'held, received at resume': atResume.length,
        'hive sends timed out by the stall': timedOut.length,
        'liveness transitions after registration': laterTransitions(sim).length,
      },
    );

    expect(during).toEqual([]);
    // Every request was handled in the simulated instant it arrived in.
    expect(sim.queen.straddled).toBe(0);
    // About 200 / 30 s × 5 s arrive during the stall; they wait, and are received when the queen resumes.
    expect(atResume.length).toBeGreaterThan(15);
    expect(laterTransitions(sim)).toEqual([]);
    expect(health.hives).toEqual({ expected: 0, online: N, suspect: 0, offline: 0 });
    // The stall stretches one interval of the held hives by at most its length.
    expect(summarize(gaps).max).toBeLessThanOrEqual(interval * (1 + jitter) + 3 * maxDelayMs + STALL_MS);
  });
});
