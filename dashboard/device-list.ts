import type { Device } from '../contracts/capabilities.js';
import type { DeviceMonitorData } from '../contracts/heartbeat.js';
import { gpuSeriesKey } from '../contracts/metric-series.js';
import { h, setText } from './dom.js';
import { formatGb, formatPercent, percentOf } from './format.js';
import { Meter } from './meter.js';
import { Sparkline } from './sparkline.js';
import { type HiveTrend, percentSeries } from './trend.js';

/** Temperatures shown on a 0–100 °C bar; amber from 75 °C, red from 85 °C. */
const TEMPERATURE_THRESHOLDS = { high: 75, critical: 85 };
/** What a value the driver did not report reads as: never a 0. */
export const UNKNOWN = 'unknown';

class DeviceRow {
  readonly element: HTMLElement;
  private readonly name: HTMLElement;
  private readonly utilizationTrend = new Sparkline('device-utilization-trend');
  private readonly vramTrend = new Sparkline('device-vram-trend');
  private readonly utilization = new Meter('Util', 'device-utilization', undefined, this.utilizationTrend);
  private readonly vram = new Meter('VRAM', 'device-vram', undefined, this.vramTrend);
  private readonly temperature = new Meter('Temp', 'device-temperature', TEMPERATURE_THRESHOLDS);

  constructor(readonly deviceId: string) {
    this.name = h('span', { class: 'device-name' });
    this.element = h(
      'div',
      { class: 'device', 'data-testid': 'device', 'data-device-id': deviceId },
      this.name,
      this.utilization.element,
      this.vram.element,
      this.temperature.element,
    );
  }

  update(reading: DeviceMonitorData, device: Device | undefined): void {
    setText(this.name, device ? `${reading.device_id} · ${device.name}` : reading.device_id);
    // A value the driver does not report is unknown, never an empty bar that would read as idle.
    const { utilization_percent: busy, vram_used_gb: used, vram_total_gb: total } = reading;
    if (busy === undefined) this.utilization.clear(UNKNOWN);
    else this.utilization.update(busy, formatPercent(busy));
    if (used === undefined || total === undefined) this.vram.clear(UNKNOWN);
    else this.vram.update(percentOf(used, total), `${formatGb(used)} / ${formatGb(total)}`);
    const celsius = reading.temperature_celsius;
    if (celsius === undefined) this.temperature.clear(UNKNOWN);
    else this.temperature.update(celsius, `${Math.round(celsius)} °C`);
  }

  drawTrend(trend: HiveTrend, range: [number, number]): void {
    const series = (metric: Parameters<typeof gpuSeriesKey>[1]) => trend.series(gpuSeriesKey(this.deviceId, metric));
    this.utilizationTrend.draw(trend.times, series('utilization'), range);
    this.vramTrend.draw(trend.times, percentSeries(series('vram_used_gb'), series('vram_total_gb')), range);
  }
}

/** One utilisation, VRAM and temperature bar per device reading, keyed by device id. */
export class DeviceList {
  readonly element: HTMLElement = h('div', { class: 'devices' });
  private readonly rows = new Map<string, DeviceRow>();

  update(readings: readonly DeviceMonitorData[], devices: readonly Device[]): void {
    const seen = new Set<string>();
    for (const reading of readings) {
      seen.add(reading.device_id);
      let row = this.rows.get(reading.device_id);
      if (!row) {
        row = new DeviceRow(reading.device_id);
        this.rows.set(reading.device_id, row);
        this.element.append(row.element);
      }
      row.update(
        reading,
        devices.find((device) => device.id === reading.device_id),
      );
    }
    for (const [id, row] of this.rows) {
      if (seen.has(id)) continue;
      row.element.remove();
      this.rows.delete(id);
    }
  }

  drawTrend(trend: HiveTrend, range: [number, number]): void {
    for (const row of this.rows.values()) row.drawTrend(trend, range);
  }
}
