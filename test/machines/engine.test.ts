import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { type EngineEmitted, engineMachine } from '../../machines/engine.js';
import { SteppingClock, settle } from '../support/stepping-clock.js';

/** The engine machine on a simulated clock: ready timeout, restart backoff, giving up, recovery. */

const INPUT = { readyTimeoutMs: 10_000, backoffMs: [0, 2_000, 4_000, 8_000, 16_000], maxFailures: 5 };

function start(input = INPUT) {
  const clock = new SteppingClock();
  const actor = createActor(engineMachine, { clock, input });
  const emitted: (EngineEmitted & { at: number })[] = [];
  actor.on('*', (event) => emitted.push({ ...event, at: clock.now() }));
  actor.start();
  return { clock, actor, emitted };
}

const crash = { type: 'ENGINE_EXITED', code: null, signal: 'SIGKILL', detail: null } as const;

describe('engine machine', () => {
  it('is up once healthy, down with the reason on exit, and running again after the first backoff (0 s)', async () => {
    const { actor, emitted, clock } = start();
    expect(actor.getSnapshot().value).toEqual({ RUNNING: 'STARTING' });
    actor.send({ type: 'ENGINE_HEALTHY' });
    expect(actor.getSnapshot().value).toEqual({ RUNNING: 'SERVING' });
    actor.send(crash);
    expect(actor.getSnapshot().value).toBe('FAILED');
    expect(actor.getSnapshot().context.lastError).toBe('engine exited (SIGKILL)');
    await clock.advanceTo(clock.now());
    await settle();
    expect(actor.getSnapshot().value).toEqual({ RUNNING: 'STARTING' });
    actor.send({ type: 'ENGINE_HEALTHY' });
    expect(actor.getSnapshot().context).toMatchObject({ restarts: 1, failures: 0, lastError: null });
    expect(emitted.map((e) => e.type)).toEqual(['up', 'down', 'up']);
  });

  it('fails a start that is not healthy within the ready timeout', async () => {
    const { actor, clock, emitted } = start();
    await clock.advanceTo(INPUT.readyTimeoutMs - 1);
    expect(actor.getSnapshot().value).toEqual({ RUNNING: 'STARTING' });
    await clock.advanceTo(INPUT.readyTimeoutMs);
    await settle();
    expect(emitted[0]).toMatchObject({ type: 'down', at: INPUT.readyTimeoutMs });
    expect(actor.getSnapshot().context.lastError).toMatch(/not healthy within the ready timeout \(10000 ms\)/);
  });

  it('restarts after 0, 2, 4, 8 s of failures in a row and gives up at the fifth, saying so', async () => {
    const { actor, clock, emitted } = start();
    const restartedAt: number[] = [];
    actor.subscribe((snapshot) => {
      if (snapshot.matches({ RUNNING: 'STARTING' })) restartedAt.push(clock.now());
    });
    for (let failure = 1; failure <= 5; failure++) {
      actor.send({ ...crash, code: 1, signal: null, detail: 'CUDA out of memory' });
      const due = clock.nextDue();
      if (due !== undefined && failure < 5) await clock.advanceTo(due);
      await settle();
    }
    expect(restartedAt.slice(0, 4)).toEqual([0, 2_000, 6_000, 14_000]);
    expect(actor.getSnapshot().value).toBe('GAVE_UP');
    expect(actor.getSnapshot().context.lastError).toBe(
      'gave up after 5 failures in a row: engine exited (code 1): CUDA out of memory',
    );
    expect(emitted.filter((e) => e.type === 'down')).toHaveLength(6);
    expect(clock.nextDue()).toBeUndefined();
  });

  it('a failed health check while serving is a failure; a healthy start resets the count', async () => {
    const { actor, clock } = start({ ...INPUT, maxFailures: 2 });
    actor.send({ type: 'ENGINE_HEALTHY' });
    actor.send({ type: 'ENGINE_UNHEALTHY', reason: 'status 500' });
    expect(actor.getSnapshot().context).toMatchObject({ failures: 1, lastError: 'health check failed: status 500' });
    await clock.advanceTo(clock.now());
    await settle();
    actor.send({ type: 'ENGINE_HEALTHY' });
    actor.send(crash);
    expect(actor.getSnapshot().value).toBe('FAILED');
    expect(actor.getSnapshot().context.failures).toBe(1);
  });

  it('stops from any state, for good', async () => {
    const { actor, clock } = start();
    actor.send(crash);
    actor.send({ type: 'STOP' });
    expect(actor.getSnapshot().status).toBe('done');
    await clock.advanceTo(60_000);
    expect(actor.getSnapshot().value).toBe('STOPPED');
  });
});
