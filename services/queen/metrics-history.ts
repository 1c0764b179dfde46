import type { MonitorData } from '../../contracts/heartbeat.js';
import { monitorSeries } from '../../contracts/metric-series.js';
import type { MetricsPoint } from '../../contracts/metrics-history.js';
import { SeriesMeans, toSeries } from './metric-buckets.js';
import { type MetricsArchive, MINUTE_MS } from './metrics-archive.js';
import { SampleRing } from './sample-ring.js';

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
    // Most heartbeats come sooner than the spacing: their reading is not even turned into series.
    if (!ring.keeps(time)) return;
    const previous = ring.newestTime;
    ring.push(time, monitorSeries(data));
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
    const archived =
      this.archive && (oldest === undefined || since < oldest)
        ? // Minutes whose samples all precede the memory's: before a restart, or slid out of the hour.
          await this.archive.range(hiveId, minuteOf(since), oldest ?? Number.POSITIVE_INFINITY)
        : [];
    return toSeries([...archived, ...(ring?.since(since) ?? [])], stepS);
  }

  /** Archives every hive's minute in progress, so that a restarted queen still serves it; then writes the archive. */
  async close(): Promise<void> {
    for (const [hiveId, ring] of this.rings) {
      const newest = ring.newestTime;
      if (newest !== undefined) this.archiveMinute(hiveId, ring, newest);
    }
    await this.archive?.flush();
  }

  private archiveMinute(hiveId: string, ring: SampleRing, timeInMinute: number): void {
    const minute = minuteOf(timeInMinute);
    const means = new SeriesMeans();
    let last = minute;
    for (const sample of ring.since(minute)) {
      if (sample.time >= minute + MINUTE_MS) break;
      means.add(sample.values);
      last = sample.time;
    }
    this.archive?.append([{ hiveId, minute, last, values: means.means() }]);
  }
}

function minuteOf(time: number): number {
  return Math.floor(time / MINUTE_MS) * MINUTE_MS;
}
