import { serve } from '@hono/node-server';
import { Hono } from 'hono';

/**
 * The ingest baseline, run as its own process like the queen: a bare @hono/node-server app that reads and parses
 * the JSON body and answers 200 with an ack of the queen's size. Nothing else: no validation, no registry.
 */
const app = new Hono();
app.post('*', async (c) => {
  JSON.parse(await c.req.text());
  return c.json({ status: 'ok', queen_epoch: 'q-000000000000', resync: false });
});

serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => {
  process.send?.({ url: `http://127.0.0.1:${info.port}` });
});

// Never outlives the benchmark that forked it.
process.on('disconnect', () => process.exit(0));
