import { LIMITS } from '../../contracts/common.js';
import type { SeriesKey } from '../../contracts/metric-series.js';

/** One sample as queries read it. */
export interface Sample {
  /** Queen wall clock at receipt, epoch ms. */
  readonly time: number;
  /** The known values; a series without an entry was unknown in this sample. */
  readonly values: ReadonlyMap<SeriesKey, number>;
}

export interface RingLimits {
  /** Samples this much older than the newest are dropped. */
  readonly windowMs: number;
  /** A sample closer than this to the newest one kept is skipped: `windowMs / minSpacingMs` bounds the ring. */
  readonly minSpacingMs: number;
}

const INITIAL_CAPACITY = 16;

/** CPU and RAM, then four series per device a hive may report: device ids that change every sample add no more. */
export const MAX_SERIES = 3 + 4 * LIMITS.devices;

/**
 * One hive's samples over a time window, stored compactly: a Float64Array of times and a Float32Array per series
 * (NaN where unknown), grown by doubling up to the bound that the window and the spacing give.
 */
export class SampleRing {
  readonly maxCapacity: number;
  private times: Float64Array;
  private readonly columns = new Map<SeriesKey, Float32Array>();
  /** Time of each series' latest known value: a series unknown in every sample kept is dropped. */
  private readonly lastKnown = new Map<SeriesKey, number>();
  private start = 0;
  private length = 0;

  constructor(private readonly limits: RingLimits) {
    this.maxCapacity = Math.ceil(limits.windowMs / limits.minSpacingMs) + 1;
    this.times = new Float64Array(Math.min(INITIAL_CAPACITY, this.maxCapacity));
  }

  get size(): number {
    return this.length;
  }

  get capacity(): number {
    return this.times.length;
  }

  get seriesCount(): number {
    return this.columns.size;
  }

  /** Bytes held by the typed arrays. */
  get byteLength(): number {
    let bytes = this.times.byteLength;
    for (const column of this.columns.values()) bytes += column.byteLength;
    return bytes;
  }

  get oldestTime(): number | undefined {
    return this.length === 0 ? undefined : this.timeAt(0);
  }

  get newestTime(): number | undefined {
    return this.length === 0 ? undefined : this.timeAt(this.length - 1);
  }

  /** Whether a sample at `time` would be kept: not too close to (or older than) the newest one. */
  keeps(time: number): boolean {
    const newest = this.newestTime;
    return newest === undefined || time - newest >= this.limits.minSpacingMs;
  }

  /** Keeps `values` at `time`, unless `keeps` says no; false when skipped. */
  push(time: number, values: ReadonlyMap<SeriesKey, number>): boolean {
    if (!this.keeps(time)) return false;
    while (this.length > 0 && this.timeAt(0) < time - this.limits.windowMs) this.dropOldest();
    if (this.length === this.times.length) {
      if (this.times.length < this.maxCapacity) this.grow();
      else this.dropOldest();
    }
    const slot = this.slot(this.length);
    this.times[slot] = time;
    for (const [key, column] of this.columns) column[slot] = values.get(key) ?? Number.NaN;
    for (const [key, value] of values) {
      if (!this.columns.has(key)) {
        if (this.columns.size >= MAX_SERIES) continue;
        const column = new Float32Array(this.times.length).fill(Number.NaN);
        column[slot] = value;
        this.columns.set(key, column);
      }
      this.lastKnown.set(key, time);
    }
    this.length += 1;
    this.dropUnknownSeries();
    return true;
  }

  /** The samples at or after `since`, oldest first. */
  *since(since: number): Generator<Sample> {
    for (let index = 0; index < this.length; index += 1) {
      const time = this.timeAt(index);
      if (time < since) continue;
      const slot = this.slot(index);
      const values = new Map<SeriesKey, number>();
      for (const [key, column] of this.columns) {
        const value = column[slot];
        if (value !== undefined && !Number.isNaN(value)) values.set(key, value);
      }
      yield { time, values };
    }
  }

  private slot(index: number): number {
    return (this.start + index) % this.times.length;
  }

  private timeAt(index: number): number {
    return this.times[this.slot(index)] ?? Number.NaN;
  }

  private dropOldest(): void {
    this.start = this.slot(1);
    this.length -= 1;
  }

  private dropUnknownSeries(): void {
    const oldest = this.timeAt(0);
    for (const [key, time] of this.lastKnown) {
      if (time >= oldest) continue;
      this.lastKnown.delete(key);
      this.columns.delete(key);
    }
  }

  private grow(): void {
    const capacity = Math.min(this.times.length * 2, this.maxCapacity);
    const reorder = <A extends Float64Array | Float32Array>(from: A, to: A): A => {
      for (let index = 0; index < this.length; index += 1) to[index] = from[this.slot(index)] ?? Number.NaN;
      return to;
    };
    for (const [key, column] of this.columns) {
      this.columns.set(key, reorder(column, new Float32Array(capacity).fill(Number.NaN)));
    }
    this.times = reorder(this.times, new Float64Array(capacity));
    this.start = 0;
  }
}
