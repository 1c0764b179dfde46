import { describe, expect, it } from 'vitest';
import { createLogger, type Logger, silentLogger } from '../../../services/logger.js';
import { type StartStep, startWithRollback } from '../../../services/role/rollback.js';

/** A server, then a monitor, then a tracker that fails to start; what is stopped lands in `stopped`. */
function failingStart(stopped: string[], stopMonitor: (part: string) => unknown, logger: Logger = silentLogger) {
  return startWithRollback(
    async (step: StartStep) => {
      await step(
        () => 'server',
        (part) => stopped.push(part),
      );
      await step(async () => 'monitor', stopMonitor);
      await step(
        () => Promise.reject(new Error('tracker failed')),
        () => stopped.push('never started'),
      );
      return 'unreachable';
    },
    { logger },
  );
}

describe('startWithRollback', () => {
  it('stops what started, last first, when a later part fails, and throws the failure on', async () => {
    const stopped: string[] = [];
    await expect(failingStart(stopped, (part) => stopped.push(part))).rejects.toThrow('tracker failed');
    expect(stopped).toEqual(['monitor', 'server']);
  });

  it('stops nothing when every part starts', async () => {
    const stopped: string[] = [];
    const role = await startWithRollback(
      async (step) => {
        const server = await step(
          () => 'server',
          (part) => stopped.push(part),
        );
        return `${server} up`;
      },
      { logger: silentLogger },
    );
    expect(role).toBe('server up');
    expect(stopped).toEqual([]);
  });

  it('keeps the start failure as the error when a part fails to stop, stops the others and logs it beside', async () => {
    const stopped: string[] = [];
    const logs: Record<string, unknown>[] = [];
    const logger = createLogger({ write: (line) => logs.push(JSON.parse(line)), level: 'error' });
    const stuck = () => {
      throw new Error('monitor stuck');
    };
    await expect(failingStart(stopped, stuck, logger)).rejects.toThrow('tracker failed');
    expect(stopped).toEqual(['server']);
    expect(logs).toEqual([
      expect.objectContaining({ level: 'error', error: expect.objectContaining({ message: 'monitor stuck' }) }),
    ]);
  });

  it('starts no further part once the signal aborts, and stops those started', async () => {
    const stopping = new AbortController();
    const started: string[] = [];
    const stopped: string[] = [];
    const part = (name: string, after?: () => void) => () => {
      started.push(name);
      after?.();
      return name;
    };
    const failing = startWithRollback(
      async (step) => {
        await step(part('server'), (name) => stopped.push(name));
        await step(
          part('monitor', () => stopping.abort()),
          (name) => stopped.push(name),
        );
        await step(part('tracker'), (name) => stopped.push(name));
      },
      { logger: silentLogger, signal: stopping.signal },
    );
    await expect(failing).rejects.toThrow(expect.objectContaining({ name: 'AbortError' }));
    expect(started).toEqual(['server', 'monitor']);
    expect(stopped).toEqual(['monitor', 'server']);
  });
});
