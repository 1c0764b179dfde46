import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GpuReading } from '../../../services/monitor/gpu-reading.js';
import {
  createSampleFramer,
  loopRetry,
  type NvidiaSmiLoop,
  nvidiaSmiLoopArgs,
  startNvidiaSmiLoop,
} from '../../../services/monitor/nvidia-smi-loop.js';
import { createFakeNvidiaSmi, type FakeNvidiaSmi } from '../../fixtures/fake-nvidia-smi.js';
import { isRunning } from '../../support/process-tree.js';

const GPU_0 = '0, NVIDIA L4, 100, 23034, 40, 5, 8.9';
const GPU_1 = '1, NVIDIA L4, 200, 23034, 41, 6, 8.9';

function framed(indexes: number[], chunks: string[]): { samples: GpuReading[][]; mismatches: string[] } {
  const samples: GpuReading[][] = [];
  const mismatches: string[] = [];
  const framer = createSampleFramer({
    indexes,
    withComputeCap: true,
    onSample: (gpus) => samples.push(gpus),
    onMismatch: (problem) => mismatches.push(problem),
  });
  for (const chunk of chunks) framer.push(chunk);
  return { samples, mismatches };
}

describe('createSampleFramer', () => {
  it('gives one sample per run of the expected GPUs, however the stream is cut', () => {
    const text = `${GPU_0}\n${GPU_1}\n${GPU_0}\n${GPU_1}\n`;
    const whole = framed([0, 1], [text]);
    const byChar = framed([0, 1], [...text]);
    const inThree = framed([0, 1], [text.slice(0, 7), text.slice(7, 40), text.slice(40)]);
    expect(whole.samples.map((sample) => sample.map((gpu) => gpu.memoryUsedMiB))).toEqual([
      [100, 200],
      [100, 200],
    ]);
    expect(byChar).toEqual(whole);
    expect(inThree).toEqual(whole);
    expect(whole.mismatches).toEqual([]);
  });

  it('waits for the end of a line and for the last GPU of a sample', () => {
    expect(framed([0, 1], [`${GPU_0}\n${GPU_1}`]).samples).toEqual([]);
    expect(framed([0, 1], [`${GPU_0}\n${GPU_1}\r\n`]).samples).toHaveLength(1);
  });

  it('skips lines that are not a GPU, and drops an endless one without buffering it', () => {
    const junk = `Unable to determine the device handle for GPU0000:01:00.0: Unknown Error\n${'x'.repeat(10_000)}`;
    const result = framed([0, 1], [junk, 'y'.repeat(10_000), `\n${GPU_0}\n${GPU_1}\n`]);
    expect(result.samples).toHaveLength(1);
    expect(result.mismatches).toEqual([]);
  });

  it('reports once, and stops framing, when the GPUs are no longer those expected', () => {
    const result = framed([0, 1], [`${GPU_0}\n${GPU_1}\n${GPU_1}\n${GPU_0}\n${GPU_1}\n`]);
    expect(result.samples).toHaveLength(1);
    expect(result.mismatches).toEqual(['GPU 1 where GPU 0 was expected: the GPUs changed']);
    expect(framed([0], [`${GPU_0}\n${GPU_1}\n`]).mismatches).toEqual([
      'GPU 1 where GPU 0 was expected: the GPUs changed',
    ]);
  });
});

describe('loopRetry', () => {
  it('doubles the wait from one period up to 64, and starts over after a loop that ran that long', () => {
    let failed = 0;
    const waits: number[] = [];
    for (let end = 0; end < 9; end++) {
      const next = loopRetry(failed, 5, 1_000);
      failed = next.failedInARow;
      waits.push(next.retryMs / 1_000);
    }
    expect(waits).toEqual([1, 2, 4, 8, 16, 32, 64, 64, 64]);
    expect(loopRetry(failed, 63_999, 1_000)).toEqual({ failedInARow: 10, retryMs: 64_000 });
    expect(loopRetry(failed, 64_000, 1_000)).toEqual({ failedInARow: 1, retryMs: 1_000 });
  });
});

