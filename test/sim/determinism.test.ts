import { describe, expect, it } from 'vitest';
import { sample, toggleModel } from './analysis.js';
import { createCluster, SIM_TEST_TIMEOUT_MS } from './cluster.js';
import { derive } from './random.js';

/** A small run with every kind of disturbance; its complete log of transitions, receipts and network events. */
async function run(seed: number): Promise<string> {
  const sim = createCluster({ seed, hives: 20, network: { lossRate: 0.1 } });
  try {
    const random = derive(seed, 'script');
    const cut = new Set(sample(sim.hives, 5, random).map((hive) => hive.id));
    sim.scheduler.at(120_000, () => sim.network.partition(cut));
    sim.scheduler.at(240_000, () => sim.network.heal(cut));
    sim.scheduler.at(300_000, () => sim.queen.stall(5_000));
    sim.scheduler.at(360_000, () => sim.queen.restart());
    for (const hive of sample(sim.hives, 5, random)) {
      sim.scheduler.at(Math.floor(random() * 600_000), () => toggleModel(hive, random));
    }
    await sim.runUntil(600_000);
    return JSON.stringify({
      transitions: sim.queen.transitions,
      receipts: sim.queen.receipts,
      network: sim.network.events,
      hives: await sim.queen.hives(),
    });
  } finally {
    sim.close();
  }
}

describe('simulation: determinism', { timeout: SIM_TEST_TIMEOUT_MS }, () => {
  it('gives the same event log for the same seed, and another for another seed', async () => {
    const first = await run(808);
    const second = await run(808);
    const other = await run(809);
    // The run is not trivial: it saw losses, transitions and a restart.
    expect(first).toContain('"to":"offline"');
    expect(first).toContain('"kind":"lost"');
    expect(first).toContain('"queen":2');
    expect(second).toBe(first);
    expect(other).not.toBe(first);
  });
});
