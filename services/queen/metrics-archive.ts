import type { MinuteRow } from '../store/metrics-store.js';
import { type Sample, SampleRing } from './sample-ring.js';

/** Where per-minute rows outlive the in-memory hour: rows in, a range out. */
export interface MetricsArchive {
  /** Stores rows; may batch them, and must not block the caller. */
  append(rows: readonly MinuteRow[]): void;
  /** One hive's minutes from `from` whose every sample came before `before`, oldest first, each at its start. */
  range(hiveId: string, from: number, before: number): Promise<readonly Sample[]>;
  /** Drops a forgotten hive's rows. */
  forget(hiveId: string): void;
  /** Writes what is batched. */
  flush(): Promise<void>;
}

export const MINUTE_MS = 60_000;

/** Three hours of minutes per hive: what a queen keeps when its store has no room for the archive. */
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

  range(hiveId: string, from: number, before: number): Promise<readonly Sample[]> {
    const rows: Sample[] = [];
    // The ring keeps no sample times: only a minute that ended by `before` is sure to hold nothing later.
    for (const sample of this.rings.get(hiveId)?.since(from) ?? []) {
      if (sample.time + MINUTE_MS > before) break;
      rows.push(sample);
    }
    return Promise.resolve(rows);
  }

  forget(hiveId: string): void {
    this.rings.delete(hiveId);
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }
}
