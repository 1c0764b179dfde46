import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { EventPage, EventQuery, type HistoryEvent } from '../../contracts/events.js';
import { HiveMetrics } from '../../contracts/metrics-history.js';
import { QUEEN_PATHS } from '../../contracts/paths.js';
import { type SnapshotEvent, STREAM_EVENT_NAME, StreamEvent } from '../../contracts/stream.js';
import { createDashboardApp } from '../../services/http/dashboard/index.js';
import { pageOfHistory } from '../../services/store/event-query.js';

/** `/v1/hives/<id>/metrics`: the hive id, or null for another path. */
const METRICS_PATH = new RegExp(`^${QUEEN_PATHS.hiveMetrics.replace(':id', '([^/]+)')}$`);

/** A loopback server with the real dashboard routes and a stream and hive histories the test scripts. */
export class ScriptedQueen {
  /** The `?token=` of every stream connection and of every module request, in order. */
  readonly streamTokens: (string | null)[] = [];
  readonly moduleRequests: string[] = [];
  /** Each history request: hive id, query and authorization header. */
  readonly metricsRequests: { hiveId: string; search: string; authorization: string | null }[] = [];
  /** Histories by hive id; a hive without one has an empty history. */
  readonly metrics = new Map<string, HiveMetrics>();
  /** The history `/v1/events` serves, oldest first, in pages of at most `eventsPageSize`. */
  readonly events: HistoryEvent[] = [];
  eventsPageSize = 1000;
  /** Answers a history request in place of `events` when it returns a page. */
  eventsAnswer: ((query: EventQuery) => EventPage | undefined) | undefined;
  /** Each history request's query. */
  readonly eventsRequests: string[] = [];
  snapshot: SnapshotEvent = { type: 'snapshot', rev: 0, hives: [], workers: [] };
  /** While set, new stream connections wait unanswered (the page stays in its reconnecting state). */
  holdConnections = false;
  private readonly streams = new Set<ServerResponse>();
  private readonly held: (() => void)[] = [];
  private readonly dashboard = getRequestListener(createDashboardApp().fetch);
  private revision = 0;
  private readonly server: Server = createServer((request, response) => this.handle(request, response));

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port }: AddressInfo = addressOf(this.server);
    return `http://127.0.0.1:${port}`;
  }

  /** Sends one event, checked against the contract, to every open stream. */
  send(event: StreamEvent): void {
    const valid = StreamEvent.parse(event);
    for (const stream of this.streams) this.write(stream, valid);
  }

  get openStreams(): number {
    return this.streams.size;
  }

  /** Cuts every stream connection the way a crashed queen or a broken network would. */
  dropStreams(): void {
    for (const stream of this.streams) stream.destroy();
  }

  release(): void {
    this.holdConnections = false;
    for (const start of this.held.splice(0)) start();
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const metricsOf = METRICS_PATH.exec(url.pathname)?.[1];
    if (metricsOf !== undefined) {
      const hiveId = decodeURIComponent(metricsOf);
      this.metricsRequests.push({ hiveId, search: url.search, authorization: request.headers.authorization ?? null });
      const body = HiveMetrics.parse(this.metrics.get(hiveId) ?? { hive_id: hiveId, step_s: 30, series: {} });
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      return;
    }
    if (url.pathname === QUEEN_PATHS.events) {
      this.eventsRequests.push(url.search);
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.eventPage(url)));
      return;
    }
    if (url.pathname !== QUEEN_PATHS.stream) {
      if (url.pathname.startsWith('/dashboard/')) this.moduleRequests.push(`${url.pathname}${url.search}`);
      void this.dashboard(request, response);
      return;
    }
    this.streamTokens.push(url.searchParams.get('token'));
    const start = (): void => this.startStream(response);
    if (this.holdConnections) this.held.push(start);
    else start();
  }

  private eventPage(url: URL): EventPage {
    const query = EventQuery.parse(Object.fromEntries(url.searchParams));
    const limited = { ...query, limit: Math.min(query.limit, this.eventsPageSize) };
    return EventPage.parse(this.eventsAnswer?.(limited) ?? pageOfHistory(this.events, limited));
  }

  private startStream(response: ServerResponse): void {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    // A short reconnection delay keeps the test fast; the browser would wait about 3 s by default.
    response.write('retry: 100\n\n');
    this.streams.add(response);
    response.on('close', () => this.streams.delete(response));
    this.write(response, StreamEvent.parse(this.snapshot));
  }

  private write(response: ServerResponse, event: StreamEvent): void {
    this.revision += 1;
    response.write(`event: ${STREAM_EVENT_NAME}\nid: ${this.revision}\ndata: ${JSON.stringify(event)}\n\n`);
  }
}

function addressOf(server: Server): AddressInfo {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('server is not listening on TCP');
  return address;
}
