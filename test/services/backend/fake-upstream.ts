import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { type LoopbackServer, listenOnLoopback, onBody } from '../../support/loopback-server.js';

/** A request the fake upstream received. */
export interface UpstreamRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export type UpstreamHandler = (request: UpstreamRequest, res: ServerResponse, req: IncomingMessage) => void;

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

/** One SSE event as OpenAI-compatible servers send it. */
export function sseEvent(payload: unknown): string {
  return `data: ${typeof payload === 'string' ? payload : JSON.stringify(payload)}\n\n`;
}
