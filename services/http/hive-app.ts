import { Hono } from 'hono';
import type { Capabilities } from '../../contracts/capabilities.js';
import { LIMITS } from '../../contracts/common.js';
import type { MonitorData } from '../../contracts/heartbeat.js';
import {
  CapabilitiesQuery,
  type CapabilitiesResponse,
  type HiveHealth,
  type HiveWorkerList,
  SpawnWorkerRequest,
} from '../../contracts/hive-api.js';
import { HIVE_PATHS } from '../../contracts/paths.js';
import type { QueenTrust } from '../hive/queen-trust.js';
import type { SpawnErrorKind, WorkerManager } from '../hive/worker-manager.js';
import { type Logger, silentLogger } from '../logger.js';
import { issuesOf } from '../parse-json.js';
import { urlSpelling } from '../url-spelling.js';
import { errorBody } from './error-body.js';
import { bearerAuth } from './middleware/auth.js';
import { bodyLimit } from './middleware/body-limit.js';
import { jsonBody } from './middleware/json-body.js';
import { notFound } from './middleware/not-found.js';

/** What the hive app needs of the hive's sender. */
export interface HiveLifecycle {
  state(): string;
  queenUrl(): string | null;
  discover(queenUrl: string): void;
}

export interface HiveAppDeps {
  hiveId: string;
  /** Required on every route but `/health` when set. */
  token?: string | undefined;
  lifecycle: HiveLifecycle;
  /** Which queens discovery may point this hive at; any without it. */
  trust?: QueenTrust;
  capabilities: () => Capabilities;
  monitor: () => MonitorData;
  workers: Pick<WorkerManager, 'spawn' | 'list' | 'stop'>;
  logger?: Logger;
}

const SPAWN_ERROR_STATUS = {
  'unknown-model': 404,
  'unknown-device': 404,
  'unknown-worker-type': 404,
  'option-like-value': 400,
  'port-taken': 409,
  'no-queen': 409,
  'too-many': 429,
  stopping: 503,
  'spawn-failed': 500,
} as const satisfies Record<SpawnErrorKind, number>;

/** The hive's HTTP API (docs/protocol.md: Hive HTTP API): capabilities and pull discovery, health, and its spawned workers. */
export function createHiveApp(deps: HiveAppDeps): Hono {
  const logger = deps.logger ?? silentLogger;
  const app = new Hono();
  app.use(bearerAuth({ token: deps.token, exempt: (path) => path === HIVE_PATHS.health }));

  app.get(HIVE_PATHS.health, (c) =>
    c.json({
      status: 'ok',
      hive_id: deps.hiveId,
      lifecycle: deps.lifecycle.state(),
      queen_url: deps.lifecycle.queenUrl(),
    } satisfies HiveHealth),
  );

  app.get(HIVE_PATHS.capabilities, (c) => {
    const query = CapabilitiesQuery.safeParse(c.req.query());
    if (!query.success) return c.json(errorBody('queen_url must be one http(s) URL.', issuesOf(query.error)), 400);
    const queenUrl = query.data.queen_url;
    const refusal = queenUrl === undefined ? null : (deps.trust?.refusal(queenUrl) ?? null);
    if (refusal !== null) {
      logger.warn('discovery by another queen refused', { queen_url: queenUrl, current: deps.lifecycle.queenUrl() });
      return c.json(errorBody(refusal), 409);
    }
    const body: CapabilitiesResponse = { hive_id: deps.hiveId, ...deps.capabilities(), monitor_data: deps.monitor() };
    if (queenUrl !== undefined) {
      const normalized = urlSpelling(queenUrl);
      if (normalized !== deps.lifecycle.queenUrl()) logger.info('queen made itself known', { queen_url: normalized });
      deps.lifecycle.discover(normalized);
    }
    return c.json(body);
  });

  app.get(HIVE_PATHS.workers, (c) => c.json({ workers: deps.workers.list() } satisfies HiveWorkerList));

  app.post(
    HIVE_PATHS.workers,
    bodyLimit(LIMITS.bodyBytes),
    jsonBody(SpawnWorkerRequest, 'spawn request'),
    async (c) => {
      const result = await deps.workers.spawn(c.get('body'));
      if (!result.ok) return c.json(errorBody(result.error.message), SPAWN_ERROR_STATUS[result.error.kind]);
      return c.json(result.value, 201);
    },
  );

  app.delete(HIVE_PATHS.worker, async (c) => {
    const id = c.req.param('id');
    if (!(await deps.workers.stop(id))) return c.json(errorBody(`No worker ${JSON.stringify(id)} on this hive.`), 404);
    return c.body(null, 204);
  });

  app.notFound(notFound);
  return app;
}
