import { z } from 'zod';
import { Id, NonNegativeInt, queryNumber, Timestamp } from './common.js';
import { Liveness, LivenessReason } from './registry.js';

/** The queen's history (`GET /v1/events`): what happened to each hive and worker, kept across restarts. */

export const EventKind = z.enum(['hive', 'worker']);
export type EventKind = z.infer<typeof EventKind>;

export const EventType = z.enum(['liveness', 'capabilities', 'registered', 'identity_refused', 'forgotten']);
export type EventType = z.infer<typeof EventType>;

export const HistoryEvent = z.object({
  /** Increases with every event, across queen restarts. */
  seq: NonNegativeInt,
  time: Timestamp,
  kind: EventKind,
  id: Id,
  /** A worker event's hive, so that a hive's history includes its workers'; absent on events recorded before it. */
  hive_id: Id.optional(),
  type: EventType,
  from: Liveness.optional(),
  to: z.union([Liveness, z.literal('forgotten')]).optional(),
  reason: LivenessReason.optional(),
  detail: z.record(z.string(), z.unknown()).optional(),
});
export type HistoryEvent = z.infer<typeof HistoryEvent>;

export const EVENTS_LIMIT_MAX = 1_000;

/** Oldest first (reading on from a cursor) or newest first (reading back from the present or a cursor). */
export const EventOrder = z.enum(['oldest', 'newest']);
export type EventOrder = z.infer<typeof EventOrder>;

const Seq = queryNumber(NonNegativeInt);

/** The query of `GET /v1/events`: the events with `after < seq < before`, in `order`; numbers arrive as text. */
export const EventQuery = z.object({
  kind: EventKind.optional(),
  id: Id.optional(),
  /** The hive's own events and its workers'. */
  hive: Id.optional(),
  order: EventOrder.default('oldest'),
  after: Seq.default(0),
  before: Seq.optional(),
  limit: queryNumber(z.number().int().min(1).max(EVENTS_LIMIT_MAX)).default(100),
});
export type EventQuery = z.infer<typeof EventQuery>;

export const EventPage = z.object({
  events: z.array(HistoryEvent),
  /** The cursor of the next page in the same order (`after` oldest first, `before` newest first); null at the end. */
  next: NonNegativeInt.nullable(),
});
export type EventPage = z.infer<typeof EventPage>;
