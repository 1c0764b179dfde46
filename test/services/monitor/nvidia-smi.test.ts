import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createNvidiaSmiReader, nvidiaSmiArgs, parseNvidiaSmi } from '../../../services/monitor/nvidia-smi.js';
import { createFakeNvidiaSmi, type FakeNvidiaSmi } from '../../fixtures/fake-nvidia-smi.js';

describe('parseNvidiaSmi', () => {
  it('reads several GPUs', () => {
    const output = [
      '0, NVIDIA GeForce RTX 4090, 1234, 24564, 45, 99, 8.9',
      '1, NVIDIA A100-SXM4-80GB, 512, 81920, 38, 3, 8.0',
    ];
    expect(parseNvidiaSmi(output.join('\n'), true)).toEqual([
      {
        index: 0,
        name: 'NVIDIA GeForce RTX 4090',
        memoryUsedMiB: 1234,
        memoryTotalMiB: 24564,
        temperatureC: 45,
        utilizationPercent: 99,
        computeCapability: '8.9',
      },
      {
        index: 1,
        name: 'NVIDIA A100-SXM4-80GB',
        memoryUsedMiB: 512,
        memoryTotalMiB: 81920,
        temperatureC: 38,
        utilizationPercent: 3,
        computeCapability: '8.0',
      },
    ]);
  });

  it('keeps zero readings as zero', () => {
    expect(parseNvidiaSmi('0, Tesla T4, 0, 15360, 0, 0, 7.5\n', true)).toEqual([
      {
        index: 0,
        name: 'Tesla T4',
        memoryUsedMiB: 0,
        memoryTotalMiB: 15360,
        temperatureC: 0,
        utilizationPercent: 0,
        computeCapability: '7.5',
      },
    ]);
  });

  it('turns N/A, [N/A] and [Not Supported] into unknown fields', () => {
    expect(parseNvidiaSmi('3, NVIDIA GH200, [N/A], [Not Supported], N/A, [N/A], [Unknown Error]', true)).toEqual([
      {
        index: 3,
        name: 'NVIDIA GH200',
        memoryUsedMiB: undefined,
        memoryTotalMiB: undefined,
        temperatureC: undefined,
        utilizationPercent: undefined,
        computeCapability: undefined,
      },
    ]);
  });

  it('keeps commas inside a name and reads the five-column form of old drivers', () => {
    expect(parseNvidiaSmi('0, Quadro RTX 8000, Rev. 2, 10, 49152, 31, 7\r\n', false)).toEqual([
      {
        index: 0,
        name: 'Quadro RTX 8000, Rev. 2',
        memoryUsedMiB: 10,
        memoryTotalMiB: 49152,
        temperatureC: 31,
        utilizationPercent: 7,
        computeCapability: undefined,
      },
    ]);
  });

  it('skips lines that are not a GPU', () => {
    const output = ['No devices were found', '', 'x, GPU, 1, 2, 3, 4, 5', '-1, GPU, 1, 2, 3, 4, 5', '0, short, 1'].join(
      '\n',
    );
    expect(parseNvidiaSmi(output, true)).toEqual([]);
  });
});

describe('createNvidiaSmiReader', () => {
  let fake: FakeNvidiaSmi;
  beforeEach(async () => {
    fake = await createFakeNvidiaSmi();
  });
  afterEach(async () => {
    await fake.remove();
  });

  it('asks for the fields the monitor needs, without units', async () => {
    await fake.answer('0, NVIDIA L4, 100, 23034, 40, 5, 8.9');
    const result = await createNvidiaSmiReader({ binary: fake.path, timeoutMs: 2_000 }).read();
    expect(result).toMatchObject({ ok: true, value: [{ index: 0, name: 'NVIDIA L4', memoryTotalMiB: 23034 }] });
    expect(await fake.calls()).toEqual([nvidiaSmiArgs(true).join(' ')]);
    expect(nvidiaSmiArgs(true)).toEqual([
      '--query-gpu=index,name,memory.used,memory.total,temperature.gpu,utilization.gpu,compute_cap',
      '--format=csv,noheader,nounits',
    ]);
  });

  it('reports a missing binary as missing', async () => {
    const reader = createNvidiaSmiReader({ binary: path.join(fake.dir, 'absent'), timeoutMs: 2_000 });
    expect(await reader.read()).toEqual({ ok: false, error: { kind: 'missing' } });
  });

  it('reports a failing binary with its message', async () => {
    await fake.script("echo 'NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver.'\nexit 9");
    const result = await createNvidiaSmiReader({ binary: fake.path, timeoutMs: 2_000 }).read();
    expect(result).toEqual({
      ok: false,
      error: {
        kind: 'failed',
        message: 'NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver.',
      },
    });
  });

  it('falls back to the query without compute_cap on drivers that lack it, and stays there', async () => {
    await fake.script(
      [
        'case "$*" in *compute_cap*) echo \'Field "compute_cap" is not a valid field to query.\'; exit 2;; esac',
        "echo '0, Tesla P100, 5, 16280, 30, 1'",
      ].join('\n'),
    );
    const reader = createNvidiaSmiReader({ binary: fake.path, timeoutMs: 2_000 });
    const expected = { ok: true, value: [{ index: 0, name: 'Tesla P100', computeCapability: undefined }] };
    expect(await reader.read()).toMatchObject(expected);
    expect(await reader.read()).toMatchObject(expected);
    expect(await fake.calls()).toEqual([
      nvidiaSmiArgs(true).join(' '),
      nvidiaSmiArgs(false).join(' '),
      nvidiaSmiArgs(false).join(' '),
    ]);
  });

  it('gives up on a hung binary after its time box, even when a grandchild holds its output open', async () => {
    await fake.hang();
    const started = performance.now();
    const result = await createNvidiaSmiReader({ binary: fake.path, timeoutMs: 150 }).read();
    expect(result).toEqual({ ok: false, error: { kind: 'timeout' } });
    // The hang lasts 30 s: this bound tells the time box from it, with room for a loaded machine's stall.
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(await fake.hangs()).toBe(1);
  });

  it('stops a query in flight when its signal aborts', async () => {
    await fake.hang();
    const abort = new AbortController();
    const reading = createNvidiaSmiReader({ binary: fake.path, timeoutMs: 10_000 }).read(abort.signal);
    await expect.poll(() => fake.hangs(), { timeout: 2_000, interval: 20 }).toBe(1);
    abort.abort();
    expect(await reading).toEqual({ ok: false, error: { kind: 'timeout' } });
  });
});
