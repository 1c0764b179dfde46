import http from 'node:http';
import { learnSecret } from './payloads.js';

/** A keep-alive HTTP/1.1 client for one origin on loopback, with a bound on sockets and on each request's time. */
export interface Reply {
  status: number;
  body: string;
}

export class HttpClient {
  private readonly agent: http.Agent;
  private readonly origin: URL;

  constructor(
    origin: string,
    maxSockets: number,
    private readonly timeoutMs = 10_000,
  ) {
    this.origin = new URL(origin);
    this.agent = new http.Agent({ keepAlive: true, maxSockets });
  }

  get(path: string): Promise<Reply> {
    return this.request('GET', path);
  }

  post(path: string, json: string): Promise<Reply> {
    return this.request('POST', path, json);
  }

  close(): void {
    this.agent.destroy();
  }

  private request(method: string, path: string, body?: string): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      const request = http.request(
        {
          agent: this.agent,
          hostname: this.origin.hostname,
          port: this.origin.port,
          method,
          path,
          headers: body === undefined ? {} : { 'content-type': 'application/json' },
          timeout: this.timeoutMs,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          );
          response.on('error', reject);
        },
      );
      request.on('timeout', () => request.destroy(new Error(`${method} ${path} timed out after ${this.timeoutMs} ms`)));
      request.on('error', reject);
      request.end(body);
    });
  }
}

/** Posts and insists on 200: a benchmark measuring refused requests measures nothing. Keeps issued identities. */
export async function postOk(client: HttpClient, path: string, json: string): Promise<void> {
  const reply = await client.post(path, json);
  if (reply.status !== 200) throw new Error(`POST ${path} answered ${reply.status}: ${reply.body.slice(0, 300)}`);
  if (reply.body.includes('hive_secret')) learnSecret(json, reply.body);
}

/**
 * Runs `work` on every item with at most `concurrency` at a time; throws once `deadlineMs` has passed, so no loop
 * runs unbounded.
 */
export async function forEachBounded<T>(
  items: readonly T[],
  concurrency: number,
  deadlineMs: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  const deadline = performance.now() + deadlineMs;
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let index = next++; index < items.length; index = next++) {
      if (performance.now() > deadline) throw new Error(`gave up after ${deadlineMs} ms at item ${index}`);
      const item = items[index];
      if (item !== undefined) await work(item, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every 100 ms until it returns a value, for at most `timeoutMs`. */
export async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}
