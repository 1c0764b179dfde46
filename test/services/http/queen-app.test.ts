import { describe, expect, it } from 'vitest';
import { LIMITS } from '../../../contracts/common.js';
import { EventPage, type HistoryEvent } from '../../../contracts/events.js';
import { ErrorBody, HeartbeatAck } from '../../../contracts/heartbeat.js';
import { QUEEN_PATHS, withId } from '../../../contracts/paths.js';
import { HiveList, HiveView, QueenHealth, WorkerList, WorkerView } from '../../../contracts/registry.js';
import { createLogger } from '../../../services/logger.js';
import { times, withValue } from '../../contracts/issue-paths.js';
import {
  changesHeartbeat,
  discoveryHeartbeat,
  HIVE_ID,
  periodicHeartbeat,
  QUEEN_EPOCH,
  stoppingHeartbeat,
  workerHeartbeat,
} from '../../fixtures/examples.js';
import { type QueenAppHarness, startQueenApp, TOKEN } from '../../support/queen-app.js';
import { hiveBeat, workerBeat } from '../../support/queen-registry.js';

async function ack(response: Response): Promise<HeartbeatAck> {
  expect(response.status).toBe(200);
  return HeartbeatAck.parse(await response.json());
}

/** A valid hive heartbeat of about `kib` KiB: only its size is wrong. */
/** A hive heartbeat of about `kib` KiB: capabilities within one hive's bound, the rest a long `hive_url`. */
function heartbeatOfSize(kib: number): string {
  const model = (i: number) => ({ model_id: `padding/${'m'.repeat(200)}-${i}`, size_gb: 1 });
  const models = times(Math.floor((LIMITS.capabilityBytes - 4096) / 240), model);
  const heartbeat = { ...discoveryHeartbeat, capabilities: { ...discoveryHeartbeat.capabilities, models } };
  const padding = Math.max(kib * 1024 - Buffer.byteLength(JSON.stringify(heartbeat)) - 64, 0);
  return JSON.stringify({ ...heartbeat, hive_url: `http://gpu.lan:7835/${'p'.repeat(padding)}` });
}

