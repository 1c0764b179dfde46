import type { SeriesKey } from '../contracts/metric-series.js';
import type { HiveMetrics } from '../contracts/metrics-history.js';

/** The sparklines' bucket width and span, in seconds: 120 points an hour. */
export const TREND_STEP_S = 30;
export const TREND_SPAN_S = 3600;

/**
 * One hive's recent history, in buckets of TREND_STEP_S aligned as the queen aligns them: first filled from the
 * queen's answer, then extended with the readings of the stream. `null` is a gap (unknown, or no reading).
 */
export class HiveTrend {
  /** Bucket start times, unix seconds, ascending. */
  readonly times: number[] = [];
  private readonly values = new Map<string, (number | null)[]>();
  /** Sums of the readings in the last bucket, when the stream opened it (the queen's buckets are final here). */
  private open: { bucket: number; sums: Map<string, { sum: number; count: number }> } | null = null;
  private filledUpTo = Number.NEGATIVE_INFINITY;

  fill(metrics: HiveMetrics): void {
    this.times.length = 0;
    this.values.clear();
    this.open = null;
    for (const [key, points] of Object.entries(metrics.series)) {
      if (this.times.length === 0) for (const [time] of points) this.times.push(time);
      this.values.set(
        key,
        points.map(([, value]) => value),
      );
    }
    this.filledUpTo = this.times.at(-1) ?? Number.NEGATIVE_INFINITY;
  }

  /**
   * Adds a reading taken at `time` (unix seconds, queen clock). A reading in the queen's last bucket is left out:
   * that bucket already averages the readings the queen had, and cannot be re-weighted without their count.
   */
  add(time: number, readings: ReadonlyMap<SeriesKey, number>): void {
    const bucket = Math.floor(time / TREND_STEP_S) * TREND_STEP_S;
    const last = this.times.at(-1);
    if (bucket <= this.filledUpTo || (last !== undefined && bucket < last)) return;
    if (this.open?.bucket !== bucket) {
      // Buckets nobody reported in stay as gaps, so a silence is never drawn as a straight line.
      const from = last === undefined ? bucket : Math.max(last + TREND_STEP_S, bucket - TREND_SPAN_S);
      for (let gap = from; gap < bucket; gap += TREND_STEP_S) this.push(gap);
      this.push(bucket);
      this.open = { bucket, sums: new Map() };
    }
    const index = this.times.length - 1;
    for (const [key, value] of readings) {
      const total = this.open.sums.get(key) ?? { sum: 0, count: 0 };
      total.sum += value;
      total.count += 1;
      this.open.sums.set(key, total);
      this.column(key)[index] = total.sum / total.count;
    }
  }

  /** Drops the buckets older than TREND_SPAN_S before `now` (unix seconds). */
  trim(now: number): void {
    let drop = 0;
    while (drop < this.times.length && (this.times[drop] ?? 0) < now - TREND_SPAN_S) drop += 1;
    if (drop === 0) return;
    this.times.splice(0, drop);
    for (const column of this.values.values()) column.splice(0, drop);
  }

  /** A series aligned with `times`; all gaps when the hive never reported it. */
  series(key: SeriesKey): readonly (number | null)[] {
    return this.values.get(key) ?? this.times.map(() => null);
  }

  private push(time: number): void {
    this.times.push(time);
    for (const column of this.values.values()) column.push(null);
  }

  private column(key: string): (number | null)[] {
    let column = this.values.get(key);
    if (!column) {
      column = this.times.map(() => null);
      this.values.set(key, column);
    }
    return column;
  }
}

/** `used` as a percentage of `total`, point by point; a gap wherever either is unknown or the total is 0. */
export function percentSeries(used: readonly (number | null)[], total: readonly (number | null)[]): (number | null)[] {
  return used.map((value, index) => {
    const whole = total[index];
    return value === null || whole === null || whole === undefined || whole <= 0 ? null : (value / whole) * 100;
  });
}
