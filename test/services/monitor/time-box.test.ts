import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { timeBox } from '../../../services/monitor/time-box.js';

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('timeBox', () => {
  it('passes a value that comes in time', async () => {
    const boxed = timeBox(new Promise((resolve) => setTimeout(() => resolve(42), 50)), 100);
    await vi.advanceTimersByTimeAsync(50);
    expect(await boxed).toEqual({ ok: true, value: 42 });
  });

  it('gives up on a promise that never settles', async () => {
    const boxed = timeBox(new Promise(() => {}), 100);
    await vi.advanceTimersByTimeAsync(100);
    expect(await boxed).toEqual({ ok: false, error: { kind: 'timeout' } });
  });

  it('turns a rejection into a failure with its message, and a late one into nothing unhandled', async () => {
    expect(await timeBox(Promise.reject(new Error('boom')), 100)).toEqual({
      ok: false,
      error: { kind: 'failed', message: 'boom' },
    });
    expect(await timeBox(Promise.reject('plain'), 100)).toEqual({
      ok: false,
      error: { kind: 'failed', message: 'plain' },
    });
    const late = timeBox(new Promise((_, reject) => setTimeout(() => reject(new Error('late')), 200)), 100);
    await vi.advanceTimersByTimeAsync(200);
    expect(await late).toEqual({ ok: false, error: { kind: 'timeout' } });
  });
});
