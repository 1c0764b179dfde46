import type { SeriesKey } from '../contracts/metric-series.js';
import type { HiveMetrics } from '../contracts/metrics-history.js';
import { HiveTrend } from './trend.js';

/** Histories asked of the queen at once: the visible cards of a big cluster load a few at a time. */
const LOADS_AT_ONCE = 4;

type Reading = readonly [time: number, readings: ReadonlyMap<SeriesKey, number>];

/**
 * The hives' trends, each loaded from the queen the first time its card is seen and extended from the stream;
 * readings that arrive while a history loads are applied once it is in.
 */
export class TrendStore {
  private readonly trends = new Map<string, HiveTrend>();
  private readonly loading = new Map<string, Reading[]>();
  private readonly queue: string[] = [];
  private readonly changed = new Set<string>();
  private inFlight = 0;
  /** Bumped by every reset, so that an answer to a request made before it is dropped. */
  private generation = 0;

  constructor(
    private readonly load: (hiveId: string) => Promise<HiveMetrics | null>,
    private readonly onChange: () => void,
  ) {}

  get(hiveId: string): HiveTrend | undefined {
    return this.trends.get(hiveId);
  }

  /** Loads a hive's history unless it is on its way; one already loaded is drawn again. */
  want(hiveId: string): void {
    if (this.trends.has(hiveId)) {
      this.changed.add(hiveId);
      this.onChange();
      return;
    }
    if (this.loading.has(hiveId)) return;
    this.loading.set(hiveId, []);
    this.queue.push(hiveId);
    this.pump();
  }

  /** A reading from the stream; kept only for hives whose history is loaded or loading. */
  add(hiveId: string, time: number, readings: ReadonlyMap<SeriesKey, number>): void {
    const trend = this.trends.get(hiveId);
    if (trend) {
      trend.add(time, readings);
      this.changed.add(hiveId);
    } else this.loading.get(hiveId)?.push([time, readings]);
  }

  /** Forgets everything (a new snapshot: what was missed is only in the queen's history). */
  reset(): void {
    this.generation += 1;
    this.trends.clear();
    this.loading.clear();
    this.queue.length = 0;
    this.changed.clear();
  }

  takeChanged(): Set<string> {
    const changed = new Set(this.changed);
    this.changed.clear();
    return changed;
  }

  private pump(): void {
    while (this.inFlight < LOADS_AT_ONCE) {
      const hiveId = this.queue.shift();
      if (hiveId === undefined) return;
      this.inFlight += 1;
      const generation = this.generation;
      const settle = (metrics: HiveMetrics | null): void => {
        this.inFlight -= 1;
        if (generation === this.generation) this.loaded(hiveId, metrics);
        this.pump();
      };
      this.load(hiveId).then(settle, () => settle(null));
    }
  }

  /** A history that could not be loaded starts empty, so the stream still draws the trend from now on. */
  private loaded(hiveId: string, metrics: HiveMetrics | null): void {
    const trend = new HiveTrend();
    if (metrics) trend.fill(metrics);
    for (const [time, readings] of this.loading.get(hiveId) ?? []) trend.add(time, readings);
    this.loading.delete(hiveId);
    this.trends.set(hiveId, trend);
    this.changed.add(hiveId);
    this.onChange();
  }
}
