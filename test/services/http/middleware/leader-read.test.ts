import http from 'node:http';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import type { QueenRole } from '../../../../contracts/election.js';
import { QUEEN_PATHS, withId } from '../../../../contracts/paths.js';
import { QueenHealth } from '../../../../contracts/registry.js';
import { StreamEvent } from '../../../../contracts/stream.js';
import type { Leadership, Route } from '../../../../services/ha/leadership.js';
import { listen } from '../../../../services/http/listen.js';
import { leaderRead } from '../../../../services/http/middleware/leader-read.js';
import { silentLogger } from '../../../../services/logger.js';
import { freePort } from '../../../../services/ports.js';
import { discoveryHeartbeat, HIVE_ID, periodicHeartbeat, workerHeartbeat } from '../../../fixtures/examples.js';
import { type QueenAppHarness, type QueenAppOptions, startQueenApp, TOKEN } from '../../../support/queen-app.js';
import { eventually } from '../../../support/role-process.js';
import { SseReader } from '../../../support/sse-reader.js';

/**
 * A follower reads from the leader: views, history and stream relayed over real HTTP on loopback, the client's token
 * and query passed on, the leader's answer streamed back; bounded in time and in streams, and never relayed twice.
 */

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A queen that leads, listening on loopback. */
async function servedLeader(): Promise<{ leader: QueenAppHarness; url: string }> {
  const leader = startQueenApp();
  const served = await listen(leader.app, '127.0.0.1', 0);
  cleanups.push(
    () => leader.close(),
    () => served.close(),
  );
  return { leader, url: `http://127.0.0.1:${served.port}` };
}

/** A queen (not listening: the test calls its app) in `role`, sending reads where `route` says. */
function queenIn(role: QueenRole, route: Route, options: Pick<QueenAppOptions, 'token'> = {}): QueenAppHarness {
  const leadership: Leadership = {
    role: () => role,
    leaderUrl: () => (route.to === 'leader' ? route.url : null),
    route: () => route,
  };
  const queen = startQueenApp({ leadership, ...options });
  cleanups.push(() => queen.close());
  return queen;
}

/** Status, content type and body text: what a client sees of an answer. */
async function seen(response: Response): Promise<[number, string | null, string]> {
  return [response.status, response.headers.get('content-type'), await response.text()];
}

/** A stand-in leader that answers what `handle` does, over plain node:http. */
async function rawLeader(handle: http.RequestListener): Promise<string> {
  const server = http.createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
}

