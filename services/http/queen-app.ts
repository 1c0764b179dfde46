import { Hono } from 'hono';
import { LIMITS } from '../../contracts/common.js';
import { EventQuery } from '../../contracts/events.js';
import { type HeartbeatAck, HiveHeartbeat, WorkerHeartbeat } from '../../contracts/heartbeat.js';
import { QUEEN_PATHS } from '../../contracts/paths.js';
import { type QueenHealth, WorkerFilter } from '../../contracts/registry.js';
import type { RegistryKind } from '../../machines/registry-changes.js';
import type { Leadership } from '../ha/leadership.js';
import { byteStream, type JsonPart, jsonPieces } from '../json-pieces.js';
import { type Logger, silentLogger } from '../logger.js';
import { heartbeatResult, type QueenMetrics } from '../metrics.js';
import { issuesOf } from '../parse-json.js';
import type { MetricsHistory } from '../queen/metrics-history.js';
import type { QueenRegistry, Refusal } from '../queen/registry.js';
import { hiveView, hiveViewsOf, queenHealth, workerView, workerViewsOf } from '../queen/views.js';
import { KEEP_ALIVE_MS } from '../stream/hub.js';
import type { QueenStream } from '../stream/queen-stream.js';
import { DASHBOARD_ASSET_PREFIX } from './dashboard/page.js';
import { errorBody } from './error-body.js';
import { hiveMetricsApp } from './hive-metrics.js';
import { bearerAuth } from './middleware/auth.js';
import { bodyLimit } from './middleware/body-limit.js';
import { jsonBody } from './middleware/json-body.js';
import { type LeaderRead, leaderRead } from './middleware/leader-read.js';
import { leaderRedirect } from './middleware/leader-redirect.js';
import { notFound } from './middleware/not-found.js';
import { sourceOf } from './source.js';

/**
 * The queen's HTTP API (docs/protocol.md: Queen HTTP API, The queen remembers, Identity): heartbeats in (403 for an unproven identity), registry views, forgetting,
 * the history, the live stream, health, metrics.
 */
export interface QueenAppDeps {
  registry: QueenRegistry;
  /** Each hive's recent monitor samples, served at /v1/hives/:id/metrics. */
  history: MetricsHistory;
  stream: QueenStream;
  metrics: QueenMetrics;
  queenEpoch: string;
  token?: string | undefined;
  /** Mounted at `/`: the dashboard page and its modules. */
  dashboard?: Hono;
  logger?: Logger;
  /** With several queens on etcd: a follower sends changes to the leader, and reads from it; `/health` says which. */
  leadership?: Leadership | undefined;
}

const STREAM_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
};

const JSON_TYPE = { 'content-type': 'application/json' };

/** How long a sender refused for a full registry should wait before it tries again. */
const FULL_RETRY_AFTER_S = 60;

/** How long a sender should wait while no queen can take its heartbeat (an election, a new leader loading the state). */
const ELECTION_RETRY_AFTER_S = 1;

/** Bound on the wait for the leader's answer to a read a follower relays. */
const RELAY_FIRST_BYTE_MS = 10_000;
/** The leader's stream says something at least every keep-alive: silent for two, it is taken for gone. */
const RELAY_IDLE_MS = 2 * KEEP_ALIVE_MS;

/** What a follower reads from the leader besides the stream (whose relays count as streams): views and history. */
const LEADER_READS = [
  QUEEN_PATHS.hives,
  QUEEN_PATHS.hive,
  QUEEN_PATHS.hiveMetrics,
  QUEEN_PATHS.workers,
  QUEEN_PATHS.worker,
  QUEEN_PATHS.events,
];

const REFUSAL_STATUS = { identity: 403, 'too-large': 413, 'unknown-hive': 409, stale: 409 } as const;

/** What the queen's routes share: the registry's refusal of a heartbeat, for its count. */
type QueenEnv = { Variables: { refusal: Refusal['kind'] } };

export type QueenApp = Hono<QueenEnv>;

