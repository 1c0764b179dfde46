import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import type { WorkerStatus } from '../../contracts/heartbeat.js';
import { type WorkerStatusEvent, wireStatus, workerStatusMachine } from '../../machines/worker-status.js';
import { SteppingClock } from '../support/stepping-clock.js';

function startWorkerStatus(coalesceMs?: number) {
  const clock = new SteppingClock();
  const actor = createActor(workerStatusMachine, {
    clock,
    input: coalesceMs === undefined ? {} : { coalesceMs },
  });
  const status = (): WorkerStatus => wireStatus(actor.getSnapshot().value.status);
  const reports: Array<{ at: number; status: WorkerStatus }> = [];
  actor.on('report', () => reports.push({ at: clock.now(), status: status() }));
  actor.start();
  const send = (...events: WorkerStatusEvent['type'][]): void => {
    for (const type of events) actor.send({ type });
  };
  return { clock, actor, reports, send, state: () => actor.getSnapshot().value.status, status };
}

describe('worker status', () => {
  it('goes SPAWNED → REGISTERED → READY ⇄ BUSY → STOPPED', () => {
    const w = startWorkerStatus();
    expect(w.state()).toBe('SPAWNED');
    w.send('REGISTERED');
    expect([w.state(), w.status()]).toEqual(['REGISTERED', 'starting']);
    w.send('BACKEND_HEALTHY');
    expect([w.state(), w.status()]).toEqual(['READY', 'ready']);
    w.send('REQUEST_STARTED');
    expect([w.state(), w.status()]).toEqual(['BUSY', 'busy']);
    w.send('REQUEST_ENDED');
    expect(w.state()).toBe('READY');
    w.send('STOP');
    expect([w.state(), w.status()]).toEqual(['STOPPED', 'stopped']);
  });

  it('registers straight into READY when the backend was already healthy', () => {
    const w = startWorkerStatus();
    w.send('BACKEND_HEALTHY', 'REGISTERED');
    expect(w.state()).toBe('READY');
  });

  it('stays starting until registered, whatever the backend says', () => {
    const w = startWorkerStatus();
    w.send('BACKEND_HEALTHY', 'BACKEND_UNHEALTHY', 'REQUEST_STARTED');
    expect(w.state()).toBe('SPAWNED');
    w.send('REGISTERED');
    expect(w.state()).toBe('REGISTERED');
  });

  it('reports error while the backend is unhealthy, and comes back', () => {
    const w = startWorkerStatus();
    w.send('REGISTERED', 'BACKEND_UNHEALTHY');
    expect(w.status()).toBe('error');
    w.send('BACKEND_HEALTHY');
    expect(w.status()).toBe('ready');
    w.send('BACKEND_UNHEALTHY');
    expect(w.status()).toBe('error');
    w.send('BACKEND_HEALTHY', 'REQUEST_STARTED', 'BACKEND_UNHEALTHY');
    expect(w.status()).toBe('error');
    // The request is still in flight when the backend recovers.
    w.send('BACKEND_HEALTHY');
    expect(w.status()).toBe('busy');
    w.send('REQUEST_ENDED');
    expect(w.status()).toBe('ready');
  });

  it('stays BUSY until the last of several concurrent requests ends', () => {
    const w = startWorkerStatus();
    w.send('BACKEND_HEALTHY', 'REGISTERED', 'REQUEST_STARTED', 'REQUEST_STARTED', 'REQUEST_STARTED');
    expect(w.actor.getSnapshot().context.inFlight).toBe(3);
    w.send('REQUEST_ENDED', 'REQUEST_ENDED');
    expect(w.state()).toBe('BUSY');
    w.send('REQUEST_ENDED');
    expect(w.state()).toBe('READY');
    w.send('REQUEST_ENDED');
    expect(w.actor.getSnapshot().context.inFlight).toBe(0);
    w.send('REQUEST_STARTED');
    expect(w.state()).toBe('BUSY');
  });
});

describe('worker status reports', () => {
  it('reports a burst of changes once at once, then at most once a second while it lasts', async () => {
    const w = startWorkerStatus();
    w.send('BACKEND_HEALTHY', 'REGISTERED');
    for (let at = 100; at <= 2_500; at += 100) {
      await w.clock.advanceTo(at);
      w.send(at % 200 === 100 ? 'REQUEST_STARTED' : 'REQUEST_ENDED');
    }
    await w.clock.advanceTo(10_000);
    expect(w.reports).toEqual([
      { at: 0, status: 'ready' },
      { at: 1_000, status: 'busy' },
      { at: 2_000, status: 'busy' },
      { at: 3_000, status: 'busy' },
    ]);
    w.send('REQUEST_ENDED');
    await w.clock.advanceTo(12_000);
    expect(w.reports.slice(4)).toEqual([{ at: 10_000, status: 'ready' }]);
  });

  it('follows the coalescing window it is given', async () => {
    const w = startWorkerStatus(250);
    w.send('REGISTERED');
    await w.clock.advanceTo(10);
    w.send('BACKEND_HEALTHY');
    await w.clock.advanceTo(1_000);
    expect(w.reports).toEqual([
      { at: 0, status: 'starting' },
      { at: 250, status: 'ready' },
    ]);
  });

  it('reports nothing when nothing changed', async () => {
    const w = startWorkerStatus();
    w.send('BACKEND_HEALTHY', 'REGISTERED', 'REQUEST_STARTED');
    await w.clock.advanceTo(5_000);
    const before = w.reports.length;
    w.send('REQUEST_STARTED', 'BACKEND_HEALTHY', 'REQUEST_ENDED');
    await w.clock.advanceTo(60_000);
    expect(w.state()).toBe('BUSY');
    expect(w.reports).toHaveLength(before);
  });

  it('reports stopped once, even when stopped twice', async () => {
    const w = startWorkerStatus();
    w.send('BACKEND_HEALTHY', 'REGISTERED');
    await w.clock.advanceTo(5_000);
    w.send('STOP');
    await w.clock.advanceTo(10_000);
    w.send('STOP', 'BACKEND_UNHEALTHY', 'REQUEST_STARTED');
    await w.clock.advanceTo(20_000);
    expect(w.reports).toEqual([
      { at: 0, status: 'ready' },
      { at: 5_000, status: 'stopped' },
    ]);
  });
});
