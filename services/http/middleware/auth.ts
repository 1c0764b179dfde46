import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { errorBody } from '../error-body.js';

/**
 * docs/protocol.md: Security: `Authorization: Bearer <token>` on every request when the role has a token, compared in constant
 * time (on SHA-256 digests, so neither the length nor the content leaks) and never logged.
 */
export interface BearerAuthOptions {
  /** No token: every request passes. */
  token: string | undefined;
  /** Paths that need no token (e.g. `/health`). */
  exempt?: (path: string) => boolean;
  /** Paths that may carry the token as `?token=` instead (a browser page and its EventSource cannot set headers). */
  queryToken?: (path: string) => boolean;
}

const BEARER = /^Bearer\s+(.+)$/i;

export function bearerAuth(options: BearerAuthOptions): MiddlewareHandler {
  if (options.token === undefined) return (_c, next) => next();
  const expected = digest(options.token);
  const matches = (given: string | undefined): boolean =>
    given !== undefined && timingSafeEqual(digest(given), expected);
  return async (c, next) => {
    const path = c.req.path;
    if (options.exempt?.(path)) return next();
    const header = c.req.header('authorization');
    const fromHeader = header === undefined ? undefined : BEARER.exec(header)?.[1]?.trim();
    const fromQuery = options.queryToken?.(path) ? c.req.query('token') : undefined;
    if (matches(fromHeader) || matches(fromQuery)) return next();
    const error =
      header === undefined && fromQuery === undefined ? 'This request needs the token.' : 'The token is wrong.';
    return c.json(errorBody(error), 401, { 'www-authenticate': 'Bearer' });
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
