import type { HiveView, WorkerView } from '../contracts/registry.js';
import { h, setAttribute, setHidden, setText } from './dom.js';
import { formatAge, formatDuration, formatOffset } from './format.js';
import { HiveCardBody } from './hive-card-body.js';
import { type BadgeLiveness, LivenessBadge } from './liveness-badge.js';
import type { HiveTrend } from './trend.js';

/** A hive clock further than this from the queen's is flagged on its card. */
const CLOCK_SKEW_WARNING_MS = 2000;

export interface CardFilter {
  readonly text: string;
  readonly problemsOnly: boolean;
}

/**
 * One hive's card, built once and updated in place. Its body (readings, trends, workers) is built the first time
 * the card comes near the screen: a thousand hives' bodies would hold up the first paint for cards nobody sees.
 */
export class HiveCard {
  readonly element: HTMLElement;
  private readonly liveness = new LivenessBadge('hive-liveness');
  private readonly age = h('span', { class: 'age', 'data-testid': 'hive-age' });
  private readonly status = h('span', { class: 'tag', 'data-testid': 'hive-status' });
  private readonly expected = h('span', { class: 'tag' }, 'expected');
  private readonly uptime = h('span', { class: 'tag' });
  private readonly skew = h('span', { class: 'tag warn', 'data-testid': 'hive-clock-skew' });
  private body: HiveCardBody | null = null;
  private hive: HiveView | undefined;
  private workers: readonly WorkerView[] = [];
  private seenAt: number | undefined;
  private searchText = '';
  private currentLiveness: BadgeLiveness = 'unknown';
  /** Readings of a hive that is not online are its last ones: greyed, with their age, never shown as live. */
  private stale = false;

  constructor(readonly hiveId: string) {
    this.element = h(
      'article',
      { class: 'hive', 'data-testid': 'hive', 'data-hive-id': hiveId, 'aria-label': `hive ${hiveId}` },
      h('header', { class: 'hive-head' }, this.liveness.element, h('h2', { class: 'hive-id' }, hiveId), this.age),
      h('div', { class: 'tags' }, this.status, this.expected, this.uptime, this.skew),
    );
  }

  /** `hive` is undefined while only the hive's workers are known. */
  update(hive: HiveView | undefined, workers: readonly WorkerView[], seenAt: number | undefined, now: number): void {
    this.hive = hive;
    this.workers = workers;
    const liveness = hive?.liveness ?? 'unknown';
    this.currentLiveness = liveness;
    this.liveness.update(liveness);
    setAttribute(this.element, 'data-liveness', liveness);
    this.seenAt = seenAt;
    const data = hive?.monitor_data;
    this.stale = liveness !== 'online' && Boolean(data);
    setAttribute(this.element, 'data-stale', String(this.stale));

    setText(this.status, hive?.status ?? '');
    setHidden(this.status, !hive?.status || this.stale);
    setHidden(this.expected, !hive?.expected);
    setHidden(this.uptime, !data || this.stale);
    if (data) setText(this.uptime, `up ${formatDuration(data.uptime_seconds * 1000)}`);
    this.updateSkew(hive?.clock_offset_ms ?? null);
    this.body?.update(hive, workers, this.stale);
    this.tick(now);

    const capabilities = hive?.capabilities;
    this.searchText = [
      this.hiveId,
      ...(capabilities?.models.map((model) => model.model_id) ?? []),
      ...(capabilities?.workers.map((type) => `${type.worker_type} ${type.version}`) ?? []),
    ]
      .join('\n')
      .toLowerCase();
  }

  /** The card came near the screen: its body is built, once. */
  show(now: number): void {
    if (this.body) return;
    this.body = new HiveCardBody();
    this.element.append(this.body.element);
    this.body.update(this.hive, this.workers, this.stale);
    this.tick(now);
  }

  /** Advances the last-seen age on the local monotonic clock. */
  tick(now: number): void {
    const age = this.seenAt === undefined ? null : formatAge(now - this.seenAt);
    setText(this.age, age === null ? 'never seen' : `seen ${age}`);
    if (this.stale) this.body?.showAge(age);
  }

  /** Draws the sparklines over `range` (unix seconds, queen clock). */
  drawTrend(trend: HiveTrend, range: [number, number]): void {
    this.body?.drawTrend(trend, range);
  }

  applyFilter(filter: CardFilter): void {
    const visible =
      (!filter.problemsOnly || this.currentLiveness !== 'online') &&
      (filter.text === '' || this.searchText.includes(filter.text));
    setHidden(this.element, !visible);
  }

  private updateSkew(offsetMs: number | null): void {
    const skewed = offsetMs !== null && Math.abs(offsetMs) >= CLOCK_SKEW_WARNING_MS;
    setHidden(this.skew, !skewed);
    if (skewed) setText(this.skew, `clock skew ${formatOffset(offsetMs)}`);
  }
}
