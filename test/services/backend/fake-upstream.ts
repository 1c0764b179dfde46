import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request the fake upstream received. */
export interface UpstreamRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export type UpstreamHandler = (request: UpstreamRequest, res: ServerResponse, req: IncomingMessage) => void;

/** A test server on a free loopback port. */
export interface LoopbackServer {
  url: string;
  /** Cuts its open connections and stops it. */
  close(): Promise<void>;
}

export interface FakeUpstream extends LoopbackServer {
  requests: UpstreamRequest[];
}

/** A loopback OpenAI-shaped server on a free port; each test answers its requests with `handler`. */
export async function startFakeUpstream(handler: UpstreamHandler): Promise<FakeUpstream> {
  const requests: UpstreamRequest[] = [];
  const server = createServer((req, res) =>
    onBody(req, (body) => {
      const request = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body };
      requests.push(request);
      handler(request, res, req);
    }),
  );
  return { ...(await listenOnLoopback(server)), requests };
}

/** Calls `then` with a request's whole body as text. */
export function onBody(req: IncomingMessage, then: (body: string) => void): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => then(Buffer.concat(chunks).toString('utf8')));
}

/** `server` listening on a free loopback port. */
export async function listenOnLoopback(server: Server): Promise<LoopbackServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = addressOf(server.address());
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback URL nothing listens on: connecting to it is refused. */
export async function refusedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = addressOf(server.address());
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

function addressOf(address: string | AddressInfo | null): AddressInfo {
  if (address === null || typeof address === 'string') throw new Error('server is not listening on a TCP port');
  return address;
}

/** One SSE event as OpenAI-compatible servers send it. */
export function sseEvent(payload: unknown): string {
  return `data: ${typeof payload === 'string' ? payload : JSON.stringify(payload)}\n\n`;
}
