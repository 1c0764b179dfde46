import { afterEach, describe, expect, it, vi } from 'vitest';
import { type BusyEvent, createBusySignal, IDLE_AFTER_MS } from '../../../services/worker/busy-signal.js';

afterEach(() => {
  vi.useRealTimers();
});

function harness() {
  vi.useFakeTimers();
  const sent: BusyEvent['type'][] = [];
  let inFlight = 0;
  const signal = createBusySignal({ send: (event) => sent.push(event.type), inFlight: () => inFlight });
  return {
    sent,
    start: () => {
      inFlight += 1;
      signal.started();
    },
    end: () => {
      inFlight -= 1;
      signal.ended();
    },
    signal,
  };
}

describe('busy signal', () => {
  it('tells of the first request at once and of the idle worker once none was in flight for a moment', async () => {
    const worker = harness();
    worker.start();
    worker.start();
    expect(worker.sent).toEqual(['REQUEST_STARTED']);
    worker.end();
    await vi.advanceTimersByTimeAsync(IDLE_AFTER_MS * 2);
    expect(worker.sent).toEqual(['REQUEST_STARTED']);
    worker.end();
    await vi.advanceTimersByTimeAsync(IDLE_AFTER_MS - 1);
    expect(worker.sent).toEqual(['REQUEST_STARTED']);
    await vi.advanceTimersByTimeAsync(1);
    expect(worker.sent).toEqual(['REQUEST_STARTED', 'REQUEST_ENDED']);
  });

  it('says nothing for requests back to back with gaps shorter than the moment', async () => {
    const worker = harness();
    for (let i = 0; i < 100; i++) {
      worker.start();
      worker.end();
      await vi.advanceTimersByTimeAsync(IDLE_AFTER_MS - 1);
    }
    expect(worker.sent).toEqual(['REQUEST_STARTED']);
    await vi.advanceTimersByTimeAsync(IDLE_AFTER_MS);
    expect(worker.sent).toEqual(['REQUEST_STARTED', 'REQUEST_ENDED']);
    worker.start();
    expect(worker.sent).toEqual(['REQUEST_STARTED', 'REQUEST_ENDED', 'REQUEST_STARTED']);
  });

  it('leaves no timer once stopped', async () => {
    const worker = harness();
    worker.start();
    worker.end();
    worker.signal.stop();
    expect(vi.getTimerCount()).toBe(0);
  });
});
