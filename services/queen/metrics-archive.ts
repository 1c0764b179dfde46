import type { SeriesKey } from '../../contracts/metric-series.js';
import { SampleRing } from './sample-ring.js';

/** One hive's monitor values averaged over one minute. */
export interface MinuteRow {
  readonly hiveId: string;
  /** Start of the minute, epoch ms (a multiple of 60 000). */
  readonly minute: number;
  /** Means of the values known in that minute; a series without an entry was unknown all minute. */
  readonly values: ReadonlyMap<SeriesKey, number>;
}

/** Where per-minute rows outlive the in-memory hour: rows in, a range out. */
export interface MetricsArchive {
  /** Stores rows; may batch them, and must not block the caller. */
  append(rows: readonly MinuteRow[]): void;
  /** One hive's rows with `from <= minute < to`, oldest first. */
  range(hiveId: string, from: number, to: number): Promise<readonly MinuteRow[]>;
  /** Drops a forgotten hive's rows. */
  forget(hiveId: string): void;
}

export const MINUTE_MS = 60_000;

/** Three hours of minutes per hive: the stand-in until the queen has its database. */
export const MEMORY_ARCHIVE_WINDOW_MS = 3 * 3_600_000;

/** The archive in memory, one compact ring of minutes per hive. */
export class MemoryMetricsArchive implements MetricsArchive {
  private readonly rings = new Map<string, SampleRing>();

  constructor(private readonly windowMs: number = MEMORY_ARCHIVE_WINDOW_MS) {}

  append(rows: readonly MinuteRow[]): void {
    for (const row of rows) {
      let ring = this.rings.get(row.hiveId);
      if (!ring) {
        ring = new SampleRing({ windowMs: this.windowMs, minSpacingMs: MINUTE_MS });
        this.rings.set(row.hiveId, ring);
      }
      ring.push(row.minute, row.values);
    }
  }

  range(hiveId: string, from: number, to: number): Promise<readonly MinuteRow[]> {
    const rows: MinuteRow[] = [];
    for (const sample of this.rings.get(hiveId)?.since(from) ?? []) {
      if (sample.time >= to) break;
      rows.push({ hiveId, minute: sample.time, values: sample.values });
    }
    return Promise.resolve(rows);
  }

  forget(hiveId: string): void {
    this.rings.delete(hiveId);
  }
}
