import { afterEach, describe, expect, it } from 'vitest';
import { sweepPeriodMs } from '../../machines/liveness.js';
import {
  capabilityMismatches,
  laterTransitions,
  sample,
  toggleModel,
  transitionsOf,
  upgradeWorker,
} from './analysis.js';
import { type Cluster, createCluster, SIM_TEST_TIMEOUT_MS } from './cluster.js';
import { derive } from './random.js';
import { report, summarize } from './stats.js';

const N = 200;
const CUT = 50;
const PARTITION_AT = 3 * 60_000;
const PARTITION_MS = 2 * 60_000;
const HEAL_AT = PARTITION_AT + PARTITION_MS;

let cluster: Cluster | undefined;
afterEach(() => cluster?.close());

describe('simulation: 50 hives cut off for 2 minutes', { timeout: SIM_TEST_TIMEOUT_MS }, () => {
  it('takes them offline, brings them back after the heal, and loses no capability changed meanwhile', async () => {
    const sim = createCluster({ seed: 707, hives: N });
    cluster = sim;
    const { offlineAfterMs } = sim.liveness;
    const { heartbeatIntervalMs: interval, probeIntervalMs, jitter } = sim.lifecycle;
    const { maxDelayMs, requestTimeoutMs } = sim.network.settings;
    const sweep = sweepPeriodMs(sim.liveness);
    const random = derive(707, 'partition');
    const cut = sample(sim.hives, CUT, random);
    const cutIds = new Set(cut.map((hive) => hive.id));
    // Half of them change capabilities while cut off; some twice, so the queen must take two versions at once.
    const changing = cut.filter((_, i) => i % 2 === 0);
    const twice = changing.filter((_, i) => i % 3 === 0);
    sim.scheduler.at(PARTITION_AT, () => sim.network.partition(cutIds));
    for (const hive of changing) {
      sim.scheduler.at(PARTITION_AT + 20_000 + Math.floor(random() * 40_000), () => toggleModel(hive, random));
    }
    for (const hive of twice) {
      sim.scheduler.at(PARTITION_AT + 70_000 + Math.floor(random() * 40_000), () =>
        upgradeWorker(hive, 'vllm', '0.6.3'),
      );
    }
    const statesAtHeal = new Map<string, number>();
    sim.scheduler.at(HEAL_AT, () => {
      for (const hive of cut) statesAtHeal.set(hive.state(), (statesAtHeal.get(hive.state()) ?? 0) + 1);
      sim.network.heal(cutIds);
    });
    await sim.runUntil(HEAL_AT + 2 * 60_000);

    const later = laterTransitions(sim);
    const offline = later.filter((t) => t.to === 'offline');
    const back = later.filter((t) => t.to === 'online');
    // After the heal a hive sends again at its next interval, backoff attempt or — having given up on the queen during
    // the partition — its next re-probe at the latest, and a send cut off before the heal first times out.
    const recoveryBound = Math.max(interval, probeIntervalMs) * (1 + jitter) + requestTimeoutMs + maxDelayMs;
    const rows = {
      'offline after partition': summarize(offline.map((t) => t.at - PARTITION_AT)),
      'offline: silence when judged': summarize(offline.map((t) => t.silentMs ?? Number.NaN)),
      'back online after heal': summarize(back.map((t) => t.at - HEAL_AT)),
    };
    report('50 of 200 hives partitioned for 2 min', rows, {
      'hives that changed capabilities while cut off': changing.length,
      'of them twice': twice.length,
      'lifecycle states at the heal': [...statesAtHeal].map(([state, count]) => `${count} ${state}`).join(', '),
    });

    for (const hive of cut) {
      expect(transitionsOf(sim, hive.id).map((t) => `${t.from}→${t.to}`)).toEqual([
        'null→online',
        'online→suspect',
        'suspect→offline',
        'offline→online',
      ]);
    }
    expect(later.every((t) => cutIds.has(t.id))).toBe(true);
    expect(offline.every((t) => t.at < HEAL_AT)).toBe(true);
    expect(rows['offline after partition'].max).toBeLessThanOrEqual(offlineAfterMs + sweep + maxDelayMs);
    expect(rows['back online after heal'].count).toBe(CUT);
    expect(rows['back online after heal'].max).toBeLessThanOrEqual(recoveryBound);
    expect(changing.every((hive) => hive.capabilities.version() >= 1)).toBe(true);
    expect(twice.every((hive) => hive.capabilities.version() === 2)).toBe(true);
    expect(await capabilityMismatches(sim)).toEqual([]);
    expect((await sim.queen.health()).hives).toEqual({ expected: 0, online: N, suspect: 0, offline: 0 });
  });
});