describe('POST /v1/hive-heartbeat and /v1/worker-heartbeat', () => {
  it("accepts the design's example payloads and acks with this queen's epoch", async () => {
    const q = startQueenApp();
    expect(await ack(await q.post(QUEEN_PATHS.hiveHeartbeat, discoveryHeartbeat))).toEqual({
      status: 'ok',
      queen_epoch: QUEEN_EPOCH,
      resync: false,
      hive_secret: expect.any(String),
    });
    expect((await ack(await q.post(QUEEN_PATHS.hiveHeartbeat, periodicHeartbeat))).resync).toBe(false);
    expect((await ack(await q.post(QUEEN_PATHS.hiveHeartbeat, changesHeartbeat))).resync).toBe(false);
    expect((await ack(await q.post(QUEEN_PATHS.workerHeartbeat, workerHeartbeat))).resync).toBe(false);
    const hive = q.registry.hives.get(discoveryHeartbeat.hive_id);
    expect(hive?.capabilitiesVersion).toBe(1);
    expect(hive?.capabilities?.toJSON().models.map((m) => m.model_id)).toContain('phi-3-mini-4k-instruct-q4');
    expect(q.registry.workers.get(workerHeartbeat.worker_id)?.liveness).toBe('online');
    expect((await ack(await q.post(QUEEN_PATHS.hiveHeartbeat, stoppingHeartbeat))).resync).toBe(false);
    expect(q.registry.hives.get(discoveryHeartbeat.hive_id)?.liveness).toBe('offline');
    expect(q.registry.workers.get(workerHeartbeat.worker_id)?.liveness).toBe('offline');
  });

  it('asks an unknown hive to resync, and a hive whose capabilities version shows a gap', async () => {
    const q = startQueenApp();
    expect((await ack(await q.post(QUEEN_PATHS.hiveHeartbeat, periodicHeartbeat))).resync).toBe(true);
    expect((await ack(await q.post(QUEEN_PATHS.hiveHeartbeat, discoveryHeartbeat))).resync).toBe(false);
    const gap = { ...changesHeartbeat, capabilities_version: 5 };
    expect((await ack(await q.post(QUEEN_PATHS.hiveHeartbeat, gap))).resync).toBe(true);
    expect(q.registry.hives.get(discoveryHeartbeat.hive_id)?.capabilitiesVersion).toBe(0);
    const metrics = await (await q.request(QUEEN_PATHS.metrics)).text();
    expect(metrics).toContain('apiary_resyncs_total{reason="unknown"} 1');
    expect(metrics).toContain('apiary_resyncs_total{reason="gap"} 1');
  });

  const bad: Array<{ name: string; path: string; body: unknown; status: number; issues?: string[] }> = [
    {
      name: 'broken JSON',
      path: QUEEN_PATHS.hiveHeartbeat,
      body: '{"hive_id": "gpu-node-1",',
      status: 400,
      issues: [''],
    },
    { name: 'an empty body', path: QUEEN_PATHS.workerHeartbeat, body: '', status: 400, issues: [''] },
    { name: 'a JSON array', path: QUEEN_PATHS.hiveHeartbeat, body: [discoveryHeartbeat], status: 400, issues: [''] },
    {
      name: 'a wrong type',
      path: QUEEN_PATHS.hiveHeartbeat,
      body: withValue(discoveryHeartbeat, 'monitor_data.cpu_usage_percent', 'high'),
      status: 400,
      issues: ['monitor_data.cpu_usage_percent'],
    },
    {
      name: 'a missing field',
      path: QUEEN_PATHS.hiveHeartbeat,
      body: withValue(discoveryHeartbeat, 'monitor_data', undefined),
      status: 400,
      issues: ['monitor_data'],
    },
    {
      name: 'an out-of-range percentage',
      path: QUEEN_PATHS.hiveHeartbeat,
      body: withValue(discoveryHeartbeat, 'monitor_data.cpu_usage_percent', 150),
      status: 400,
      issues: ['monitor_data.cpu_usage_percent'],
    },
    {
      name: 'a negative VRAM deep in an array',
      path: QUEEN_PATHS.hiveHeartbeat,
      body: withValue(discoveryHeartbeat, 'monitor_data.devices.1.vram_used_gb', -1),
      status: 400,
      issues: ['monitor_data.devices.1.vram_used_gb'],
    },
    {
      name: 'a bad timestamp',
      path: QUEEN_PATHS.hiveHeartbeat,
      body: withValue(discoveryHeartbeat, 'timestamp', 'yesterday'),
      status: 400,
      issues: ['timestamp'],
    },
    {
      name: 'an out-of-range port',
      path: QUEEN_PATHS.workerHeartbeat,
      body: withValue(workerHeartbeat, 'port', 70_000),
      status: 400,
      issues: ['port'],
    },
    {
      name: 'an unknown worker status and a fractional count',
      path: QUEEN_PATHS.workerHeartbeat,
      body: withValue(withValue(workerHeartbeat, 'status', 'sleeping'), 'requests_served', 1.5),
      status: 400,
      issues: ['status', 'requests_served'],
    },
    { name: 'a 300 KiB body', path: QUEEN_PATHS.hiveHeartbeat, body: heartbeatOfSize(300), status: 413 },
    {
      name: 'a hive_url with a password',
      path: QUEEN_PATHS.hiveHeartbeat,
      body: withValue(discoveryHeartbeat, 'hive_url', 'http://admin:s3cret@gpu-node-1:7835'),
      status: 400,
      issues: ['hive_url'],
    },
    {
      name: 'a worker_url with a user',
      path: QUEEN_PATHS.workerHeartbeat,
      body: withValue(workerHeartbeat, 'worker_url', 'http://s3cret@gpu-node-1:9301'),
      status: 400,
      issues: ['worker_url'],
    },
    {
      name: 'a hive_id with a lone surrogate',
      path: QUEEN_PATHS.hiveHeartbeat,
      body: withValue(discoveryHeartbeat, 'hive_id', 'gpu-\uD800-node'),
      status: 400,
      issues: ['hive_id'],
    },
    {
      name: 'a worker_id with a control character',
      path: QUEEN_PATHS.workerHeartbeat,
      body: withValue(workerHeartbeat, 'worker_id', 'w\u001b[2J'),
      status: 400,
      issues: ['worker_id'],
    },
  ];

  for (const { name, path, body, status, issues } of bad) {
    it(`answers ${status} to ${name} on ${path} and changes nothing`, async () => {
      const q = startQueenApp();
      await q.post(QUEEN_PATHS.hiveHeartbeat, hiveBeat('other'));
      await q.post(QUEEN_PATHS.workerHeartbeat, workerBeat('w-other', 'other'));
      const before = q.state();
      const response = await q.post(path, body);
      expect(response.status).toBe(status);
      const text = await response.text();
      expect(text).not.toContain('s3cret');
      const error = ErrorBody.parse(JSON.parse(text));
      expect(error.error).toMatch(/\.$/);
      if (issues) expect(error.issues?.map((issue) => issue.path)).toEqual(issues);
      expect(q.state()).toBe(before);
    });
  }

  it('logs an upload the client aborted at debug, not as a queen failure', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const q = startQueenApp({
      logger: createLogger({ level: 'debug', write: (line) => lines.push(JSON.parse(line)) }),
    });
    const client = new AbortController();
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"hive_id":"gpu-'));
        client.signal.addEventListener('abort', () => controller.error(new Error('client went away')));
      },
    });
    const request = new Request(`http://queen${QUEEN_PATHS.hiveHeartbeat}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body,
      duplex: 'half',
      signal: client.signal,
    });
    const answer = Promise.resolve(q.app.request(request)).catch((error: unknown) => error);
    client.abort();
    await answer;
    const failures = lines.filter((line) => line.msg === 'request failed');
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.map((line) => line.level)).toEqual(failures.map(() => 'debug'));
  });

  it('refuses a body over 256 KiB on its Content-Length before reading it', async () => {
    const q = startQueenApp();
    const before = q.state();
    const body = heartbeatOfSize(300);
    const response = await q.request(QUEEN_PATHS.hiveHeartbeat, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
      body,
    });
    expect(response.status).toBe(413);
    expect(q.state()).toBe(before);
  });

  it('accepts a body just under 256 KiB', async () => {
    const q = startQueenApp();
    const response = await q.post(QUEEN_PATHS.hiveHeartbeat, heartbeatOfSize(250));
    expect(response.status).toBe(200);
  });

  for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', null]) {
    it(`answers 415 to a body sent as ${contentType ?? 'no content type'} and changes nothing`, async () => {
      const q = startQueenApp();
      const before = q.state();
      const response = await q.post(QUEEN_PATHS.workerHeartbeat, workerHeartbeat, { contentType });
      expect(response.status).toBe(415);
      expect(ErrorBody.parse(await response.json()).error).toContain('application/json');
      expect(q.state()).toBe(before);
    });
  }

  it('takes a JSON content type with a charset', async () => {
    const q = startQueenApp();
    await q.post(QUEEN_PATHS.hiveHeartbeat, discoveryHeartbeat);
    const response = await q.post(QUEEN_PATHS.workerHeartbeat, workerHeartbeat, {
      contentType: 'application/json; charset=utf-8',
    });
    expect(response.status).toBe(200);
  });

  for (const [name, token] of [
    ['no token', null],
    ['a wrong token', 'guess'],
    ['a longer wrong token', `${TOKEN}x`],
  ] as const) {
    it(`answers 401 to a heartbeat with ${name} and changes nothing`, async () => {
      const q = startQueenApp();
      const before = q.state();
      const response = await q.post(QUEEN_PATHS.hiveHeartbeat, discoveryHeartbeat, { token });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect(ErrorBody.parse(await response.json()).error).not.toContain(TOKEN);
      expect(q.state()).toBe(before);
    });
  }

  it('does not take the token from the query string of a heartbeat', async () => {
    const q = startQueenApp();
    const response = await q.post(`${QUEEN_PATHS.hiveHeartbeat}?token=${TOKEN}`, discoveryHeartbeat, { token: null });
    expect(response.status).toBe(401);
  });

  it('issues a secret in the first ack only, and answers 403 to a heartbeat without it, changing nothing', async () => {
    const q = startQueenApp();
    const first = HeartbeatAck.parse(await (await q.post(QUEEN_PATHS.hiveHeartbeat, discoveryHeartbeat)).json());
    expect(first.hive_secret?.length).toBeGreaterThanOrEqual(22);
    const second = HeartbeatAck.parse(await (await q.post(QUEEN_PATHS.hiveHeartbeat, periodicHeartbeat)).json());
    expect(second.hive_secret).toBeUndefined();
    await q.post(QUEEN_PATHS.workerHeartbeat, workerHeartbeat);
    const before = q.state();
    const historyBefore = await events(q);
    for (const impostor of [
      { ...discoveryHeartbeat, boot_id: 'b-impostor', hive_url: 'http://192.168.1.99:7835', hive_secret: undefined },
      { ...periodicHeartbeat, hive_secret: 'guessed' },
    ]) {
      const response = await q.post(QUEEN_PATHS.hiveHeartbeat, JSON.stringify(impostor));
      expect(response.status).toBe(403);
      expect(ErrorBody.parse(await response.json()).error).toContain('DELETE /v1/hives/');
    }
    const worker = await q.post(QUEEN_PATHS.workerHeartbeat, { ...workerHeartbeat, hive_secret: 'guessed' });
    expect(worker.status).toBe(403);
    // Made-up worker ids under the same hive add no event each: the history cannot be inflated that way.
    for (const id of ['w-fake-1', 'w-fake-2']) {
      const fake = await q.post(QUEEN_PATHS.workerHeartbeat, { ...workerHeartbeat, worker_id: id, hive_secret: 'x' });
      expect(fake.status).toBe(403);
    }
    expect(q.state()).toBe(before);
    const refused = (await events(q)).slice(historyBefore.length);
    // Once per source, kind and hive claimed: the two hive impostors came from the same (unknown) source.
    expect(refused.map((event) => [event.kind, event.type])).toEqual([
      ['hive', 'identity_refused'],
      ['worker', 'identity_refused'],
    ]);
  });

  it('forgets a hive with its workers and its identity on DELETE, then registers it anew with a new secret', async () => {
    const q = startQueenApp();
    const first = HeartbeatAck.parse(await (await q.post(QUEEN_PATHS.hiveHeartbeat, discoveryHeartbeat)).json());
    await q.post(QUEEN_PATHS.workerHeartbeat, workerHeartbeat);
    const hivePath = withId(QUEEN_PATHS.hive, discoveryHeartbeat.hive_id);
    expect((await q.request(hivePath, { method: 'DELETE' })).status).toBe(204);
    expect((await q.request(hivePath)).status).toBe(404);
    expect((await q.request(withId(QUEEN_PATHS.worker, workerHeartbeat.worker_id))).status).toBe(404);
    expect((await q.request(hivePath, { method: 'DELETE' })).status).toBe(404);
    expect((await q.request(withId(QUEEN_PATHS.worker, 'nobody'), { method: 'DELETE' })).status).toBe(404);
    const again = HeartbeatAck.parse(
      await (
        await q.post(QUEEN_PATHS.hiveHeartbeat, JSON.stringify({ ...discoveryHeartbeat, hive_secret: 'old' }))
      ).json(),
    );
    expect(again.hive_secret).toBeDefined();
    expect(again.hive_secret).not.toBe(first.hive_secret);
    const forgotten = (await events(q)).filter((event) => event.type === 'forgotten');
    expect(forgotten.map((event) => `${event.kind} ${event.id}`).sort()).toEqual([
      `hive ${discoveryHeartbeat.hive_id}`,
      `worker ${workerHeartbeat.worker_id}`,
    ]);
  });

  it('pages the history with after, limit and next, filtered by kind and id', async () => {
    const q = startQueenApp();
    await q.post(QUEEN_PATHS.hiveHeartbeat, discoveryHeartbeat);
    await q.post(QUEEN_PATHS.hiveHeartbeat, changesHeartbeat);
    await q.post(QUEEN_PATHS.workerHeartbeat, workerHeartbeat);
    const all = await events(q);
    expect(all.map((event) => [event.kind, event.type])).toEqual([
      ['hive', 'registered'],
      ['hive', 'capabilities'],
      ['worker', 'registered'],
    ]);
    const page = EventPage.parse(await (await q.request(`${QUEEN_PATHS.events}?limit=2`)).json());
    expect(page.events).toEqual(all.slice(0, 2));
    expect(page.next).toBe(all[1]?.seq);
    const rest = EventPage.parse(await (await q.request(`${QUEEN_PATHS.events}?after=${page.next}`)).json());
    expect(rest).toEqual({ events: all.slice(2), next: null });
    const workers = EventPage.parse(
      await (await q.request(`${QUEEN_PATHS.events}?kind=worker&id=${workerHeartbeat.worker_id}`)).json(),
    );
    expect(workers.events).toEqual(all.slice(2));
    const bad = await q.request(`${QUEEN_PATHS.events}?limit=1001&kind=queen&order=up&before=-1&after=0x10`);
    expect(bad.status).toBe(400);
    expect(
      ErrorBody.parse(await bad.json())
        .issues?.map((issue) => issue.path)
        .sort(),
    ).toEqual(['after', 'before', 'kind', 'limit', 'order']);
  });

  it('reads a hive’s history with its workers’, newest first back from a cursor', async () => {
    const q = startQueenApp();
    await q.post(QUEEN_PATHS.hiveHeartbeat, discoveryHeartbeat);
    await q.post(QUEEN_PATHS.hiveHeartbeat, { ...discoveryHeartbeat, hive_id: 'gpu-node-2' });
    await q.post(QUEEN_PATHS.workerHeartbeat, workerHeartbeat);
    const all = await events(q);
    expect(all.at(-1)).toMatchObject({ kind: 'worker', id: workerHeartbeat.worker_id, hive_id: HIVE_ID });
    const hive = EventPage.parse(await (await q.request(`${QUEEN_PATHS.events}?hive=${HIVE_ID}`)).json());
    expect(hive.events.map((event) => `${event.kind} ${event.id}`)).toEqual([
      `hive ${HIVE_ID}`,
      `worker ${workerHeartbeat.worker_id}`,
    ]);
    const top = EventPage.parse(await (await q.request(`${QUEEN_PATHS.events}?order=newest&limit=2`)).json());
    expect(top).toEqual({ events: all.slice(1).reverse(), next: all[1]?.seq });
    const older = EventPage.parse(
      await (await q.request(`${QUEEN_PATHS.events}?order=newest&limit=2&before=${top.next}`)).json(),
    );
    expect(older).toEqual({ events: all.slice(0, 1), next: null });
  });

  it('counts heartbeats by kind and result', async () => {
    const q = startQueenApp();
    await q.post(QUEEN_PATHS.hiveHeartbeat, discoveryHeartbeat);
    await q.post(QUEEN_PATHS.hiveHeartbeat, '{', {});
    await q.post(QUEEN_PATHS.workerHeartbeat, workerHeartbeat, { token: null });
    await q.post(QUEEN_PATHS.workerHeartbeat, heartbeatOfSize(300));
    await q.post(QUEEN_PATHS.workerHeartbeat, workerHeartbeat, { contentType: 'text/plain' });
    const metrics = await (await q.request(QUEEN_PATHS.metrics)).text();
    expect(metrics).toContain('apiary_heartbeats_received_total{kind="hive",result="accepted"} 1');
    expect(metrics).toContain('apiary_heartbeats_received_total{kind="hive",result="invalid"} 1');
    expect(metrics).toContain('apiary_heartbeats_received_total{kind="worker",result="unauthorized"} 1');
    expect(metrics).toContain('apiary_heartbeats_received_total{kind="worker",result="too_large"} 1');
    expect(metrics).toContain('apiary_heartbeats_received_total{kind="worker",result="unsupported_media_type"} 1');
  });
});

describe('GET /v1/hives and /v1/workers', () => {
  it('lists hives with liveness, age on the queen clock, clock offset and capabilities', async () => {
    const q = startQueenApp();
    await q.post(QUEEN_PATHS.hiveHeartbeat, discoveryHeartbeat);
    await q.timers.advanceTo(2_000);
    const list = HiveList.parse(await (await q.request(QUEEN_PATHS.hives)).json());
    expect(list.hives).toHaveLength(1);
    expect(list.hives[0]).toMatchObject({
      hive_id: discoveryHeartbeat.hive_id,
      liveness: 'online',
      expected: false,
      last_seen: '2025-10-30T14:52:00.000Z',
      last_seen_age_ms: 2_000,
      clock_offset_ms: 0,
      boot_id: discoveryHeartbeat.boot_id,
      capabilities: discoveryHeartbeat.capabilities,
    });
    const one = HiveView.parse(await (await q.request(withId(QUEEN_PATHS.hive, discoveryHeartbeat.hive_id))).json());
    expect(one).toEqual(list.hives[0]);
  });

  it('answers 404 for an unknown hive or worker', async () => {
    const q = startQueenApp();
    for (const path of [withId(QUEEN_PATHS.hive, 'nope'), withId(QUEEN_PATHS.worker, 'nope')]) {
      const response = await q.request(path);
      expect(response.status).toBe(404);
      expect(ErrorBody.parse(await response.json()).error).toContain('nope');
    }
  });

  it('filters workers by hive and by model', async () => {
    const q = startQueenApp();
    for (const hiveId of ['h1', 'h2']) await q.post(QUEEN_PATHS.hiveHeartbeat, hiveBeat(hiveId));
    await q.post(QUEEN_PATHS.workerHeartbeat, workerBeat('w1', 'h1', { model: 'llama' }));
    await q.post(QUEEN_PATHS.workerHeartbeat, workerBeat('w2', 'h1', { model: 'qwen', status: 'busy' }));
    await q.post(QUEEN_PATHS.workerHeartbeat, workerBeat('w3', 'h2', { model: 'llama' }));
    const ids = async (query: string) =>
      WorkerList.parse(await (await q.request(`${QUEEN_PATHS.workers}${query}`)).json()).workers.map(
        (w) => w.worker_id,
      );
    expect(await ids('')).toEqual(['w1', 'w2', 'w3']);
    expect(await ids('?hive_id=h1')).toEqual(['w1', 'w2']);
    expect(await ids('?model=llama')).toEqual(['w1', 'w3']);
    expect(await ids('?hive_id=h1&model=llama')).toEqual(['w1']);
    expect(await ids('?hive_id=h9')).toEqual([]);
    const w2 = WorkerView.parse(await (await q.request(withId(QUEEN_PATHS.worker, 'w2'))).json());
    expect(w2).toMatchObject({ worker_id: 'w2', liveness: 'online', available: false, status: 'busy' });
  });

  it('answers 400 to an invalid filter', async () => {
    const q = startQueenApp();
    const response = await q.request(`${QUEEN_PATHS.workers}?hive_id=`);
    expect(response.status).toBe(400);
    expect(ErrorBody.parse(await response.json()).issues?.map((i) => i.path)).toEqual(['hive_id']);
  });

  it('needs the token, in the header only', async () => {
    const q = startQueenApp();
    expect((await q.request(QUEEN_PATHS.hives, { token: null })).status).toBe(401);
    expect((await q.request(`${QUEEN_PATHS.workers}?token=${TOKEN}`, { token: null })).status).toBe(401);
    expect((await q.request(QUEEN_PATHS.metrics, { token: null })).status).toBe(401);
  });
});

describe('GET /health', () => {
  it('needs no token and is degraded while an expected hive is not online', async () => {
    const q = startQueenApp();
    q.registry.expect([{ hiveId: 'gpu-node-1', hiveUrl: 'http://192.168.1.21:7835' }]);
    const health = async () => QueenHealth.parse(await (await q.request(QUEEN_PATHS.health, { token: null })).json());
    expect(await health()).toEqual({
      status: 'degraded',
      queen_epoch: QUEEN_EPOCH,
      hives: { expected: 1, online: 0, suspect: 0, offline: 1 },
      workers: { online: 0, available: 0, offline: 0 },
    });
    await q.post(QUEEN_PATHS.hiveHeartbeat, discoveryHeartbeat);
    await q.post(QUEEN_PATHS.workerHeartbeat, workerHeartbeat);
    expect(await health()).toMatchObject({
      status: 'ok',
      hives: { expected: 1, online: 1, suspect: 0, offline: 0 },
      workers: { online: 1, available: 1, offline: 0 },
    });
    await q.timers.advanceTo(45_000);
    expect(await health()).toMatchObject({ status: 'degraded', hives: { expected: 1, online: 0, suspect: 1 } });
  });
});

describe('GET /v1/heartbeats/stream', () => {
  it('serves at most its limit of streams at once: one more is 503 with retry-after, counted; a place frees on leaving', async () => {
    const q = startQueenApp();
    const open = await Promise.all(Array.from({ length: LIMITS.streamClients }, () => q.request(QUEEN_PATHS.stream)));
    expect(open.every((response) => response.status === 200)).toBe(true);
    const refused = await q.request(QUEEN_PATHS.stream);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('60');
    expect(ErrorBody.parse(await refused.json()).error).toContain(`maximum of ${LIMITS.streamClients} streams`);
    expect(await q.metrics.render()).toContain('apiary_overflow_dropped_total{queue="stream_clients"} 1');
    await open[0]?.body?.cancel();
    const again = await q.request(QUEEN_PATHS.stream);
    expect(again.status).toBe(200);
    await Promise.all([...open.slice(1), again].map((response) => response.body?.cancel()));
  });
});

describe('GET /metrics', () => {
  it('serves Prometheus text with registry sizes, transitions, inter-arrival and event-loop lag', async () => {
    const q = startQueenApp();
    await q.post(QUEEN_PATHS.hiveHeartbeat, discoveryHeartbeat);
    await q.timers.advanceTo(30_000);
    await q.post(QUEEN_PATHS.hiveHeartbeat, periodicHeartbeat);
    const response = await q.request(QUEEN_PATHS.metrics);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toContain('apiary_registry_entries{kind="hive",liveness="online"} 1');
    expect(text).toContain('apiary_liveness_transitions_total{kind="hive",to="online",reason="heartbeat"} 1');
    expect(text).toContain('apiary_heartbeat_interarrival_seconds_bucket{le="30",kind="hive"} 1');
    expect(text).toContain('apiary_stream_subscribers 0');
    expect(text).toContain('apiary_stream_dropped_messages_total 0');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
  });
});

describe('GET / (the dashboard)', () => {
  it('takes the token from the header or the query, and refuses without it', async () => {
    const q = startQueenApp();
    expect((await q.request('/', { token: null })).status).toBe(401);
    expect(await (await q.request(`/?token=${TOKEN}`, { token: null })).text()).toBe('dashboard page');
    expect(await (await q.request('/')).text()).toBe('dashboard page');
    expect(await (await q.request(`/dashboard/app.js?token=${TOKEN}`, { token: null })).text()).toBe('module app.js');
    expect((await q.request('/?token=wrong', { token: null })).status).toBe(401);
  });

  it('is open to all when the queen has no token', async () => {
    const q = startQueenApp({ token: undefined });
    expect((await q.request('/')).status).toBe(200);
    expect((await q.post(QUEEN_PATHS.hiveHeartbeat, discoveryHeartbeat)).status).toBe(200);
    expect((await q.post(QUEEN_PATHS.workerHeartbeat, workerHeartbeat)).status).toBe(200);
  });
});

describe('a worker of a hive the queen does not know', () => {
  it('is refused with 409 naming the hive, and changes nothing; once its hive registers, it is taken', async () => {
    const q = startQueenApp();
    const before = q.state();
    const refused = await q.post(QUEEN_PATHS.workerHeartbeat, workerBeat('w1', 'h-new'));
    expect(refused.status).toBe(409);
    expect(ErrorBody.parse(await refused.json()).error).toContain('claims hive h-new, which this queen does not know');
    expect(q.state()).toBe(before);
    expect(await q.metrics.render()).toMatch(/apiary_heartbeats_received_total\{[^}]*result="unknown_hive"[^}]*\} 1/);
    await q.post(QUEEN_PATHS.hiveHeartbeat, hiveBeat('h-new'));
    expect((await q.post(QUEEN_PATHS.workerHeartbeat, workerBeat('w1', 'h-new'))).status).toBe(200);
  });

  it('is told apart from a late worker heartbeat, also 409, in the count of results', async () => {
    const q = startQueenApp();
    await q.post(QUEEN_PATHS.hiveHeartbeat, hiveBeat('h1'));
    expect((await q.post(QUEEN_PATHS.workerHeartbeat, workerBeat('w1', 'h1', { boot_id: 'b', seq: 2 }))).status).toBe(
      200,
    );
    const late = await q.post(QUEEN_PATHS.workerHeartbeat, workerBeat('w1', 'h1', { boot_id: 'b', seq: 1 }));
    expect(late.status).toBe(409);
    expect(ErrorBody.parse(await late.json()).error).toContain('older than the last one taken');
    const metrics = await q.metrics.render();
    expect(metrics).toMatch(/apiary_heartbeats_received_total\{[^}]*kind="worker"[^}]*result="stale"[^}]*\} 1/);
    expect(metrics).not.toMatch(/result="unknown_hive"/);
  });

  it('is refused under an expected hive of the hives config that was never heard from', async () => {
    const q = startQueenApp();
    q.registry.expect([{ hiveId: 'gpu-z', hiveUrl: 'http://10.0.0.9:7835' }]);
    expect((await q.post(QUEEN_PATHS.workerHeartbeat, workerBeat('w1', 'gpu-z'))).status).toBe(409);
  });
});

describe('unknown routes', () => {
  it('answers 404 in the error shape', async () => {
    const q = startQueenApp();
    const response = await q.request('/v1/nothing');
    expect(response.status).toBe(404);
    expect(ErrorBody.parse(await response.json()).error).toContain('/v1/nothing');
  });
});

async function events(q: QueenAppHarness): Promise<HistoryEvent[]> {
  const page = EventPage.parse(await (await q.request(`${QUEEN_PATHS.events}?limit=1000`)).json());
  return page.events;
}
