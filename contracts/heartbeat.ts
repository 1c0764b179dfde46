import { z } from 'zod';
import { Capabilities, CapabilityChanges } from './capabilities.js';
import {
  HiveSecret,
  HttpUrl,
  Id,
  LIMITS,
  NonNegative,
  NonNegativeInt,
  Percent,
  Port,
  Text,
  Timestamp,
} from './common.js';

/** One device's readings; a value its driver does not report is left out, never sent as 0. */
export const DeviceMonitorData = z.object({
  device_id: Id,
  vram_used_gb: NonNegative.optional(),
  vram_total_gb: NonNegative.optional(),
  temperature_celsius: z.number().min(-100).max(200).optional(),
  utilization_percent: Percent.optional(),
});
export type DeviceMonitorData = z.infer<typeof DeviceMonitorData>;

export const MonitorData = z.object({
  cpu_usage_percent: Percent,
  ram_used_gb: NonNegative,
  ram_total_gb: NonNegative,
  uptime_seconds: NonNegativeInt,
  devices: z.array(DeviceMonitorData).max(LIMITS.devices),
  /** When the numbers were read: a hung collector shows as stale metrics on a live hive. */
  collected_at: Timestamp.optional(),
});
export type MonitorData = z.infer<typeof MonitorData>;

/** Random per sender process: with `seq`, it tells a heartbeat delivered late from one built after the last taken. */
export const BootId = Text.min(1).max(128);

/** Heartbeats the sender built before this one since its start (its `boot_id`): a late or replayed one is older. */
export const Seq = NonNegativeInt;

export const HiveStatus = z.enum(['ready', 'stopping']);
export type HiveStatus = z.infer<typeof HiveStatus>;

export const HiveHeartbeat = z.object({
  hive_id: Id,
  timestamp: Timestamp,
  monitor_data: MonitorData,
  capabilities: Capabilities.optional(),
  capability_changes: CapabilityChanges.nullable().optional(),
  capabilities_version: NonNegativeInt.optional(),
  boot_id: BootId.optional(),
  seq: Seq.optional(),
  hive_url: HttpUrl.optional(),
  status: HiveStatus.optional(),
  /** The identity the queen issued to this hive id in its first ack. */
  hive_secret: HiveSecret.optional(),
});
export type HiveHeartbeat = z.infer<typeof HiveHeartbeat>;

/** What the queen keeps of a hive heartbeat besides its capabilities: never the secret. */
export const HiveReport = HiveHeartbeat.omit({ capabilities: true, capability_changes: true, hive_secret: true });
export type HiveReport = z.infer<typeof HiveReport>;

export const WorkerStatus = z.enum(['starting', 'ready', 'busy', 'error', 'stopped']);
export type WorkerStatus = z.infer<typeof WorkerStatus>;

/** What a worker fronts: an engine it supervises, or the built-in demo backend. */
export const WorkerEngine = z.enum(['llama.cpp', 'vllm', 'openai', 'demo']);
export type WorkerEngine = z.infer<typeof WorkerEngine>;

export const WorkerHeartbeat = z.object({
  worker_id: Id,
  hive_id: Id,
  timestamp: Timestamp,
  status: WorkerStatus,
  model: Text.min(1).max(1024),
  device: Id,
  port: Port,
  requests_served: NonNegativeInt,
  uptime_seconds: NonNegativeInt,
  worker_url: HttpUrl.optional(),
  /** Its hive's identity, handed down by the hive. */
  hive_secret: HiveSecret.optional(),
  /** (v2) What serves behind the worker, and what it reports of its load. */
  engine: WorkerEngine.optional(),
  slots_total: NonNegativeInt.optional(),
  slots_busy: NonNegativeInt.optional(),
  queue_depth: NonNegativeInt.optional(),
  kv_cache_usage: z.number().min(0).max(1).optional(),
  last_error: Text.max(LIMITS.lastErrorLength).optional(),
  restarts: NonNegativeInt.optional(),
  /** (v2) Like a hive's: a heartbeat of the worker's process older than the last one taken changes nothing. */
  boot_id: BootId.optional(),
  seq: Seq.optional(),
});
export type WorkerHeartbeat = z.infer<typeof WorkerHeartbeat>;

/** What the queen keeps of a worker heartbeat: never the secret. */
export const WorkerReport = WorkerHeartbeat.omit({ hive_secret: true });
export type WorkerReport = z.infer<typeof WorkerReport>;

export const HeartbeatAck = z.object({
  status: z.literal('ok'),
  queen_epoch: z.string().min(1),
  resync: z.boolean(),
  /** In the ack of a hive id's first accepted heartbeat only: the secret its later heartbeats must carry. */
  hive_secret: HiveSecret.optional(),
});
export type HeartbeatAck = z.infer<typeof HeartbeatAck>;

/** A follower's answer to a heartbeat (307, with the same URL in `location`): send it to the leader. */
export const LeaderRedirect = z.object({ leader_url: HttpUrl });
export type LeaderRedirect = z.infer<typeof LeaderRedirect>;

export const ErrorIssue = z.object({ path: z.string(), message: z.string() });
export type ErrorIssue = z.infer<typeof ErrorIssue>;

export const ErrorBody = z.object({
  error: z.string(),
  issues: z.array(ErrorIssue).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;
