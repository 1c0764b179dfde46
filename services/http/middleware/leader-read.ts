import type { Context, MiddlewareHandler } from 'hono';
import { describe } from '../../describe-error.js';
import type { Route } from '../../ha/leadership.js';
import type { Logger } from '../../logger.js';
import { errorBody } from '../error-body.js';
import { noLeader } from './leader-redirect.js';

/**
 * A follower's reads come from the leader: only the leader takes heartbeats, so only its views, history and stream are
 * the cluster's. The request goes on with the client's Authorization and query string, and the leader's answer comes
 * back as it arrives, chunk by chunk — the live stream too, which ends when the leader's ends, so that the client
 * reconnects, through this queen, to whichever queen leads then. With no leader able to answer: 503 and
 * `retry-after`, as for a heartbeat.
 */

export interface LeaderReadOptions {
  route: () => Route;
  retryAfterSeconds: number;
  /** Bound on the wait for the leader's answer to start. */
  firstByteTimeoutMs: number;
  /** Bound on the leader's silence while its answer is read (its stream sends a keep-alive well within it). */
  idleTimeoutMs: number;
  logger: Logger;
}

export interface LeaderRead {
  middleware: MiddlewareHandler;
  /** Reads being relayed now: from the request to the leader until the answer's body is over. */
  relaying(): number;
}

/** Marks a relayed request (RFC 9110 `Via`): a queen never relays a read twice. */
const VIA = 'apiary-queen';

const FORWARDED_REQUEST_HEADERS = ['authorization', 'accept', 'last-event-id'];

/** What the leader's answer says about its body; its framing (length, encoding) is the socket's, not passed on. */
const PASSED_RESPONSE_HEADERS = ['content-type', 'cache-control', 'retry-after', 'x-accel-buffering'];

export function leaderRead(options: LeaderReadOptions): LeaderRead {
  const { logger, retryAfterSeconds } = options;
  let relaying = 0;
  let failing = false;

  const failed = (c: Context, leaderUrl: string, status: 502 | 504, error: string): Response => {
    // Once per run of failures (a leader gone is the election's to fix, within seconds); a client gone is none.
    if (!c.req.raw.signal.aborted) {
      if (!failing) logger.warn('read from the leader failed', { leader_url: leaderUrl, path: c.req.path, error });
      failing = true;
    }
    return c.json(errorBody(`The leader ${leaderUrl} did not answer: ${error}.`), status, {
      'retry-after': String(retryAfterSeconds),
    });
  };

  const relay = async (c: Context, leaderUrl: string): Promise<Response> => {
    // Counted from the start, so that requests arriving together cannot pass the bound between check and count.
    relaying += 1;
    let open = true;
    const closed = (): void => {
      if (open) relaying -= 1;
      open = false;
    };
    const { pathname, search } = new URL(c.req.url);
    const headers = new Headers({ via: `1.1 ${VIA}` });
    for (const name of FORWARDED_REQUEST_HEADERS) {
      const value = c.req.header(name);
      if (value !== undefined) headers.set(name, value);
    }
    const timeout = new AbortController();
    const firstByte = setTimeout(() => timeout.abort(), options.firstByteTimeoutMs);
    let answer: Response;
    try {
      answer = await fetch(`${leaderUrl}${pathname}${search}`, {
        headers,
        redirect: 'manual',
        // A client gone takes its request to the leader with it.
        signal: AbortSignal.any([timeout.signal, c.req.raw.signal]),
      });
    } catch (error) {
      closed();
      if (timeout.signal.aborted) {
        return failed(c, leaderUrl, 504, `no answer within ${options.firstByteTimeoutMs} ms`);
      }
      return failed(c, leaderUrl, 502, describe(error));
    } finally {
      clearTimeout(firstByte);
    }
    failing = false;
    const passed = new Headers();
    for (const name of PASSED_RESPONSE_HEADERS) {
      const value = answer.headers.get(name);
      if (value !== null) passed.set(name, value);
    }
    if (answer.body === null) {
      closed();
      return new Response(null, { status: answer.status, headers: passed });
    }
    const body = whileSpeaking(answer.body, options.idleTimeoutMs, () => timeout.abort(), closed);
    return new Response(body, { status: answer.status, headers: passed });
  };

  return {
    middleware: async (c, next) => {
      const to = options.route();
      if (to.to === 'self') return next();
      if (to.to === 'none') return noLeader(c, to.why, retryAfterSeconds);
      // Two queens naming each other (a moment of an election) would pass the read round for ever.
      if (c.req.header('via')?.includes(VIA)) {
        return noLeader(c, 'the queens do not agree yet on which of them leads', retryAfterSeconds);
      }
      return relay(c, to.url);
    },
    relaying: () => relaying,
  };
}

/**
 * The body as it comes, cut (`abort`) when the leader stays silent `idleMs` while more is asked for; `closed` once,
 * when it ends, fails or the client cancels it.
 */
function whileSpeaking(
  body: ReadableStream<Uint8Array>,
  idleMs: number,
  abort: () => void,
  closed: () => void,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const silence = setTimeout(abort, idleMs);
      try {
        const { done, value } = await reader.read();
        if (done) {
          closed();
          controller.close();
        } else controller.enqueue(value);
      } catch (error) {
        closed();
        controller.error(error);
      } finally {
        clearTimeout(silence);
      }
    },
    cancel(reason) {
      closed();
      return reader.cancel(reason);
    },
  });
}
