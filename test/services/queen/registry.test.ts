import { describe, expect, it } from 'vitest';
import {
  hiveBeat,
  rememberingSecrets,
  startQueenRegistry,
  WALL_BASE,
  workerBeat,
} from '../../support/queen-registry.js';

function start(batch: boolean) {
  const { registry, timers } = startQueenRegistry({ batch });
  const r = rememberingSecrets(registry);
  const events: string[] = [];
  r.actor.system.inspect({
    next: (event) => {
      if (event.type === '@xstate.event' && event.event.type.endsWith('_HEARTBEATS')) events.push(event.event.type);
    },
  });
  return { registry: r, timers, events };
}

describe('queen registry host', () => {
  it('applies the heartbeats submitted in one turn as one event per registry, answering each in order', async () => {
    const { registry, events } = start(true);
    registry.receiveHive(hiveBeat('h1'));
    events.length = 0;
    const answers = Promise.all([
      registry.submitHive(hiveBeat('h2', {}, true)),
      registry.submitHive(hiveBeat('h1', { boot_id: 'b-impostor', hive_secret: 'guessed' })),
      registry.submitHive(hiveBeat('h3')),
      registry.submitWorker(workerBeat('w1', 'h1')),
      registry.submitWorker(workerBeat('w2', 'h2')),
    ]);
    expect(registry.hives.get('h3')).toBeUndefined();
    const [h2, impostor, h3] = await answers;
    expect(h2).toMatchObject({ ok: true, value: { resync: 'unknown' } });
    expect(impostor?.ok).toBe(false);
    expect(h3).toMatchObject({ ok: true, value: { resync: null } });
    expect(events).toEqual(['HIVE_HEARTBEATS', 'WORKER_HEARTBEATS']);
    expect(registry.workers.size).toBe(2);
  });

  it('judges a batched heartbeat by its time of receipt, and applies what is pending before a sweep', async () => {
    const { registry, timers } = start(true);
    registry.receiveHive(hiveBeat('h1'));
    await timers.advanceTo(1_000);
    const applied = registry.submitWorker(workerBeat('w1', 'h1'));
    // The sweep due at 2 s comes first here: it must see w1, received at 1 s.
    timers.set(2_000);
    expect(registry.workers.get('w1')).toMatchObject({ seenAt: 1_000, seenWall: WALL_BASE + 1_000 });
    await applied;
    await timers.advanceTo(45_999);
    expect(registry.workers.get('w1')?.liveness).toBe('online');
    await timers.advanceTo(46_000);
    expect(registry.workers.get('w1')?.liveness).toBe('suspect');
  });

  it('applies each submitted heartbeat before its promise settles when not batching', async () => {
    const { registry, events } = start(false);
    const hive = registry.submitHive(hiveBeat('h1'));
    expect(registry.hives.get('h1')?.liveness).toBe('online');
    await hive;
    void registry.submitWorker(workerBeat('w1', 'h1'));
    expect(registry.workers.get('w1')?.liveness).toBe('online');
    expect(events).toEqual(['HIVE_HEARTBEATS', 'WORKER_HEARTBEATS']);
  });
});
