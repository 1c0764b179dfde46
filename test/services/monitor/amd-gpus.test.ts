import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAmdGpuReader } from '../../../services/monitor/amd-gpus.js';
import { AMD_SMI_METRIC_ARGS, AMD_SMI_STATIC_ARGS } from '../../../services/monitor/amd-smi.js';
import { ROCM_SMI_ARGS } from '../../../services/monitor/rocm-smi.js';
import { createFakeNvidiaSmi, type FakeNvidiaSmi } from '../../fixtures/fake-nvidia-smi.js';
import { AMD_SMI_METRIC, AMD_SMI_STATIC, ROCM_SMI } from '../../fixtures/gpu-tools.js';

let fake: FakeNvidiaSmi;

beforeEach(async () => {
  fake = await createFakeNvidiaSmi();
});

afterEach(() => fake.remove());

/** The fake tool prints `metric.json` or `static.json` by its first argument, as amd-smi does, else `rocm.json`. */
async function answers(): Promise<void> {
  await writeFile(path.join(fake.dir, 'metric.json'), JSON.stringify(AMD_SMI_METRIC));
  await writeFile(path.join(fake.dir, 'static.json'), JSON.stringify(AMD_SMI_STATIC));
  await writeFile(path.join(fake.dir, 'rocm.json'), JSON.stringify(ROCM_SMI));
  await fake.script(`case "$1" in metric|static) cat '${fake.dir}'/"$1".json;; *) cat '${fake.dir}/rocm.json';; esac`);
}

describe('createAmdGpuReader', () => {
  it('reads amd-smi, its static answer once', async () => {
    await answers();
    const reader = createAmdGpuReader({ amdSmi: fake.path, rocmSmi: path.join(fake.dir, 'absent'), timeoutMs: 5_000 });
    const first = await reader.read();
    expect(first).toMatchObject({ ok: true, value: [{ name: 'AMD Instinct MI300X', utilizationPercent: 42 }, {}] });
    await reader.read();
    expect(await fake.calls()).toEqual(
      [AMD_SMI_METRIC_ARGS, AMD_SMI_STATIC_ARGS, AMD_SMI_METRIC_ARGS].map((args) => args.join(' ')),
    );
  });

  it('falls back to rocm-smi when amd-smi is not installed, and says missing when neither is', async () => {
    await answers();
    const reader = createAmdGpuReader({ amdSmi: path.join(fake.dir, 'absent'), rocmSmi: fake.path, timeoutMs: 5_000 });
    expect(await reader.read()).toMatchObject({ ok: true, value: [{ name: 'Radeon RX 7900 XT' }, { index: 1 }] });
    expect(await fake.calls()).toEqual([ROCM_SMI_ARGS.join(' ')]);
    const none = createAmdGpuReader({
      amdSmi: path.join(fake.dir, 'a'),
      rocmSmi: path.join(fake.dir, 'b'),
      timeoutMs: 5_000,
    });
    expect(await none.read()).toEqual({ ok: false, error: { kind: 'missing' } });
  });

  it('reports output that is not JSON as a failure, and a hung tool as a timeout', async () => {
    await fake.script("echo 'amd-smi: driver not loaded'");
    const reader = createAmdGpuReader({ amdSmi: fake.path, timeoutMs: 5_000 });
    expect(await reader.read()).toEqual({ ok: false, error: { kind: 'failed', message: 'amd-smi printed no JSON' } });
    await fake.hang();
    expect(await createAmdGpuReader({ amdSmi: fake.path, timeoutMs: 100 }).read()).toEqual({
      ok: false,
      error: { kind: 'timeout' },
    });
  });
});
