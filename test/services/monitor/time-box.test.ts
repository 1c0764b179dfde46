import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TIMED_OUT, timeBox } from '../../../services/monitor/time-box.js';

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
    expect(await boxed).toBe(42);
  });

  it('gives up on a promise that never settles', async () => {
    const boxed = timeBox(new Promise(() => {}), 100);
    await vi.advanceTimersByTimeAsync(100);
    expect(await boxed).toBe(TIMED_OUT);
  });

  it('turns a rejection into its error, and a late one into nothing unhandled', async () => {
    expect(await timeBox(Promise.reject(new Error('boom')), 100)).toEqual(new Error('boom'));
    expect(await timeBox(Promise.reject('plain'), 100)).toEqual(new Error('plain'));
    const late = timeBox(new Promise((_, reject) => setTimeout(() => reject(new Error('late')), 200)), 100);
    await vi.advanceTimersByTimeAsync(200);
    expect(await late).toBe(TIMED_OUT);
  });
});
