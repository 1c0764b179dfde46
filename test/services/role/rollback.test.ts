import { describe, expect, it } from 'vitest';
import { startWithRollback } from '../../../services/role/rollback.js';

describe('startWithRollback', () => {
  it('stops what started, last first, when a later part fails, and throws the failure on', async () => {
    const stopped: string[] = [];
    const failing = startWithRollback(async (step) => {
      await step(
        () => 'server',
        (part) => stopped.push(part),
      );
      await step(
        async () => 'monitor',
        (part) => stopped.push(part),
      );
      await step(
        () => Promise.reject(new Error('tracker failed')),
        () => stopped.push('never started'),
      );
      return 'unreachable';
    });
    await expect(failing).rejects.toThrow('tracker failed');
    expect(stopped).toEqual(['monitor', 'server']);
  });

  it('stops nothing when every part starts', async () => {
    const stopped: string[] = [];
    const role = await startWithRollback(async (step) => {
      const server = await step(
        () => 'server',
        (part) => stopped.push(part),
      );
      return `${server} up`;
    });
    expect(role).toBe('server up');
    expect(stopped).toEqual([]);
  });
});
