import type { SeriesKey } from '../../contracts/metric-series.js';
import type { MetricsPoint } from '../../contracts/metrics-history.js';
import type { Sample } from './sample-ring.js';

/** Means of the known values of several samples, per series: an unknown value counts as no sample, never as 0. */
export class SeriesMeans {
  private readonly sums = new Map<SeriesKey, { sum: number; count: number }>();

  add(values: ReadonlyMap<SeriesKey, number>): void {
    for (const [key, value] of values) {
      const total = this.sums.get(key);
      if (total) {
        total.sum += value;
        total.count += 1;
      } else this.sums.set(key, { sum: value, count: 1 });
    }
  }

  get empty(): boolean {
    return this.sums.size === 0;
  }

  means(): Map<SeriesKey, number> {
    return new Map([...this.sums].map(([key, { sum, count }]) => [key, sum / count]));
  }
}

/** Three decimals: more than a Float32 sample holds for these magnitudes. */
function rounded(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/**
 * The wire series of time-ordered samples: one point per sample (`stepS` 0), or per bucket of `stepS` seconds
 * aligned to the epoch, every bucket from the first sample's to the last's; `null` where nothing is known.
 */
export function toSeries(samples: Iterable<Sample>, stepS: number): Record<string, MetricsPoint[]> {
  const rows: Sample[] = stepS === 0 ? [...samples] : buckets(samples, stepS);
  const keys = new Set<SeriesKey>();
  for (const row of rows) for (const key of row.values.keys()) keys.add(key);
  const series: Record<string, MetricsPoint[]> = {};
  for (const key of [...keys].sort()) {
    series[key] = rows.map((row): MetricsPoint => {
      const value = row.values.get(key);
      return [row.time / 1000, value === undefined ? null : rounded(value)];
    });
  }
  return series;
}

function buckets(samples: Iterable<Sample>, stepS: number): Sample[] {
  const stepMs = stepS * 1000;
  const rows: Sample[] = [];
  let bucket: number | undefined;
  let means = new SeriesMeans();
  const close = (): void => {
    if (bucket !== undefined) rows.push({ time: bucket * stepMs, values: means.means() });
  };
  for (const sample of samples) {
    const index = Math.floor(sample.time / stepMs);
    if (bucket !== undefined && index !== bucket) {
      close();
      // A bucket without a sample is still a point, so that silence shows as a gap.
      for (let empty = bucket + 1; empty < index; empty += 1) rows.push({ time: empty * stepMs, values: new Map() });
      means = new SeriesMeans();
    }
    bucket = index;
    means.add(sample.values);
  }
  close();
  return rows;
}
