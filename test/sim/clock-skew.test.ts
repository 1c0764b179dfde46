import { afterEach, describe, expect, it } from 'vitest';
import { laterTransitions } from './analysis.js';
import { type Cluster, createCluster, SIM_TEST_TIMEOUT_MS } from './cluster.js';
import { between } from './random.js';
import { report, summarize } from './stats.js';

const N = 200;
const SKEW_MS = 5 * 60_000;

let cluster: Cluster | undefined;
afterEach(() => cluster?.close());

describe('simulation: hive clocks skewed by up to ±5 minutes', { timeout: SIM_TEST_TIMEOUT_MS }, () => {
  it('changes no liveness, and reports each offset right to within the network delay', async () => {
    const sim = createCluster({ seed: 303, hives: N, skewMs: (random) => between(random, -SKEW_MS, SKEW_MS) });
    cluster = sim;
    const { minDelayMs, maxDelayMs } = sim.network.settings;
    await sim.runUntil(15 * 60_000);

    const views = new Map((await sim.queen.hives()).map((view) => [view.hive_id, view]));
    const skews = sim.hives.map((hive) => hive.skewMs);
    // offset = hive clock − queen clock at receipt = skew − the request's one-way delay.
    const errors = sim.hives.map((hive) => (views.get(hive.id)?.clock_offset_ms ?? Number.NaN) - hive.skewMs);
    const rows = {
      'hive skew': summarize(skews),
      'clock_offset_ms − skew': summarize(errors),
      last_seen_age_ms: summarize([...views.values()].map((view) => view.last_seen_age_ms ?? Number.NaN)),
    };
    report('hive clocks skewed ±5 min, 200 hives, 15 min', rows, {
      'liveness transitions after registration': laterTransitions(sim).length,
    });

    expect(laterTransitions(sim)).toEqual([]);
    expect(rows['hive skew'].min).toBeLessThan(-SKEW_MS * 0.9);
    expect(rows['hive skew'].max).toBeGreaterThan(SKEW_MS * 0.9);
    expect(rows['clock_offset_ms − skew'].count).toBe(N);
    expect(rows['clock_offset_ms − skew'].min).toBeGreaterThanOrEqual(-maxDelayMs);
    expect(rows['clock_offset_ms − skew'].max).toBeLessThanOrEqual(-minDelayMs);
    // Ages on the queen's clock, whatever the hives' clocks say.
    expect(rows.last_seen_age_ms.max).toBeLessThanOrEqual(
      sim.lifecycle.heartbeatIntervalMs * (1 + sim.lifecycle.jitter) + 3 * maxDelayMs,
    );
  });
});
