import { describe, expect, it } from 'vitest';
import { HIVE_PATHS, QUEEN_PATHS, WORKER_PATHS, withId } from '../../contracts/paths.js';

describe('paths', () => {
  it('are the protocol paths', () => {
    expect(QUEEN_PATHS).toMatchObject({
      hiveHeartbeat: '/v1/hive-heartbeat',
      workerHeartbeat: '/v1/worker-heartbeat',
      hives: '/v1/hives',
      workers: '/v1/workers',
      stream: '/v1/heartbeats/stream',
      health: '/health',
      metrics: '/metrics',
    });
    expect(HIVE_PATHS).toMatchObject({ capabilities: '/capabilities', health: '/health', workers: '/v1/workers' });
    expect(WORKER_PATHS.health).toBe('/health');
  });

  it('fills an id into a template, escaping it', () => {
    expect(withId(QUEEN_PATHS.hive, 'gpu-node-1')).toBe('/v1/hives/gpu-node-1');
    expect(withId(QUEEN_PATHS.worker, 'a/b c?')).toBe('/v1/workers/a%2Fb%20c%3F');
  });
});
