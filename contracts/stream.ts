import { z } from 'zod';
import { Id, NonNegativeInt, Timestamp } from './common.js';
import { HiveView, Liveness, LivenessReason, WorkerView } from './registry.js';

/** The SSE event name of every message on `GET /v1/heartbeats/stream`. */
export const STREAM_EVENT_NAME = 'heartbeat';

export const SnapshotEvent = z.object({
  type: z.literal('snapshot'),
  rev: NonNegativeInt,
  hives: z.array(HiveView),
  workers: z.array(WorkerView),
});
export type SnapshotEvent = z.infer<typeof SnapshotEvent>;

export const QueenEvent = z.object({
  type: z.literal('queen'),
  queen_epoch: z.string(),
  workers_online: NonNegativeInt,
  workers_available: NonNegativeInt,
  hives_online: NonNegativeInt,
  hives_available: NonNegativeInt,
  hives_expected: NonNegativeInt,
  worker_ids: z.array(Id),
  hive_ids: z.array(Id),
  timestamp: Timestamp,
});
export type QueenEvent = z.infer<typeof QueenEvent>;

/** One accepted hive heartbeat: the hive's whole view after it. */
export const HiveEvent = HiveView.extend({ type: z.literal('hive') });
export type HiveEvent = z.infer<typeof HiveEvent>;

/** One accepted worker heartbeat: the worker's whole view after it. */
export const WorkerEvent = WorkerView.extend({ type: z.literal('worker') });
export type WorkerEvent = z.infer<typeof WorkerEvent>;

export const LivenessEvent = z.object({
  type: z.literal('liveness'),
  kind: z.enum(['hive', 'worker']),
  id: Id,
  /** `null` when the entry is new to the queen. */
  from: Liveness.nullable(),
  /** `forgotten` when the entry leaves the registry. */
  to: z.union([Liveness, z.literal('forgotten')]),
  reason: LivenessReason,
  timestamp: Timestamp,
});
export type LivenessEvent = z.infer<typeof LivenessEvent>;

export const StreamEvent = z.discriminatedUnion('type', [
  SnapshotEvent,
  QueenEvent,
  HiveEvent,
  WorkerEvent,
  LivenessEvent,
]);
export type StreamEvent = z.infer<typeof StreamEvent>;
