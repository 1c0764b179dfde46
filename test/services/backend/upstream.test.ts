import { afterEach, describe, expect, it } from 'vitest';
import { OpenAIError } from '../../../contracts/inference.js';
import { WORKER_PATHS } from '../../../contracts/paths.js';
import { createUpstreamBackend } from '../../../services/backend/upstream.js';
import { type FakeUpstream, refusedUrl, sseEvent, startFakeUpstream, type UpstreamHandler } from './fake-upstream.js';

let upstream: FakeUpstream | undefined;

afterEach(async () => {
  await upstream?.close();
  upstream = undefined;
});

async function start(handler: UpstreamHandler): Promise<FakeUpstream> {
  upstream = await startFakeUpstream(handler);
  return upstream;
}

function deferred<T = void>() {
  let resolve: (value: T) => void = () => {};
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

function chatRequest(body: unknown, init: { signal?: AbortSignal; headers?: Record<string, string> } = {}): Request {
  return new Request('http://worker.test/v1/chat/completions', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...init.headers },
    body: JSON.stringify(body),
    ...(init.signal ? { signal: init.signal } : {}),
  });
}

const chatBody = { model: 'm', messages: [{ role: 'user', content: 'hello' }], stream: true };

describe('upstream backend: proxying', () => {
  it('forwards a non-streaming request with its body and headers, and passes the answer back', async () => {
    const answer = { id: 'chatcmpl-1', object: 'chat.completion', choices: [{ index: 0, message: { content: 'hi' } }] };
    const server = await start((_request, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'llama' });
      res.end(JSON.stringify(answer));
    });
    const backend = createUpstreamBackend({ url: `${server.url}/v1/` });
    const body = { model: 'm', messages: [{ role: 'user', content: 'hello' }], temperature: 0.2 };

    const response = await backend.handle(
      WORKER_PATHS.chatCompletions,
      chatRequest(body, { headers: { authorization: 'Bearer cluster-secret', 'x-request-id': 'r-1' } }),
    );

    expect(response.status).toBe(200);
    expect(response.headers.get('x-upstream')).toBe('llama');
    expect(await response.json()).toEqual(answer);
    expect(server.requests).toHaveLength(1);
    const [received] = server.requests;
    expect(received?.method).toBe('POST');
    expect(received?.path).toBe('/v1/chat/completions');
    expect(JSON.parse(received?.body ?? '')).toEqual(body);
    expect(received?.headers['content-type']).toBe('application/json');
    expect(received?.headers['x-request-id']).toBe('r-1');
    expect(received?.headers.authorization).toBeUndefined();
  });

  it('sends a sized answer whole, with its length, and keeps one connection for requests in a row', async () => {
    const ports: number[] = [];
    const answer = JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', choices: [] });
    const server = await start((_request, res, req) => {
      ports.push(req.socket.remotePort ?? 0);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
      res.end(answer);
    });
    const backend = createUpstreamBackend({ url: server.url });
    for (let i = 0; i < 3; i++) {
      const response = await backend.handle(WORKER_PATHS.chatCompletions, chatRequest(chatBody));
      expect(response.headers.get('content-length')).toBe(String(Buffer.byteLength(answer)));
      expect(await response.text()).toBe(answer);
    }
    expect(new Set(ports).size).toBe(1);
  });

  it('passes an upstream error status through unchanged', async () => {
    const server = await start((_request, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'bad prompt' } }));
    });
    const backend = createUpstreamBackend({ url: server.url });
    const response = await backend.handle(WORKER_PATHS.completions, chatRequest({ prompt: 'x' }));
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: { message: 'bad prompt' } });
    expect(server.requests[0]?.path).toBe('/v1/completions');
  });

  it('passes a body-less status through, and answers 502 for a status a web answer cannot carry', async () => {
    const statuses = [204, 205, 600];
    const server = await start((_request, res) => {
      const status = statuses.shift() ?? 500;
      res.writeHead(status, status === 205 ? { 'content-length': '0' } : {});
      res.end();
    });
    const backend = createUpstreamBackend({ url: server.url });
    const noContent = await backend.handle(WORKER_PATHS.completions, chatRequest({ prompt: 'x' }));
    expect(noContent.status).toBe(204);
    expect(noContent.body).toBeNull();
    const reset = await backend.handle(WORKER_PATHS.completions, chatRequest({ prompt: 'x' }));
    expect(reset.status).toBe(205);
    const invalid = await backend.handle(WORKER_PATHS.completions, chatRequest({ prompt: 'x' }));
    expect(invalid.status).toBe(502);
    expect(OpenAIError.parse(await invalid.json()).error.message).toContain('status 600');
    // The backend still serves after all three.
    const after = await backend.handle(WORKER_PATHS.completions, chatRequest({ prompt: 'x' }));
    expect(after.status).toBe(500);
  });

  it('streams SSE chunks through as the upstream sends them', async () => {
    const clientGotFirst = deferred();
    let releasedByClient = false;
    let upstreamEnded = false;
    const server = await start((_request, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sseEvent({ choices: [{ delta: { content: 'one' } }] }));
      // Holds the rest until the client has the first chunk; the fallback turns a buffering proxy into a failure.
      const fallback = setTimeout(() => clientGotFirst.resolve(), 2_000);
      void clientGotFirst.promise.then(() => {
        clearTimeout(fallback);
        res.write(sseEvent({ choices: [{ delta: { content: 'two' } }] }));
        res.end(sseEvent('[DONE]'));
        upstreamEnded = true;
      });
    });
    const backend = createUpstreamBackend({ url: server.url });

    const response = await backend.handle(WORKER_PATHS.chatCompletions, chatRequest(chatBody));
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const reader = response.body?.getReader();
    if (!reader) throw new Error('no body');
    const decoder = new TextDecoder();
    const first = await reader.read();
    expect(upstreamEnded).toBe(false);
    expect(decoder.decode(first.value)).toContain('"one"');
    releasedByClient = true;
    clientGotFirst.resolve();

    let rest = '';
    for (let next = await reader.read(); !next.done; next = await reader.read()) rest += decoder.decode(next.value);
    expect(releasedByClient).toBe(true);
    expect(upstreamEnded).toBe(true);
    expect(rest).toBe(sseEvent({ choices: [{ delta: { content: 'two' } }] }) + sseEvent('[DONE]'));
  });

  it('aborts the upstream request when the client aborts mid-stream', async () => {
    const upstreamClosed = deferred();
    const server = await start((_request, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sseEvent({ choices: [{ delta: { content: 'one' } }] }));
      res.on('close', () => upstreamClosed.resolve());
    });
    const backend = createUpstreamBackend({ url: server.url });
    const client = new AbortController();

    const response = await backend.handle(
      WORKER_PATHS.chatCompletions,
      chatRequest(chatBody, { signal: client.signal }),
    );
    const reader = response.body?.getReader();
    await reader?.read();
    client.abort();

    await upstreamClosed.promise;
    await expect(reader?.read()).rejects.toThrow();
  });

  it('closes the upstream connection when the reader cancels the body, as a server does for a gone client', async () => {
    const upstreamClosed = deferred();
    const server = await start((_request, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sseEvent({ choices: [{ delta: { content: 'one' } }] }));
      res.on('close', () => upstreamClosed.resolve());
    });
    const backend = createUpstreamBackend({ url: server.url });

    const response = await backend.handle(WORKER_PATHS.chatCompletions, chatRequest(chatBody));
    const reader = response.body?.getReader();
    await reader?.read();
    await reader?.cancel();

    await upstreamClosed.promise;
    expect(server.requests).toHaveLength(1);
  });

  it('aborts an upstream request still waiting for its answer and rejects', async () => {
    const upstreamClosed = deferred();
    const server = await start((_request, res) => {
      res.on('close', () => upstreamClosed.resolve());
    });
    const backend = createUpstreamBackend({ url: server.url });
    const client = new AbortController();

    const pending = backend.handle(WORKER_PATHS.chatCompletions, chatRequest(chatBody, { signal: client.signal }));
    while (server.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    client.abort();

    await expect(pending).rejects.toThrow();
    await upstreamClosed.promise;
  });

  it('answers 502 naming the cause when the upstream is unreachable', async () => {
    const backend = createUpstreamBackend({ url: await refusedUrl() });
    const response = await backend.handle(WORKER_PATHS.chatCompletions, chatRequest(chatBody));
    expect(response.status).toBe(502);
    expect(OpenAIError.parse(await response.json()).error).toMatchObject({
      message: expect.stringMatching(/unreachable: ECONNREFUSED/),
      code: 502,
    });
  });
});

