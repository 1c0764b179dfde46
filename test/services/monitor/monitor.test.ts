import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { LIMITS } from '../../../contracts/common.js';
import { MonitorData } from '../../../contracts/heartbeat.js';
import { createLogger, type Logger } from '../../../services/logger.js';
import { createAmdGpuReader } from '../../../services/monitor/amd-gpus.js';
import { createMonitor, type Monitor } from '../../../services/monitor/monitor.js';
import { nvidiaSmiArgs } from '../../../services/monitor/nvidia-smi.js';
import { nvidiaSmiLoopArgs } from '../../../services/monitor/nvidia-smi-loop.js';
import { createFakeNvidiaSmi, type FakeNvidiaSmi } from '../../fixtures/fake-nvidia-smi.js';
import { ROCM_SMI } from '../../fixtures/gpu-tools.js';
import { isRunning } from '../../support/process-tree.js';

/** How long the monitor waits for a hung nvidia-smi in the hang test. */
const HANG_MS = 800;

const TWO_GPUS = [
  '0, NVIDIA GeForce RTX 4090, 2048, 24564, 51, 37, 8.9',
  '1, NVIDIA RTX A6000, 0, 49140, 0, 0, 8.6',
].join('\n');

let fake: FakeNvidiaSmi;
let monitor: Monitor | undefined;
const LogLine = z.object({ level: z.string(), msg: z.string(), retry_in_ms: z.number().optional() });

let logs: z.infer<typeof LogLine>[];
let logger: Logger;

beforeEach(async () => {
  fake = await createFakeNvidiaSmi();
  logs = [];
  logger = createLogger({ level: 'debug', write: (line) => logs.push(LogLine.parse(JSON.parse(line))) });
});

afterEach(async () => {
  monitor?.stop();
  monitor = undefined;
  vi.unstubAllEnvs();
  await fake.remove();
});

function start(options: { periodMs?: number; sourceTimeoutMs?: number; nvidiaSmi?: string } = {}): Promise<void> {
  monitor = createMonitor({ periodMs: 60_000, sourceTimeoutMs: 2_000, logger, ...options });
  return monitor.start();
}

function started(): Monitor {
  if (!monitor) throw new Error('no monitor started');
  return monitor;
}

/** Waits for GPU-0 to show `usedGb`, then for a reading 100 ms newer still: the source keeps delivering. */
async function followsGpus(usedGb: number): Promise<void> {
  await vi.waitFor(() => expect(started().latest().devices[0]?.vram_used_gb).toBe(usedGb), {
    timeout: 2_000,
    interval: 10,
  });
  const before = Date.now();
  await vi.waitFor(() => expect(Date.parse(started().latest().collected_at ?? '')).toBeGreaterThan(before + 100), {
    timeout: 2_000,
    interval: 10,
  });
}

function logged(text: string): number {
  return logs.filter((line) => line.msg.includes(text)).length;
}

