import { LIMITS } from '../../contracts/common.js';
import type { Logger } from '../logger.js';
import type { MetricsStore, MinuteRow } from '../store/metrics-store.js';
import type { MetricsArchive } from './metrics-archive.js';
import type { Sample } from './sample-ring.js';
import { writeBehind } from './write-behind.js';

export interface StoredMetricsArchiveOptions {
  store: MetricsStore;
  logger: Logger;
  /** The longest a row waits for its write. */
  flushMs: number;
  /** Most rows and forgotten hives waiting for the store (default `LIMITS.archiveQueueRows`). */
  maxQueued?: number;
  /** Told how many waiting rows (or forgotten hives) were dropped to stay within `maxQueued`. */
  onDropped?: (count: number) => void;
}

/**
 * The archive in the queen's database, written off the heartbeat path like the registries: rows and forgets are
 * queued, and one batch a flush period writes them. While the store fails the queue is bounded: the oldest rows go
 * first (a dropped forget leaves rows that retention prunes), with one warning per run of failures.
 */
export function createStoredMetricsArchive(options: StoredMetricsArchiveOptions): MetricsArchive {
  const { store, logger } = options;
  const maxQueued = options.maxQueued ?? LIMITS.archiveQueueRows;
  let rows: MinuteRow[] = [];
  let forgotten = new Set<string>();
  let failing = false;
  let dropping = false;

  const bound = (): void => {
    const excess = rows.length + forgotten.size - maxQueued;
    if (excess <= 0) return;
    const rowsDropped = Math.min(excess, rows.length);
    rows.splice(0, rowsDropped);
    for (const id of [...forgotten].slice(0, excess - rowsDropped)) forgotten.delete(id);
    options.onDropped?.(excess);
    if (!dropping) {
      logger.warn('metrics archive queue full: dropping the oldest minutes until the store takes writes again', {
        max_queued: maxQueued,
      });
    }
    dropping = true;
  };

  const flush = async (): Promise<void> => {
    writes.flushing();
    if (rows.length === 0 && forgotten.size === 0) return;
    const batch = { rows, forgotten: [...forgotten] };
    rows = [];
    forgotten = new Set();
    try {
      await store.writeMinutes(batch);
      if (failing) logger.info('metrics archive writes work again');
      failing = false;
      dropping = false;
    } catch (error) {
      // Kept for the next flush, behind what came since.
      rows = [...batch.rows.filter((row) => !forgotten.has(row.hiveId)), ...rows];
      for (const id of batch.forgotten) forgotten.add(id);
      bound();
      // Once per run of failures: a full disk must not flood the log every flush.
      if (!failing) logger.error('metrics archive write failed; older metrics are kept in memory only', { error });
      failing = true;
    }
  };

  const writes = writeBehind(flush, options.flushMs);

  return {
    append(added) {
      rows.push(...added);
      bound();
      writes.changed();
    },
    async range(hiveId, from, before) {
      await flush();
      return (await store.minutes(hiveId, from, before)).map(
        (row): Sample => ({ time: row.minute, values: row.values }),
      );
    },
    forget(hiveId) {
      rows = rows.filter((row) => row.hiveId !== hiveId);
      forgotten.add(hiveId);
      bound();
      writes.changed();
    },
    flush,
  };
}
