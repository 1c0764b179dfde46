import { Hono } from 'hono';
import { onTestFinished } from 'vitest';
import { z } from 'zod';
import { type AssembledQueen, assembleQueen } from '../../actors/assemble-queen.js';
import { HeartbeatAck } from '../../contracts/heartbeat.js';
import type { Leadership } from '../../services/ha/leadership.js';
import { type Logger, silentLogger } from '../../services/logger.js';
import type { RegistryCapacity } from '../../services/queen/registry.js';
import { hiveViews, queenHealth, workerViews } from '../../services/queen/views.js';
import { openSqliteStore } from '../../services/store/sqlite-store.js';
import { QUEEN_EPOCH } from '../fixtures/examples.js';
import { DEFAULT_LIVENESS, steppedClocks } from './queen-registry.js';
import type { SteppingClock } from './stepping-clock.js';

export const TOKEN = 's3cret-token';

export interface QueenAppHarness extends AssembledQueen {
  timers: SteppingClock;
  /** `app.request` with the bearer token unless `token` says otherwise (null: none). */
  request(path: string, init?: RequestInit & { token?: string | null }): Promise<Response>;
  /**
   * POSTs `body` (JSON-encoded unless a string) with a JSON content type unless told otherwise. Like a real hive and
   * its workers, a heartbeat carries the secret its hive id was issued, unless it has its own `hive_secret`.
   */
  post(path: string, body: unknown, init?: { token?: string | null; contentType?: string | null }): Promise<Response>;
  /** Everything the registry shows, to prove a refused request changed nothing. */
  state(): string;
}

export interface QueenAppOptions {
  token?: string | undefined;
  streamIntervalMs?: number;
  streamQueueBytes?: number;
  logger?: Logger;
  leadership?: Leadership;
  capacity?: RegistryCapacity;
}

/** A whole queen but its socket, on simulated clocks, with a stand-in dashboard; closed when its test finishes. */
export function startQueenApp(options: QueenAppOptions = {}): QueenAppHarness {
  const { timers, clock } = steppedClocks();
  const dashboard = new Hono();
  dashboard.get('/', (c) => c.text('dashboard page'));
  dashboard.get('/dashboard/:file', (c) => c.text(`module ${c.req.param('file')}`));
  const queen = assembleQueen({
    settings: DEFAULT_LIVENESS,
    streamIntervalMs: options.streamIntervalMs ?? 2_500,
    token: 'token' in options ? options.token : TOKEN,
    logger: options.logger ?? silentLogger,
    queenEpoch: QUEEN_EPOCH,
    clock,
    timers,
    dashboard,
    // SQLite in memory: the history works as on a real queen, and nothing is left behind.
    store: openSqliteStore(null),
    leadership: options.leadership,
    ...(options.capacity ? { capacity: options.capacity } : {}),
    ...(options.streamQueueBytes !== undefined ? { streamQueueBytes: options.streamQueueBytes } : {}),
  });
  const token = 'token' in options ? options.token : TOKEN;
  const secrets = new Map<string, string>();
  const request: QueenAppHarness['request'] = (path, init = {}) => {
    const { token: given, ...rest } = init;
    const bearer = given === undefined ? token : given;
    const headers = new Headers(rest.headers);
    if (bearer !== null && bearer !== undefined) headers.set('authorization', `Bearer ${bearer}`);
    return Promise.resolve(queen.app.request(path, { ...rest, headers }));
  };
  onTestFinished(() => queen.close());
  return {
    ...queen,
    timers,
    request,
    post: async (path, body, init = {}) => {
      const headers: Record<string, string> = {};
      const contentType = init.contentType === undefined ? 'application/json' : init.contentType;
      if (contentType !== null) headers['content-type'] = contentType;
      const hiveId = hiveIdOf(body);
      const response = await request(path, {
        method: 'POST',
        headers,
        body: typeof body === 'string' ? body : JSON.stringify(withKnownSecret(body, secrets)),
        ...(init.token !== undefined ? { token: init.token } : {}),
      });
      const issued = response.ok && hiveId !== undefined ? await issuedSecret(response.clone()) : undefined;
      if (issued !== undefined && hiveId !== undefined) secrets.set(hiveId, issued);
      return response;
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

function hiveIdOf(body: unknown): string | undefined {
  const parsed = z.object({ hive_id: z.string() }).safeParse(body);
  return parsed.success ? parsed.data.hive_id : undefined;
}

function withKnownSecret(body: unknown, secrets: ReadonlyMap<string, string>): unknown {
  const hiveId = hiveIdOf(body);
  const secret = hiveId === undefined ? undefined : secrets.get(hiveId);
  if (secret === undefined || typeof body !== 'object' || body === null || 'hive_secret' in body) return body;
  return { ...body, hive_secret: secret };
}

async function issuedSecret(response: Response): Promise<string | undefined> {
  const ack = HeartbeatAck.safeParse(await response.json().catch(() => undefined));
  return ack.success ? ack.data.hive_secret : undefined;
}
