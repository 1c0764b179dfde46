import { afterEach, describe, expect, it } from 'vitest';
import {
  capabilityMismatches,
  interArrivals,
  isRegistration,
  laterTransitions,
  sample,
  toggleModel,
} from './analysis.js';
import { type Cluster, createCluster, SIM_TEST_TIMEOUT_MS } from './cluster.js';
import { derive } from './random.js';
import { report, summarize } from './stats.js';

const N = 200;
const HOUR = 3_600_000;

let cluster: Cluster | undefined;
afterEach(() => cluster?.close());

describe('simulation: steady state', { timeout: SIM_TEST_TIMEOUT_MS }, () => {
  it('200 hives for one simulated hour: registered once each, then not one liveness transition', async () => {
    const sim = createCluster({ seed: 101, hives: N });
    cluster = sim;
    const { heartbeatIntervalMs: interval, jitter } = sim.lifecycle;
    const { maxDelayMs, minDelayMs } = sim.network.settings;
    // Capability changes keep coming meanwhile: 40 changes on random hives at random times.
    const random = derive(101, 'changes');
    for (const hive of sample(sim.hives, 40, random)) {
      sim.scheduler.at(60_000 + Math.floor(random() * (HOUR - 120_000)), () => toggleModel(hive, random));
    }

    await sim.runUntil(HOUR);

    const registrations = sim.queen.transitions.filter(isRegistration);
    const registrationLatency = registrations.map((t) => t.at - (sim.startedAt.get(t.id) ?? Number.NaN));
    const gaps = interArrivals(sim.queen.receipts);
    const health = await sim.queen.health();
    const rows = {
      'registration after start': summarize(registrationLatency),
      'heartbeat inter-arrival': summarize(gaps),
    };
    report('steady state, 200 hives, 1 h', rows, {
      heartbeats: sim.queen.receipts.length,
      'simulated events': sim.scheduler.fired,
      'liveness transitions after registration': laterTransitions(sim).length,
    });

    expect(registrations.map((t) => t.id).sort()).toEqual(sim.hives.map((h) => h.id));
    expect(laterTransitions(sim)).toEqual([]);
    // Every request was handled in the simulated instant it arrived in.
    expect(sim.queen.straddled).toBe(0);
    // The discovery heartbeat registers the hive on arrival: one network delay after the hive starts.
    expect(rows['registration after start'].min).toBeGreaterThanOrEqual(minDelayMs);
    expect(rows['registration after start'].max).toBeLessThanOrEqual(maxDelayMs);
    // A beat every interval ± jitter, plus the round trip of the previous one.
    expect(rows['heartbeat inter-arrival'].min).toBeGreaterThanOrEqual(interval * (1 - jitter));
    expect(rows['heartbeat inter-arrival'].max).toBeLessThanOrEqual(interval * (1 + jitter) + 3 * maxDelayMs);
    // 200 hives × 3 600 s / (30 s + a round trip): about 120 beats each, plus the first pair.
    expect(sim.queen.receipts.length).toBeGreaterThan(N * 118);
    expect(sim.queen.receipts.length).toBeLessThan(N * 123);
    expect(health.hives).toEqual({ expected: 0, online: N, suspect: 0, offline: 0 });
    expect(await capabilityMismatches(sim)).toEqual([]);
  });
});
