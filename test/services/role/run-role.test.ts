import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../services/logger.js';
import { OptionError } from '../../../services/options/index.js';
import { type RoleProcess, runRole } from '../../../services/role/run-role.js';
import { StateStoreError } from '../../../services/store/state-store.js';

/** A process stand-in: the signal listeners, the exit codes and what went to stderr and to the log. */
function fakeProcess() {
  const listeners = new Map<string, () => void>();
  const exits: number[] = [];
  const stderr: string[] = [];
  const logs: Record<string, unknown>[] = [];
  const host: RoleProcess = {
    once: (signal, listener) => listeners.set(signal, listener),
    off: (signal, listener) => listeners.get(signal) === listener && listeners.delete(signal),
    exit: (code) => exits.push(code),
    stderr: { write: (text) => stderr.push(text) },
  };
  const logger = createLogger({ write: (line) => logs.push(JSON.parse(line)), level: 'info' });
  const signal = (name: string) => listeners.get(name)?.();
  const run = (role: string, start: (signal: AbortSignal) => Promise<{ stop(): Promise<void> }>) =>
    runRole({ role, command: `apiary-${role}`, start, exitDeadlineMs: DEADLINE_MS, logger, process: host });
  return { run, exits, stderr, logs, signal };
}

const DEADLINE_MS = 900;

describe('runRole', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('stops the role on SIGTERM and exits 0 once it has stopped', async () => {
    const fake = fakeProcess();
    let stopped = 0;
    const start = async () => ({ stop: async () => void stopped++ });
    await fake.run('hive', start);
    expect(fake.exits).toEqual([]);
    fake.signal('SIGTERM');
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(1);
    expect(fake.exits).toEqual([0]);
    expect(fake.logs).toContainEqual(expect.objectContaining({ msg: 'hive stopping', signal: 'SIGTERM' }));
  });

  it('exits 1 at the deadline when stopping hangs, not before, and says so', async () => {
    const fake = fakeProcess();
    const start = async () => ({ stop: () => new Promise<void>(() => {}) });
    await fake.run('queen', start);
    fake.signal('SIGINT');
    await vi.advanceTimersByTimeAsync(DEADLINE_MS - 1);
    expect(fake.exits).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.exits).toEqual([1]);
    expect(fake.logs).toContainEqual(
      expect.objectContaining({ level: 'error', msg: `queen did not stop within ${DEADLINE_MS} ms` }),
    );
  });

  it.each([
    ['a bad option', new OptionError('port', 'must be a port'), 2, 'apiary-worker: --port: must be a port\n'],
    [
      'an unusable state directory',
      new StateStoreError('state database in /x: locked'),
      1,
      'apiary-worker: state database in /x: locked\n',
    ],
  ])('on %s writes one line naming it and exits %i', async (_label, error, code, line) => {
    const fake = fakeProcess();
    const start = () => Promise.reject(error);
    await fake.run('worker', start);
    expect(fake.exits).toEqual([code]);
    expect(fake.stderr).toEqual([line]);
    expect(fake.logs).toEqual([]);
  });

  it('logs any other start failure and exits 1, listening for no signal', async () => {
    const fake = fakeProcess();
    const start = () => Promise.reject(new Error('EADDRINUSE'));
    await fake.run('hive', start);
    expect(fake.exits).toEqual([1]);
    expect(fake.logs).toContainEqual(expect.objectContaining({ level: 'error', msg: 'hive failed to start' }));
    fake.signal('SIGTERM');
    expect(fake.exits).toEqual([1]);
  });

  it('on a signal while starting, aborts the start (which rolls back) and exits 0 without a start failure', async () => {
    const fake = fakeProcess();
    let aborted = false;
    const start = (signal: AbortSignal) =>
      new Promise<never>((_, reject) =>
        signal.addEventListener('abort', () => {
          aborted = true;
          reject(signal.reason);
        }),
      );
    const running = fake.run('hive', start);
    fake.signal('SIGTERM');
    await running;
    expect(aborted).toBe(true);
    expect(fake.exits).toEqual([0]);
    expect(fake.logs.map((line) => line.msg)).toEqual(['hive stopping', 'hive stopped while starting']);
  });

  it('stops a role that finished starting after the signal came, once, and exits 0', async () => {
    const fake = fakeProcess();
    let stopped = 0;
    let finish: (role: { stop(): Promise<void> }) => void = () => {};
    const running = fake.run('worker', () => new Promise((resolve) => (finish = resolve)));
    fake.signal('SIGTERM');
    fake.signal('SIGINT');
    finish({ stop: async () => void stopped++ });
    await running;
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(1);
    expect(fake.exits).toEqual([0]);
  });

  it('exits 1 at the deadline when a start interrupted by a signal hangs', async () => {
    const fake = fakeProcess();
    void fake.run('queen', () => new Promise(() => {}));
    fake.signal('SIGINT');
    await vi.advanceTimersByTimeAsync(DEADLINE_MS - 1);
    expect(fake.exits).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.exits).toEqual([1]);
  });
});
