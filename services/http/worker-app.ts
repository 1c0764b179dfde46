import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { Hono, type MiddlewareHandler } from 'hono';
import { LIMITS } from '../../contracts/common.js';
import type { WorkerStatus } from '../../contracts/heartbeat.js';
import type { WorkerHealth } from '../../contracts/hive-api.js';
import { ChatCompletionRequest, CompletionRequest, ModelList } from '../../contracts/inference.js';
import { WORKER_PATHS } from '../../contracts/paths.js';
import type { InferenceBackend, InferenceCall, InferencePath } from '../backend/backend.js';
import { type Logger, silentLogger } from '../logger.js';
import { errorBody } from './error-body.js';
import type { DirectRoute, NodeBindings } from './listen.js';
import { bearerAuth, tokenCheck } from './middleware/auth.js';
import { bodyLimit } from './middleware/body-limit.js';
import { jsonBody, jsonBodyReader } from './middleware/json-body.js';
import { notFound } from './middleware/not-found.js';
import { relayRoute, relayServer, type Unavailable } from './relay-route.js';

export interface WorkerIdentity {
  workerId: string;
  model: string;
  device: string;
  /** The upstream server fronted, or null for the demo backend. */
  upstream: string | null;
}

export interface WorkerAppDeps {
  backend: InferenceBackend;
  identity: WorkerIdentity;
  /** The worker-status machine's current status. */
  status: () => WorkerStatus;
  /** Epoch ms when the worker started. */
  startedAt: number;
  now?: () => number;
  /** A request was accepted for the backend (`inFlight()` counts it already). */
  onRequestStart?: () => void;
  /** That request is over: its last byte went out, it failed, or its client went away (`inFlight()` no longer counts it). */
  onRequestEnd?: () => void;
  /** Required as `Authorization: Bearer <token>` on every `/v1/*` route when set; `/health` stays open. */
  token?: string | undefined;
  logger?: Logger;
}

export interface WorkerApp {
  app: Hono<{ Bindings: NodeBindings }>;
  /**
   * In front of an engine, the inference routes, served before `app` sees a request (see `relay-route`); absent for
   * the demo backend, whose routes are the app's.
   */
  direct?: DirectRoute;
  /** Requests answered in full with a 2xx status: the heartbeat's `requests_served`. */
  requestsServed(): number;
  inFlight(): number;
}

