import type { HiveView, WorkerView } from '../../../../contracts/registry.js';
import { DeviceList } from './device-list.js';
import { h, setAttribute, setHidden, setText } from './dom.js';
import { formatAge, formatDuration, formatGb, formatOffset, formatPercent, percentOf } from './format.js';
import { type BadgeLiveness, LivenessBadge } from './liveness-badge.js';
import { Meter } from './meter.js';
import { WorkerList } from './worker-list.js';

/** A hive clock further than this from the queen's is flagged on its card. */
const CLOCK_SKEW_WARNING_MS = 2000;
/** Longer model and worker-type lists are cut, with the rest counted: a hive may report thousands. */
const LIST_ITEMS_SHOWN = 8;

export interface CardFilter {
  readonly text: string;
  readonly problemsOnly: boolean;
}

/** One hive's card, built once and updated in place. */
export class HiveCard {
  readonly element: HTMLElement;
  private readonly liveness = new LivenessBadge('hive-liveness');
  private readonly age = h('span', { class: 'age', 'data-testid': 'hive-age' });
  private readonly status = h('span', { class: 'tag', 'data-testid': 'hive-status' });
  private readonly expected = h('span', { class: 'tag' }, 'expected');
  private readonly uptime = h('span', { class: 'tag' });
  private readonly skew = h('span', { class: 'tag warn', 'data-testid': 'hive-clock-skew' });
  private readonly noData = h('p', { class: 'empty' }, 'no heartbeat yet');
  private readonly cpu = new Meter('CPU', 'hive-cpu');
  private readonly ram = new Meter('RAM', 'hive-ram');
  private readonly devices = new DeviceList();
  private readonly metrics: HTMLElement;
  private readonly models = h('span', { 'data-testid': 'hive-models' });
  private readonly workerTypes = h('span', { 'data-testid': 'hive-worker-types' });
  private readonly workers = new WorkerList();
  private seenAt: number | undefined;
  private searchText = '';
  private currentLiveness: BadgeLiveness = 'unknown';

  constructor(readonly hiveId: string) {
    this.metrics = h('div', { class: 'metrics' }, this.cpu.element, this.ram.element, this.devices.element);
    this.element = h(
      'article',
      { class: 'hive', 'data-testid': 'hive', 'data-hive-id': hiveId, 'aria-label': `hive ${hiveId}` },
      h('header', { class: 'hive-head' }, this.liveness.element, h('h2', { class: 'hive-id' }, hiveId), this.age),
      h('div', { class: 'tags' }, this.status, this.expected, this.uptime, this.skew),
      this.noData,
      this.metrics,
      h('p', { class: 'line' }, h('span', { class: 'line-label' }, 'Models'), this.models),
      h('p', { class: 'line' }, h('span', { class: 'line-label' }, 'Worker types'), this.workerTypes),
      this.workers.element,
    );
  }

  /** `hive` is undefined while only the hive's workers are known. */
  update(hive: HiveView | undefined, workers: readonly WorkerView[], seenAt: number | undefined, now: number): void {
    const liveness = hive?.liveness ?? 'unknown';
    this.currentLiveness = liveness;
    this.liveness.update(liveness);
    setAttribute(this.element, 'data-liveness', liveness);
    this.seenAt = seenAt;
    this.tick(now);

    setText(this.status, hive?.status ?? '');
    setHidden(this.status, !hive?.status);
    setHidden(this.expected, !hive?.expected);
    this.updateMetrics(hive);
    this.updateSkew(hive?.clock_offset_ms ?? null);

    const capabilities = hive?.capabilities;
    const modelIds = capabilities?.models.map((model) => model.model_id) ?? [];
    const typeNames = capabilities?.workers.map((type) => `${type.worker_type} ${type.version}`) ?? [];
    setText(this.models, capabilities ? summarize(modelIds) : 'unknown');
    setText(this.workerTypes, capabilities ? summarize(typeNames) : 'unknown');
    this.workers.update(workers);
    this.searchText = [this.hiveId, ...modelIds, ...typeNames].join('\n').toLowerCase();
  }

  /** Advances the last-seen age on the local monotonic clock. */
  tick(now: number): void {
    setText(this.age, this.seenAt === undefined ? 'never seen' : `seen ${formatAge(now - this.seenAt)}`);
  }

  applyFilter(filter: CardFilter): void {
    const visible =
      (!filter.problemsOnly || this.currentLiveness !== 'online') &&
      (filter.text === '' || this.searchText.includes(filter.text));
    setHidden(this.element, !visible);
  }

  private updateMetrics(hive: HiveView | undefined): void {
    const data = hive?.monitor_data;
    setHidden(this.noData, Boolean(data));
    setHidden(this.metrics, !data);
    setHidden(this.uptime, !data);
    if (!data) return;
    this.cpu.update(data.cpu_usage_percent, formatPercent(data.cpu_usage_percent));
    this.ram.update(
      percentOf(data.ram_used_gb, data.ram_total_gb),
      `${formatGb(data.ram_used_gb)} / ${formatGb(data.ram_total_gb)}`,
    );
    this.devices.update(data.devices, hive.capabilities?.devices ?? []);
    setText(this.uptime, `up ${formatDuration(data.uptime_seconds * 1000)}`);
  }

  private updateSkew(offsetMs: number | null): void {
    const skewed = offsetMs !== null && Math.abs(offsetMs) >= CLOCK_SKEW_WARNING_MS;
    setHidden(this.skew, !skewed);
    if (skewed) setText(this.skew, `clock skew ${formatOffset(offsetMs)}`);
  }
}

function summarize(items: readonly string[]): string {
  if (items.length === 0) return 'none';
  const shown = items.slice(0, LIST_ITEMS_SHOWN).join(', ');
  return items.length > LIST_ITEMS_SHOWN ? `${shown} (+${items.length - LIST_ITEMS_SHOWN} more)` : shown;
}
