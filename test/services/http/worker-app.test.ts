import http from 'node:http';
import net from 'node:net';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { LIMITS } from '../../../contracts/common.js';
import { ErrorBody, type WorkerStatus } from '../../../contracts/heartbeat.js';
import { WorkerHealth } from '../../../contracts/hive-api.js';
import { ChatCompletion, ModelList } from '../../../contracts/inference.js';
import { WORKER_PATHS } from '../../../contracts/paths.js';
import type { InferenceBackend, InferenceCall } from '../../../services/backend/backend.js';
import { createDemoBackend } from '../../../services/backend/demo.js';
import { createUpstreamBackend } from '../../../services/backend/upstream.js';
import { listen } from '../../../services/http/listen.js';
import { createWorkerApp, type WorkerApp, type WorkerAppDeps } from '../../../services/http/worker-app.js';
import { deferred } from '../../support/deferred.js';
import { sseEvent, startFakeUpstream } from '../backend/fake-upstream.js';

const STARTED_AT = Date.UTC(2025, 0, 1);
const chatBody = { model: 'demo', messages: [{ role: 'user', content: 'hello there' }] };

function harness(overrides: Partial<WorkerAppDeps> = {}) {
  const events: string[] = [];
  let status: WorkerStatus = 'ready';
  let clock = STARTED_AT;
  const worker = createWorkerApp({
    backend: createDemoBackend({ model: 'demo', latencyMs: 0 }),
    identity: { workerId: 'w-1', model: 'demo', device: 'CPU-0', upstream: null },
    status: () => status,
    startedAt: STARTED_AT,
    now: () => clock,
    onRequestStart: () => events.push('start'),
    onRequestEnd: () => events.push('end'),
    ...overrides,
  });
  return {
    ...worker,
    events,
    setStatus: (next: WorkerStatus) => {
      status = next;
    },
    advance: (ms: number) => {
      clock += ms;
    },
    health: async () => WorkerHealth.parse(await (await worker.app.request(WORKER_PATHS.health)).json()),
    post: (path: string, body: unknown, init: RequestInit = {}) =>
      worker.app.request(
        new Request(`http://worker.test${path}`, {
          method: 'POST',
          body: typeof body === 'string' ? body : JSON.stringify(body),
          ...init,
          headers: { 'content-type': 'application/json', ...init.headers },
        }),
      ),
  };
}

/** A backend whose streamed answer the test writes chunk by chunk. */
function scriptedBackend() {
  const requests: InferenceCall[] = [];
  let stream: ReadableStreamDefaultController<Uint8Array> | undefined;
  let cancelled = false;
  const backend: InferenceBackend = {
    kind: 'demo',
    health: async () => 'ready',
    answer: async (call) => {
      requests.push(call);
      const body = new ReadableStream<Uint8Array>({
        start: (controller) => {
          stream = controller;
        },
        cancel: () => {
          cancelled = true;
        },
      });
      return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
    },
  };
  const controller = () => {
    if (!stream) throw new Error('no request reached the backend');
    return stream;
  };
  return {
    backend,
    requests,
    cancelled: () => cancelled,
    send: (text: string) => controller().enqueue(new TextEncoder().encode(text)),
    finish: () => controller().close(),
  };
}

describe('worker app: health and models', () => {
  it('shows the worker health contract with status, counters and uptime', async () => {
    const worker = harness();
    expect(await worker.health()).toEqual({
      status: 'ready',
      worker_id: 'w-1',
      model: 'demo',
      device: 'CPU-0',
      requests_served: 0,
      in_flight: 0,
      uptime_seconds: 0,
      upstream: null,
    });
    worker.advance(61_500);
    worker.setStatus('starting');
    expect(await worker.health()).toMatchObject({ status: 'starting', uptime_seconds: 61 });
  });

  it('lists the one model it serves', async () => {
    const worker = harness();
    const list = ModelList.parse(await (await worker.app.request(WORKER_PATHS.models)).json());
    expect(list.data.map((model) => model.id)).toEqual(['demo']);
  });

  it('answers an unknown route with a JSON 404', async () => {
    const response = await harness().app.request('/v1/embeddings', { method: 'POST' });
    expect(response.status).toBe(404);
    expect(ErrorBody.parse(await response.json()).error).toMatch(/embeddings/);
  });
});

