import { describe, expect, it } from 'vitest';
import type { SeriesKey } from '../../../contracts/metric-series.js';
import { MAX_SERIES, SampleRing } from '../../../services/queen/sample-ring.js';

const values = (entries: [SeriesKey, number][]): Map<SeriesKey, number> => new Map(entries);
const times = (ring: SampleRing, since = 0): number[] => [...ring.since(since)].map((sample) => sample.time);

describe('SampleRing', () => {
  it('keeps samples of the window only, oldest first, and skips those too close to the last kept', () => {
    const ring = new SampleRing({ windowMs: 10_000, minSpacingMs: 1_000 });
    for (const time of [0, 500, 1_000, 1_999, 2_000, 9_000, 10_000]) ring.push(time, values([['cpu', time / 1000]]));
    expect(times(ring)).toEqual([0, 1_000, 2_000, 9_000, 10_000]);
    expect(ring.push(9_500, values([['cpu', 1]]))).toBe(false);
    ring.push(11_500, values([['cpu', 11.5]]));
    expect(times(ring)).toEqual([2_000, 9_000, 10_000, 11_500]);
    expect(times(ring, 9_500)).toEqual([10_000, 11_500]);
    expect([...ring.since(11_000)].map((sample) => sample.values.get('cpu'))).toEqual([11.5]);
  });

  it('grows by doubling up to the bound the window and spacing give, then overwrites the oldest', () => {
    const ring = new SampleRing({ windowMs: 100_000, minSpacingMs: 1_000 });
    expect(ring.maxCapacity).toBe(101);
    expect(ring.capacity).toBe(16);
    for (let time = 0; time < 50_000; time += 1_000) ring.push(time, values([['cpu', 1]]));
    expect(ring.capacity).toBe(64);
    // A long run: the ring stops at its bound and keeps the newest window.
    for (let time = 50_000; time < 1_000_000; time += 1_000) ring.push(time, values([['cpu', time]]));
    expect(ring.capacity).toBe(101);
    expect(ring.size).toBe(101);
    expect(ring.byteLength).toBe(101 * 8 + 101 * 4);
    expect(ring.oldestTime).toBe(899_000);
    expect([...ring.since(0)].at(-1)?.values.get('cpu')).toBe(999_000);
  });

  it('keeps the order of samples across growth after the ring wrapped', () => {
    const ring = new SampleRing({ windowMs: 20_000, minSpacingMs: 1_000 });
    for (let time = 0; time <= 40_000; time += 1_000) ring.push(time, values([['ram_used_gb', time / 1000]]));
    expect(times(ring)).toEqual(Array.from({ length: 21 }, (_, index) => 20_000 + index * 1_000));
    expect([...ring.since(0)].map((sample) => sample.values.get('ram_used_gb'))).toEqual(
      Array.from({ length: 21 }, (_, index) => 20 + index),
    );
  });

  it('leaves a value left out unknown, never 0, and drops a series unknown in every sample kept', () => {
    const ring = new SampleRing({ windowMs: 3_000, minSpacingMs: 1_000 });
    ring.push(0, values([['cpu', 10]]));
    ring.push(
      1_000,
      values([
        ['cpu', 20],
        ['gpu.GPU-0.utilization', 55],
      ]),
    );
    ring.push(2_000, values([['cpu', 30]]));
    const samples = [...ring.since(0)];
    expect(samples.map((sample) => sample.values.get('gpu.GPU-0.utilization'))).toEqual([undefined, 55, undefined]);
    expect(ring.seriesCount).toBe(2);
    ring.push(5_000, values([['cpu', 40]]));
    expect(ring.seriesCount).toBe(1);
    expect(times(ring)).toEqual([2_000, 5_000]);
  });

  it('holds at most MAX_SERIES series however often the device ids change', () => {
    const ring = new SampleRing({ windowMs: 3_600_000, minSpacingMs: 1_000 });
    for (let sample = 0; sample < 50; sample += 1) {
      const readings: [SeriesKey, number][] = Array.from({ length: 64 }, (_, device) => [
        `gpu.GPU-${sample}-${device}.utilization`,
        50,
      ]);
      ring.push(sample * 1_000, values([['cpu', 1], ...readings]));
    }
    const seen = new Set([...ring.since(0)].flatMap((sample) => [...sample.values.keys()]));
    expect(seen.size).toBe(MAX_SERIES);
    expect(seen.has('cpu')).toBe(true);
  });
});