describe('upstream backend: bounded', () => {
  it('answers 504 in OpenAI error shape when the answer does not start within the first-byte timeout', async () => {
    const server = await start(() => {});
    const backend = createUpstreamBackend({ url: server.url, firstByteTimeoutMs: 100 });
    const response = await backend.handle(WORKER_PATHS.chatCompletions, chatRequest(chatBody));
    expect(response.status).toBe(504);
    expect(OpenAIError.parse(await response.json()).error).toMatchObject({ type: 'timeout', code: 504 });
  });

  it('answers 504 when the whole request timeout passes before the answer starts', async () => {
    const server = await start(() => {});
    const backend = createUpstreamBackend({ url: server.url, requestTimeoutMs: 100 });
    const response = await backend.handle(WORKER_PATHS.chatCompletions, chatRequest(chatBody));
    expect(response.status).toBe(504);
    expect(OpenAIError.parse(await response.json()).error.message).toMatch(/within 100 ms/);
  });

  it('cuts a streamed answer that outlives the request timeout', async () => {
    const server = await start((_request, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sseEvent({ n: 1 }));
    });
    // The answer starts at once; the margin is for a loaded machine, where its head can take a second to arrive.
    const backend = createUpstreamBackend({ url: server.url, requestTimeoutMs: 2_000, firstByteTimeoutMs: 2_000 });
    const response = await backend.handle(WORKER_PATHS.chatCompletions, chatRequest(chatBody));
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
  });
});