/** The worker's HTTP API (docs/protocol.md: Worker HTTP API): OpenAI-compatible inference routes in front of its backend. */
export function createWorkerApp(deps: WorkerAppDeps): WorkerApp {
  const now = deps.now ?? Date.now;
  const logger = deps.logger ?? silentLogger;
  let served = 0;
  let inFlight = 0;
  const app = new Hono<{ Bindings: NodeBindings }>();

  app.use('/v1/*', bearerAuth({ token: deps.token }));

  app.get(WORKER_PATHS.health, (c) =>
    c.json({
      status: deps.status(),
      worker_id: deps.identity.workerId,
      model: deps.identity.model,
      device: deps.identity.device,
      requests_served: served,
      in_flight: inFlight,
      uptime_seconds: Math.max(0, Math.floor((now() - deps.startedAt) / 1000)),
      upstream: deps.identity.upstream,
    } satisfies WorkerHealth),
  );

  // The engine's own list when it answers one (its ids, its metadata); this worker's model otherwise.
  app.get(WORKER_PATHS.models, async (c) => {
    const fromBackend = ModelList.safeParse(await deps.backend.models?.(c.req.raw.signal));
    if (fromBackend.success) return c.json(fromBackend.data);
    return c.json({
      object: 'list',
      data: [
        { id: deps.identity.model, object: 'model', created: Math.floor(deps.startedAt / 1000), owned_by: 'apiary' },
      ],
    } satisfies ModelList);
  });

  /** Counts a request in flight before telling of it; the answer ends it once. */
  const begin = () => {
    let ended = false;
    inFlight += 1;
    deps.onRequestStart?.();
    return (complete: boolean, ok: boolean): void => {
      if (ended) return;
      ended = true;
      inFlight -= 1;
      if (complete && ok) served += 1;
      deps.onRequestEnd?.();
    };
  };
  const unavailable = () => unavailableIn(deps.status());
  const untyped = { untypedIsJson: true };
  const limit = bodyLimit(LIMITS.bodyBytes);

  const { backend } = deps;
  if (backend.kind === 'upstream') {
    const routes = new Map(
      INFERENCE_ROUTES.map(({ path, schema, what }) => [path, { path, body: jsonBodyReader(schema, what, untyped) }]),
    );
    const token = deps.token === undefined ? null : tokenCheck(deps.token);
    const relay = relayServer({ backend, token, routes, maxBodyBytes: LIMITS.bodyBytes, unavailable, begin, logger });
    // A target the direct route does not read as written (absolute form, percent-encoded) still reaches the route here.
    for (const route of routes.values()) {
      app.post(route.path, (c) => {
        const { incoming, outgoing } = c.env ?? {};
        if (incoming === undefined || outgoing === undefined)
          return c.json(errorBody('No Node request to relay.'), 500);
        relay(route, incoming, outgoing);
        return RESPONSE_ALREADY_SENT;
      });
    }
    app.notFound(notFound);
    const direct = relayRoute(routes, relay);
    return { app, direct, requestsServed: () => served, inFlight: () => inFlight };
  }

  const serve =
    (path: InferencePath): MiddlewareHandler<{ Bindings: NodeBindings }> =>
    async (c) => {
      const refusal = unavailable();
      if (refusal !== null) {
        if (refusal.retryAfterSeconds) c.header('retry-after', String(refusal.retryAfterSeconds));
        return c.json(errorBody(refusal.message), 503);
      }
      const request = c.req;
      const call: InferenceCall = {
        path,
        // The body as the client sent it (read once by jsonBody, cached by Hono).
        body: await request.text(),
        header: (name) => request.header(name),
        signal: request.raw.signal,
      };
      const end = begin();
      const signal = call.signal;
      const onAbort = () => end(false, false);
      signal.addEventListener('abort', onAbort, { once: true });
      let response: Response;
      try {
        response = await backend.answer(call);
      } catch (error) {
        signal.removeEventListener('abort', onAbort);
        end(false, false);
        // The client went away: nobody reads this answer.
        if (signal.aborted) return new Response(null, { status: 499 });
        logger.warn('backend request failed', { path, backend: backend.kind, error });
        return c.json(errorBody(`backend request failed: ${String(error)}`), 502);
      }
      return untilSettled(response, (complete) => {
        signal.removeEventListener('abort', onAbort);
        end(complete, response.ok);
      });
    };

  for (const { path, schema, what } of INFERENCE_ROUTES) {
    app.post(path, limit, jsonBody(schema, what, untyped), serve(path));
  }
  app.notFound(notFound);

  return { app, requestsServed: () => served, inFlight: () => inFlight };
}

/** The two inference routes: where, and what their bodies must be. */
const INFERENCE_ROUTES = [
  { path: WORKER_PATHS.chatCompletions, schema: ChatCompletionRequest, what: 'chat completion request' },
  { path: WORKER_PATHS.completions, schema: CompletionRequest, what: 'completion request' },
] as const;

/** Why a worker in `status` takes no requests; null when it serves. */
function unavailableIn(status: WorkerStatus): Unavailable | null {
  switch (status) {
    case 'ready':
    case 'busy':
      return null;
    case 'starting':
      return { message: 'worker is starting: the backend is not ready yet', retryAfterSeconds: 1 };
    case 'error':
      return { message: 'worker backend is unhealthy' };
    case 'stopped':
      return { message: 'worker is stopping' };
  }
}

/**
 * The same response, reporting when its body is over: `complete` once the last chunk has been read, not complete when
 * the reader cancels (the client went away) or the body fails. Chunks pass one at a time, never buffered.
 */
function untilSettled(response: Response, settled: (complete: boolean) => void): Response {
  // A sized answer is already whole in memory: passed as is, it goes out in one write with its headers.
  const source = response.headers.has('content-length') ? null : response.body;
  if (source === null) {
    settled(true);
    return response;
  }
  const reader = source.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await reader.read();
        if (next.done) {
          controller.close();
          settled(true);
        } else {
          controller.enqueue(next.value);
        }
      } catch (error) {
        settled(false);
        controller.error(error);
      }
    },
    async cancel(reason) {
      settled(false);
      await reader.cancel(reason);
    },
  });
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}
