import type { HiveView, WorkerView } from '../contracts/registry.js';
import { DeviceList } from './device-list.js';
import { h, setHidden, setText } from './dom.js';
import { formatGb, formatPercent, percentOf } from './format.js';
import { Meter } from './meter.js';
import { Sparkline } from './sparkline.js';
import { type HiveTrend, percentSeries } from './trend.js';
import { WorkerList } from './worker-list.js';

/** Longer model and worker-type lists are cut, with the rest counted: a hive may report thousands. */
const LIST_ITEMS_SHOWN = 8;

/** What a hive card shows below its header: readings with their trends, models, worker types and workers. */
export class HiveCardBody {
  readonly element: HTMLElement;
  private readonly noData = h('p', { class: 'empty' }, 'no heartbeat yet');
  private readonly readingsAge = h('p', { class: 'readings-age', 'data-testid': 'hive-readings-age' });
  private readonly cpuTrend = new Sparkline('hive-cpu-trend');
  private readonly ramTrend = new Sparkline('hive-ram-trend');
  private readonly cpu = new Meter('CPU', 'hive-cpu', undefined, this.cpuTrend);
  private readonly ram = new Meter('RAM', 'hive-ram', undefined, this.ramTrend);
  private readonly devices = new DeviceList();
  private readonly metrics: HTMLElement;
  private readonly models = h('span', { 'data-testid': 'hive-models' });
  private readonly workerTypes = h('span', { 'data-testid': 'hive-worker-types' });
  private readonly workers = new WorkerList();

  constructor() {
    this.metrics = h(
      'div',
      { class: 'metrics' },
      this.readingsAge,
      this.cpu.element,
      this.ram.element,
      this.devices.element,
    );
    this.element = h(
      'div',
      { class: 'hive-body' },
      this.noData,
      this.metrics,
      h('p', { class: 'line' }, h('span', { class: 'line-label' }, 'Models'), this.models),
      h('p', { class: 'line' }, h('span', { class: 'line-label' }, 'Worker types'), this.workerTypes),
      this.workers.element,
    );
  }

  /** `stale`: the readings are the last ones of a hive that is not online. */
  update(hive: HiveView | undefined, workers: readonly WorkerView[], stale: boolean): void {
    setHidden(this.readingsAge, !stale);
    this.updateMetrics(hive);
    const capabilities = hive?.capabilities;
    setText(this.models, capabilities ? summarize(capabilities.models.map((model) => model.model_id)) : 'unknown');
    setText(
      this.workerTypes,
      capabilities ? summarize(capabilities.workers.map((type) => `${type.worker_type} ${type.version}`)) : 'unknown',
    );
    this.workers.update(workers);
  }

  /** `age` of the readings, e.g. "4 min 10 s ago"; null when unknown. */
  showAge(age: string | null): void {
    setText(this.readingsAge, `last reading ${age ?? 'at an unknown time'}`);
  }

  drawTrend(trend: HiveTrend, range: [number, number]): void {
    this.cpuTrend.draw(trend.times, trend.series('cpu'), range);
    this.ramTrend.draw(trend.times, percentSeries(trend.series('ram_used_gb'), trend.series('ram_total_gb')), range);
    this.devices.drawTrend(trend, range);
  }

  private updateMetrics(hive: HiveView | undefined): void {
    const data = hive?.monitor_data;
    setHidden(this.noData, Boolean(data));
    setHidden(this.metrics, !data);
    if (!data) return;
    this.cpu.update(data.cpu_usage_percent, formatPercent(data.cpu_usage_percent));
    this.ram.update(
      percentOf(data.ram_used_gb, data.ram_total_gb),
      `${formatGb(data.ram_used_gb)} / ${formatGb(data.ram_total_gb)}`,
    );
    this.devices.update(data.devices, hive.capabilities?.devices ?? []);
  }
}

function summarize(items: readonly string[]): string {
  if (items.length === 0) return 'none';
  const shown = items.slice(0, LIST_ITEMS_SHOWN).join(', ');
  return items.length > LIST_ITEMS_SHOWN ? `${shown} (+${items.length - LIST_ITEMS_SHOWN} more)` : shown;
}
