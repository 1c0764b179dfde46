import type http from 'node:http';
import type { ErrorBody } from '../../contracts/heartbeat.js';
import type { InferenceCall, InferencePath, RelayingBackend } from '../backend/backend.js';
import { describe } from '../describe-error.js';
import { type Logger, silentLogger } from '../logger.js';
import { errorBody } from './error-body.js';
import type { DirectRoute } from './listen.js';
import { type TokenCheck, UNAUTHORIZED_HEADERS } from './middleware/auth.js';
import { tooLargeBody } from './middleware/body-limit.js';
import type { JsonBodyReader } from './middleware/json-body.js';

/**
 * The worker's inference routes in front of an engine, served on Node's request and response without Hono: the web
 * Request, the context and the middleware chain cost a fifth to a quarter of the worker's CPU per relayed request
 * (README: Performance, Proxy). The checks are the ones the Hono routes make, in the same order, from the same pieces:
 * the token, the body's bound, its type, its schema, the worker's status.
 */
export interface RelayRouteDeps {
  backend: RelayingBackend;
  /** Null when the worker has no token. */
  token: TokenCheck | null;
  /** The routes served, by path: a request to any other path or with another method is left to the app. */
  routes: ReadonlyMap<string, InferenceRoute>;
  maxBodyBytes: number;
  /** Why the worker takes no request now (with the 503's retry-after, if any); null when it serves. */
  unavailable: () => Unavailable | null;
  /** Counts a request in flight; the answer ends it (`complete` when its last byte went out, `ok` for a 2xx). */
  begin: () => (complete: boolean, ok: boolean) => void;
  logger?: Logger;
}

/** One inference route: its path and how its body is read. */
export interface InferenceRoute {
  path: InferencePath;
  body: JsonBodyReader<unknown>;
}

export interface Unavailable {
  message: string;
  retryAfterSeconds?: number;
}

/** Serves one request on `route`, whatever its request target said. */
export type RelayServer = (route: InferenceRoute, incoming: http.IncomingMessage, reply: http.ServerResponse) => void;

export function relayServer(deps: RelayRouteDeps): RelayServer {
  const logger = deps.logger ?? silentLogger;
  return (route, incoming, reply) => {
    serveRelayed(deps, route, incoming, reply).catch((error: unknown) => {
      logger.warn('relayed request failed', { path: route.path, error: describe(error) });
      if (!reply.headersSent) answer(reply, 500, errorBody('The request could not be answered.'));
      else reply.destroy();
    });
  };
}

/** Takes a request whose target is one of `routes` as written; any other form of it is left to the app's router. */
export function relayRoute(routes: RelayRouteDeps['routes'], serve: RelayServer): DirectRoute {
  return (incoming, reply) => {
    if (incoming.method !== 'POST') return false;
    const url = incoming.url ?? '';
    const query = url.indexOf('?');
    const route = routes.get(query === -1 ? url : url.slice(0, query));
    if (route === undefined) return false;
    serve(route, incoming, reply);
    return true;
  };
}

async function serveRelayed(
  deps: RelayRouteDeps,
  { path, body: reader }: InferenceRoute,
  incoming: http.IncomingMessage,
  reply: http.ServerResponse,
): Promise<void> {
  // Every value of a repeated header, joined as the Fetch API's Headers join them: Node's `headers` keeps only the first
  // Authorization or Content-Type, which the Hono route never saw alone.
  const header = (name: string): string | undefined => incoming.headersDistinct[name]?.join(', ');
  const refusal = deps.token?.(header('authorization')) ?? null;
  if (refusal !== null) return answer(reply, 401, errorBody(refusal), UNAUTHORIZED_HEADERS);

  const declared = header('content-length');
  if (declared !== undefined && header('transfer-encoding') === undefined) {
    const length = Number(declared);
    if (!(Number.isSafeInteger(length) && length >= 0 && length <= deps.maxBodyBytes)) {
      return answer(reply, 413, tooLargeBody(deps.maxBodyBytes));
    }
  }
  const typeRefusal = reader.refuseType(header('content-type'));
  if (typeRefusal !== null) return answer(reply, typeRefusal.status, typeRefusal.body);
  const text = await readBody(incoming, deps.maxBodyBytes);
  // The client went away while sending: nobody reads an answer.
  if (text === undefined) return;
  // The rest of an endless body is never read: the connection goes with the answer.
  if (text === null) return answer(reply, 413, tooLargeBody(deps.maxBodyBytes), { connection: 'close' });
  const read = reader.read(text);
  if (!read.ok) return answer(reply, read.error.status, read.error.body);
  const unavailable = deps.unavailable();
  if (unavailable !== null) {
    const retry = unavailable.retryAfterSeconds;
    return answer(reply, 503, errorBody(unavailable.message), retry ? { 'retry-after': String(retry) } : {});
  }

  const end = deps.begin();
  let signal: AbortSignal | undefined;
  const call: InferenceCall = {
    path,
    body: text,
    header,
    // Made on first use only: the relay watches the Node response itself.
    get signal() {
      if (signal === undefined) {
        const controller = new AbortController();
        reply.once('close', () => {
          if (!reply.writableFinished) controller.abort();
        });
        signal = controller.signal;
      }
      return signal;
    },
  };
  try {
    const outcome = await deps.backend.relay(call, reply);
    end(outcome.complete, outcome.status >= 200 && outcome.status < 300);
  } catch (error) {
    end(false, false);
    throw error;
  }
}

/** The body as text, read up to `maxBytes`: null past them, undefined when the client went away first. */
function readBody(incoming: http.IncomingMessage, maxBytes: number): Promise<string | null | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (result: string | null | undefined): void => {
      incoming.off('data', onData);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.byteLength;
      if (size > maxBytes) done(null);
      else chunks.push(chunk);
    };
    incoming.on('data', onData);
    incoming.once('end', () => {
      const text = Buffer.concat(chunks, size).toString('utf8');
      // Decoded as the Fetch API's text() decodes, as the Hono route read it: a leading byte-order mark is dropped.
      done(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    });
    incoming.once('error', () => done(undefined));
    // After `end`, this changes nothing: a promise settles once.
    incoming.once('close', () => done(undefined));
  });
}

function answer(
  reply: http.ServerResponse,
  status: number,
  body: ErrorBody,
  headers: Readonly<Record<string, string>> = {},
): void {
  const text = JSON.stringify(body);
  reply.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  reply.end(text);
  // A refusal leaves the rest of the body unread: Node would read it on until its request timeout.
  if (!reply.req.readableEnded) drainBriefly(reply.req);
}

/** Time and bytes a refused request's unread body is drained for before its connection is cut, as Hono's listener does. */
const DRAIN_MS = 500;
const DRAIN_BYTES = 64 * 1024 * 1024;

/** Reads the rest of `incoming`'s body away, keeping its connection, unless it takes over `DRAIN_MS` or `DRAIN_BYTES`. */
function drainBriefly(incoming: http.IncomingMessage): void {
  let drained = 0;
  const stop = (): void => {
    clearTimeout(timer);
    incoming.off('data', onData);
    incoming.off('end', stop);
    incoming.off('close', stop);
  };
  const cut = (): void => {
    stop();
    incoming.socket.destroySoon();
  };
  const timer = setTimeout(cut, DRAIN_MS);
  timer.unref();
  const onData = (chunk: Buffer): void => {
    drained += chunk.byteLength;
    if (drained > DRAIN_BYTES) cut();
  };
  incoming.on('data', onData);
  incoming.once('end', stop);
  incoming.once('close', stop);
  incoming.resume();
}
