import { describe, expect, it } from 'vitest';
import { WorkerHeartbeat, type WorkerStatus } from '../../../contracts/heartbeat.js';
import { createNumbering } from '../../../services/heartbeat-numbering.js';
import { createWorkerPayload, workerHeartbeat } from '../../../services/worker/heartbeat-payload.js';

const IDENTITY = {
  workerId: 'hive-a-9001',
  hiveId: 'hive-a',
  model: 'tiny',
  device: 'GPU-0',
  port: 9001,
  workerUrl: 'http://127.0.0.1:9001',
};

describe('worker heartbeat payload', () => {
  it('builds a valid heartbeat with whole uptime seconds', () => {
    const heartbeat = workerHeartbeat(IDENTITY, {
      status: 'busy',
      requestsServed: 4,
      uptimeMs: 12_999,
      now: new Date('2025-10-30T14:52:00.000Z'),
    });
    expect(WorkerHeartbeat.parse(heartbeat)).toEqual({
      worker_id: 'hive-a-9001',
      hive_id: 'hive-a',
      timestamp: '2025-10-30T14:52:00.000Z',
      status: 'busy',
      model: 'tiny',
      device: 'GPU-0',
      port: 9001,
      requests_served: 4,
      uptime_seconds: 12,
      worker_url: 'http://127.0.0.1:9001',
    });
  });

  it("reads the status machine's status and counters at each send, and says stopped in the final one", () => {
    let status: WorkerStatus = 'starting';
    let served = 0;
    let now = 1_000;
    const build = createWorkerPayload({
      identity: IDENTITY,
      status: () => status,
      requestsServed: () => served,
      startedAt: 1_000,
      numbering: createNumbering(() => 'boot-1'),
      hiveSecret: () => undefined,
      now: () => now,
    });
    expect(build({ queenUrl: 'http://q', reason: 'discovery', full: true })).toMatchObject({
      status: 'starting',
      requests_served: 0,
      uptime_seconds: 0,
      boot_id: 'boot-1',
      seq: 0,
    });
    status = 'ready';
    served = 3;
    now = 61_000;
    expect(build({ queenUrl: 'http://q', reason: 'heartbeat', full: false })).toMatchObject({
      status: 'ready',
      requests_served: 3,
      uptime_seconds: 60,
      boot_id: 'boot-1',
      seq: 1,
    });
    // Numbered as built, whatever became of the ones before: the queen takes none older than the last it took.
    expect(build({ queenUrl: 'http://q', reason: 'final', full: false })).toMatchObject({
      status: 'stopped',
      seq: 2,
    });
  });
});
