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
import type { NodeBindings } from './listen.js';
import { bearerAuth } from './middleware/auth.js';
import { bodyLimit } from './middleware/body-limit.js';
import { jsonBody } from './middleware/json-body.js';
import { notFound } from './middleware/not-found.js';

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
  /** Runs on every `/v1/*` route after the token check, e.g. shared HTTP middleware. */
  middleware?: readonly MiddlewareHandler[];
  logger?: Logger;
}

export interface WorkerApp {
  app: Hono<{ Bindings: NodeBindings }>;
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
  for (const middleware of deps.middleware ?? []) app.use('/v1/*', middleware);

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

  const serve =
    (path: InferencePath): MiddlewareHandler<{ Bindings: NodeBindings }> =>
    async (c) => {
      const status = deps.status();
      const refusal = unavailable(status);
      if (refusal !== null) {
        if (status === 'starting') c.header('retry-after', '1');
        return c.json(errorBody(refusal), 503);
      }
      const request = c.req;
      const call: InferenceCall = {
        path,
        // The body as the client sent it (read once by jsonBody, cached by Hono), so an upstream gets it unchanged.
        body: await request.text(),
        header: (name) => request.header(name),
        // Made on first use: a relayed request watches its Node response instead.
        get signal() {
          return request.raw.signal;
        },
      };

      let ended = false;
      const end = (complete: boolean, ok: boolean) => {
        if (ended) return;
        ended = true;
        inFlight -= 1;
        if (complete && ok) served += 1;
        deps.onRequestEnd?.();
      };
      inFlight += 1;
      deps.onRequestStart?.();
      const backend = deps.backend;
      if (backend.kind === 'upstream') {
        const reply = c.env?.outgoing;
        if (reply === undefined) {
          end(false, false);
          return c.json(errorBody('relaying to an upstream needs the Node HTTP server'), 500);
        }
        const outcome = await backend.relay(call, reply);
        end(outcome.complete, outcome.status >= 200 && outcome.status < 300);
        return RESPONSE_ALREADY_SENT;
      }

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

  const limit = bodyLimit(LIMITS.bodyBytes);
  const untyped = { untypedIsJson: true };
  const chat = jsonBody(ChatCompletionRequest, 'chat completion request', untyped);
  const completion = jsonBody(CompletionRequest, 'completion request', untyped);
  app.post(WORKER_PATHS.chatCompletions, limit, chat, serve(WORKER_PATHS.chatCompletions));
  app.post(WORKER_PATHS.completions, limit, completion, serve(WORKER_PATHS.completions));
  app.notFound(notFound);

  return { app, requestsServed: () => served, inFlight: () => inFlight };
}

/** Why a worker in `status` takes no requests; null when it serves. */
function unavailable(status: WorkerStatus): string | null {
  switch (status) {
    case 'ready':
    case 'busy':
      return null;
    case 'starting':
      return 'worker is starting: the backend is not ready yet';
    case 'error':
      return 'worker backend is unhealthy';
    case 'stopped':
      return 'worker is stopping';
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
