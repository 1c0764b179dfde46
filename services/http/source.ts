import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';

/** The peer address of a request, for logs that name a source; `unknown` when not served by Node (tests). */
export function sourceOf(c: Context): string {
  const env: unknown = c.env;
  // Checked, not caught: a throw per heartbeat (app.request in tests and the simulation) costs a stack trace each.
  if (typeof env !== 'object' || env === null || !('incoming' in env || 'server' in env)) return 'unknown';
  return getConnInfo(c).remote.address ?? 'unknown';
}
