import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { QUEEN_PATHS } from '../../contracts/paths.js';
import { createQueenClient } from '../../services/queen-client.js';
import { ack, discoveryHeartbeat, workerHeartbeat } from '../fixtures/examples.js';
import { listenOnLoopback, onBody, refusedUrl } from '../support/loopback-server.js';

interface Received {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A loopback queen whose answer the test decides; it records every request it receives. */
async function startQueen(
  answer: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) =>
    onBody(req, (body) => {
      received.push({ method: req.method, url: req.url, headers: req.headers, body });
      answer(req, res);
    }),
  );
  return { url: (await listenOnLoopback(server)).url, received };
}

function json(status: number, body: unknown): (req: IncomingMessage, res: ServerResponse) => void {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
}

describe('createQueenClient', () => {
  it('posts the hive heartbeat as JSON to the hive path and returns the validated ack', async () => {
    const queen = await startQueen(json(200, ack));
    const client = createQueenClient({ timeoutMs: 2_000 });
    const outcome = await client.sendHiveHeartbeat(queen.url, discoveryHeartbeat);
    expect(outcome).toEqual({ ok: true, value: ack });
    expect(queen.received).toHaveLength(1);
    const [request] = queen.received;
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe(QUEEN_PATHS.hiveHeartbeat);
    expect(request?.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(request?.body ?? '')).toEqual(discoveryHeartbeat);
    expect(request?.headers.authorization).toBeUndefined();
  });

  it('posts the worker heartbeat to the worker path, keeping a base path of the queen URL', async () => {
    const queen = await startQueen(json(200, { ...ack, resync: true }));
    const client = createQueenClient({ timeoutMs: 2_000 });
    const outcome = await client.sendWorkerHeartbeat(`${queen.url}/apiary/`, workerHeartbeat);
    expect(outcome).toEqual({ ok: true, value: { ...ack, resync: true } });
    expect(queen.received[0]?.url).toBe(`/apiary${QUEEN_PATHS.workerHeartbeat}`);
    expect(JSON.parse(queen.received[0]?.body ?? '')).toEqual(workerHeartbeat);
  });

  it('sends the bearer token when one is set', async () => {
    const queen = await startQueen(json(200, ack));
    const client = createQueenClient({ token: 's3cret', timeoutMs: 2_000 });
    await client.sendWorkerHeartbeat(queen.url, workerHeartbeat);
    expect(queen.received[0]?.headers.authorization).toBe('Bearer s3cret');
  });

  it('sends each heartbeat exactly once, without retrying a failure', async () => {
    const queen = await startQueen(json(503, { error: 'queen is busy' }));
    const client = createQueenClient({ timeoutMs: 2_000 });
    const outcome = await client.sendHiveHeartbeat(queen.url, discoveryHeartbeat);
    expect(outcome.ok).toBe(false);
    expect(queen.received).toHaveLength(1);
  });

  it("does not follow a follower's 307 itself: the leader it names is the outcome, from the body or location", async () => {
    const leader = await startQueen(json(200, ack));
    const byBody = await startQueen((_req, res) => {
      res.writeHead(307, { 'content-type': 'application/json', location: `${leader.url}${QUEEN_PATHS.hiveHeartbeat}` });
      // Spelled otherwise than `--queen-url` spells it: the outcome names it as a list entry would.
      res.end(JSON.stringify({ leader_url: `${leader.url.toUpperCase()}/` }));
    });
    const byLocation = await startQueen((_req, res) => {
      res.writeHead(307, { location: `${leader.url}${QUEEN_PATHS.hiveHeartbeat}` });
      res.end();
    });
    const client = createQueenClient({ timeoutMs: 2_000 });
    for (const follower of [byBody, byLocation]) {
      const outcome = await client.sendHiveHeartbeat(follower.url, discoveryHeartbeat);
      expect(outcome).toEqual({
        ok: false,
        error: { kind: 'redirect', leaderUrl: leader.url, message: expect.stringContaining(leader.url) },
      });
    }
    expect(leader.received).toEqual([]);
    const nowhere = await startQueen((_req, res) => {
      res.writeHead(307);
      res.end();
    });
    const lost = await client.sendHiveHeartbeat(nowhere.url, discoveryHeartbeat);
    expect(lost).toMatchObject({ ok: false, error: { kind: 'bad-response' } });
  });

  it('classifies a 500 as an http failure carrying the status', async () => {
    const queen = await startQueen((_req, res) => {
      res.writeHead(500);
      res.end('internal trouble');
    });
    const outcome = await createQueenClient({ timeoutMs: 2_000 }).sendHiveHeartbeat(queen.url, discoveryHeartbeat);
    expect(outcome).toEqual({
      ok: false,
      error: { kind: 'http', status: 500, message: expect.stringContaining('internal trouble') },
    });
  });

  it("classifies a 401 as an http failure quoting the queen's error sentence", async () => {
    const queen = await startQueen(json(401, { error: 'missing or wrong token' }));
    const outcome = await createQueenClient({ timeoutMs: 2_000 }).sendWorkerHeartbeat(queen.url, workerHeartbeat);
    expect(outcome).toEqual({
      ok: false,
      error: { kind: 'http', status: 401, message: '401 Unauthorized: missing or wrong token' },
    });
  });

  it('classifies a 2xx answer that is not JSON as a bad response', async () => {
    const queen = await startQueen((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>a proxy login page</html>');
    });
    const outcome = await createQueenClient({ timeoutMs: 2_000 }).sendHiveHeartbeat(queen.url, discoveryHeartbeat);
    expect(outcome).toEqual({
      ok: false,
      error: { kind: 'bad-response', message: expect.stringContaining('not JSON') },
    });
  });

  it('classifies JSON that is not a heartbeat ack as a bad response naming the field', async () => {
    const queen = await startQueen(json(200, { status: 'ok', resync: 'no' }));
    const outcome = await createQueenClient({ timeoutMs: 2_000 }).sendHiveHeartbeat(queen.url, discoveryHeartbeat);
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.kind).toBe('bad-response');
    expect(outcome.error.message).toContain('queen_epoch');
    expect(outcome.error.message).toContain('resync');
  });

  it('classifies a queen that never answers as a timeout after the request timeout', async () => {
    const queen = await startQueen(() => {});
    const started = performance.now();
    const outcome = await createQueenClient({ timeoutMs: 150 }).sendHiveHeartbeat(queen.url, discoveryHeartbeat);
    const elapsed = performance.now() - started;
    expect(outcome).toEqual({ ok: false, error: { kind: 'timeout', message: expect.stringContaining('150 ms') } });
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThan(1_500);
  });

  it('classifies a body that stalls after the headers as a timeout too', async () => {
    const queen = await startQueen((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"status":');
    });
    const outcome = await createQueenClient({ timeoutMs: 150 }).sendHiveHeartbeat(queen.url, discoveryHeartbeat);
    expect(outcome).toMatchObject({ ok: false, error: { kind: 'timeout' } });
  });

  it('classifies a closed port as refused', async () => {
    const url = await refusedUrl();
    const outcome = await createQueenClient({ timeoutMs: 2_000 }).sendHiveHeartbeat(url, discoveryHeartbeat);
    expect(outcome).toEqual({ ok: false, error: { kind: 'refused', message: expect.stringContaining(url) } });
  });

  it('classifies an abort through the signal as aborted, not as a timeout', async () => {
    const queen = await startQueen(() => {});
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 50);
    const outcome = await createQueenClient({ timeoutMs: 5_000 }).sendHiveHeartbeat(
      queen.url,
      discoveryHeartbeat,
      stop.signal,
    );
    expect(outcome).toEqual({ ok: false, error: { kind: 'aborted', message: 'send aborted' } });
  });

  it('classifies other transport errors as network failures with their code', async () => {
    const queen = await startQueen((req) => req.socket.destroy());
    const outcome = await createQueenClient({ timeoutMs: 2_000 }).sendHiveHeartbeat(queen.url, discoveryHeartbeat);
    expect(outcome).toMatchObject({ ok: false, error: { kind: 'network', code: expect.stringMatching(/\S/) } });
  });

  it('uses the injected fetch, and never throws even when it does', async () => {
    const calls: string[] = [];
    const fetchStub: typeof fetch = async (input) => {
      calls.push(input instanceof Request ? input.url : String(input));
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }),
      });
    };
    const outcome = await createQueenClient({ timeoutMs: 2_000, fetch: fetchStub }).sendHiveHeartbeat(
      'http://queen.invalid:7833',
      discoveryHeartbeat,
    );
    expect(calls).toEqual([`http://queen.invalid:7833${QUEEN_PATHS.hiveHeartbeat}`]);
    expect(outcome).toEqual({
      ok: false,
      error: { kind: 'network', code: 'ENOTFOUND', message: expect.stringContaining('ENOTFOUND') },
    });
  });
});
