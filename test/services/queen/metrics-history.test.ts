import { describe, expect, it } from 'vitest';
import type { MonitorData } from '../../../contracts/heartbeat.js';
import { MemoryMetricsArchive } from '../../../services/queen/metrics-archive.js';
import { MetricsHistory } from '../../../services/queen/metrics-history.js';
import type { MinuteRow } from '../../../services/store/metrics-store.js';
import { monitorData } from '../../fixtures/examples.js';

const BASE = Date.parse('2025-10-30T14:00:00.000Z');

function reading(cpu: number, utilization?: number): MonitorData {
  const gpu = { device_id: 'GPU-0', vram_used_gb: 8, vram_total_gb: 24 };
  return {
    ...monitorData,
    cpu_usage_percent: cpu,
    devices: [utilization === undefined ? gpu : { ...gpu, utilization_percent: utilization }],
  };
}

/** An archive that keeps what it was given, to check the rows themselves. */
class RecordingArchive extends MemoryMetricsArchive {
  readonly appended: MinuteRow[] = [];
  override append(rows: readonly MinuteRow[]): void {
    this.appended.push(...rows);
    super.append(rows);
  }
}

describe('MetricsHistory', () => {
  it('serves what was recorded, per sample and in buckets, with unknown values as gaps', async () => {
    const history = new MetricsHistory({ minSpacingMs: 1_000 });
    history.record('a', BASE, reading(10, 50));
    history.record('a', BASE + 30_000, reading(20));
    history.record('a', BASE + 60_000, reading(60, 70));
    history.record('b', BASE, reading(99, 99));

    const raw = await history.series('a', BASE, 0);
    expect(raw.cpu).toEqual([
      [BASE / 1000, 10],
      [BASE / 1000 + 30, 20],
      [BASE / 1000 + 60, 60],
    ]);
    expect(raw['gpu.GPU-0.utilization']?.map(([, value]) => value)).toEqual([50, null, 70]);
    expect(raw['gpu.GPU-0.vram_total_gb']?.map(([, value]) => value)).toEqual([24, 24, 24]);
    expect(raw['gpu.GPU-0.temperature']).toBeUndefined();

    const buckets = await history.series('a', BASE, 60);
    expect(buckets.cpu).toEqual([
      [BASE / 1000, 15],
      [BASE / 1000 + 60, 60],
    ]);
    expect(buckets['gpu.GPU-0.utilization']).toEqual([
      [BASE / 1000, 50],
      [BASE / 1000 + 60, 70],
    ]);
    expect((await history.series('a', BASE + 1, 0)).cpu?.length).toBe(2);
    expect(await history.series('nobody', BASE, 0)).toEqual({});
  });

  it('forgets a hive, and keeps an hour in a bounded ring per hive', async () => {
    const history = new MetricsHistory();
    for (let time = 0; time < 2 * 3_600_000; time += 2_000) history.record('a', BASE + time, reading(time % 100));
    const cpu = (await history.series('a', 0, 0)).cpu ?? [];
    // Heartbeats every 2 s, kept at least 4.5 s apart: every third one, over the last hour.
    expect(cpu.length).toBe(601);
    expect(cpu.slice(0, 2).map(([time]) => time - BASE / 1000)).toEqual([3_594, 3_600]);
    expect((cpu.at(-1)?.[0] ?? 0) - BASE / 1000).toBe(7_194);
    history.forget('a');
    expect(history.hiveCount).toBe(0);
    expect(await history.series('a', 0, 0)).toEqual({});
  });

  it('hands each finished minute to the archive and reads older minutes back from it', async () => {
    const archive = new RecordingArchive();
    const history = new MetricsHistory({ windowMs: 120_000, minSpacingMs: 1_000, archive });
    for (let time = 0; time < 600_000; time += 10_000) history.record('a', BASE + time, reading(time / 10_000, 40));
    // Minutes 0–8 are closed (the sample at 9:50 is the last); cpu means are 2.5, 8.5, 14.5, ...
    expect(archive.appended.map((row) => row.minute - BASE)).toEqual(
      [0, 1, 2, 3, 4, 5, 6, 7, 8].map((m) => m * 60_000),
    );
    expect(archive.appended[0]?.values.get('cpu')).toBe(2.5);
    expect(archive.appended[0]?.values.get('gpu.GPU-0.utilization')).toBe(40);

    // The memory holds the last two minutes; before them the archive answers, minute by minute.
    const series = await history.series('a', BASE, 60);
    expect(series.cpu?.map(([time]) => time - BASE / 1000)).toEqual([0, 60, 120, 180, 240, 300, 360, 420, 480, 540]);
    expect(series.cpu?.slice(0, 2).map(([, value]) => value)).toEqual([2.5, 8.5]);
    expect(series.cpu?.at(-1)?.[1]).toBe(56.5);

    history.forget('a');
    expect(await archive.range('a', 0, Number.POSITIVE_INFINITY)).toEqual([]);
  });
});
