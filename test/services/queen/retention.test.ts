import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SeriesKey } from '../../../contracts/metric-series.js';
import { createLogger } from '../../../services/logger.js';
import { prunePeriodMs, startPruning } from '../../../services/queen/retention.js';
import type { MetricsStore } from '../../../services/store/metrics-store.js';
import { openSqliteStore } from '../../../services/store/sqlite-store.js';

const HOUR = 3_600_000;
const NOW = Date.parse('2026-01-08T00:00:00.000Z');

afterEach(() => {
  vi.useRealTimers();
});

describe('history retention', () => {
  it('prunes the events and the archived minutes older than the retention, at once and then every period', async () => {
    vi.useFakeTimers();
    const store = openSqliteStore(null);
    const cutoffs: number[] = [];
    const metrics: MetricsStore = {
      writeMinutes: (batch) => store.writeMinutes(batch),
      minutes: (hiveId, from, before) => store.minutes(hiveId, from, before),
      pruneMinutes: (before) => {
        cutoffs.push(before);
        return store.pruneMinutes(before);
      },
    };
    const lines: string[] = [];
    let now = NOW;
    const retentionMs = 24 * HOUR;
    const minute = (at: number) => ({ hiveId: 'a', minute: at, last: at + 1, values: new Map<SeriesKey, number>() });
    await store.writeMinutes({ rows: [minute(NOW - 25 * HOUR), minute(NOW - 23 * HOUR)], forgotten: [] });
    await store.write({
      hives: [],
      workers: [],
      removedHives: [],
      removedWorkers: [],
      events: [
        { time: new Date(NOW - 25 * HOUR).toISOString(), kind: 'hive', id: 'a', type: 'registered', to: 'online' },
      ],
      problems: null,
    });
    const stop = startPruning({
      store,
      metrics,
      retentionMs,
      wallNow: () => now,
      logger: createLogger({ level: 'debug', write: (line) => lines.push(line) }),
    });
    try {
      await vi.waitFor(() => expect(lines.some((line) => line.includes('history pruned'))).toBe(true));
      expect(JSON.parse(lines.find((line) => line.includes('history pruned')) ?? '{}')).toMatchObject({
        events: 1,
        minutes: 1,
      });
      expect((await store.minutes('a', 0, Number.POSITIVE_INFINITY)).map((row) => row.minute)).toEqual([
        NOW - 23 * HOUR,
      ]);
      now += 2 * HOUR;
      await vi.advanceTimersByTimeAsync(prunePeriodMs(retentionMs));
      expect(cutoffs).toEqual([NOW - retentionMs, NOW + 2 * HOUR - retentionMs]);
      expect(await store.minutes('a', 0, Number.POSITIVE_INFINITY)).toEqual([]);
    } finally {
      stop();
      await store.close();
    }
  });
});
