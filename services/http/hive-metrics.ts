import { Hono } from 'hono';
import { type HiveMetrics, MetricsQuery } from '../../contracts/metrics-history.js';
import { QUEEN_PATHS } from '../../contracts/paths.js';
import { issuesOf } from '../parse-json.js';
import type { MetricsHistory } from '../queen/metrics-history.js';
import type { QueenRegistry } from '../queen/registry.js';
import { errorBody } from './error-body.js';

/** More points than this per series is refused: a wider step or a later `since` answers the same question. */
export const MAX_POINTS = 10_000;

/** `GET /v1/hives/:id/metrics`: a known hive's monitor history, per sample or averaged into buckets. */
export function hiveMetricsApp(registry: QueenRegistry, history: MetricsHistory): Hono {
  const app = new Hono();
  app.get(QUEEN_PATHS.hiveMetrics, async (c) => {
    const id = c.req.param('id');
    if (!registry.hives.get(id)) return c.json(errorBody(`No hive ${JSON.stringify(id)} is known.`), 404);
    const query = MetricsQuery.safeParse(c.req.query());
    if (!query.success) return c.json(errorBody('The metrics query is not valid.', issuesOf(query.error)), 400);
    const now = registry.clock.wallNow();
    const since = query.data.since === undefined ? now - history.windowMs : Date.parse(query.data.since);
    const stepS = query.data.step ?? 0;
    if (stepS > 0 && (now - since) / 1000 / stepS > MAX_POINTS) {
      const message = `more than ${MAX_POINTS} buckets since ${new Date(since).toISOString()}: use a wider step`;
      return c.json(errorBody('The metrics query is not valid.', [{ path: 'step', message }]), 400);
    }
    const body: HiveMetrics = { hive_id: id, step_s: stepS, series: await history.series(id, since, stepS) };
    return c.json(body);
  });
  return app;
}