describe('startNvidiaSmiLoop', () => {
  let fake: FakeNvidiaSmi;
  let loop: NvidiaSmiLoop | undefined;
  beforeEach(async () => {
    fake = await createFakeNvidiaSmi();
  });
  afterEach(async () => {
    loop?.stop();
    loop = undefined;
    await fake.remove();
  });

  function start(binary: string, indexes: number[]): { samples: GpuReading[][]; ends: string[] } {
    const seen: { samples: GpuReading[][]; ends: string[] } = { samples: [], ends: [] };
    loop = startNvidiaSmiLoop({
      binary,
      withComputeCap: true,
      periodMs: 20,
      indexes,
      onSample: (gpus) => seen.samples.push(gpus),
      onEnd: (reason) => seen.ends.push(reason),
    });
    return seen;
  }

  it('reads a sample every period from one process, following what it prints', async () => {
    await fake.answer(`${GPU_0}\n${GPU_1}`);
    const seen = start(fake.path, [0, 1]);
    await expect.poll(() => seen.samples.length, { timeout: 2_000, interval: 10 }).toBeGreaterThanOrEqual(3);
    await fake.answer(`${GPU_0.replace(', 100,', ', 150,')}\n${GPU_1}`);
    await expect
      .poll(() => seen.samples.at(-1)?.map((gpu) => gpu.memoryUsedMiB), { timeout: 2_000, interval: 10 })
      .toEqual([150, 200]);
    expect(await fake.calls()).toEqual([nvidiaSmiLoopArgs(true, 20).join(' ')]);
    expect(nvidiaSmiLoopArgs(false, 1_000)).toEqual([
      '--query-gpu=index,name,memory.used,memory.total,temperature.gpu,utilization.gpu',
      '--format=csv,noheader,nounits',
      '--loop-ms=1000',
    ]);
    expect(seen.ends).toEqual([]);
  });

  it('ends with the exit status and what nvidia-smi said', async () => {
    await fake.answer(GPU_0);
    const seen = start(fake.path, [0]);
    await expect.poll(() => seen.samples.length, { timeout: 2_000, interval: 10 }).toBeGreaterThanOrEqual(1);
    await fake.endLoops();
    await expect
      .poll(() => seen.ends, { timeout: 2_000, interval: 10 })
      .toEqual(['exited with code 3: loop ended by the test']);
  });

  it('ends, and kills the process, when the GPUs change', async () => {
    await fake.answer(GPU_0);
    const seen = start(fake.path, [0, 1]);
    await expect.poll(() => seen.ends, { timeout: 2_000, interval: 10 }).toHaveLength(1);
    expect(seen.ends[0]).toContain('the GPUs changed');
    const [pid] = await fake.loops();
    await expect.poll(() => pid !== undefined && isRunning(pid), { timeout: 2_000, interval: 10 }).toBe(false);
    expect(seen.samples).toEqual([]);
  });

  it('ends when the binary cannot start', async () => {
    const seen = start(path.join(fake.dir, 'absent'), [0]);
    await expect.poll(() => seen.ends, { timeout: 2_000, interval: 10 }).toHaveLength(1);
    expect(seen.ends[0]).toContain('ENOENT');
  });

  it('kills the process on stop, and reports nothing after', async () => {
    await fake.answer(GPU_0);
    const seen = start(fake.path, [0]);
    await expect.poll(() => seen.samples.length, { timeout: 2_000, interval: 10 }).toBeGreaterThanOrEqual(1);
    const [pid] = await fake.loops();
    loop?.stop();
    const count = seen.samples.length;
    await expect.poll(() => pid !== undefined && isRunning(pid), { timeout: 2_000, interval: 10 }).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(seen.samples).toHaveLength(count);
    expect(seen.ends).toEqual([]);
  });
});
