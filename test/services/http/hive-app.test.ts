import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Capabilities } from '../../../contracts/capabilities.js';
import { LIMITS } from '../../../contracts/common.js';
import { ErrorBody, type HiveHeartbeat, type MonitorData } from '../../../contracts/heartbeat.js';
import { CapabilitiesResponse, HiveHealth, HiveWorkerList, SpawnWorkerResponse } from '../../../contracts/hive-api.js';
import type { SendOutcome } from '../../../machines/send-outcome.js';
import { loadHiveIdentity } from '../../../services/hive/identity.js';
import { type QueenTrust, queenTrust } from '../../../services/hive/queen-trust.js';
import { createWorkerManager, type WorkerManager } from '../../../services/hive/worker-manager.js';
import { createHiveApp } from '../../../services/http/hive-app.js';
import { silentLogger } from '../../../services/logger.js';
import { createSender, type Sender } from '../../../services/sender.js';

const TOKEN = 'hive-secret';
const QUEEN = 'http://127.0.0.1:7833';
const MONITOR: MonitorData = { cpu_usage_percent: 5, ram_used_gb: 2, ram_total_gb: 8, uptime_seconds: 9, devices: [] };
const CAPABILITIES: Capabilities = {
  devices: [{ id: 'CPU-0', name: 'Test CPU', device_type: 'cpu' }],
  models: [{ model_id: 'tiny', size_gb: 0.1 }],
  workers: [{ worker_type: 'cpu', version: '0.1.0' }],
};
const ACK: SendOutcome = { ok: true, value: { status: 'ok', queen_epoch: 'e1', resync: false } };

interface Fixture {
  sender: Sender;
  posts: { queenUrl: string; payload: HiveHeartbeat }[];
  request: (path: string, init?: RequestInit & { auth?: boolean }) => Promise<Response>;
}

const senders: Sender[] = [];
afterEach(async () => {
  await Promise.all(senders.splice(0).map((s) => s.actor.stop()));
});

function fixture(
  options: {
    queenUrl?: string | null;
    workers?: Pick<WorkerManager, 'spawn' | 'list' | 'stop'>;
    trust?: QueenTrust;
  } = {},
) {
  const posts: Fixture['posts'] = [];
  const sender = createSender<HiveHeartbeat>({
    systemId: 'hive-lifecycle',
    settings: { heartbeatIntervalMs: 60_000, backoffMs: [0], maxFailures: 5, probeIntervalMs: 0, jitter: 0 },
    queenUrl: options.queenUrl ?? null,
    buildPayload: (request) => ({
      hive_id: 'hive-a',
      timestamp: new Date().toISOString(),
      monitor_data: MONITOR,
      ...(request.full ? { capabilities: CAPABILITIES } : {}),
    }),
    post: async (queenUrl, payload) => {
      posts.push({ queenUrl, payload });
      return ACK;
    },
    logger: silentLogger,
  });
  senders.push(sender);
  const workers =
    options.workers ??
    createWorkerManager({
      hiveId: 'hive-a',
      host: '127.0.0.1',
      workerScript: '/nonexistent/worker.js',
      workerArgs: [],
      queenUrl: () => sender.queenUrl(),
      capabilities: () => CAPABILITIES,
      engine: () => null,
      modelPath: () => null,
      maxWorkers: 16,
      report: async () => ACK,
      stopTimeoutMs: 100,
      logger: silentLogger,
    });
  const app = createHiveApp({
    hiveId: 'hive-a',
    token: TOKEN,
    lifecycle: sender,
    ...(options.trust ? { trust: options.trust } : {}),
    capabilities: () => CAPABILITIES,
    monitor: () => MONITOR,
    workers,
  });
  const request: Fixture['request'] = (path, init = {}) => {
    const { auth = true, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (auth) headers.set('authorization', `Bearer ${TOKEN}`);
    return Promise.resolve(app.request(path, { ...rest, headers }));
  };
  return { sender, posts, request };
}

/** Gives a wrongly started sender loop time to show itself: for asserting that nothing happened. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

/** Waits for the first heartbeat to have been posted and its send actor to have finished. */
const sent = (f: Fixture) =>
  vi.waitFor(() => {
    expect(f.posts.length).toBeGreaterThan(0);
    expect(f.sender.actor.getSnapshot().children).toEqual({});
  });

function postJson(body: unknown, init: RequestInit = {}): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), ...init };
}

