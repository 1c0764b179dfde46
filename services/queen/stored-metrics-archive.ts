import type { Logger } from '../logger.js';
import type { MetricsStore, MinuteRow } from '../store/metrics-store.js';
import type { MetricsArchive } from './metrics-archive.js';
import type { Sample } from './sample-ring.js';

export interface StoredMetricsArchiveOptions {
  store: MetricsStore;
  logger: Logger;
  /** The longest a row waits for its write. */
  flushMs: number;
}

/**
 * The archive in the queen's database, written off the heartbeat path like the registries: rows and forgets are
 * queued, and one batch a flush period writes them.
 */
export function createStoredMetricsArchive(options: StoredMetricsArchiveOptions): MetricsArchive {
  const { store, logger } = options;
  let rows: MinuteRow[] = [];
  let forgotten = new Set<string>();
  let failing = false;
  let timer: NodeJS.Timeout | undefined;

  const flush = async (): Promise<void> => {
    clearTimeout(timer);
    timer = undefined;
    if (rows.length === 0 && forgotten.size === 0) return;
    const batch = { rows, forgotten: [...forgotten] };
    rows = [];
    forgotten = new Set();
    try {
      await store.writeMinutes(batch);
      if (failing) logger.info('metrics archive writes work again');
      failing = false;
    } catch (error) {
      // Kept for the next flush, behind what came since.
      rows = [...batch.rows.filter((row) => !forgotten.has(row.hiveId)), ...rows];
      for (const id of batch.forgotten) forgotten.add(id);
      // Once per run of failures: a full disk must not flood the log every flush.
      if (!failing) logger.error('metrics archive write failed; older metrics are kept in memory only', { error });
      failing = true;
    }
  };

  const schedule = (): void => {
    if (timer !== undefined) return;
    timer = setTimeout(() => void flush(), options.flushMs);
    timer.unref();
  };

  return {
    append(added) {
      rows.push(...added);
      schedule();
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
      schedule();
    },
    flush,
  };
}