describe('leader read', () => {
  it('a follower answers every view and the history exactly as the leader does, query strings and errors included', async () => {
    const { leader, url } = await servedLeader();
    expect((await leader.post(QUEEN_PATHS.hiveHeartbeat, discoveryHeartbeat)).status).toBe(200);
    expect((await leader.post(QUEEN_PATHS.workerHeartbeat, workerHeartbeat)).status).toBe(200);
    const follower = queenIn('follower', { to: 'leader', url });
    const paths = [
      QUEEN_PATHS.hives,
      withId(QUEEN_PATHS.hive, HIVE_ID),
      `${withId(QUEEN_PATHS.hiveMetrics, HIVE_ID)}?step=1m`,
      `${QUEEN_PATHS.workers}?hive_id=${HIVE_ID}`,
      withId(QUEEN_PATHS.worker, workerHeartbeat.worker_id),
      `${QUEEN_PATHS.events}?hive=${HIVE_ID}&order=newest&limit=5`,
      withId(QUEEN_PATHS.hive, 'nobody'),
      `${QUEEN_PATHS.workers}?hive_id=`,
    ];
    for (const path of paths) {
      const fromLeader = await seen(await leader.request(path));
      expect(await seen(await follower.request(path)), path).toEqual(fromLeader);
    }
    // The follower holds nothing of its own: every answer above was the leader's.
    expect(follower.registry.hives.get(HIVE_ID)).toBeUndefined();
    // Its health is its own.
    const health = QueenHealth.parse(await (await follower.request(QUEEN_PATHS.health)).json());
    expect(health).toMatchObject({ role: 'follower', leader_url: url, hives: { online: 0 } });
  });

  it('checks the token itself and passes the client’s on: the leader takes it, or refuses it', async () => {
    const { url } = await servedLeader();
    const follower = queenIn('follower', { to: 'leader', url });
    expect((await follower.request(QUEEN_PATHS.hives, { token: 'wrong' })).status).toBe(401);
    // A queen without a token lets the request through; the leader, which has one, refuses it.
    const open = queenIn('follower', { to: 'leader', url }, { token: undefined });
    expect((await open.request(QUEEN_PATHS.hives)).status).toBe(401);
    expect((await open.request(QUEEN_PATHS.hives, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
  });

  it("relays the stream as it comes: the leader's snapshot, its live changes, and its end", async () => {
    const { leader, url } = await servedLeader();
    await leader.post(QUEEN_PATHS.hiveHeartbeat, discoveryHeartbeat);
    const follower = queenIn('follower', { to: 'leader', url });
    // As a browser's EventSource asks: the token in the query.
    const response = await follower.request(`${QUEEN_PATHS.stream}?token=${TOKEN}`, { token: null });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = new SseReader(response.body);
    const [snapshot] = await reader.take(1);
    expect(StreamEvent.parse(snapshot?.data)).toMatchObject({
      type: 'snapshot',
      hives: [expect.objectContaining({ hive_id: HIVE_ID })],
    });
    const busier = { ...periodicHeartbeat, monitor_data: { ...periodicHeartbeat.monitor_data, cpu_usage_percent: 97 } };
    await leader.post(QUEEN_PATHS.hiveHeartbeat, busier);
    for (;;) {
      const message = await reader.next();
      if (!message) throw new Error('the stream ended before the live change');
      const event = message.comment === undefined ? StreamEvent.parse(message.data) : undefined;
      if (event?.type === 'hive') {
        expect(event).toMatchObject({ hive_id: HIVE_ID, monitor_data: { cpu_usage_percent: 97 } });
        break;
      }
    }
    // The leader's stream ends (it stops, or stops leading): so does the relayed one.
    leader.stream.closeAll();
    let rest = await reader.next();
    while (rest) rest = await reader.next();
    expect(rest).toBeUndefined();
  });

  it('counts relayed streams against the stream limit, and frees their places when their clients go', async () => {
    const { leader, url } = await servedLeader();
    const follower = queenIn('follower', { to: 'leader', url });
    const open = async (): Promise<Response> => follower.request(QUEEN_PATHS.stream);
    const streams = await Promise.all(Array.from({ length: 100 }, open));
    expect(streams.map((response) => response.status)).toEqual(Array(100).fill(200));
    cleanups.push(() => Promise.all(streams.map((response) => response.body?.cancel())).then(() => undefined));
    const refused = await open();
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).not.toBeNull();
    // Refused by the follower itself: the leader never saw it.
    expect(leader.stream.clients).toBe(100);
    const counted = 'apiary_overflow_dropped_total{queue="stream_clients"} 1';
    expect(await (await follower.request(QUEEN_PATHS.metrics)).text()).toContain(counted);
    expect(await (await leader.request(QUEEN_PATHS.metrics)).text()).not.toContain(counted);
    await streams[0]?.body?.cancel();
    const again = await eventually(async () => {
      const response = await open();
      if (response.status === 200) return response;
      await response.body?.cancel();
      return undefined;
    }, 'a place freed by a client gone');
    await again.body?.cancel();
  });

  it('answers 503 and retry-after when no queen can answer, and never relays a read twice', async () => {
    const loading = queenIn('leader', { to: 'none', why: 'this queen was just elected and is loading the state' });
    for (const path of [QUEEN_PATHS.hives, QUEEN_PATHS.stream, QUEEN_PATHS.events]) {
      const response = await loading.request(path);
      expect(response.status, path).toBe(503);
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await response.json()).toMatchObject({ error: expect.stringContaining('loading the state') });
    }
    // Two queens that each take the other for the leader: the first relays, the second refuses to relay again.
    const second = queenIn('follower', { to: 'leader', url: 'http://127.0.0.1:1' });
    const served = await listen(second.app, '127.0.0.1', 0);
    cleanups.push(() => served.close());
    const first = queenIn('follower', { to: 'leader', url: `http://127.0.0.1:${served.port}` });
    const looped = await first.request(QUEEN_PATHS.hives);
    expect(looped.status).toBe(503);
    expect(await looped.json()).toMatchObject({ error: expect.stringContaining('do not agree') });
  });

  it('answers 502 for a leader that cannot be reached, 504 for one that does not answer, and cuts one gone silent', async () => {
    const closed = `http://127.0.0.1:${await freePort('127.0.0.1')}`;
    const leader = await rawLeader((request, response) => {
      if (request.url === '/hang') return;
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write('event: heartbeat\n\n');
    });
    const app = (url: string): Hono => {
      const relay = leaderRead({
        route: () => ({ to: 'leader', url }),
        retryAfterSeconds: 1,
        firstByteTimeoutMs: 300,
        idleTimeoutMs: 300,
        logger: silentLogger,
      });
      return new Hono().get('*', relay.middleware);
    };
    const unreachable = await app(closed).request('/v1/hives');
    expect(unreachable.status).toBe(502);
    expect(unreachable.headers.get('retry-after')).toBe('1');
    expect(await unreachable.json()).toMatchObject({ error: expect.stringContaining(closed) });
    expect((await app(leader).request('/hang')).status).toBe(504);
    const silent = await app(leader).request('/stream');
    expect(silent.status).toBe(200);
    const reader = new SseReader(silent.body);
    expect(await reader.next()).toMatchObject({ event: 'heartbeat' });
    await expect(reader.next()).rejects.toThrow();
  });
});
