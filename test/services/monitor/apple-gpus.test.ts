import { describe, expect, it } from 'vitest';
import { createAppleGpuReader, parseAppleGraphics } from '../../../services/monitor/apple-gpus.js';
import { MACOS_GRAPHICS } from '../../fixtures/gpu-tools.js';

describe('Apple GPUs', () => {
  it('reads the GPU of an Apple-silicon Mac with its shared memory, load and temperature unknown', () => {
    expect(parseAppleGraphics(MACOS_GRAPHICS)).toEqual([
      {
        index: 0,
        name: 'Apple M2 Max',
        memoryUsedMiB: undefined,
        memoryTotalMiB: undefined,
        temperatureC: undefined,
        utilizationPercent: undefined,
        computeCapability: undefined,
      },
    ]);
  });

  it('answers missing without an Apple GPU, and times out a graphics() that hangs', async () => {
    const intel = {
      vendor: 'Intel',
      model: 'Intel Iris Plus Graphics',
      bus: 'Built-In',
      vram: 1536,
      vramDynamic: true,
    };
    const none = createAppleGpuReader({
      timeoutMs: 1_000,
      graphics: () => Promise.resolve({ controllers: [], displays: [] }),
    });
    expect(await none.read()).toEqual({ ok: false, error: { kind: 'missing' } });
    expect(parseAppleGraphics({ ...MACOS_GRAPHICS, controllers: [intel] })).toEqual([]);
    const hung = createAppleGpuReader({ timeoutMs: 20, graphics: () => new Promise(() => {}) });
    expect(await hung.read()).toEqual({ ok: false, error: { kind: 'timeout' } });
    const recorded = createAppleGpuReader({ timeoutMs: 1_000, graphics: () => Promise.resolve(MACOS_GRAPHICS) });
    expect(await recorded.read()).toMatchObject({ ok: true, value: [{ index: 0, name: 'Apple M2 Max' }] });
  });
});
