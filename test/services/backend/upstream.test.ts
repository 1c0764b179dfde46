import http, { type IncomingHttpHeaders } from 'node:http';
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import { describe, expect, it, onTestFinished } from 'vitest';
import { OpenAIError } from '../../../contracts/inference.js';
import { WORKER_PATHS } from '../../../contracts/paths.js';
import type { RelayingBackend, RelayOutcome } from '../../../services/backend/backend.js';
import { createRelayAgent, RELAY_MAX_SOCKETS } from '../../../services/backend/relay.js';
import { createUpstreamBackend } from '../../../services/backend/upstream.js';
import { deferred } from '../../support/deferred.js';
import { listenOnLoopback, refusedUrl } from '../../support/loopback-server.js';
import { eventually } from '../../support/role-process.js';
import { sseEvent, startFakeUpstream, type UpstreamHandler } from './fake-upstream.js';
import { startRelayHost } from './relay-host.js';

interface PostInit {
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

/** The backend behind a Node server as the worker hosts it (at `url`); `post` is a client calling that server. */
async function relayed(backend: RelayingBackend) {
  const started = await startRelayHost(backend);
  return {
    url: started.url,
    outcomes: started.outcomes,
    post: (path: string, body: unknown, init: PostInit = {}) =>
      fetch(`${started.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...init.headers },
        body: JSON.stringify(body),
        ...(init.signal ? { signal: init.signal } : {}),
      }),
  };
}

/** One request to `url` with Node's client, which never decodes a body: the headers and bytes as they came. */
function rawPost(
  url: string,
  headers: Record<string, string>,
): Promise<{ headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } });
    request.on('error', reject);
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ headers: response.headers, body: Buffer.concat(chunks) }));
    });
    request.end(JSON.stringify(chatBody));
  });
}

const chatBody = { model: 'm', messages: [{ role: 'user', content: 'hello' }], stream: true };
const CHAT = WORKER_PATHS.chatCompletions;

describe('upstream backend: proxying', () => {
  it('forwards a non-streaming request with its body and headers, and passes the answer back', async () => {
    const answer = { id: 'chatcmpl-1', object: 'chat.completion', choices: [{ index: 0, message: { content: 'hi' } }] };
    const server = await startFakeUpstream((_request, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'llama' });
      res.end(JSON.stringify(answer));
    });
    const worker = await relayed(createUpstreamBackend({ url: `${server.url}/v1/` }));
    const body = { model: 'm', messages: [{ role: 'user', content: 'hello' }], temperature: 0.2 };

    const response = await worker.post(CHAT, body, {
      headers: { authorization: 'Bearer cluster-secret', 'x-request-id': 'r-1' },
    });

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
    expect(worker.outcomes).toEqual([{ status: 200, complete: true }]);
  });

  it('keeps the path an upstream is served under', async () => {
    const server = await startFakeUpstream((_request, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
    const worker = await relayed(createUpstreamBackend({ url: `${server.url}/gateway/llama/v1` }));
    expect((await worker.post(CHAT, chatBody)).status).toBe(200);
    expect(server.requests.map((request) => request.path)).toEqual(['/gateway/llama/v1/chat/completions']);
  });

  it('sends a sized answer whole, with its length, and keeps one connection for requests in a row', async () => {
    const ports: number[] = [];
    const answer = JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', choices: [] });
    const server = await startFakeUpstream((_request, res, req) => {
      ports.push(req.socket.remotePort ?? 0);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
      res.end(answer);
    });
    const worker = await relayed(createUpstreamBackend({ url: server.url }));
    for (let i = 0; i < 3; i++) {
      const response = await worker.post(CHAT, chatBody);
      expect(response.headers.get('content-length')).toBe(String(Buffer.byteLength(answer)));
      expect(response.headers.get('transfer-encoding')).toBeNull();
      expect(await response.text()).toBe(answer);
    }
    expect(new Set(ports).size).toBe(1);
  });

  it('passes an upstream error status through unchanged', async () => {
    const server = await startFakeUpstream((_request, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'bad prompt' } }));
    });
    const worker = await relayed(createUpstreamBackend({ url: server.url }));
    const response = await worker.post(WORKER_PATHS.completions, { prompt: 'x' });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: { message: 'bad prompt' } });
    expect(server.requests[0]?.path).toBe('/v1/completions');
  });

  it('passes a body-less status through, and answers 502 for a status outside 200–599', async () => {
    const statuses = [204, 205, 600];
    const server = await startFakeUpstream((_request, res) => {
      const status = statuses.shift() ?? 500;
      res.writeHead(status, status === 205 ? { 'content-length': '0' } : {});
      res.end();
    });
    const worker = await relayed(createUpstreamBackend({ url: server.url }));
    const noContent = await worker.post(WORKER_PATHS.completions, { prompt: 'x' });
    expect(noContent.status).toBe(204);
    expect(noContent.body).toBeNull();
    const reset = await worker.post(WORKER_PATHS.completions, { prompt: 'x' });
    expect(reset.status).toBe(205);
    const invalid = await worker.post(WORKER_PATHS.completions, { prompt: 'x' });
    expect(invalid.status).toBe(502);
    expect(OpenAIError.parse(await invalid.json()).error.message).toContain('status 600');
    // The backend still serves after all three.
    const after = await worker.post(WORKER_PATHS.completions, { prompt: 'x' });
    expect(after.status).toBe(500);
  });

  it('answers 502, and lives on, for a head Node cannot pass on or a 101 it cannot take', async () => {
    const heads = [
      'HTTP/1.1 200 O\x01K\r\ncontent-length: 2\r\n\r\n{}',
      'HTTP/1.1 101 Switching\r\nupgrade: x\r\nconnection: upgrade\r\n\r\n',
    ];
    const upstream = net.createServer((socket) => {
      socket.once('data', () => socket.end(heads.shift() ?? 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}'));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => void upstream.close());
    const address = upstream.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const worker = await relayed(createUpstreamBackend({ url: `http://127.0.0.1:${port}` }));
    for (const _head of [0, 1]) {
      const refused = await worker.post(CHAT, chatBody);
      expect(refused.status).toBe(502);
      expect(refused.statusText).toBe('Bad Gateway');
      expect(OpenAIError.parse(await refused.json()).error.type).toBe('upstream_invalid');
    }
    expect((await worker.post(CHAT, chatBody)).status).toBe(200);
  });

  it('streams SSE chunks through as the upstream sends them', async () => {
    const clientGotFirst = deferred();
    let releasedByClient = false;
    let upstreamEnded = false;
    const server = await startFakeUpstream((_request, res) => {
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
    const worker = await relayed(createUpstreamBackend({ url: server.url }));

    const response = await worker.post(CHAT, chatBody);
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

  it('aborts the upstream request when the client goes away mid-stream, and the answer is not complete', async () => {
    const upstreamClosed = deferred();
    const server = await startFakeUpstream((_request, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sseEvent({ choices: [{ delta: { content: 'one' } }] }));
      res.on('close', () => upstreamClosed.resolve());
    });
    const worker = await relayed(createUpstreamBackend({ url: server.url }));
    const client = new AbortController();

    const response = await worker.post(CHAT, chatBody, { signal: client.signal });
    const reader = response.body?.getReader();
    await reader?.read();
    client.abort();

    await upstreamClosed.promise;
    await expect(reader?.read()).rejects.toThrow();
    expect(await eventually(() => worker.outcomes[0], 'the relay settled')).toEqual({ status: 200, complete: false });
  });

  it('aborts an upstream request still waiting for its answer when the client goes away', async () => {
    const upstreamClosed = deferred();
    const server = await startFakeUpstream((_request, res) => {
      res.on('close', () => upstreamClosed.resolve());
    });
    const worker = await relayed(createUpstreamBackend({ url: server.url }));
    const client = new AbortController();

    const pending = worker.post(CHAT, chatBody, { signal: client.signal });
    while (server.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    client.abort();

    await expect(pending).rejects.toThrow();
    await upstreamClosed.promise;
    expect(await eventually(() => worker.outcomes[0], 'the relay settled')).toMatchObject({ complete: false });
  });

  it('sends nothing on for a client gone before the relay starts, and settles at once as not complete', async () => {
    const server = await startFakeUpstream((_request, res) => res.end('{}'));
    const backend = createUpstreamBackend({ url: server.url });
    const outcomes: RelayOutcome[] = [];
    const gone = await listenOnLoopback(
      http.createServer((_req, res) => {
        res.once('close', () => {
          const call = { path: CHAT, body: '{}', header: () => undefined, signal: AbortSignal.abort() };
          void backend.relay(call, res).then((outcome) => outcomes.push(outcome));
        });
        res.destroy();
      }),
    );
    await expect(fetch(`${gone.url}${CHAT}`, { method: 'POST', body: '{}' })).rejects.toThrow();
    expect(await eventually(() => outcomes[0], 'the relay settled')).toMatchObject({ complete: false });
    expect(server.requests).toHaveLength(0);
  });

  it('answers 502 naming the cause when the upstream is unreachable', async () => {
    const worker = await relayed(createUpstreamBackend({ url: await refusedUrl() }));
    const response = await worker.post(CHAT, chatBody);
    expect(response.status).toBe(502);
    expect(OpenAIError.parse(await response.json()).error).toMatchObject({
      message: expect.stringMatching(/unreachable: ECONNREFUSED/),
      code: 502,
    });
  });
});

describe('upstream backend: hop-by-hop headers and encodings', () => {
  it("drops the answer's hop-by-hop headers and those its Connection names, and keeps the rest", async () => {
    const server = await startFakeUpstream((_request, res) => {
      res.writeHead(200, {
        'content-type': 'application/json',
        connection: 'x-hop-private',
        'x-hop-private': 'secret',
        'keep-alive': 'timeout=7, max=3',
        'proxy-authenticate': 'Basic realm="engine"',
        'proxy-connection': 'keep-alive',
        trailer: 'x-checksum',
        upgrade: 'h2c',
        'x-kept': 'yes',
      });
      res.end('{}');
    });
    const worker = await relayed(createUpstreamBackend({ url: server.url }));
    const answer = await rawPost(`${worker.url}${CHAT}`, {});
    expect(answer.headers['x-kept']).toBe('yes');
    for (const name of ['x-hop-private', 'proxy-authenticate', 'proxy-connection', 'trailer', 'upgrade']) {
      expect(answer.headers[name]).toBeUndefined();
    }
    expect(answer.headers['keep-alive']).not.toContain('max=3');
    expect(answer.headers.connection).not.toContain('x-hop-private');
    expect(answer.body.toString()).toBe('{}');
    expect(worker.outcomes).toEqual([{ status: 200, complete: true }]);
  });

  it("passes none of the client's hop-by-hop headers on, nor a header its Connection names", async () => {
    const server = await startFakeUpstream((_request, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
    const worker = await relayed(createUpstreamBackend({ url: server.url }));
    await rawPost(`${worker.url}${CHAT}`, {
      connection: 'keep-alive, x-request-id',
      'x-request-id': 'r-1',
      te: 'trailers',
      'proxy-authorization': 'Basic eDp5',
      'keep-alive': 'timeout=9',
      'user-agent': 'test-client',
    });
    const received = server.requests[0]?.headers;
    expect(received?.['user-agent']).toBe('test-client');
    expect(received?.['x-request-id']).toBeUndefined();
    expect(received?.te).toBeUndefined();
    expect(received?.['proxy-authorization']).toBeUndefined();
    expect(received?.['keep-alive']).toBeUndefined();
  });

  it('passes a gzip answer through as it was compressed: decoded once, by the client', async () => {
    const answer = JSON.stringify({ id: 'chatcmpl-z', object: 'chat.completion', choices: [], pad: 'x'.repeat(2_000) });
    const compressed = gzipSync(answer);
    const server = await startFakeUpstream((request, res) => {
      const gzip = (request.headers['accept-encoding'] ?? '').includes('gzip');
      res.writeHead(200, {
        'content-type': 'application/json',
        ...(gzip ? { 'content-encoding': 'gzip' } : {}),
        'content-length': gzip ? compressed.byteLength : Buffer.byteLength(answer),
      });
      res.end(gzip ? compressed : answer);
    });
    const worker = await relayed(createUpstreamBackend({ url: server.url }));

    const raw = await rawPost(`${worker.url}${CHAT}`, { 'accept-encoding': 'gzip' });
    expect(raw.headers['content-encoding']).toBe('gzip');
    expect(raw.headers['content-length']).toBe(String(compressed.byteLength));
    expect(raw.body.equals(compressed)).toBe(true);

    const decoded = await worker.post(CHAT, chatBody, { headers: { 'accept-encoding': 'gzip' } });
    expect(await decoded.text()).toBe(answer);

    const plain = await rawPost(`${worker.url}${CHAT}`, {});
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toBe(answer);
    expect(server.requests.map((r) => r.headers['accept-encoding'])).toEqual(['gzip', 'gzip', undefined]);
  });
});

describe('upstream backend: bounded', () => {
  it(`opens at most ${RELAY_MAX_SOCKETS} connections to the upstream; the requests past them wait their turn`, async () => {
    const held: (() => void)[] = [];
    let holding = true;
    const server = await startFakeUpstream((_request, res) => {
      const answer = () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      };
      if (holding) held.push(answer);
      else answer();
    });
    const agent = createRelayAgent();
    const total = RELAY_MAX_SOCKETS + 4;
    const waiting = () => Object.values(agent.requests).reduce((sum, queue) => sum + (queue?.length ?? 0), 0);
    const statuses = Array.from(
      { length: total },
      () =>
        new Promise<number>((resolve, reject) => {
          const request = http.request(`${server.url}${CHAT}`, { method: 'POST', agent });
          request.on('error', reject);
          request.on('response', (response) => {
            response.resume();
            response.on('end', () => resolve(response.statusCode ?? 0));
          });
          request.end('{}');
        }),
    );
    await eventually(
      () => (held.length === RELAY_MAX_SOCKETS && waiting() === total - RELAY_MAX_SOCKETS ? true : undefined),
      'the bound reached and the rest waiting in the agent',
    );
    holding = false;
    for (const release of held.splice(0)) release();
    expect(await Promise.all(statuses)).toEqual(Array(total).fill(200));
    agent.destroy();
  });

  it('answers 504 in OpenAI error shape when the answer does not start within the first-byte timeout', async () => {
    const server = await startFakeUpstream(() => {});
    const worker = await relayed(createUpstreamBackend({ url: server.url, firstByteTimeoutMs: 100 }));
    const response = await worker.post(CHAT, chatBody);
    expect(response.status).toBe(504);
    expect(OpenAIError.parse(await response.json()).error).toMatchObject({ type: 'timeout', code: 504 });
  });

  it('answers 504 when the whole request timeout passes before the answer starts', async () => {
    const server = await startFakeUpstream(() => {});
    const worker = await relayed(createUpstreamBackend({ url: server.url, requestTimeoutMs: 100 }));
    const response = await worker.post(CHAT, chatBody);
    expect(response.status).toBe(504);
    expect(OpenAIError.parse(await response.json()).error.message).toMatch(/within 100 ms/);
  });

  it('cuts a streamed answer that outlives the request timeout', async () => {
    const server = await startFakeUpstream((_request, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sseEvent({ n: 1 }));
    });
    // The answer starts at once; the margin is for a loaded machine, where its head can take a second to arrive.
    const worker = await relayed(
      createUpstreamBackend({ url: server.url, requestTimeoutMs: 2_000, firstByteTimeoutMs: 2_000 }),
    );
    const response = await worker.post(CHAT, chatBody);
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
    expect(await eventually(() => worker.outcomes[0], 'the relay settled')).toEqual({ status: 200, complete: false });
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
    const server = await startFakeUpstream(answering({ '/health': 200 }));
    expect(await createUpstreamBackend({ url: server.url }).health()).toBe('ready');
    expect(server.requests.map((r) => r.path)).toEqual(['/health']);
  });

  it('is starting while /health answers 503 (llama-server loading the model)', async () => {
    const server = await startFakeUpstream(answering({ '/health': 503 }));
    expect(await createUpstreamBackend({ url: server.url }).health()).toBe('starting');
  });

  it('falls back to /v1/models when /health is 404', async () => {
    const server = await startFakeUpstream(answering({ '/v1/models': 200 }));
    expect(await createUpstreamBackend({ url: server.url }).health()).toBe('ready');
    expect(server.requests.map((r) => r.path)).toEqual(['/health', '/v1/models']);
  });

  it('is error when neither /health nor /v1/models answers', async () => {
    const server = await startFakeUpstream(answering({}));
    expect(await createUpstreamBackend({ url: server.url }).health()).toBe('error');
  });

  it('is error on a 500', async () => {
    const server = await startFakeUpstream(answering({ '/health': 500 }));
    expect(await createUpstreamBackend({ url: server.url }).health()).toBe('error');
  });

  it('is error when the connection is refused', async () => {
    expect(await createUpstreamBackend({ url: await refusedUrl() }).health()).toBe('error');
  });

  it('is error when the upstream does not answer within the timeout', async () => {
    const server = await startFakeUpstream(() => {});
    const started = performance.now();
    expect(await createUpstreamBackend({ url: server.url, healthTimeoutMs: 100 }).health()).toBe('error');
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  it('is error when the caller aborts the check', async () => {
    const server = await startFakeUpstream(() => {});
    const caller = new AbortController();
    const check = createUpstreamBackend({ url: server.url }).health(caller.signal);
    caller.abort();
    expect(await check).toBe('error');
  });
});
