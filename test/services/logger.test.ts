import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createLogger,
  LINES_PER_WINDOW,
  LOG_LEVELS,
  LOG_WINDOW_MS,
  type LogLevel,
  silentLogger,
} from '../../services/logger.js';

function capture(level?: LogLevel) {
  const lines: string[] = [];
  const logger = createLogger({ ...(level ? { level } : {}), write: (line) => lines.push(line) });
  const records = (): Record<string, unknown>[] => lines.map((line) => JSON.parse(line));
  return { logger, lines, records };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('createLogger', () => {
  it('writes one JSON object per line with time, level, message and fields', () => {
    const { logger, lines, records } = capture();
    logger.info('hive registered', { hive_id: 'gpu-node-1', devices: 3 });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith('\n')).toBe(true);
    expect(lines[0]?.slice(0, -1)).not.toContain('\n');
    const [record] = records();
    expect(record).toMatchObject({ level: 'info', msg: 'hive registered', hive_id: 'gpu-node-1', devices: 3 });
    expect(Number.isNaN(Date.parse(String(record?.time)))).toBe(false);
  });

  it('keeps a message with newlines on one line', () => {
    const { logger, lines } = capture();
    logger.warn('line one\nline two');
    expect(lines[0]?.slice(0, -1)).not.toContain('\n');
  });

  it.each<[LogLevel, LogLevel[]]>([
    ['error', ['error']],
    ['warn', ['error', 'warn']],
    ['info', ['error', 'warn', 'info']],
    ['debug', ['error', 'warn', 'info', 'debug']],
  ])('at level %s writes only %j', (level, written) => {
    const { logger, records } = capture(level);
    for (const each of LOG_LEVELS) logger[each](`a ${each} line`);
    expect(records().map((record) => record.level)).toEqual(written);
  });

  it('defaults to info', () => {
    const { logger, records } = capture();
    logger.debug('hidden');
    logger.info('shown');
    expect(records().map((record) => record.msg)).toEqual(['shown']);
  });

  it('adds the fields of a child to every line, keeping the level', () => {
    const { logger, records } = capture('warn');
    const child = logger.child({ role: 'hive' }).child({ hive_id: 'gpu-node-1' });
    child.info('dropped');
    child.warn('heartbeat failed', { queen_url: 'http://q:7833' });
    expect(records()).toEqual([
      expect.objectContaining({
        level: 'warn',
        role: 'hive',
        hive_id: 'gpu-node-1',
        msg: 'heartbeat failed',
        queen_url: 'http://q:7833',
      }),
    ]);
  });

  it('renders errors as name and message', () => {
    const { logger, records } = capture();
    logger.error('send failed', { error: new TypeError('fetch failed') });
    expect(records()[0]?.error).toEqual({ name: 'TypeError', message: 'fetch failed' });
  });

  it('writes to stderr by default', () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    createLogger().info('to stderr');
    expect(write).toHaveBeenCalledTimes(1);
    expect(String(write.mock.calls[0]?.[0])).toContain('"msg":"to stderr"');
  });
});

describe('silentLogger', () => {
  it('writes nothing, not even errors', () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    silentLogger.error('nothing');
    silentLogger.child({ a: 1 }).error('nothing either');
    expect(write).not.toHaveBeenCalled();
  });

  it('bounds the lines of one message under a flood, with one summary line a window for the rest', () => {
    vi.useFakeTimers();
    try {
      const { logger, records } = capture();
      const hive = logger.child({ role: 'queen' });
      for (let i = 0; i < 50_000; i++) hive.info('liveness', { id: `fake-${i}` });
      logger.warn('other message');
      expect(records()).toHaveLength(LINES_PER_WINDOW + 1);
      vi.advanceTimersByTime(LOG_WINDOW_MS);
      const summary = records().at(-1);
      expect(summary).toMatchObject({
        level: 'info',
        msg: `… and ${(50_000 - LINES_PER_WINDOW).toLocaleString('en-US')} more liveness lines`,
        suppressed: 50_000 - LINES_PER_WINDOW,
        of: 'liveness',
      });
      // A new window: lines again, and nothing left to summarize from before.
      logger.info('liveness', { id: 'real' });
      expect(records().at(-1)).toMatchObject({ msg: 'liveness', id: 'real' });
      vi.advanceTimersByTime(10 * LOG_WINDOW_MS);
      expect(records()).toHaveLength(LINES_PER_WINDOW + 3);
    } finally {
      vi.useRealTimers();
    }
  });
});
