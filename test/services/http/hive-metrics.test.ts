import { describe, expect, it } from 'vitest';
import { ErrorBody } from '../../../contracts/heartbeat.js';
import { HiveMetrics } from '../../../contracts/metrics-history.js';
import { QUEEN_PATHS, withId } from '../../../contracts/paths.js';
import { type QueenAppHarness, startQueenApp } from '../../support/queen-app.js';
import { DEFAULT_LIVENESS, hiveBeat, WALL_BASE } from '../../support/queen-registry.js';
import { settle } from '../../support/stepping-clock.js';

const metricsPath = (id: string, query = ''): string => `${withId(QUEEN_PATHS.hiveMetrics, id)}${query}`;

/** A queen that received `cpus.length` heartbeats of hive `a`, 30 s apart, the second without a GPU utilisation. */
async function queenWithHistory(cpus: number[]): Promise<QueenAppHarness> {
  const queen = startQueenApp();
  for (const [index, cpu] of cpus.entries()) {
    await queen.timers.advanceTo(index * 30_000);
    const beat = hiveBeat('a', {}, index > 0);
    beat.monitor_data = {
      ...beat.monitor_data,
      cpu_usage_percent: cpu,
      devices: [
        { device_id: 'GPU-0', vram_used_gb: 6, vram_total_gb: 24, ...(index === 1 ? {} : { utilization_percent: 80 }) },
      ],
    };
    expect((await queen.post(QUEEN_PATHS.hiveHeartbeat, beat)).status).toBe(200);
  }
  return queen;
}

async function errorOf(response: Response, status: number): Promise<ErrorBody> {
  expect(response.status).toBe(status);
  return ErrorBody.parse(await response.json());
}

describe('GET /v1/hives/:id/metrics', () => {
  it("serves a hive's samples of the last hour, each one or averaged by step, unknown values as null", async () => {
    const q = await queenWithHistory([10, 20, 60]);
    const raw = HiveMetrics.parse(await (await q.request(metricsPath('a'))).json());
    const t0 = WALL_BASE / 1000;
    expect(raw.hive_id).toBe('a');
    expect(raw.step_s).toBe(0);
    expect(raw.series.cpu).toEqual([
      [t0, 10],
      [t0 + 30, 20],
      [t0 + 60, 60],
    ]);
    expect(raw.series['gpu.GPU-0.utilization']).toEqual([
      [t0, 80],
      [t0 + 30, null],
      [t0 + 60, 80],
    ]);
    expect(Object.keys(raw.series).sort()).toEqual([
      'cpu',
      'gpu.GPU-0.utilization',
      'gpu.GPU-0.vram_total_gb',
      'gpu.GPU-0.vram_used_gb',
      'ram_total_gb',
      'ram_used_gb',
    ]);

    const since = new Date(WALL_BASE + 1).toISOString();
    const stepped = HiveMetrics.parse(await (await q.request(metricsPath('a', `?since=${since}&step=1m`))).json());
    expect(stepped.step_s).toBe(60);
    expect(stepped.series.cpu).toEqual([
      [t0, 20],
      [t0 + 60, 60],
    ]);
  });

  it('answers 404 for an unknown hive, 400 naming each bad parameter, 401 without the token', async () => {
    const q = await queenWithHistory([10]);
    expect((await errorOf(await q.request(metricsPath('nobody')), 404)).error).toContain('nobody');

    const paths = async (query: string): Promise<string[]> =>
      (await errorOf(await q.request(metricsPath('a', query)), 400)).issues?.map((issue) => issue.path) ?? [];
    expect(await paths('?step=5x')).toEqual(['step']);
    expect(await paths('?step=0s')).toEqual(['step']);
    expect(await paths('?step=2d')).toEqual(['step']);
    expect(await paths('?step=25h')).toEqual(['step']);
    expect(await paths('?since=yesterday')).toEqual(['since']);
    expect(await paths('?since=yesterday&step=fast')).toEqual(['since', 'step']);
    const unknown = await errorOf(await q.request(metricsPath('a', '?stepp=1m')), 400);
    expect(unknown.issues?.[0]?.message).toContain('stepp');
    // A week at one point a second is more than one answer should carry.
    const weekAgo = new Date(WALL_BASE - 7 * 86_400_000).toISOString();
    expect(await paths(`?since=${weekAgo}&step=1s`)).toEqual(['step']);
    expect((await q.request(metricsPath('a', `?since=${weekAgo}&step=2m`))).status).toBe(200);

    expect((await q.request(metricsPath('a'), { token: null })).status).toBe(401);
  });

  it("drops a forgotten hive's history with it", async () => {
    const q = await queenWithHistory([10, 20]);
    expect(q.history.hiveCount).toBe(1);
    // One jump: the sweep due then finds the hive silent for longer than forget-after.
    q.timers.set(30_000 + DEFAULT_LIVENESS.forgetAfterMs + 1_000);
    await settle();
    expect(q.registry.hives.get('a')).toBeUndefined();
    expect(q.history.hiveCount).toBe(0);
    expect((await q.request(metricsPath('a'))).status).toBe(404);
  });
});