/** 403 for an identity not proven, 413 for capabilities past a hive's bound, 409 for a worker of an unknown hive or a late heartbeat; 503 with `retry-after` for a queen at its capacity. */
function refused(refusal: Refusal): Response {
  if (refusal.kind !== 'capacity') {
    return Response.json(errorBody(refusal.message), { status: REFUSAL_STATUS[refusal.kind] });
  }
  return Response.json(errorBody(refusal.message), {
    status: 503,
    headers: { 'retry-after': String(FULL_RETRY_AFTER_S) },
  });
}

/** A view of any size, written in pieces (`HiveList`, `WorkerList`). */
function jsonResponse(parts: readonly JsonPart[]): Response {
  return new Response(byteStream(jsonPieces(parts)), { headers: JSON_TYPE });
}

export function createQueenApp(deps: QueenAppDeps): QueenApp {
  const { registry, metrics, queenEpoch } = deps;
  const logger = deps.logger ?? silentLogger;
  const limit = bodyLimit(LIMITS.bodyBytes);
  // The two acks, serialized once.
  const ack = JSON.stringify({ status: 'ok', queen_epoch: queenEpoch, resync: false } satisfies HeartbeatAck);
  const resyncAck = JSON.stringify({ status: 'ok', queen_epoch: queenEpoch, resync: true } satisfies HeartbeatAck);
  const app = new Hono<QueenEnv>();

  // Counted before auth, so refused heartbeats are counted too.
  const countHeartbeats = (kind: RegistryKind, path: string): void => {
    app.use(path, async (c, next) => {
      await next();
      if (c.req.method === 'POST') metrics.heartbeat(kind, heartbeatResult(c.res.status, c.get('refusal')));
    });
  };
  countHeartbeats('hive', QUEEN_PATHS.hiveHeartbeat);
  countHeartbeats('worker', QUEEN_PATHS.workerHeartbeat);

  // Without a token there is nothing to check: no layer on the heartbeat hot path.
  if (deps.token)
    app.use(
      '*',
      bearerAuth({
        token: deps.token,
        exempt: (path) => path === QUEEN_PATHS.health,
        queryToken: (path) =>
          path === QUEEN_PATHS.dashboard || path === QUEEN_PATHS.stream || path.startsWith(DASHBOARD_ASSET_PREFIX),
      }),
    );

  const { leadership } = deps;
  if (leadership) {
    // After auth, before any parsing: only the leader that has loaded the state changes it.
    const redirect = leaderRedirect(() => leadership.route(), ELECTION_RETRY_AFTER_S);
    app.use(QUEEN_PATHS.hiveHeartbeat, redirect);
    app.use(QUEEN_PATHS.workerHeartbeat, redirect);
    app.delete(QUEEN_PATHS.hive, redirect);
    app.delete(QUEEN_PATHS.worker, redirect);
  }
  // Reads too go to the leader, the only queen that hears the heartbeats; `/health`, `/metrics` and the dashboard's
  // files are every queen's own.
  const relay = (): LeaderRead | undefined =>
    leadership &&
    leaderRead({
      route: () => leadership.route(),
      retryAfterSeconds: ELECTION_RETRY_AFTER_S,
      firstByteTimeoutMs: RELAY_FIRST_BYTE_MS,
      idleTimeoutMs: RELAY_IDLE_MS,
      logger,
    });
  const viewRelay = relay();
  if (viewRelay) for (const path of LEADER_READS) app.get(path, viewRelay.middleware);

  const streamRelay = relay();
  // Each stream holds up to its own queue, a relayed one a connection to the leader: their number bounds what slow
  // readers can make the queen hold.
  app.get(QUEEN_PATHS.stream, async (_c, next) => {
    if (deps.stream.clients + (streamRelay?.relaying() ?? 0) < LIMITS.streamClients) return next();
    metrics.overflow('stream_clients', 1);
    const message = `the queen serves its maximum of ${LIMITS.streamClients} streams at once: try again later`;
    return refused({ kind: 'capacity', message });
  });
  if (streamRelay) app.get(QUEEN_PATHS.stream, streamRelay.middleware);

  app.post(QUEEN_PATHS.hiveHeartbeat, limit, jsonBody(HiveHeartbeat, 'hive heartbeat'), async (c) => {
    const verdict = await registry.submitHive(c.get('body'), sourceOf(c));
    if (!verdict.ok) {
      c.set('refusal', verdict.error.kind);
      return refused(verdict.error);
    }
    const { resync, secret } = verdict.value;
    if (resync !== null) metrics.resync(resync);
    if (secret !== null) {
      return c.json({
        status: 'ok',
        queen_epoch: queenEpoch,
        resync: resync !== null,
        hive_secret: secret,
      } satisfies HeartbeatAck);
    }
    return c.body(resync === null ? ack : resyncAck, 200, JSON_TYPE);
  });

  app.post(QUEEN_PATHS.workerHeartbeat, limit, jsonBody(WorkerHeartbeat, 'worker heartbeat'), async (c) => {
    const verdict = await registry.submitWorker(c.get('body'), sourceOf(c));
    if (!verdict.ok) {
      c.set('refusal', verdict.error.kind);
      return refused(verdict.error);
    }
    return c.body(ack, 200, JSON_TYPE);
  });

  app.get(QUEEN_PATHS.hives, () => jsonResponse(['{"hives":', { array: hiveViewsOf(registry) }, '}']));

  app.get(QUEEN_PATHS.hive, (c) => {
    const id = c.req.param('id');
    const entry = registry.hives.get(id);
    if (!entry) return c.json(errorBody(`No hive ${JSON.stringify(id)} is known.`), 404);
    return c.json(hiveView(entry, registry.clock.now()));
  });

  app.route('/', hiveMetricsApp(registry, deps.history));

  app.get(QUEEN_PATHS.workers, (c) => {
    const filter = WorkerFilter.safeParse(c.req.query());
    if (!filter.success) return c.json(errorBody('The worker filter is not valid.', issuesOf(filter.error)), 400);
    return jsonResponse(['{"workers":', { array: workerViewsOf(registry, filter.data) }, '}']);
  });

  app.get(QUEEN_PATHS.worker, (c) => {
    const id = c.req.param('id');
    const entry = registry.workers.get(id);
    if (!entry) return c.json(errorBody(`No worker ${JSON.stringify(id)} is known.`), 404);
    return c.json(workerView(entry, registry.clock.now()));
  });

  app.delete(QUEEN_PATHS.hive, (c) =>
    registry.forgetHive(c.req.param('id')) ? c.body(null, 204) : c.json(errorBody('No such hive is known.'), 404),
  );

  app.delete(QUEEN_PATHS.worker, (c) =>
    registry.forgetWorker(c.req.param('id')) ? c.body(null, 204) : c.json(errorBody('No such worker is known.'), 404),
  );

  app.get(QUEEN_PATHS.events, async (c) => {
    const query = EventQuery.safeParse(c.req.query());
    if (!query.success) return c.json(errorBody('The event query is not valid.', issuesOf(query.error)), 400);
    return c.json(await registry.events(query.data));
  });

  app.get(QUEEN_PATHS.stream, () => new Response(deps.stream.connect(), { headers: STREAM_HEADERS }));

  app.get(QUEEN_PATHS.health, (c) =>
    c.json({
      ...queenHealth(registry, queenEpoch),
      ...(leadership ? { role: leadership.role(), leader_url: leadership.leaderUrl() } : {}),
    } satisfies QueenHealth),
  );

  app.get(QUEEN_PATHS.metrics, async (c) =>
    c.body(await metrics.render(), 200, { 'content-type': metrics.contentType }),
  );

  if (deps.dashboard) app.route('/', deps.dashboard);

  app.notFound(notFound);
  app.onError((error, c) => {
    // A client that went away mid-upload is its own business, not the queen's failure.
    const level = c.req.raw.signal.aborted ? 'debug' : 'error';
    logger[level]('request failed', { method: c.req.method, path: c.req.path, error });
    return c.json(errorBody('The queen failed to answer this request.'), 500);
  });
  return app;
}
