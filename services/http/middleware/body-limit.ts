import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit as honoBodyLimit } from 'hono/body-limit';
import type { ErrorBody } from '../../../contracts/heartbeat.js';
import { errorBody } from '../error-body.js';

/**
 * 413 for a body over `maxBytes` (docs/protocol.md: Security). A body with a Content-Length is judged on it before a byte is read
 * (Node's parser holds the body to exactly that length) and left untouched, so the handler still reads it on
 * @hono/node-server's fast path; a body without one (chunked) is counted as it streams and cut off at the limit.
 */
export function bodyLimit(maxBytes: number): MiddlewareHandler {
  const tooLarge = (c: Context) => c.json(tooLargeBody(maxBytes), 413);
  const streamed = honoBodyLimit({ maxSize: maxBytes, onError: tooLarge });
  return (c, next) => {
    const declared = c.req.header('content-length');
    if (declared === undefined || c.req.header('transfer-encoding') !== undefined) return streamed(c, next);
    const length = Number(declared);
    return Number.isSafeInteger(length) && length >= 0 && length <= maxBytes ? next() : Promise.resolve(tooLarge(c));
  };
}

/** The 413's body, wherever a body over the bound is refused. */
export function tooLargeBody(maxBytes: number): ErrorBody {
  return errorBody(`The request body is larger than ${maxBytes} bytes.`);
}