describe('worker app: refusals change nothing', () => {
  const refused = async (response: Response, status: number, worker: ReturnType<typeof harness>) => {
    expect(response.status).toBe(status);
    const body = ErrorBody.parse(await response.json());
    expect(worker.events).toEqual([]);
    expect(await worker.health()).toMatchObject({ requests_served: 0, in_flight: 0 });
    return body;
  };

  it('400 for a body that is not JSON, not an object, or lacks messages / prompt, with the issue paths', async () => {
    const scripted = scriptedBackend();
    const worker = harness({ backend: scripted.backend });
    await refused(await worker.post(WORKER_PATHS.chatCompletions, '{"messages": ['), 400, worker);
    expect((await refused(await worker.post(WORKER_PATHS.chatCompletions, [1]), 400, worker)).issues).toEqual([
      { path: '', message: expect.any(String) },
    ]);
    const noMessages = await refused(await worker.post(WORKER_PATHS.chatCompletions, { prompt: 'x' }), 400, worker);
    expect(noMessages.issues?.map((issue) => issue.path)).toEqual(['messages']);
    const noRole = await refused(await worker.post(WORKER_PATHS.chatCompletions, { messages: [{}] }), 400, worker);
    expect(noRole.issues?.map((issue) => issue.path)).toEqual(['messages.0.role']);
    const noPrompt = await refused(await worker.post(WORKER_PATHS.completions, chatBody), 400, worker);
    expect(noPrompt.issues?.map((issue) => issue.path)).toEqual(['prompt']);
    expect(scripted.requests).toHaveLength(0);
  });

  it(`413 for a body over ${LIMITS.bodyBytes} bytes, with or without a content-length`, async () => {
    const scripted = scriptedBackend();
    const worker = harness({ backend: scripted.backend });
    const body = JSON.stringify({ prompt: 'x'.repeat(LIMITS.bodyBytes) });
    await refused(await worker.post(WORKER_PATHS.completions, body), 413, worker);
    const declared = { headers: { 'content-length': String(body.length) } };
    await refused(await worker.post(WORKER_PATHS.completions, body, declared), 413, worker);
    expect(scripted.requests).toHaveLength(0);
  });

  it(`serves a body of exactly ${LIMITS.bodyBytes} bytes`, async () => {
    const worker = harness();
    const body = JSON.stringify({ prompt: '' });
    const exact = JSON.stringify({ prompt: 'x'.repeat(LIMITS.bodyBytes - body.length) });
    expect(exact.length).toBe(LIMITS.bodyBytes);
    expect((await worker.post(WORKER_PATHS.completions, exact)).status).toBe(200);
  });

  it('415 for a body declared as something other than JSON; a body with no content-type is served', async () => {
    const worker = harness();
    const init = { headers: { 'content-type': 'text/plain' } };
    await refused(await worker.post(WORKER_PATHS.chatCompletions, chatBody, init), 415, worker);
    const bytes = new TextEncoder().encode(JSON.stringify(chatBody));
    const untyped = await worker.app.request(WORKER_PATHS.chatCompletions, { method: 'POST', body: bytes });
    expect(ChatCompletion.parse(await untyped.json()).object).toBe('chat.completion');
  });

  it.each([
    ['starting', /starting/],
    ['error', /unhealthy/],
    ['stopped', /stopping/],
  ] as const)('503 while the worker is %s', async (status, message) => {
    const scripted = scriptedBackend();
    const worker = harness({ backend: scripted.backend });
    worker.setStatus(status);
    const response = await worker.post(WORKER_PATHS.chatCompletions, chatBody);
    expect(response.headers.get('retry-after')).toBe(status === 'starting' ? '1' : null);
    expect((await refused(response, 503, worker)).error).toMatch(message);
    expect(scripted.requests).toHaveLength(0);
  });

  it('401 without the token, with a wrong one or a malformed header; /health stays open', async () => {
    const scripted = scriptedBackend();
    const worker = harness({ backend: scripted.backend, token: 's3cret' });
    for (const authorization of [undefined, 'Bearer wrong', 'Basic czNjcmV0', 'Bearer s3cret!']) {
      const init = authorization ? { headers: { authorization } } : {};
      const body = await refused(await worker.post(WORKER_PATHS.chatCompletions, chatBody, init), 401, worker);
      expect(body.error).toMatch(/token/);
    }
    expect((await worker.app.request(WORKER_PATHS.models)).status).toBe(401);
    expect((await worker.app.request(WORKER_PATHS.health)).status).toBe(200);
    expect(scripted.requests).toHaveLength(0);
    const authorized = { headers: { authorization: 'Bearer s3cret' } };
    expect((await worker.post(WORKER_PATHS.chatCompletions, chatBody, authorized)).status).toBe(200);
  });
});

