import { describe, expect, it } from 'vitest';
import type { SeriesKey } from '../../contracts/metric-series.js';
import { HiveTrend, percentSeries, TREND_SPAN_S, TREND_STEP_S } from '../../dashboard/trend.js';

const readings = (entries: [SeriesKey, number][]): Map<SeriesKey, number> => new Map(entries);
/** A bucket start well inside the epoch, as the queen aligns them. */
const T0 = 1_764_450_000;

function filled(): HiveTrend {
  const trend = new HiveTrend();
  trend.fill({
    hive_id: 'a',
    step_s: TREND_STEP_S,
    series: {
      cpu: [
        [T0, 10],
        [T0 + 30, null],
        [T0 + 60, 30],
      ],
      'gpu.g.utilization': [
        [T0, null],
        [T0 + 30, null],
        [T0 + 60, 50],
      ],
    },
  });
  return trend;
}

describe('HiveTrend', () => {
  it("takes the queen's buckets as they are, gaps included", () => {
    const trend = filled();
    expect(trend.times).toEqual([T0, T0 + 30, T0 + 60]);
    expect(trend.series('cpu')).toEqual([10, null, 30]);
    expect(trend.series('gpu.g.utilization')).toEqual([null, null, 50]);
    expect(trend.series('ram_used_gb')).toEqual([null, null, null]);
  });

  it("averages the stream's readings into new buckets, and leaves out those of the queen's last bucket", () => {
    const trend = filled();
    trend.add(T0 + 75, readings([['cpu', 99]]));
    expect(trend.series('cpu')).toEqual([10, null, 30]);
    trend.add(T0 + 95, readings([['cpu', 40]]));
    trend.add(
      T0 + 110,
      readings([
        ['cpu', 60],
        ['gpu.g.utilization', 70],
      ]),
    );
    expect(trend.times).toEqual([T0, T0 + 30, T0 + 60, T0 + 90]);
    expect(trend.series('cpu')).toEqual([10, null, 30, 50]);
    // Unknown in one reading: the mean is of the readings that knew it.
    expect(trend.series('gpu.g.utilization')).toEqual([null, null, 50, 70]);
  });

  it('keeps buckets nobody reported in as gaps, and drops those older than the span', () => {
    const trend = filled();
    trend.add(T0 + 185, readings([['cpu', 80]]));
    expect(trend.times).toEqual([T0, T0 + 30, T0 + 60, T0 + 90, T0 + 120, T0 + 150, T0 + 180]);
    expect(trend.series('cpu')).toEqual([10, null, 30, null, null, null, 80]);
    trend.trim(T0 + 60 + TREND_SPAN_S);
    expect(trend.times[0]).toBe(T0 + 60);
    expect(trend.series('cpu')).toEqual([30, null, null, null, 80]);
  });

  it('starts from the stream alone when the queen had nothing', () => {
    const trend = new HiveTrend();
    trend.add(T0 + 5, readings([['cpu', 5]]));
    trend.add(T0 + 20, readings([['cpu', 15]]));
    expect(trend.times).toEqual([T0]);
    expect(trend.series('cpu')).toEqual([10]);
  });
});

describe('percentSeries', () => {
  it('is a gap wherever used or total is unknown, or the total is 0', () => {
    expect(percentSeries([6, null, 3, 2], [24, 24, null, 0])).toEqual([25, null, null, null]);
  });
});
