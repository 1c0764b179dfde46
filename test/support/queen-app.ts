import { Hono } from 'hono';
import type { Leadership } from '../../services/ha/leadership.js';
import { silentLogger } from '../../services/logger.js';
import { type AssembledQueen, assembleQueen } from '../../services/queen/assemble.js';
import { hiveViews, queenHealth, workerViews } from '../../services/queen/views.js';
import { QUEEN_EPOCH } from '../fixtures/examples.js';
import { DEFAULT_LIVENESS, steppedClocks } from './queen-registry.js';
import type { SteppingClock } from './stepping-clock.js';

export const TOKEN = 's3cret-token';

export interface QueenAppHarness extends AssembledQueen {
  timers: SteppingClock;
  /** `app.request` with the bearer token unless `token` says otherwise (null: none). */
  request(path: string, init?: RequestInit & { token?: string | null }): Promise<Response>;
  /** POSTs `body` (JSON-encoded unless a string) with a JSON content type unless told otherwise. */
  post(path: string, body: unknown, init?: { token?: string | null; contentType?: string | null }): Promise<Response>;
  /** Everything the registry shows, to prove a refused request changed nothing. */
  state(): string;
}

export interface QueenAppOptions {
  token?: string | undefined;
  streamIntervalMs?: number;
  streamQueueBytes?: number;
  leadership?: Leadership;
}

/** A whole queen but its socket, on simulated clocks, with a stand-in dashboard. */
export function startQueenApp(options: QueenAppOptions = {}): QueenAppHarness {
  const { timers, clock } = steppedClocks();
  const dashboard = new Hono();
  dashboard.get('/', (c) => c.text('dashboard page'));
  dashboard.get('/dashboard/:file', (c) => c.text(`module ${c.req.param('file')}`));
  const queen = assembleQueen({
    settings: DEFAULT_LIVENESS,
    streamIntervalMs: options.streamIntervalMs ?? 2_500,
    token: 'token' in options ? options.token : TOKEN,
    logger: silentLogger,
    queenEpoch: QUEEN_EPOCH,
    clock,
    timers,
    dashboard,
    leadership: options.leadership,
    ...(options.streamQueueBytes !== undefined ? { streamQueueBytes: options.streamQueueBytes } : {}),
  });
  const token = 'token' in options ? options.token : TOKEN;
  const request: QueenAppHarness['request'] = (path, init = {}) => {
    const { token: given, ...rest } = init;
    const bearer = given === undefined ? token : given;
    const headers = new Headers(rest.headers);
    if (bearer !== null && bearer !== undefined) headers.set('authorization', `Bearer ${bearer}`);
    return Promise.resolve(queen.app.request(path, { ...rest, headers }));
  };
  return {
    ...queen,
    timers,
    request,
    post: (path, body, init = {}) => {
      const headers: Record<string, string> = {};
      const contentType = init.contentType === undefined ? 'application/json' : init.contentType;
      if (contentType !== null) headers['content-type'] = contentType;
      return request(path, {
        method: 'POST',
        headers,
        body: typeof body === 'string' ? body : JSON.stringify(body),
        ...(init.token !== undefined ? { token: init.token } : {}),
      });
    },
    state: () =>
      JSON.stringify({
        hives: hiveViews(queen.registry),
        workers: workerViews(queen.registry),
        health: queenHealth(queen.registry, queen.queenEpoch),
        revision: queen.stream.revision,
      }),
  };
}
