import { describe, expect, it } from 'vitest';
import type { MonitorData } from '../../../contracts/heartbeat.js';
import type { SeriesKey } from '../../../contracts/metric-series.js';
import { createLogger, silentLogger } from '../../../services/logger.js';
import { MetricsHistory } from '../../../services/queen/metrics-history.js';
import { createStoredMetricsArchive } from '../../../services/queen/stored-metrics-archive.js';
import type { MetricsStore, MinuteBatch } from '../../../services/store/metrics-store.js';
import { openSqliteStore } from '../../../services/store/sqlite-store.js';
import { monitorData } from '../../fixtures/examples.js';

const BASE = Date.parse('2026-01-01T03:00:00.000Z');
/** Never fires within a test: every write below is an explicit flush or a read. */
const LONG_FLUSH_MS = 3_600_000;

function reading(cpu: number): MonitorData {
  return { ...monitorData, cpu_usage_percent: cpu, devices: [] };
}

/** A queen's metrics history over `store`, as a queen process builds it. */
function historyOn(store: MetricsStore): MetricsHistory {
  const archive = createStoredMetricsArchive({ store, logger: silentLogger, flushMs: LONG_FLUSH_MS });
  return new MetricsHistory({ minSpacingMs: 1_000, archive });
}

describe('stored metrics archive', () => {
  it('serves the minutes of a queen that stopped, its last one included, beside the next queen’s samples', async () => {
    const store = openSqliteStore(null);
    try {
      const before = historyOn(store);
      // Samples at 0:00 … 1:10: minute 0 is closed by the one at 1:00, minute 1 is still open at the stop.
      for (let second = 0; second <= 70; second += 10) before.record('a', BASE + second * 1000, reading(second));
      await before.close();

      const after = historyOn(store);
      after.record('a', BASE + 75_000, reading(500));
      after.record('a', BASE + 90_000, reading(600));
      const raw = await after.series('a', BASE, 0);
      // Minute 0's mean, minute 1's part before the restart (1:00 and 1:10), then the new queen's samples.
      expect(raw.cpu).toEqual([
        [BASE / 1000, 25],
        [BASE / 1000 + 60, 65],
        [BASE / 1000 + 75, 500],
        [BASE / 1000 + 90, 600],
      ]);
      // Within the hour in memory nothing comes from the archive.
      expect((await after.series('a', BASE + 75_000, 0)).cpu?.map(([, value]) => value)).toEqual([500, 600]);
    } finally {
      await store.close();
    }
  });

  it('batches rows until a flush or a read, and keeps a batch whose write failed, logging it once', async () => {
    const batches: MinuteBatch[] = [];
    const sqlite = openSqliteStore(null);
    const store: MetricsStore = {
      writeMinutes: async (batch) => {
        batches.push(batch);
        if (batches.length <= 2) throw new Error('SQLITE_FULL: database or disk is full');
        await sqlite.writeMinutes(batch);
      },
      minutes: (hiveId, from, before) => sqlite.minutes(hiveId, from, before),
      pruneMinutes: (before) => sqlite.pruneMinutes(before),
    };
    const lines: string[] = [];
    const archive = createStoredMetricsArchive({
      store,
      logger: createLogger({ write: (line) => lines.push(line) }),
      flushMs: LONG_FLUSH_MS,
    });
    const row = (hiveId: string, minute: number) => ({
      hiveId,
      minute: BASE + minute * 60_000,
      last: BASE + minute * 60_000 + 1,
      values: new Map<SeriesKey, number>([['cpu', minute]]),
    });
    try {
      archive.append([row('a', 0), row('b', 0)]);
      archive.append([row('a', 1)]);
      expect(batches).toHaveLength(0);
      await archive.flush();
      archive.forget('b');
      await archive.flush();
      const read = await archive.range('a', 0, Number.POSITIVE_INFINITY);
      expect(batches.map((batch) => batch.rows.length)).toEqual([3, 2, 2]);
      expect(batches[2]?.forgotten).toEqual(['b']);
      expect(read.map((sample) => sample.values.get('cpu'))).toEqual([0, 1]);
      expect(await archive.range('b', 0, Number.POSITIVE_INFINITY)).toEqual([]);
      expect(lines.filter((line) => line.includes('metrics archive write failed'))).toHaveLength(1);
      expect(lines.filter((line) => line.includes('work again'))).toHaveLength(1);
    } finally {
      await sqlite.close();
    }
  });

  it('bounds what waits for a failing store: the oldest rows are dropped, counted, and warned of once per outage', async () => {
    let failing = true;
    const written: MinuteBatch[] = [];
    const store: MetricsStore = {
      writeMinutes: async (batch) => {
        if (failing) throw new Error('SQLITE_FULL: database or disk is full');
        written.push(batch);
      },
      minutes: async () => [],
      pruneMinutes: async () => 0,
    };
    const lines: string[] = [];
    let dropped = 0;
    const archive = createStoredMetricsArchive({
      store,
      logger: createLogger({ write: (line) => lines.push(line) }),
      flushMs: LONG_FLUSH_MS,
      maxQueued: 5,
      onDropped: (count) => {
        dropped += count;
      },
    });
    const row = (minute: number) => ({
      hiveId: 'a',
      minute: BASE + minute * 60_000,
      last: BASE + minute * 60_000 + 1,
      values: new Map<SeriesKey, number>([['cpu', minute]]),
    });
    for (let minute = 0; minute < 8; minute++) {
      archive.append([row(minute)]);
      await archive.flush();
    }
    archive.forget('b');
    expect(dropped).toBe(4);
    expect(lines.filter((line) => line.includes('metrics archive queue full'))).toHaveLength(1);
    failing = false;
    await archive.flush();
    expect(written[0]?.rows.map((r) => r.values.get('cpu'))).toEqual([4, 5, 6, 7]);
    expect(written[0]?.forgotten).toEqual(['b']);
  });
});
