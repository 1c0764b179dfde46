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

/** The 401's header, wherever a request is refused for its token. */
export const UNAUTHORIZED_HEADERS = { 'www-authenticate': 'Bearer' } as const;

/** Tells whether a request's credentials hold `token`: null when they do, else why not, as the 401's sentence. */
export type TokenCheck = (authorization: string | undefined, fromQuery?: string) => string | null;

export function tokenCheck(token: string): TokenCheck {
  const expected = digest(token);
  const matches = (given: string | undefined): boolean =>
    given !== undefined && timingSafeEqual(digest(given), expected);
  return (authorization, fromQuery) => {
    const fromHeader = authorization === undefined ? undefined : BEARER.exec(authorization)?.[1]?.trim();
    if (matches(fromHeader) || matches(fromQuery)) return null;
    return authorization === undefined && fromQuery === undefined
      ? 'This request needs the token.'
      : 'The token is wrong.';
  };
}

export function bearerAuth(options: BearerAuthOptions): MiddlewareHandler {
  if (options.token === undefined) return (_c, next) => next();
  const check = tokenCheck(options.token);
  return async (c, next) => {
    const path = c.req.path;
    if (options.exempt?.(path)) return next();
    const fromQuery = options.queryToken?.(path) ? c.req.query('token') : undefined;
    const refusal = check(c.req.header('authorization'), fromQuery);
    if (refusal === null) return next();
    return c.json(errorBody(refusal), 401, UNAUTHORIZED_HEADERS);
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
