import type { MiddlewareHandler } from 'hono';
import type { LeaderRedirect } from '../../../contracts/heartbeat.js';

/**
 * While this queen follows another, heartbeats belong to the leader: 307 (the sender posts the same body there) with
 * the leader in `location` and in the body's `leader_url`. Nothing is parsed or judged here.
 */
export function leaderRedirect(redirectTo: () => string | null): MiddlewareHandler {
  return async (c, next) => {
    const leader = redirectTo();
    if (leader === null) return next();
    return c.json({ leader_url: leader } satisfies LeaderRedirect, 307, { location: `${leader}${c.req.path}` });
  };
}
