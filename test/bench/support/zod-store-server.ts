import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { HiveHeartbeat } from '../../../contracts/heartbeat.js';

/**
 * The ingest benchmark's second baseline, run as its own process like the queen: a bare @hono/node-server app that
 * validates each heartbeat with the queen's own schema and keeps the latest per hive in a Map. What the queen does
 * beyond it (identity, liveness, capability plans, the registry actor, events, metrics) is what the two differ by.
 */
const hives = new Map<string, HiveHeartbeat>();
const app = new Hono();
app.post('*', async (c) => {
  const parsed = HiveHeartbeat.safeParse(JSON.parse(await c.req.text()));
  if (!parsed.success) return c.json({ error: parsed.error.issues.map((issue) => issue.path.join('.')) }, 400);
  hives.set(parsed.data.hive_id, parsed.data);
  return c.json({ status: 'ok', queen_epoch: 'q-000000000000', resync: false });
});

serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => {
  process.send?.({ url: `http://127.0.0.1:${info.port}` });
});

// Never outlives the benchmark that forked it.
process.on('disconnect', () => process.exit(0));