describe('monitor', () => {
  it('reads this machine with values in range', async () => {
    const before = Date.now();
    // Generous: on a loaded machine a first CPU sample or a read of /proc can take a while.
    await start({ sourceTimeoutMs: 2_000 });
    const data = started().latest();
    expect(MonitorData.parse(data)).toEqual(data);
    expect(data.cpu_usage_percent).toBeGreaterThanOrEqual(0);
    expect(data.cpu_usage_percent).toBeLessThanOrEqual(100);
    expect(data.ram_total_gb).toBeCloseTo(os.totalmem() / 1024 ** 3, 1);
    expect(data.ram_used_gb).toBeGreaterThan(0);
    expect(data.ram_used_gb).toBeLessThanOrEqual(data.ram_total_gb);
    expect(Number.isInteger(data.uptime_seconds)).toBe(true);
    expect(Math.abs(data.uptime_seconds - os.uptime())).toBeLessThanOrEqual(5);
    expect(Date.parse(data.collected_at ?? '')).toBeGreaterThanOrEqual(before - 1);
    for (const device of data.devices) expect(device.vram_used_gb ?? 0).toBeLessThanOrEqual(device.vram_total_gb ?? 0);
    expect(started().cpuName()).not.toBe('');
    expect(logs.filter((line) => line.level === 'warn')).toEqual([]);
  });

  it('reads every GPU from the nvidia-smi first on PATH', async () => {
    await fake.answer(TWO_GPUS);
    vi.stubEnv('PATH', `${fake.dir}${path.delimiter}${process.env.PATH ?? ''}`);
    await start();
    expect(started().latest().devices).toEqual([
      { device_id: 'GPU-0', vram_used_gb: 2, vram_total_gb: 23.988, temperature_celsius: 51, utilization_percent: 37 },
      { device_id: 'GPU-1', vram_used_gb: 0, vram_total_gb: 47.988, temperature_celsius: 0, utilization_percent: 0 },
    ]);
    expect(started().gpus()).toEqual([
      { index: 0, name: 'NVIDIA GeForce RTX 4090', vram_gb: 23.988, compute_capability: '8.9' },
      { index: 1, name: 'NVIDIA RTX A6000', vram_gb: 47.988, compute_capability: '8.6' },
    ]);
    // One query, then the loop that samples from then on.
    await expect
      .poll(() => fake.calls(), { timeout: 2_000, interval: 10 })
      .toEqual([nvidiaSmiArgs(true).join(' '), nvidiaSmiLoopArgs(true, 60_000).join(' ')]);
  });

  it('follows the GPUs through one long-running nvidia-smi, starting no process per period', async () => {
    await fake.answer(TWO_GPUS);
    await start({ periodMs: 20, nvidiaSmi: fake.path });
    await fake.answer(TWO_GPUS.replace(', 2048,', ', 4096,'));
    await followsGpus(4);
    expect(await fake.calls()).toEqual([nvidiaSmiArgs(true).join(' '), nvidiaSmiLoopArgs(true, 20).join(' ')]);
    expect(logs.filter((line) => line.level === 'warn')).toEqual([]);
  });

  it('queries once a period while the loop is down, and restarts it after a growing delay', async () => {
    await fake.answer(TWO_GPUS);
    await start({ periodMs: 20, nvidiaSmi: fake.path });
    await expect.poll(() => fake.loops(), { timeout: 2_000, interval: 10 }).toHaveLength(1);
    const oneShots = async (): Promise<number> =>
      (await fake.calls()).filter((call) => call === nvidiaSmiArgs(true).join(' ')).length;

    await fake.endLoops();
    // Each new loop ends at once too: retried after 1, 2, 4 … periods, each end logged.
    await vi.waitFor(async () => expect(await fake.loops()).toHaveLength(4), { timeout: 3_000, interval: 10 });
    const retries = logs.filter((line) => line.msg.includes('nvidia-smi loop ended')).map((line) => line.retry_in_ms);
    expect(retries.slice(0, 3)).toEqual([20, 40, 80]);
    // One end logged per loop started, never more: read the loops after the logs.
    expect(retries.length).toBeLessThanOrEqual((await fake.loops()).length);
    // The first query, then one per restart at least: a loop starts again only after a query has answered.
    expect(await oneShots()).toBeGreaterThanOrEqual(4);
    // Readings go on while the loop is down: the one-shot queries keep them fresh.
    const since = Date.now();
    await vi.waitFor(() => expect(Date.parse(started().latest().collected_at ?? '')).toBeGreaterThan(since), {
      timeout: 3_000,
      interval: 10,
    });
    expect(logged('nvidia-smi reading failed')).toBe(0);

    await fake.answer(TWO_GPUS.replace(', 2048,', ', 1024,'));
    // Once a loop delivers, the restarts and the one-shot queries stop: readings go on, neither count does. How many
    // loops ended before the answer depends on how fast this test got here; a query or a restart begun before the
    // loop's first sample may still land, so wait for a quiet stretch first (never one, if they go on).
    await followsGpus(1);
    const counts = async (): Promise<[number, number]> => [await oneShots(), (await fake.loops()).length];
    await vi.waitFor(
      async () => {
        const before = await counts();
        await followsGpus(1);
        expect(await counts()).toEqual(before);
      },
      { timeout: 10_000, interval: 10 },
    );
    const settled = await counts();
    expect(settled[1]).toBeGreaterThanOrEqual(4);
    await followsGpus(1);
    await followsGpus(1);
    expect(await counts()).toEqual(settled);
  });

  it('leaves out what nvidia-smi cannot report, and keeps zeros', async () => {
    await fake.answer(
      ['0, NVIDIA GH200, [N/A], [N/A], N/A, [Not Supported], [N/A]', '1, Tesla T4, 0, 15360, 0, 0, 7.5'].join('\n'),
    );
    await start({ nvidiaSmi: fake.path });
    const data = started().latest();
    expect(MonitorData.safeParse(data).success).toBe(true);
    expect(data.devices).toEqual([
      { device_id: 'GPU-0' },
      { device_id: 'GPU-1', vram_used_gb: 0, vram_total_gb: 15, temperature_celsius: 0, utilization_percent: 0 },
    ]);
    expect(started().gpus()).toEqual([
      { index: 0, name: 'NVIDIA GH200' },
      { index: 1, name: 'Tesla T4', vram_gb: 15, compute_capability: '7.5' },
    ]);
  });

  it("leaves out a reading the contract would refuse, and cuts names to the contract's lengths", async () => {
    const name = 'N'.repeat(300);
    const computeCap = '8.9'.repeat(20);
    await fake.answer(`0, ${name}, -5, 23034, 250, 140, ${computeCap}`);
    await start({ nvidiaSmi: fake.path });
    const data = started().latest();
    expect(MonitorData.safeParse(data).success).toBe(true);
    expect(data.devices).toEqual([{ device_id: 'GPU-0', vram_total_gb: 22.494 }]);
    expect(started().gpus()).toEqual([
      {
        index: 0,
        name: name.slice(0, LIMITS.deviceNameLength),
        vram_gb: 22.494,
        compute_capability: computeCap.slice(0, LIMITS.computeCapabilityLength),
      },
    ]);
  });

  it('tells when a GPU falls out of the answer and when it comes back', async () => {
    await fake.answer(TWO_GPUS);
    await start({ periodMs: 20, nvidiaSmi: fake.path });
    const changes: number[][] = [];
    started().onGpusChanged(() =>
      changes.push(
        started()
          .gpus()
          .map((gpu) => gpu.index),
      ),
    );
    const [first] = TWO_GPUS.split('\n');
    await fake.answer(first ?? '');
    await vi.waitFor(() => expect(changes).toEqual([[0]]), { timeout: 3_000, interval: 10 });
    expect(
      started()
        .latest()
        .devices.map((device) => device.device_id),
    ).toEqual(['GPU-0']);
    await fake.answer(TWO_GPUS);
    await vi.waitFor(() => expect(changes).toEqual([[0], [0, 1]]), { timeout: 3_000, interval: 10 });
    expect(
      started()
        .latest()
        .devices.map((device) => device.device_id),
    ).toEqual(['GPU-0', 'GPU-1']);
  });

  it('treats a missing nvidia-smi as no GPUs and says so once', async () => {
    await start({ periodMs: 20, nvidiaSmi: path.join(fake.dir, 'absent') });
    const first = started().latest().collected_at;
    await vi.waitFor(() => expect(started().latest().collected_at).not.toBe(first), { timeout: 2_000, interval: 10 });
    const second = started().latest().collected_at;
    await vi.waitFor(() => expect(started().latest().collected_at).not.toBe(second), { timeout: 2_000, interval: 10 });
    expect(started().latest().devices).toEqual([]);
    expect(started().gpus()).toEqual([]);
    expect(logged('nvidia-smi not found')).toBe(1);
    expect(logs.filter((line) => line.level === 'warn')).toEqual([]);
  });

  it('reads AMD GPUs through the other reader on a machine without nvidia-smi', async () => {
    const otherGpus = createAmdGpuReader({
      amdSmi: path.join(fake.dir, 'absent'),
      rocmSmi: fake.path,
      timeoutMs: 2_000,
    });
    await fake.answer(JSON.stringify(ROCM_SMI));
    monitor = createMonitor({
      periodMs: 60_000,
      sourceTimeoutMs: 2_000,
      logger,
      nvidiaSmi: 'absent-nvidia-smi',
      otherGpus,
    });
    await monitor.start();
    expect(started().latest().devices).toEqual([
      {
        device_id: 'GPU-0',
        vram_used_gb: 0.026,
        vram_total_gb: 19.984,
        temperature_celsius: 45,
        utilization_percent: 7,
      },
      { device_id: 'GPU-1', vram_total_gb: 15.984 },
    ]);
    expect(
      started()
        .gpus()
        .map((gpu) => gpu.name),
    ).toEqual(['Radeon RX 7900 XT', 'AMD GPU 1']);
    expect(started().nvidia()).toBe(false);
  });

  it('bounds start when nvidia-smi hangs from the first call', async () => {
    await fake.hang();
    const before = performance.now();
    await start({ sourceTimeoutMs: 300, nvidiaSmi: fake.path });
    // Bounded by the source's timeout, not by the 30 s hang: with room for a loaded machine's stall.
    expect(performance.now() - before).toBeLessThan(3_000);
    expect(started().gpus()).toEqual([]);
    expect(started().latest().devices).toEqual([]);
    expect(logged('nvidia-smi reading failed')).toBe(1);
  });

  it('keeps stale GPU metrics during a hang without ever delaying latest() or the event loop', async () => {
    await fake.answer(TWO_GPUS);
    await start({ periodMs: 20, sourceTimeoutMs: HANG_MS, nvidiaSmi: fake.path });
    const healthy = started().latest();
    expect(healthy.devices).toHaveLength(2);

    await fake.hang();
    // The loop's stalls: the gaps between the ticks of a 10 ms timer.
    const stalls: number[] = [];
    let tickedAt = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      if (now - tickedAt >= HANG_MS * 0.9) stalls.push(now - tickedAt);
      tickedAt = now;
    }, 10);
    let slowest = 0;
    await vi.waitFor(
      async () => {
        const before = performance.now();
        started().latest();
        slowest = Math.max(slowest, performance.now() - before);
        expect(await fake.hangs()).toBeGreaterThanOrEqual(3);
      },
      { timeout: 10 * HANG_MS, interval: 10 },
    );
    clearInterval(ticker);

    const stale = started().latest();
    expect(stale.devices).toEqual(healthy.devices);
    expect(started().gpus()).toHaveLength(2);
    // Its oldest part, the last GPU reading, is from before at least two hangs.
    expect(Date.now() - Date.parse(stale.collected_at ?? '')).toBeGreaterThanOrEqual(2 * HANG_MS);
    expect(slowest).toBeLessThan(5);
    // Waiting on a hung query would stall the loop for a whole hang at each of them; a busy machine, once at most.
    expect(stalls.length).toBeLessThan(2);
    expect(logged('nvidia-smi reading failed')).toBe(1);
    expect(logged('nvidia-smi loop ended')).toBe(1);

    await fake.answer(TWO_GPUS);
    await vi.waitFor(() => expect(Date.now() - Date.parse(started().latest().collected_at ?? '')).toBeLessThan(250), {
      timeout: 2_000,
      interval: 10,
    });
    expect(logged('nvidia-smi reading recovered')).toBe(1);
  });

  it('kills its loop when stopped', async () => {
    await fake.answer(TWO_GPUS);
    await start({ periodMs: 10, nvidiaSmi: fake.path });
    await expect.poll(() => fake.loops(), { timeout: 2_000, interval: 10 }).toHaveLength(1);
    const [pid] = await fake.loops();
    expect(alive(pid)).toBe(true);
    started().stop();
    await vi.waitFor(() => expect(alive(pid)).toBe(false), { timeout: 2_000, interval: 10 });
  });

  it('kills a hung query when stopped', async () => {
    // A failing query: no loop, one query a period.
    await fake.answer(TWO_GPUS, 9);
    await start({ periodMs: 10, sourceTimeoutMs: 10_000, nvidiaSmi: fake.path });
    await fake.hang();
    await vi.waitFor(async () => expect(await fake.hangs()).toBe(1), { timeout: 2_000, interval: 10 });
    const [pid] = await fake.hungPids();
    expect(alive(pid)).toBe(true);
    started().stop();
    await vi.waitFor(() => expect(alive(pid)).toBe(false), { timeout: 2_000, interval: 10 });
    expect(await fake.loops()).toEqual([]);
  });
});

function alive(pid: number | undefined): boolean {
  return pid !== undefined && isRunning(pid);
}
