import type { Context, MiddlewareHandler } from 'hono';
import type { LeaderRedirect } from '../../../contracts/heartbeat.js';
import type { Route } from '../../ha/leadership.js';
import { errorBody } from '../error-body.js';

/**
 * While several queens share the state, only the leader that has loaded it changes it. Elsewhere a change (a
 * heartbeat, a DELETE) is sent on to the leader: 307 (the client sends the same request there) with the leader in
 * `location` and in the body's `leader_url`; with no leader able to take it, 503 and `retry-after` (a sender counts it
 * a failed send and tries again). Nothing is parsed or judged here.
 */
export function leaderRedirect(route: () => Route, retryAfterSeconds: number): MiddlewareHandler {
  return async (c, next) => {
    const to = route();
    if (to.to === 'self') return next();
    if (to.to === 'none') return noLeader(c, to.why, retryAfterSeconds);
    return c.json({ leader_url: to.url } satisfies LeaderRedirect, 307, { location: `${to.url}${c.req.path}` });
  };
}

/** 503 with `retry-after`: no queen can take the request now (an election, a new leader loading the state). */
export function noLeader(c: Context, why: string, retryAfterSeconds: number): Response {
  return c.json(errorBody(`Not taken now: ${why}. Try again shortly.`), 503, {
    'retry-after': String(retryAfterSeconds),
  });
}
