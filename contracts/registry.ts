import { z } from 'zod';
import { Capabilities } from './capabilities.js';
import { HttpUrl, Id, NonNegativeInt, Timestamp } from './common.js';
import { QueenRole } from './election.js';
import { HiveStatus, MonitorData, WorkerReport } from './heartbeat.js';

export const Liveness = z.enum(['online', 'suspect', 'offline']);
export type Liveness = z.infer<typeof Liveness>;

/** Why an entry changed liveness; every transition carries one. */
export const LivenessReason = z.enum([
  'heartbeat',
  'missed heartbeats',
  'graceful stop',
  'hive offline',
  'forgotten',
  'discovered',
  'queen restart',
]);
export type LivenessReason = z.infer<typeof LivenessReason>;

/** What `/v1/hives` shows of one hive: liveness on the queen's clock plus its latest payload. */
export const HiveView = z.object({
  hive_id: Id,
  liveness: Liveness,
  /** Listed in the hives config: shown (and counted on /health) also while never seen. */
  expected: z.boolean(),
  /** Queen clock at receipt of the latest heartbeat; null while never heard from. */
  last_seen: Timestamp.nullable(),
  last_seen_age_ms: z.number().nonnegative().nullable(),
  /** Hive clock minus queen clock at receipt, informational only. */
  clock_offset_ms: z.number().nullable(),
  status: HiveStatus.nullable(),
  timestamp: Timestamp.nullable(),
  boot_id: z.string().nullable(),
  hive_url: HttpUrl.nullable(),
  monitor_data: MonitorData.nullable(),
  capabilities: Capabilities.nullable(),
  capabilities_version: NonNegativeInt.nullable(),
});
export type HiveView = z.infer<typeof HiveView>;

/** What `/v1/workers` shows of one worker: its latest heartbeat plus liveness on the queen's clock. */
export const WorkerView = WorkerReport.extend({
  liveness: Liveness,
  available: z.boolean(),
  last_seen: Timestamp,
  last_seen_age_ms: z.number().nonnegative(),
});
export type WorkerView = z.infer<typeof WorkerView>;

export const HiveList = z.object({ hives: z.array(HiveView) });
export type HiveList = z.infer<typeof HiveList>;

export const WorkerList = z.object({ workers: z.array(WorkerView) });
export type WorkerList = z.infer<typeof WorkerList>;

export const WorkerFilter = z.object({
  hive_id: Id.optional(),
  model: z.string().min(1).optional(),
});
export type WorkerFilter = z.infer<typeof WorkerFilter>;

export const QueenHealth = z.object({
  status: z.enum(['ok', 'degraded']),
  queen_epoch: z.string(),
  hives: z.object({
    expected: NonNegativeInt,
    online: NonNegativeInt,
    suspect: NonNegativeInt,
    offline: NonNegativeInt,
  }),
  workers: z.object({
    online: NonNegativeInt,
    available: NonNegativeInt,
    offline: NonNegativeInt,
  }),
  /** With several queens on etcd: this queen's part in the election, and the leader it knows (null: none). */
  role: QueenRole.optional(),
  leader_url: HttpUrl.nullable().optional(),
});
export type QueenHealth = z.infer<typeof QueenHealth>;
