import { z } from 'zod';
import { Id, NonNegativeInt, Timestamp } from './common.js';
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
  type: EventType,
  from: Liveness.optional(),
  to: z.union([Liveness, z.literal('forgotten')]).optional(),
  reason: LivenessReason.optional(),
  detail: z.record(z.string(), z.unknown()).optional(),
});
export type HistoryEvent = z.infer<typeof HistoryEvent>;

export const EVENTS_LIMIT_MAX = 1_000;

/** The query of `GET /v1/events`; numbers arrive as text. */
export const EventQuery = z.object({
  kind: EventKind.optional(),
  id: Id.optional(),
  after: z.coerce.number().int().nonnegative().default(0),
  limit: z.coerce.number().int().min(1).max(EVENTS_LIMIT_MAX).default(100),
});
export type EventQuery = z.infer<typeof EventQuery>;

export const EventPage = z.object({
  events: z.array(HistoryEvent),
  /** The `after` of the next page; null when this page reached the end. */
  next: NonNegativeInt.nullable(),
});
export type EventPage = z.infer<typeof EventPage>;
