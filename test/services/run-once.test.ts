import { describe, expect, it } from 'vitest';
import { runOnce } from '../../services/run-once.js';

describe('runOnce', () => {
  it('runs at the first call only, and answers every later call with what the first returned', async () => {
    let runs = 0;
    const stop = runOnce(async () => {
      runs += 1;
      return runs;
    });
    const first = stop();
    const second = stop();
    expect(second).toBe(first);
    expect(await Promise.all([first, second, stop()])).toEqual([1, 1, 1]);
    expect(runs).toBe(1);
  });

  it('keeps a failure as its answer: a second call does not run it again', async () => {
    let runs = 0;
    const start = runOnce(() => {
      runs += 1;
      return Promise.reject(new Error(`failed run ${runs}`));
    });
    await expect(start()).rejects.toThrow('failed run 1');
    await expect(start()).rejects.toThrow('failed run 1');
    expect(runs).toBe(1);
  });
});
