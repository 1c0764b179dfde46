import type { MonitorData } from '../../contracts/heartbeat.js';
import { monitorSeries } from '../../contracts/metric-series.js';
import type { MetricsPoint } from '../../contracts/metrics-history.js';
import { SeriesMeans, toSeries } from './metric-buckets.js';
import { type MetricsArchive, MINUTE_MS } from './metrics-archive.js';
import { type Sample, SampleRing } from './sample-ring.js';

export interface MetricsHistoryOptions {
  /** How far back samples are kept in memory. */
  windowMs?: number;
  /** Samples closer than this to the previous one kept are skipped, which bounds each hive's ring. */
  minSpacingMs?: number;
  /** Receives each hive's minute once a later sample closes it, and answers for times before the window. */
  archive?: MetricsArchive;
}

export const HISTORY_WINDOW_MS = 3_600_000;
/** At most 800 samples an hour per hive: every heartbeat at the default 30 s, one in two or three at 2 s. */
export const HISTORY_MIN_SPACING_MS = 4_500;

/** Each hive's monitor samples of the last hour, at heartbeat resolution, kept compactly in a bounded ring. */
export class MetricsHistory {
  readonly windowMs: number;
  private readonly minSpacingMs: number;
  private readonly archive: MetricsArchive | undefined;
  private readonly rings = new Map<string, SampleRing>();

  constructor(options: MetricsHistoryOptions = {}) {
    this.windowMs = options.windowMs ?? HISTORY_WINDOW_MS;
    this.minSpacingMs = options.minSpacingMs ?? HISTORY_MIN_SPACING_MS;
    this.archive = options.archive;
  }

  get hiveCount(): number {
    return this.rings.size;
  }

  /** Bytes held by every hive's samples. */
  get byteLength(): number {
    let bytes = 0;
    for (const ring of this.rings.values()) bytes += ring.byteLength;
    return bytes;
  }

  /** Keeps a reading received at `time` (queen wall clock, epoch ms). */
  record(hiveId: string, time: number, data: MonitorData): void {
    let ring = this.rings.get(hiveId);
    if (!ring) {
      ring = new SampleRing({ windowMs: this.windowMs, minSpacingMs: this.minSpacingMs });
      this.rings.set(hiveId, ring);
    }
    const previous = ring.newestTime;
    if (!ring.push(time, monitorSeries(data))) return;
    if (previous !== undefined && minuteOf(previous) < minuteOf(time)) this.archiveMinute(hiveId, ring, previous);
  }

  forget(hiveId: string): void {
    this.rings.delete(hiveId);
    this.archive?.forget(hiveId);
  }

  /** A hive's series since `since` (epoch ms), in buckets of `stepS` seconds or per sample when 0. */
  async series(hiveId: string, since: number, stepS: number): Promise<Record<string, MetricsPoint[]>> {
    const ring = this.rings.get(hiveId);
    const oldest = ring?.oldestTime;
    const archived: Sample[] = [];
    if (this.archive && (oldest === undefined || since < oldest)) {
      // Whole minutes before the first sample in memory: the minute it falls in is not complete there.
      const to = oldest === undefined ? Number.POSITIVE_INFINITY : minuteOf(oldest);
      for (const row of await this.archive.range(hiveId, minuteOf(since), to)) {
        archived.push({ time: row.minute, values: row.values });
      }
    }
    return toSeries([...archived, ...(ring?.since(since) ?? [])], stepS);
  }

  private archiveMinute(hiveId: string, ring: SampleRing, timeInMinute: number): void {
    const minute = minuteOf(timeInMinute);
    const means = new SeriesMeans();
    for (const sample of ring.since(minute)) {
      if (sample.time >= minute + MINUTE_MS) break;
      means.add(sample.values);
    }
    this.archive?.append([{ hiveId, minute, values: means.means() }]);
  }
}

function minuteOf(time: number): number {
  return Math.floor(time / MINUTE_MS) * MINUTE_MS;
}