describe('hive HTTP API: capabilities and discovery', () => {
  it('answers capabilities and monitor data without changing the lifecycle when no queen_url is given', async () => {
    const f = fixture();
    const response = await f.request('/capabilities');
    expect(response.status).toBe(200);
    expect(CapabilitiesResponse.parse(await response.json())).toEqual({
      hive_id: 'hive-a',
      ...CAPABILITIES,
      monitor_data: MONITOR,
    });
    await settle();
    expect(f.sender.state()).toBe('DISCOVERY_WAIT');
    expect(f.posts).toEqual([]);
  });

  it('takes a queen_url as the QUEEN_URL event: the first heartbeat goes there at once with full capabilities', async () => {
    const f = fixture();
    const response = await f.request(`/capabilities?queen_url=${encodeURIComponent(`${QUEEN}/`)}`);
    expect(response.status).toBe(200);
    await sent(f);
    expect(f.sender.state()).toBe('HEARTBEATING');
    expect(f.sender.queenUrl()).toBe(QUEEN);
    expect(f.posts).toHaveLength(1);
    expect(f.posts[0]?.queenUrl).toBe(QUEEN);
    expect(f.posts[0]?.payload.capabilities).toEqual(CAPABILITIES);
  });

  it('leaves one sender loop when the same queen calls twice', async () => {
    const f = fixture();
    await f.request(`/capabilities?queen_url=${encodeURIComponent(QUEEN)}`);
    await sent(f);
    const second = await f.request(`/capabilities?queen_url=${encodeURIComponent(QUEEN)}`);
    expect(second.status).toBe(200);
    await settle();
    expect(f.posts).toHaveLength(1);
    expect(f.sender.actor.getSnapshot().children).toEqual({});
    expect(f.sender.state()).toBe('HEARTBEATING');
  });

  it('refuses, once it holds an identity, a queen_url other than its own queen: 409, no heartbeat goes there', async () => {
    const identity = loadHiveIdentity(null, 'hive-a', silentLogger);
    identity.learn('issued-secret', QUEEN);
    const f = fixture({ queenUrl: QUEEN, trust: queenTrust(identity, []) });
    await sent(f);
    const rogue = await f.request(`/capabilities?queen_url=${encodeURIComponent('http://10.6.6.6:7833')}`);
    expect(rogue.status).toBe(409);
    expect(ErrorBody.parse(await rogue.json()).error).toContain(`holds an identity from ${QUEEN}`);
    await settle();
    expect(f.sender.queenUrl()).toBe(QUEEN);
    expect(f.posts.every((post) => post.queenUrl === QUEEN)).toBe(true);
    expect((await f.request(`/capabilities?queen_url=${encodeURIComponent(`${QUEEN}/`)}`)).status).toBe(200);
  });

  it('refuses a queen_url that is not one http(s) URL, naming the field, and changes nothing', async () => {
    const f = fixture();
    // A comma would split the URL where the hive hands it on to its workers, as a list of queens.
    for (const bad of ['file:///etc/passwd', 'javascript:alert(1)', 'not a url', '', 'http://q:7833/,--log-level=x']) {
      const response = await f.request(`/capabilities?queen_url=${encodeURIComponent(bad)}`);
      expect(response.status).toBe(400);
      const body = ErrorBody.parse(await response.json());
      expect(body.issues?.map((issue) => issue.path)).toEqual(['queen_url']);
    }
    await settle();
    expect(f.sender.state()).toBe('DISCOVERY_WAIT');
    expect(f.sender.queenUrl()).toBeNull();
  });

  it('refuses capabilities without the token, and a queen_url then changes nothing', async () => {
    const f = fixture();
    const missing = await f.request(`/capabilities?queen_url=${encodeURIComponent(QUEEN)}`, { auth: false });
    expect(missing.status).toBe(401);
    const wrong = await f.request('/capabilities', { auth: false, headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    await settle();
    expect(f.sender.queenUrl()).toBeNull();
    expect(f.posts).toEqual([]);
  });

  it('shows the lifecycle on /health without the token', async () => {
    const f = fixture({ queenUrl: QUEEN });
    await settle();
    const response = await f.request('/health', { auth: false });
    expect(response.status).toBe(200);
    expect(HiveHealth.parse(await response.json())).toEqual({
      status: 'ok',
      hive_id: 'hive-a',
      lifecycle: 'HEARTBEATING',
      queen_url: QUEEN,
    });
  });
});

describe('hive HTTP API: workers', () => {
  it('answers 201 with the spawned worker and lists it', async () => {
    const spawned = { worker_id: 'hive-a-9001', port: 9001, pid: 4242 };
    const requests: unknown[] = [];
    const f = fixture({
      workers: {
        spawn: async (request) => {
          requests.push(request);
          return { ok: true, value: spawned };
        },
        list: () => [{ ...spawned, model: 'tiny', device: 'CPU-0', worker_type: 'cpu' }],
        stop: async () => true,
      },
    });
    const response = await f.request('/v1/workers', postJson({ model: 'tiny', port: 9001 }));
    expect(response.status).toBe(201);
    expect(SpawnWorkerResponse.parse(await response.json())).toEqual(spawned);
    expect(requests).toEqual([{ model: 'tiny', port: 9001 }]);
    const list = HiveWorkerList.parse(await (await f.request('/v1/workers')).json());
    expect(list.workers.map((w) => w.worker_id)).toEqual(['hive-a-9001']);
    expect((await f.request('/v1/workers/hive-a-9001', { method: 'DELETE' })).status).toBe(204);
  });

  it('answers 404 for a model the hive does not have, 409 while no queen is known', async () => {
    const noQueen = fixture();
    const missingModel = await noQueen.request('/v1/workers', postJson({ model: 'huge' }));
    expect(missingModel.status).toBe(404);
    expect(ErrorBody.parse(await missingModel.json()).error).toMatch(/huge/);
    const conflict = await noQueen.request('/v1/workers', postJson({ model: 'tiny' }));
    expect(conflict.status).toBe(409);
    expect(ErrorBody.parse(await conflict.json()).error).toMatch(/No queen/);
  });

  it('refuses bad bodies with the issue paths, a wrong content type, an oversized body, and no token', async () => {
    const f = fixture({ queenUrl: QUEEN });
    const invalid = await f.request('/v1/workers', postJson({ model: '', port: 70_000 }));
    expect(invalid.status).toBe(400);
    expect(ErrorBody.parse(await invalid.json()).issues?.map((i) => i.path)).toEqual(['model', 'port']);
    // A field the hive does not know is refused, never dropped: `upstream` here would silently mean the demo backend.
    const unknown = await f.request('/v1/workers', postJson({ model: 'tiny', upstream: 'http://127.0.0.1:8080' }));
    expect(unknown.status).toBe(400);
    expect(ErrorBody.parse(await unknown.json()).issues?.map((i) => i.message)).toEqual([
      expect.stringMatching(/upstream/),
    ]);
    const notJson = await f.request('/v1/workers', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{',
    });
    expect(notJson.status).toBe(400);
    const text = await f.request('/v1/workers', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'x',
    });
    expect(text.status).toBe(415);
    const huge = await f.request('/v1/workers', postJson({ model: 'x'.repeat(LIMITS.bodyBytes) }));
    expect(huge.status).toBe(413);
    expect((await f.request('/v1/workers', { ...postJson({ model: 'tiny' }), auth: false })).status).toBe(401);
    expect((await f.request('/v1/workers', { auth: false })).status).toBe(401);
    expect((await f.request('/v1/workers/x', { method: 'DELETE', auth: false })).status).toBe(401);
  });

  it('answers 429 when the hive already runs its maximum of workers', async () => {
    const f = fixture({
      workers: {
        spawn: async () => ({ ok: false, error: { kind: 'too-many', message: 'maximum of 16 workers' } }),
        list: () => [],
        stop: async () => false,
      },
    });
    const response = await f.request('/v1/workers', postJson({ model: 'tiny' }));
    expect(response.status).toBe(429);
    expect(ErrorBody.parse(await response.json()).error).toMatch(/maximum/);
  });

  it('answers 404 when deleting an unknown worker', async () => {
    const f = fixture();
    const response = await f.request('/v1/workers/nobody', { method: 'DELETE' });
    expect(response.status).toBe(404);
    expect(ErrorBody.parse(await response.json()).error).toMatch(/nobody/);
  });
});