describe('worker app: in-flight requests', () => {
  it('ends a non-streamed request when its body has been read, and counts it served', async () => {
    const worker = harness();
    const response = await worker.post(WORKER_PATHS.chatCompletions, chatBody);
    expect(worker.events).toEqual(['start']);
    expect(worker.inFlight()).toBe(1);

    const answer = ChatCompletion.parse(await response.json());
    expect(answer.choices[0]?.message.content).toMatch(/hello there$/);
    expect(worker.events).toEqual(['start', 'end']);
    expect(worker.requestsServed()).toBe(1);
    expect(await worker.health()).toMatchObject({ requests_served: 1, in_flight: 0 });
  });

  it('serves while busy', async () => {
    const worker = harness();
    worker.setStatus('busy');
    const response = await worker.post(WORKER_PATHS.completions, { prompt: 'p' });
    expect(response.status).toBe(200);
    await response.text();
    expect(worker.requestsServed()).toBe(1);
  });

  it('ends a streamed request only after its last byte, not when its headers go out', async () => {
    const scripted = scriptedBackend();
    const worker = harness({ backend: scripted.backend });
    const response = await worker.post(WORKER_PATHS.chatCompletions, { ...chatBody, stream: true });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const reader = response.body?.getReader();
    if (!reader) throw new Error('no body');
    expect(worker.events).toEqual(['start']);
    expect(await worker.health()).toMatchObject({ in_flight: 1 });

    scripted.send(sseEvent({ n: 1 }));
    expect(new TextDecoder().decode((await reader.read()).value)).toBe(sseEvent({ n: 1 }));
    expect(worker.events).toEqual(['start']);

    scripted.send(sseEvent('[DONE]'));
    scripted.finish();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe(sseEvent('[DONE]'));
    expect((await reader.read()).done).toBe(true);
    expect(worker.events).toEqual(['start', 'end']);
    expect(await worker.health()).toMatchObject({ in_flight: 0, requests_served: 1 });
  });

  it('counts a request before telling of its start, and no longer when telling of its end', async () => {
    const seen: string[] = [];
    const worker: WorkerApp = createWorkerApp({
      backend: createDemoBackend({ model: 'demo', latencyMs: 0 }),
      identity: { workerId: 'w-1', model: 'demo', device: 'CPU-0', upstream: null },
      status: () => 'ready',
      startedAt: STARTED_AT,
      onRequestStart: () => seen.push(`start ${worker.inFlight()}`),
      onRequestEnd: () => seen.push(`end ${worker.inFlight()}`),
    });
    const request = () =>
      worker.app.request(WORKER_PATHS.completions, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: 'p' }),
      });
    const [first, second] = await Promise.all([request(), request()]);
    await first?.text();
    await second?.text();
    expect(seen).toEqual(['start 1', 'start 2', 'end 1', 'end 0']);
  });

  it('counts concurrent requests in flight', async () => {
    const worker = harness({ backend: scriptedBackend().backend });
    const first = await worker.post(WORKER_PATHS.chatCompletions, chatBody);
    await worker.post(WORKER_PATHS.completions, { prompt: 'p' });
    expect(await worker.health()).toMatchObject({ in_flight: 2 });
    await first.body?.cancel();
    expect(await worker.health()).toMatchObject({ in_flight: 1 });
    expect(worker.events).toEqual(['start', 'start', 'end']);
  });

  it('ends a streamed request whose client goes away, cancels the backend stream, and does not count it', async () => {
    const scripted = scriptedBackend();
    const worker = harness({ backend: scripted.backend });
    const response = await worker.post(WORKER_PATHS.chatCompletions, { ...chatBody, stream: true });
    scripted.send(sseEvent({ n: 1 }));
    const reader = response.body?.getReader();
    await reader?.read();
    await reader?.cancel();

    expect(worker.events).toEqual(['start', 'end']);
    expect(scripted.cancelled()).toBe(true);
    expect(await worker.health()).toMatchObject({ in_flight: 0, requests_served: 0 });
  });

  it('ends a request whose client aborts before the backend answers', async () => {
    let backendSawAbort = false;
    const backend: InferenceBackend = {
      kind: 'demo',
      health: async () => 'ready',
      answer: (call) =>
        new Promise((_resolve, reject) => {
          call.signal.addEventListener('abort', () => {
            backendSawAbort = true;
            reject(call.signal.reason);
          });
        }),
    };
    const worker = harness({ backend });
    const client = new AbortController();
    const pending = worker.post(WORKER_PATHS.chatCompletions, chatBody, { signal: client.signal });
    while (worker.events.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    client.abort();

    await pending;
    expect(backendSawAbort).toBe(true);
    expect(worker.events).toEqual(['start', 'end']);
    expect(await worker.health()).toMatchObject({ in_flight: 0, requests_served: 0 });
  });

  it('answers 502 when the backend fails, and ends the request', async () => {
    const backend: InferenceBackend = {
      kind: 'demo',
      health: async () => 'ready',
      answer: async () => {
        throw new Error('boom');
      },
    };
    const worker = harness({ backend });
    const response = await worker.post(WORKER_PATHS.chatCompletions, chatBody);
    expect(response.status).toBe(502);
    expect(ErrorBody.parse(await response.json()).error).toMatch(/boom/);
    expect(worker.events).toEqual(['start', 'end']);
    expect(worker.requestsServed()).toBe(0);
  });

  it('passes a backend error status through without counting it served', async () => {
    const backend: InferenceBackend = {
      kind: 'demo',
      health: async () => 'ready',
      answer: async () => Response.json({ error: { message: 'context too long' } }, { status: 400 }),
    };
    const worker = harness({ backend });
    const response = await worker.post(WORKER_PATHS.chatCompletions, chatBody);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: { message: 'context too long' } });
    expect(worker.events).toEqual(['start', 'end']);
    expect(worker.requestsServed()).toBe(0);
  });
});

