import { Hono } from 'hono';
import { LIMITS } from '../../contracts/common.js';
import { type HeartbeatAck, HiveHeartbeat, WorkerHeartbeat } from '../../contracts/heartbeat.js';
import { QUEEN_PATHS } from '../../contracts/paths.js';
import { type HiveList, type QueenHealth, WorkerFilter, type WorkerList } from '../../contracts/registry.js';
import type { RegistryKind } from '../../machines/registry-changes.js';
import type { Leadership } from '../ha/leadership.js';
import { type Logger, silentLogger } from '../logger.js';
import { heartbeatResult, type QueenMetrics } from '../metrics.js';
import type { QueenRegistry } from '../queen/registry.js';
import { hiveView, hiveViews, queenHealth, workerView, workerViews } from '../queen/views.js';
import type { QueenStream } from '../stream/queen-stream.js';
import { DASHBOARD_ASSET_PREFIX } from './dashboard/page.js';
import { errorBody, issuesOf } from './error-body.js';
import { bearerAuth } from './middleware/auth.js';
import { bodyLimit } from './middleware/body-limit.js';
import { jsonBody } from './middleware/json-body.js';
import { leaderRedirect } from './middleware/leader-redirect.js';

/** The queen's HTTP API (PROTOCOL §2): heartbeats in, registry views, the live stream, health, metrics. */
export interface QueenAppDeps {
  registry: QueenRegistry;
  stream: QueenStream;
  metrics: QueenMetrics;
  queenEpoch: string;
  token?: string | undefined;
  /** Mounted at `/`: the dashboard page and its modules. */
  dashboard?: Hono;
  logger?: Logger;
  /** With several queens on etcd: a follower sends heartbeats on to the leader; `/health` shows the role. */
  leadership?: Leadership | undefined;
}

const STREAM_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
};

const JSON_TYPE = { 'content-type': 'application/json' };

/** Distinct duplicate-id conflicts logged, so an imposter retrying every interval logs once. */
const CONFLICTS_LOGGED = 1_000;

export function createQueenApp(deps: QueenAppDeps): Hono {
  const { registry, metrics, queenEpoch } = deps;
  const logger = deps.logger ?? silentLogger;
  const limit = bodyLimit(LIMITS.bodyBytes);
  const conflictsLogged = new Set<string>();
  // The two acks, serialized once.
  const ack = JSON.stringify({ status: 'ok', queen_epoch: queenEpoch, resync: false } satisfies HeartbeatAck);
  const resyncAck = JSON.stringify({ status: 'ok', queen_epoch: queenEpoch, resync: true } satisfies HeartbeatAck);
  const app = new Hono();

  // Counted before auth, so refused heartbeats are counted too.
  const countHeartbeats = (kind: RegistryKind, path: string): void => {
    app.use(path, async (c, next) => {
      await next();
      if (c.req.method === 'POST') metrics.heartbeat(kind, heartbeatResult(c.res.status));
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
    // After auth, before any parsing: only heartbeats move; views, stream and dashboard are served by every queen.
    const redirect = leaderRedirect(() => leadership.redirectTo());
    app.use(QUEEN_PATHS.hiveHeartbeat, redirect);
    app.use(QUEEN_PATHS.workerHeartbeat, redirect);
  }

  app.post(QUEEN_PATHS.hiveHeartbeat, limit, jsonBody(HiveHeartbeat, 'hive heartbeat'), async (c) => {
    const heartbeat = c.get('body');
    const admission = await registry.submitHive(heartbeat);
    if (!admission.ok) {
      const key = `${heartbeat.hive_id}\u0000${heartbeat.boot_id ?? ''}`;
      if (!conflictsLogged.has(key)) {
        if (conflictsLogged.size >= CONFLICTS_LOGGED) conflictsLogged.clear();
        conflictsLogged.add(key);
        logger.warn('hive heartbeat refused: duplicate hive id', {
          hive_id: heartbeat.hive_id,
          boot_id: heartbeat.boot_id,
          hive_url: heartbeat.hive_url,
        });
      }
      return c.json(errorBody(admission.error), 409);
    }
    if (admission.resync === null) return c.body(ack, 200, JSON_TYPE);
    metrics.resync(admission.resync);
    return c.body(resyncAck, 200, JSON_TYPE);
  });

  app.post(QUEEN_PATHS.workerHeartbeat, limit, jsonBody(WorkerHeartbeat, 'worker heartbeat'), async (c) => {
    await registry.submitWorker(c.get('body'));
    return c.body(ack, 200, JSON_TYPE);
  });

  app.get(QUEEN_PATHS.hives, (c) => c.json({ hives: hiveViews(registry) } satisfies HiveList));

  app.get(QUEEN_PATHS.hive, (c) => {
    const id = c.req.param('id');
    const entry = registry.hives.get(id);
    if (!entry) return c.json(errorBody(`No hive ${JSON.stringify(id)} is known.`), 404);
    return c.json(hiveView(entry, registry.clock.now()));
  });

  app.get(QUEEN_PATHS.workers, (c) => {
    const filter = WorkerFilter.safeParse(c.req.query());
    if (!filter.success) return c.json(errorBody('The worker filter is not valid.', issuesOf(filter.error)), 400);
    return c.json({ workers: workerViews(registry, filter.data) } satisfies WorkerList);
  });

  app.get(QUEEN_PATHS.worker, (c) => {
    const id = c.req.param('id');
    const entry = registry.workers.get(id);
    if (!entry) return c.json(errorBody(`No worker ${JSON.stringify(id)} is known.`), 404);
    return c.json(workerView(entry, registry.clock.now()));
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

  app.notFound((c) => c.json(errorBody(`No route ${c.req.method} ${c.req.path}.`), 404));
  app.onError((error, c) => {
    logger.error('request failed', { method: c.req.method, path: c.req.path, error });
    return c.json(errorBody('The queen failed to answer this request.'), 500);
  });
  return app;
}
