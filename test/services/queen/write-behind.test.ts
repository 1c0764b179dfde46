import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { writeBehind } from '../../../services/queen/write-behind.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('writeBehind', () => {
  it('flushes once, flushMs after the first change since the last flush began', async () => {
    let flushes = 0;
    const writes = writeBehind(async () => {
      flushes += 1;
    }, 500);
    writes.changed();
    await vi.advanceTimersByTimeAsync(300);
    writes.changed();
    await vi.advanceTimersByTimeAsync(199);
    expect(flushes).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(flushes).toBe(1);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(flushes).toBe(1);
    // The flush begins (as a real one says at its start): the next change waits anew.
    writes.flushing();
    writes.changed();
    await vi.advanceTimersByTimeAsync(500);
    expect(flushes).toBe(2);
  });

  it('waits anew after a flush asked for early: the timer it replaced never fires', async () => {
    let flushes = 0;
    const writes = writeBehind(async () => {
      flushes += 1;
    }, 500);
    writes.changed();
    await vi.advanceTimersByTimeAsync(400);
    writes.flushing();
    writes.changed();
    await vi.advanceTimersByTimeAsync(499);
    expect(flushes).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(flushes).toBe(1);
  });
});