/** The worker app on a real server on a free loopback port, as the worker serves it, closed when the test finishes. */
async function served(worker: WorkerApp): Promise<string> {
  const server = await listen(
    { fetch: (request, env) => worker.app.fetch(request, env), direct: worker.direct },
    '127.0.0.1',
    0,
  );
  onTestFinished(() => server.close());
  return `http://127.0.0.1:${server.port}`;
}

describe('worker app on a real server, fronting an upstream', () => {
  it('relays a sized answer whole and counts it served; an upstream error status is relayed, not counted', async () => {
    const statuses = [200, 400];
    const upstream = await startFakeUpstream((_request, res) => {
      const status = statuses.shift() ?? 500;
      const text = JSON.stringify(status === 200 ? { object: 'chat.completion', choices: [] } : { error: {} });
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
    const worker = harness({
      backend: createUpstreamBackend({ url: upstream.url }),
      identity: { workerId: 'w-1', model: 'm', device: 'GPU-0', upstream: upstream.url },
    });
    const base = await served(worker);
    const post = () =>
      fetch(`${base}${WORKER_PATHS.chatCompletions}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer cluster' },
        body: JSON.stringify(chatBody),
      });

    const ok = await post();
    expect(ok.headers.get('transfer-encoding')).toBeNull();
    expect(await ok.json()).toEqual({ object: 'chat.completion', choices: [] });
    const refused = await post();
    expect(refused.status).toBe(400);
    await refused.body?.cancel();
    expect(worker.events).toEqual(['start', 'end', 'start', 'end']);
    expect(worker.requestsServed()).toBe(1);
    expect(upstream.requests.map((r) => r.headers.authorization)).toEqual([undefined, undefined]);
  });

  it('streams chunks to the client as the upstream sends them, and a client abort reaches the upstream', async () => {
    let upstreamWrote = 0;
    const secondReleased = deferred();
    const upstreamClosed = deferred();
    const upstream = await startFakeUpstream((_request, res) => {
      res.on('close', () => upstreamClosed.resolve());
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sseEvent({ choices: [{ delta: { content: 'one' } }] }));
      upstreamWrote = 1;
      void secondReleased.promise.then(() => {
        res.write(sseEvent({ choices: [{ delta: { content: 'two' } }] }));
        upstreamWrote = 2;
      });
    });
    const requestEnded = deferred();
    const worker = harness({
      backend: createUpstreamBackend({ url: upstream.url }),
      identity: { workerId: 'w-1', model: 'm', device: 'GPU-0', upstream: upstream.url },
      onRequestEnd: () => requestEnded.resolve(),
    });
    const base = await served(worker);

    const client = new AbortController();
    const response = await fetch(`${base}${WORKER_PATHS.chatCompletions}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...chatBody, stream: true }),
      signal: client.signal,
    });
    const reader = response.body?.getReader();
    if (!reader) throw new Error('no body');
    const decoder = new TextDecoder();
    expect(decoder.decode((await reader.read()).value)).toContain('"one"');
    expect(upstreamWrote).toBe(1);
    secondReleased.resolve();
    expect(decoder.decode((await reader.read()).value)).toContain('"two"');
    expect(upstreamWrote).toBe(2);
    expect(worker.inFlight()).toBe(1);

    client.abort();
    await upstreamClosed.promise;
    await requestEnded.promise;
    expect(worker.inFlight()).toBe(0);
    expect(worker.requestsServed()).toBe(0);
  });
});

