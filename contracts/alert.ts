import { z } from 'zod';
import { Id, Timestamp } from './common.js';

/** The problems the queen alerts on. */
export const AlertProblem = z.enum(['hive_offline', 'worker_error', 'hive_identity_refused', 'queen_degraded']);
export type AlertProblem = z.infer<typeof AlertProblem>;

export const AlertState = z.enum(['open', 'resolved']);
export type AlertState = z.infer<typeof AlertState>;

export const AlertKind = z.enum(['hive', 'worker', 'queen']);
export type AlertKind = z.infer<typeof AlertKind>;

/** The body a webhook receives: a problem that opened or resolved, `time` on the queen's clock. */
export const WebhookAlert = z.object({
  event: AlertProblem,
  state: AlertState,
  kind: AlertKind,
  id: Id,
  time: Timestamp,
  reason: z.string(),
});
export type WebhookAlert = z.infer<typeof WebhookAlert>;
