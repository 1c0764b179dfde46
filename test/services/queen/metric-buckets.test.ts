import { describe, expect, it } from 'vitest';
import type { SeriesKey } from '../../../contracts/metric-series.js';
import { toSeries } from '../../../services/queen/metric-buckets.js';
import type { Sample } from '../../../services/queen/sample-ring.js';

const at = (time: number, entries: [SeriesKey, number][]): Sample => ({ time, values: new Map(entries) });

describe('toSeries', () => {
  it('gives one point per sample without a step, null where a value was unknown', () => {
    const series = toSeries(
      [
        at(1_000, [['cpu', 10]]),
        at(3_500, [
          ['cpu', 30],
          ['gpu.GPU-0.utilization', 75],
        ]),
        at(6_000, [['cpu', 20]]),
      ],
      0,
    );
    expect(series).toEqual({
      cpu: [
        [1, 10],
        [3.5, 30],
        [6, 20],
      ],
      'gpu.GPU-0.utilization': [
        [1, null],
        [3.5, 75],
        [6, null],
      ],
    });
  });

  it('averages into epoch-aligned buckets, counting only known values, with empty buckets as gaps', () => {
    const samples = [
      at(60_000, [['cpu', 10]]),
      at(80_000, [
        ['cpu', 20],
        ['gpu.GPU-0.utilization', 90],
      ]),
      at(119_999, [['cpu', 60]]),
      // Nothing from 120 s to 240 s: the hive was silent.
      at(245_000, [
        ['cpu', 5],
        ['gpu.GPU-0.utilization', 40],
      ]),
    ];
    expect(toSeries(samples, 60)).toEqual({
      cpu: [
        [60, 30],
        [120, null],
        [180, null],
        [240, 5],
      ],
      'gpu.GPU-0.utilization': [
        [60, 90],
        [120, null],
        [180, null],
        [240, 40],
      ],
    });
  });

  it('is empty without samples', () => {
    expect(toSeries([], 60)).toEqual({});
    expect(toSeries([], 0)).toEqual({});
  });
});