describe('upstream backend: health', () => {
  const answering =
    (statuses: Record<string, number>): UpstreamHandler =>
    (request, res) => {
      const status = statuses[request.path] ?? 404;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(status === 200 ? { status: 'ok' } : { error: { code: status } }));
    };

  it('is ready when /health answers 200', async () => {
    const server = await start(answering({ '/health': 200 }));
    expect(await createUpstreamBackend({ url: server.url }).health()).toBe('ready');
    expect(server.requests.map((r) => r.path)).toEqual(['/health']);
  });

  it('is starting while /health answers 503 (llama-server loading the model)', async () => {
    const server = await start(answering({ '/health': 503 }));
    expect(await createUpstreamBackend({ url: server.url }).health()).toBe('starting');
  });

  it('falls back to /v1/models when /health is 404', async () => {
    const server = await start(answering({ '/v1/models': 200 }));
    expect(await createUpstreamBackend({ url: server.url }).health()).toBe('ready');
    expect(server.requests.map((r) => r.path)).toEqual(['/health', '/v1/models']);
  });

  it('is error when neither /health nor /v1/models answers', async () => {
    const server = await start(answering({}));
    expect(await createUpstreamBackend({ url: server.url }).health()).toBe('error');
  });

  it('is error on a 500', async () => {
    const server = await start(answering({ '/health': 500 }));
    expect(await createUpstreamBackend({ url: server.url }).health()).toBe('error');
  });

  it('is error when the connection is refused', async () => {
    expect(await createUpstreamBackend({ url: await refusedUrl() }).health()).toBe('error');
  });

  it('is error when the upstream does not answer within the timeout', async () => {
    const server = await start(() => {});
    const started = performance.now();
    expect(await createUpstreamBackend({ url: server.url, healthTimeoutMs: 100 }).health()).toBe('error');
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  it('is error when the caller aborts the check', async () => {
    const server = await start(() => {});
    const caller = new AbortController();
    const check = createUpstreamBackend({ url: server.url }).health(caller.signal);
    caller.abort();
    expect(await check).toBe('error');
  });
});