describe('worker app fronting an upstream: refusals change nothing', () => {
  /** A worker in front of an upstream that answers 200 to anything, on a real server, with the token `s3cret`. */
  async function fronting() {
    const upstream = await startFakeUpstream((_request, res) => {
      const text = JSON.stringify({ object: 'chat.completion', choices: [] });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
    const worker = harness({
      backend: createUpstreamBackend({ url: upstream.url }),
      identity: { workerId: 'w-1', model: 'm', device: 'GPU-0', upstream: upstream.url },
      token: 's3cret',
    });
    const base = await served(worker);
    const post = (path: string, body: string, headers: Record<string, string> = {}) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer s3cret', ...headers },
        body,
      });
    const refused = async (response: Response, status: number) => {
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toBe('application/json');
      const body = ErrorBody.parse(await response.json());
      expect(worker.events).toEqual([]);
      expect(worker.requestsServed()).toBe(0);
      expect(worker.inFlight()).toBe(0);
      expect(upstream.requests).toEqual([]);
      return body;
    };
    return { worker, upstream, base, post, refused };
  }

  it('401 without the token or with a wrong one, with www-authenticate; /health and the app stay as they were', async () => {
    const { base, post, refused } = await fronting();
    for (const authorization of ['', 'Bearer wrong', 'Basic czNjcmV0']) {
      const response = await post(WORKER_PATHS.chatCompletions, JSON.stringify(chatBody), { authorization });
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect((await refused(response, 401)).error).toMatch(/token/);
    }
    expect((await fetch(`${base}${WORKER_PATHS.health}`)).status).toBe(200);
    expect((await fetch(`${base}${WORKER_PATHS.models}`)).status).toBe(401);
  });

  it('400 with the issue paths for a body that is not JSON or not a request of its route', async () => {
    const { post, refused } = await fronting();
    const notJson = await refused(await post(WORKER_PATHS.chatCompletions, '{"messages": ['), 400);
    expect(notJson.error).toMatch(/not valid JSON/);
    const noRole = await refused(await post(WORKER_PATHS.chatCompletions, '{"messages":[{}]}'), 400);
    expect(noRole.issues?.map((issue) => issue.path)).toEqual(['messages.0.role']);
    const noPrompt = await refused(await post(WORKER_PATHS.completions, JSON.stringify(chatBody)), 400);
    expect(noPrompt.issues?.map((issue) => issue.path)).toEqual(['prompt']);
  });

  it('415 for a body declared as something other than JSON', async () => {
    const { post, refused } = await fronting();
    await refused(
      await post(WORKER_PATHS.chatCompletions, JSON.stringify(chatBody), { 'content-type': 'text/plain' }),
      415,
    );
  });

  it(`413 for a body over ${LIMITS.bodyBytes} bytes, declared or streamed; the worker serves on afterwards`, async () => {
    const { worker, upstream, base, post, refused } = await fronting();
    const body = JSON.stringify({ prompt: 'x'.repeat(LIMITS.bodyBytes) });
    await refused(await post(WORKER_PATHS.completions, body), 413);
    // Chunked, with no content-length: counted as it arrives, and the connection closed with the answer.
    const streamed = await new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
      const request = http.request(`${base}${WORKER_PATHS.completions}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer s3cret' },
      });
      request.on('response', (response) => {
        response.resume();
        resolve({ status: response.statusCode ?? 0, connection: response.headers.connection });
      });
      request.on('error', reject);
      for (let sent = 0; sent <= LIMITS.bodyBytes; sent += 64 * 1024) request.write('x'.repeat(64 * 1024));
      request.end();
    });
    expect(streamed).toEqual({ status: 413, connection: 'close' });
    expect(worker.events).toEqual([]);
    expect(upstream.requests).toEqual([]);
    expect((await post(WORKER_PATHS.chatCompletions, JSON.stringify(chatBody))).status).toBe(200);
    expect(worker.requestsServed()).toBe(1);
  });

  it('relays a target the Hono route took in another form: absolute, percent-encoded, with a fragment', async () => {
    const { worker, upstream, base } = await fronting();
    const body = JSON.stringify(chatBody);
    const statusOf = (target: string) =>
      rawStatus(base, `POST ${target} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer s3cret\r\n`, body);
    for (const target of ['http://x/v1/chat/completions', '/v1/chat/complet%69ons', '/v1/chat/completions#x']) {
      expect(await statusOf(target)).toBe('200');
    }
    expect(upstream.requests.map((request) => request.path)).toEqual(Array(3).fill(WORKER_PATHS.chatCompletions));
    await vi.waitFor(() => expect(worker.requestsServed()).toBe(3));
    expect(worker.inFlight()).toBe(0);
  });

  it('reads a repeated Authorization or Content-Type as the Hono route did: every value, so 401 and 415', async () => {
    const { worker, upstream, base } = await fronting();
    const body = JSON.stringify(chatBody);
    const statusOf = (headers: string) =>
      rawStatus(base, `POST ${WORKER_PATHS.chatCompletions} HTTP/1.1\r\nhost: x\r\n${headers}`, body);
    const token = 'authorization: Bearer s3cret\r\n';
    expect(await statusOf(`${token}authorization: Bearer wrong\r\ncontent-type: application/json\r\n`)).toBe('401');
    expect(await statusOf(`${token}content-type: application/json\r\ncontent-type: text/plain\r\n`)).toBe('415');
    expect(upstream.requests).toEqual([]);
    expect(worker.requestsServed()).toBe(0);
    expect(worker.inFlight()).toBe(0);
  });

  it('reads a body that starts with a byte-order mark as the Hono route did: served, relayed without it', async () => {
    const { worker, upstream, post } = await fronting();
    const text = JSON.stringify(chatBody);
    expect((await post(WORKER_PATHS.chatCompletions, `\ufeff${text}`)).status).toBe(200);
    expect(upstream.requests.map((request) => request.body)).toEqual([text]);
    expect(worker.requestsServed()).toBe(1);
  });

  it('drains a refused body still coming for a moment, then cuts its connection, as the Hono listener does', async () => {
    const { base, post } = await fronting();
    const { port } = new URL(base);
    // Refused for its token, its declared size, its type: the body declared is never sent in full.
    for (const head of [
      'content-length: 10000000\r\n',
      'authorization: Bearer s3cret\r\ncontent-length: 300000000\r\n',
      'authorization: Bearer s3cret\r\ncontent-type: text/plain\r\ncontent-length: 10000000\r\n',
    ]) {
      const socket = net.connect(Number(port), '127.0.0.1');
      onTestFinished(() => void socket.destroy());
      socket.on('error', () => {});
      const startedAt = Date.now();
      socket.write(`POST ${WORKER_PATHS.chatCompletions} HTTP/1.1\r\nhost: x\r\n${head}\r\n{"model":`);
      let answer = '';
      socket.on('data', (chunk: Buffer) => {
        answer += chunk.toString('latin1');
      });
      await new Promise((resolve) => socket.once('close', resolve));
      expect(answer).toMatch(/^HTTP\/1\.1 4(01|13|15) /);
      expect(Date.now() - startedAt).toBeLessThan(5_000);
    }
    expect((await post(WORKER_PATHS.chatCompletions, JSON.stringify(chatBody))).status).toBe(200);
  });

  it.each([
    ['starting', /starting/],
    ['error', /unhealthy/],
    ['stopped', /stopping/],
  ] as const)('503 while the worker is %s', async (status, message) => {
    const { worker, post, refused } = await fronting();
    worker.setStatus(status);
    const response = await post(WORKER_PATHS.chatCompletions, JSON.stringify(chatBody));
    expect(response.headers.get('retry-after')).toBe(status === 'starting' ? '1' : null);
    expect((await refused(response, 503)).error).toMatch(message);
  });

  it('leaves other methods and paths to the app: 404 in the error shape, nothing relayed', async () => {
    const { base, upstream } = await fronting();
    const authorization = { authorization: 'Bearer s3cret' };
    for (const [method, path] of [
      ['GET', WORKER_PATHS.chatCompletions],
      ['POST', `${WORKER_PATHS.chatCompletions}/`],
      ['POST', '/v1/embeddings'],
    ] as const) {
      const response = await fetch(`${base}${path}`, { method, headers: authorization });
      expect(response.status).toBe(404);
      expect(ErrorBody.parse(await response.json()).error).toBeTruthy();
    }
    expect(upstream.requests).toEqual([]);
  });

  it('relays a request whose path carries a query, and the body byte for byte', async () => {
    const { upstream, base } = await fronting();
    const text = JSON.stringify({ ...chatBody, extra: 'é 🐝' });
    const response = await fetch(`${base}${WORKER_PATHS.chatCompletions}?trace=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer s3cret' },
      body: text,
    });
    expect(response.status).toBe(200);
    await response.body?.cancel();
    expect(upstream.requests.map((r) => [r.path, r.body])).toEqual([[WORKER_PATHS.chatCompletions, text]]);
  });
});

/** The status code of the first answer to one request written by hand (`head`: request line and headers) with `body`. */
function rawStatus(base: string, head: string, body: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(Number(new URL(base).port), '127.0.0.1');
    socket.once('data', (chunk: Buffer) => {
      socket.destroy();
      resolve(chunk.toString('latin1').split(' ', 2)[1] ?? '');
    });
    socket.write(`${head}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  });
}
