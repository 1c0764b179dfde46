import type { SeriesKey } from '../../contracts/metric-series.js';

/**
 * The per-minute metrics archive as a store keeps it, beside (not inside) the state store: a backend that has no
 * room for it leaves the archive in memory.
 */

/** One hive's monitor values averaged over one minute. */
export interface MinuteRow {
  readonly hiveId: string;
  /** Start of the minute, epoch ms (a multiple of 60 000). */
  readonly minute: number;
  /** Time of the latest sample averaged in, epoch ms: what tells a restarted queen which samples it lacks. */
  readonly last: number;
  /** Means of the values known in that minute; a series without an entry was unknown all minute. */
  readonly values: ReadonlyMap<SeriesKey, number>;
}

/** Writes of one flush, applied all or nothing: the forgotten hives' rows go first, then the new rows. */
export interface MinuteBatch {
  readonly rows: readonly MinuteRow[];
  readonly forgotten: readonly string[];
}

export interface MetricsStore {
  /** A minute already kept is left as it is: its first writer saw that minute before a restart. */
  writeMinutes(batch: MinuteBatch): Promise<void>;
  /** One hive's rows with `from <= minute` whose every sample came before `before`, oldest first. */
  minutes(hiveId: string, from: number, before: number): Promise<MinuteRow[]>;
  /** Drops the rows of minutes older than `before` (epoch ms); resolves to how many. */
  pruneMinutes(before: number): Promise<number>;
}
