import { z } from 'zod';
import { Capabilities } from './capabilities.js';
import { HttpUrl, Id, Port, Text, UnprivilegedPort } from './common.js';
import { MonitorData, WorkerEngine, WorkerStatus } from './heartbeat.js';

/**
 * `GET /capabilities[?queen_url=]` on a hive. The hive hands the URL on to its workers in a comma-separated list of
 * queens, so one with a comma would split there.
 */
export const CapabilitiesQuery = z.object({
  queen_url: HttpUrl.refine((url) => !url.includes(','), 'must not contain a comma').optional(),
});
export type CapabilitiesQuery = z.infer<typeof CapabilitiesQuery>;

export const CapabilitiesResponse = Capabilities.extend({
  hive_id: Id,
  monitor_data: MonitorData,
});
export type CapabilitiesResponse = z.infer<typeof CapabilitiesResponse>;

export const HiveHealth = z.object({
  status: z.literal('ok'),
  hive_id: Id,
  lifecycle: z.string(),
  queen_url: HttpUrl.nullable(),
});
export type HiveHealth = z.infer<typeof HiveHealth>;

/** Strict: a field the hive does not know (`upstream`, a typo) is a 400, never silently dropped. */
export const SpawnWorkerRequest = z.strictObject({
  model: Text.min(1).max(1024),
  device: Id.optional(),
  worker_type: Id.optional(),
  port: UnprivilegedPort.optional(),
});
export type SpawnWorkerRequest = z.infer<typeof SpawnWorkerRequest>;

export const SpawnWorkerResponse = z.object({
  worker_id: Id,
  port: Port,
  pid: z.number().int().positive(),
});
export type SpawnWorkerResponse = z.infer<typeof SpawnWorkerResponse>;

export const HiveWorker = SpawnWorkerResponse.extend({
  model: z.string(),
  device: Id,
  worker_type: Id,
  engine: WorkerEngine.optional(),
});
export type HiveWorker = z.infer<typeof HiveWorker>;

export const HiveWorkerList = z.object({ workers: z.array(HiveWorker) });
export type HiveWorkerList = z.infer<typeof HiveWorkerList>;

/** `GET /health` on a worker. */
export const WorkerHealth = z.object({
  status: WorkerStatus,
  worker_id: Id,
  model: z.string(),
  device: Id,
  requests_served: z.number().int().nonnegative(),
  in_flight: z.number().int().nonnegative(),
  uptime_seconds: z.number().int().nonnegative(),
  upstream: HttpUrl.nullable(),
});
export type WorkerHealth = z.infer<typeof WorkerHealth>;
