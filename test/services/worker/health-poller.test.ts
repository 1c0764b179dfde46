import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BackendHealth } from '../../../services/backend/backend.js';
import { type BackendHealthEvent, createHealthPoller } from '../../../services/worker/health-poller.js';

describe('backend health poller', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function start(answers: (BackendHealth | 'hang')[]) {
    const events: BackendHealthEvent['type'][] = [];
    const checkedAt: number[] = [];
    let i = 0;
    const poller = createHealthPoller({
      check: () => {
        checkedAt.push(Date.now());
        const answer = answers[Math.min(i++, answers.length - 1)] ?? 'ready';
        return answer === 'hang' ? new Promise<BackendHealth>(() => {}) : Promise.resolve(answer);
      },
      send: (event) => events.push(event.type),
      startingIntervalMs: 1_000,
      readyIntervalMs: 5_000,
      timeoutMs: 500,
    });
    poller.start();
    return { poller, events, checkedAt, t0: Date.now() };
  }

  it('checks at once, every second while loading, every five seconds once ready', async () => {
    const p = start(['starting', 'starting', 'ready', 'ready', 'ready']);
    await vi.advanceTimersByTimeAsync(12_000);
    expect(p.checkedAt.map((at) => at - p.t0)).toEqual([0, 1_000, 2_000, 7_000, 12_000]);
    // Loading is quiet: the worker stays `starting` until the first ready answer.
    expect(p.events).toEqual(['BACKEND_HEALTHY', 'BACKEND_HEALTHY', 'BACKEND_HEALTHY']);
    p.poller.stop();
  });

  it('reports a failing backend as unhealthy, and a reload after it was ready too', async () => {
    const p = start(['error', 'ready', 'starting', 'ready']);
    await vi.advanceTimersByTimeAsync(7_000);
    expect(p.events).toEqual(['BACKEND_UNHEALTHY', 'BACKEND_HEALTHY', 'BACKEND_UNHEALTHY', 'BACKEND_HEALTHY']);
    p.poller.stop();
  });

  it('counts a hung check as an error after its timeout and keeps polling', async () => {
    const p = start(['hang', 'ready']);
    await vi.advanceTimersByTimeAsync(499);
    expect(p.events).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(p.events).toEqual(['BACKEND_UNHEALTHY']);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(p.events).toEqual(['BACKEND_UNHEALTHY', 'BACKEND_HEALTHY']);
    p.poller.stop();
  });

  it('stops polling when stopped', async () => {
    const p = start(['starting']);
    await vi.advanceTimersByTimeAsync(2_000);
    p.poller.stop();
    const checks = p.checkedAt.length;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(p.checkedAt).toHaveLength(checks);
  });
});
