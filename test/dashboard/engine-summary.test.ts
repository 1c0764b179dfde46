import { describe, expect, it } from 'vitest';
import type { WorkerView } from '../../contracts/registry.js';
import { engineSummary } from '../../dashboard/engine-summary.js';

const worker: WorkerView = {
  worker_id: 'gpu-a-9301',
  hive_id: 'gpu-a',
  timestamp: '2026-11-29T21:00:00.000Z',
  status: 'busy',
  model: 'qwen',
  device: 'GPU-0',
  port: 9301,
  requests_served: 3,
  uptime_seconds: 60,
  liveness: 'online',
  available: false,
  last_seen: '2026-11-29T21:00:00.000Z',
  last_seen_age_ms: 10,
};

describe('engine summary of a worker row', () => {
  it('names the engine and what it reports, leaving out what it does not', () => {
    expect(
      engineSummary({
        ...worker,
        engine: 'llama.cpp',
        slots_total: 4,
        slots_busy: 1,
        queue_depth: 2,
        kv_cache_usage: 0.314,
        restarts: 1,
      }),
    ).toBe('llama.cpp · slots 1/4 · queue 2 · KV 31% · restarts 1');
    expect(engineSummary({ ...worker, engine: 'vllm', slots_busy: 5, restarts: 0 })).toBe('vllm · slots 5');
  });

  it('is nothing for a worker that reports no engine (a v1 worker)', () => {
    expect(engineSummary(worker)).toBeNull();
  });
});
