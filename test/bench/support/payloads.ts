import type { HiveHeartbeat, WorkerHeartbeat } from '../../../contracts/heartbeat.js';
import { capabilities, discoveryHeartbeat, periodicHeartbeat, workerHeartbeat } from '../../fixtures/examples.js';

/** Realistic heartbeats (test/fixtures/examples.ts: 2 GPUs and a CPU) for many distinct hives and their workers. */

export function hiveIdOf(index: number): string {
  return `hive-${String(index).padStart(5, '0')}`;
}

/** A distinct private address per hive. */
function hostOf(index: number): string {
  return `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`;
}

/** A discovery heartbeat: monitor data and the full capabilities (~1.2 KB). */
export function fullHiveHeartbeat(index: number): HiveHeartbeat {
  return {
    ...structuredClone(discoveryHeartbeat),
    hive_id: hiveIdOf(index),
    timestamp: new Date().toISOString(),
    boot_id: `b-${index}`,
    hive_url: `http://${hostOf(index)}:7835`,
  };
}

/** The steady-state heartbeat of a hive registered with `fullHiveHeartbeat`: monitor data only. */
export function periodicHiveHeartbeat(index: number): HiveHeartbeat {
  return {
    ...structuredClone(periodicHeartbeat),
    hive_id: hiveIdOf(index),
    timestamp: new Date().toISOString(),
    boot_id: `b-${index}`,
    hive_url: `http://${hostOf(index)}:7835`,
  };
}

/** Worker `slot` of hive `index`, on one of its two GPUs, serving one of its models. */
export function workerHeartbeatOf(index: number, slot: number): WorkerHeartbeat {
  const port = 9301 + slot;
  return {
    ...workerHeartbeat,
    worker_id: `${hiveIdOf(index)}-w${slot}`,
    hive_id: hiveIdOf(index),
    timestamp: new Date().toISOString(),
    model: capabilities.models[slot % capabilities.models.length]?.model_id ?? 'demo',
    device: `GPU-${slot % 2}`,
    port,
    worker_url: `http://${hostOf(index)}:${port}`,
  };
}
