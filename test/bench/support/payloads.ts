import { z } from 'zod';
import { HeartbeatAck, type HiveHeartbeat, type WorkerHeartbeat } from '../../../contracts/heartbeat.js';
import { capabilities, discoveryHeartbeat, periodicHeartbeat, workerHeartbeat } from '../../fixtures/examples.js';

/**
 * Realistic heartbeats (test/fixtures/examples.ts: 2 GPUs and a CPU) for many distinct hives and their workers, each
 * carrying the identity secret its hive was issued by the current queen, as real senders do.
 */

const secrets = new Map<string, string>();

/** A new queen: the identities the previous one issued mean nothing to it. */
export function forgetSecrets(): void {
  secrets.clear();
}

/** Keeps the secret a queen's ack issued to the hive of the heartbeat `request` (both JSON text). */
export function learnSecret(request: string, reply: string): void {
  const issued = HeartbeatAck.safeParse(JSON.parse(reply));
  const hive = z.object({ hive_id: z.string() }).safeParse(JSON.parse(request));
  if (issued.success && issued.data.hive_secret !== undefined && hive.success) {
    secrets.set(hive.data.hive_id, issued.data.hive_secret);
  }
}

function secretOf(index: number): { hive_secret?: string } {
  const secret = secrets.get(hiveIdOf(index));
  return secret === undefined ? {} : { hive_secret: secret };
}

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
    ...secretOf(index),
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
    ...secretOf(index),
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
    ...secretOf(index),
  };
}
