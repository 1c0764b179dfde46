import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../../contracts/events.js';
import { HiveMetrics, type MetricsPoint } from '../../contracts/metrics-history.js';
import { QUEEN_PATHS, withId } from '../../contracts/paths.js';
import { freePort } from '../../services/ports.js';
import { createHiveDirs } from '../support/hive-dirs.js';
import { QueenApi } from '../support/queen-api.js';
import { eventually, killAll, type RoleProcess, startRole } from '../support/role-process.js';

/**
 * The queen remembers (real processes): its registry and history survive a kill -9, live hives get the restart
 * grace and never go offline for the queen's own absence, identities keep impostors out, and expected hives that
 * start late are found by the repeated discovery.
 */

const INTERVAL_MS = 200;
// Wide windows: a role starved for a second on a loaded machine must not read as a missed heartbeat.
const OFFLINE_AFTER_MS = 3_000;
const QUEEN_TIMINGS = [
  ...[
    '--heartbeat-interval',
    `${INTERVAL_MS}ms`,
    '--suspect-after',
    '600ms',
    '--offline-after',
    `${OFFLINE_AFTER_MS}ms`,
  ],
  ...['--forget-after', '10m', '--no-discovery'],
];
const HIVE_TIMINGS = [
  ...['--heartbeat-interval', `${INTERVAL_MS}ms`, '--request-timeout', '500ms', '--jitter', '0'],
  ...['--backoff', '0s,200ms,200ms', '--max-failures', '2', '--probe-interval', '200ms'],
];

/** Roles start slowly on a loaded machine: waits are bounded by events, generously. */
const WAIT_MS = 15_000;
const TEST_MS = 90_000;

let dir = '';
let modelsDir = '';
let workersDir = '';

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'apiary-remembers-'));
  ({ modelsDir, workersDir } = createHiveDirs(dir, 'hive', ['tiny'], 1024));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => killAll());

function stateDir(name: string): string {
  return path.join(dir, `${name}-${randomUUID().slice(0, 8)}`);
}

function startQueen(port: number, queenState: string, extra: readonly string[] = []): Promise<RoleProcess> {
  return startRole('queen', ['--port', String(port), '--state-dir', queenState, ...QUEEN_TIMINGS, ...extra]);
}

function startHive(hiveId: string, hiveState: string, extra: readonly string[] = []): Promise<RoleProcess> {
  return startRole('hive', [
    ...['--port', '0', '--hive-id', hiveId, '--models-dir', modelsDir, '--workers-dir', workersDir],
    ...['--state-dir', hiveState, ...HIVE_TIMINGS, ...extra],
  ]);
}

/** A queen on a state directory of its own, and a hive heartbeating to it. */
async function queenWithHive(
  prefix: string,
): Promise<{ port: number; queenState: string; hiveId: string; queen: RoleProcess }> {
  const port = await freePort('127.0.0.1');
  const queenState = stateDir('queen');
  const hiveId = `${prefix}-${randomUUID().slice(0, 8)}`;
  const queen = await startQueen(port, queenState);
  await startHive(hiveId, stateDir('hive'), ['--queen-url', queen.url]);
  return { port, queenState, hiveId, queen };
}

function history(queen: RoleProcess, id: string): Promise<HistoryEvent[]> {
  return new QueenApi(queen.url).history(id);
}

/** A hive's CPU series since `since` (epoch ms), one point per sample. */
async function cpuSince(queen: RoleProcess, id: string, since: number): Promise<MetricsPoint[]> {
  const url = `${queen.url}${withId(QUEEN_PATHS.hiveMetrics, id)}`;
  const response = await fetch(`${url}?since=${new Date(since).toISOString()}`);
  if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
  return HiveMetrics.parse(await response.json()).series.cpu ?? [];
}

function transitions(events: readonly HistoryEvent[]): string[] {
  return events.filter((event) => event.type === 'liveness').map((e) => `${e.from}→${e.to} (${e.reason})`);
}

async function killed(role: RoleProcess): Promise<void> {
  role.child.kill('SIGKILL');
  await role.exited;
}

describe('the queen remembers', () => {
  it(
    'lists a hive that died before the queen was killed as offline with its old last_seen, history included',
    async () => {
      const port = await freePort('127.0.0.1');
      const queenState = stateDir('queen');
      const hiveId = `dead-${randomUUID().slice(0, 8)}`;
      const queen = await startQueen(port, queenState);
      const hive = await startHive(hiveId, stateDir('hive'), ['--queen-url', queen.url]);
      const api = new QueenApi(queen.url);
      await eventually(
        async () => ((await api.hive(hiveId))?.liveness === 'online' ? true : undefined),
        'online',
        WAIT_MS,
      );
      await killed(hive);
      const offline = await eventually(
        async () => {
          const view = await api.hive(hiveId);
          return view?.liveness === 'offline' ? view : undefined;
        },
        'the killed hive offline',
        WAIT_MS,
      );
      // Past the write-behind: what the history shows is what the database holds.
      await eventually(
        async () =>
          transitions(await history(queen, hiveId)).includes('suspect→offline (missed heartbeats)') ? true : undefined,
        'the offline transition in the history',
        WAIT_MS,
      );
      await killed(queen);

      const again = await startQueen(port, queenState);
      const view = await new QueenApi(again.url).hive(hiveId);
      expect(view).toMatchObject({ liveness: 'offline', last_seen: offline.last_seen });
      const events = await history(again, hiveId);
      expect(events[0]).toMatchObject({ type: 'registered', to: 'online' });
      // Its death, last; a loaded machine may have starved it into suspect and back before.
      expect(transitions(events).slice(-2)).toEqual([
        'online→suspect (missed heartbeats)',
        'suspect→offline (missed heartbeats)',
      ]);
      expect(again.logs.find((line) => line.msg === 'queen listening')).toMatchObject({
        state_db: path.join(queenState, 'queen.db'),
        state_bytes: expect.any(Number),
      });
    },
    TEST_MS,
  );

  it(
    'gives a live hive the restart grace: suspect (queen restart), then online, never offline, however long the queen was down',
    async () => {
      const { port, queenState, hiveId, queen } = await queenWithHive('live');
      const api = new QueenApi(queen.url);
      const before = await eventually(
        async () => {
          const view = await api.hive(hiveId);
          return view?.liveness === 'online' ? view : undefined;
        },
        'online',
        WAIT_MS,
      );
      // Written by the queen before it dies: its first write-behind has the hive online.
      await eventually(
        async () => ((await history(queen, hiveId)).length > 0 ? true : undefined),
        'history written',
        WAIT_MS,
      );
      await killed(queen);
      const downAt = Date.now();
      // Down for longer than offline-after: the restart must not count that silence against the hive.
      await eventually(
        () => (Date.now() - downAt > 2 * OFFLINE_AFTER_MS ? true : undefined),
        'the queen down long',
        WAIT_MS,
      );

      const again = await startQueen(port, queenState);
      const restarted = new QueenApi(again.url);
      const back = await eventually(
        async () => {
          const view = await restarted.hive(hiveId);
          return view?.liveness === 'online' ? view : undefined;
        },
        'the hive online at the restarted queen',
        WAIT_MS,
      );
      expect(back.boot_id).toBe(before.boot_id);
      // It stays online: a full offline window after the restart, still never offline.
      const settled = Date.now() + OFFLINE_AFTER_MS;
      await eventually(() => (Date.now() > settled ? true : undefined), 'an offline window', WAIT_MS);
      expect((await restarted.hive(hiveId))?.liveness).toBe('online');
      const after = transitions(await history(again, hiveId));
      expect(after).toContain('online→suspect (queen restart)');
      const sinceRestart = after.slice(after.indexOf('online→suspect (queen restart)'));
      expect(sinceRestart.slice(0, 2)).toEqual(['online→suspect (queen restart)', 'suspect→online (heartbeat)']);
      expect(sinceRestart.filter((transition) => transition.includes('→offline'))).toEqual([]);
      const events = (await history(again, hiveId)).filter((event) => event.type === 'liveness');
      const restartAt = events.findIndex((event) => event.reason === 'queen restart');
      const [restart, online] = events.slice(restartAt, restartAt + 2).map((event) => Date.parse(event.time));
      // Back well inside the window the restart gave it.
      expect((online ?? Number.POSITIVE_INFINITY) - (restart ?? 0)).toBeLessThan(OFFLINE_AFTER_MS);
    },
    TEST_MS,
  );

  it(
    'serves a hive’s metrics from before a restart: the minutes the stopped queen archived, then the new samples',
    async () => {
      const { port, queenState, hiveId, queen } = await queenWithHive('trend');
      const startedAt = Date.now() - 60_000;
      const before = await eventually(
        async () => {
          const cpu = await cpuSince(queen, hiveId, startedAt);
          return cpu.length > 0 ? cpu : undefined;
        },
        'a sample at the first queen',
        WAIT_MS,
      );
      queen.child.kill('SIGTERM');
      await queen.exited;
      const stoppedAt = (before.at(-1)?.[0] ?? 0) * 1000;

      const again = await startQueen(port, queenState);
      const after = await eventually(
        async () => {
          const cpu = await cpuSince(again, hiveId, startedAt);
          return cpu.some(([time]) => time * 1000 > stoppedAt) ? cpu : undefined;
        },
        'a sample at the restarted queen',
        WAIT_MS,
      );
      // Each minute of the first queen is one point at its start, the mean of that minute's samples.
      const minutes = new Map<number, number[]>();
      for (const [time, value] of before) {
        const minute = Math.floor(time / 60) * 60;
        minutes.set(minute, [...(minutes.get(minute) ?? []), value ?? Number.NaN]);
      }
      const archived = after.filter(([time]) => time * 1000 <= stoppedAt);
      expect(archived.map(([time]) => time)).toEqual([...minutes.keys()]);
      for (const [time, value] of archived) {
        const values = minutes.get(time) ?? [];
        expect(value).toBeCloseTo(values.reduce((sum, each) => sum + each, 0) / values.length, 2);
      }
      expect(after.slice(archived.length).every(([time]) => time * 1000 > stoppedAt)).toBe(true);
    },
    TEST_MS,
  );

  it(
    'refuses an impostor with the same hive id (403, one identity_refused event), and keeps the real hive through its restart',
    async () => {
      const port = await freePort('127.0.0.1');
      const hiveId = `ident-${randomUUID().slice(0, 8)}`;
      const hiveState = stateDir('hive');
      const queen = await startQueen(port, stateDir('queen'));
      const api = new QueenApi(queen.url);
      const real = await startHive(hiveId, hiveState, ['--queen-url', queen.url]);
      const registered = await eventually(
        async () => {
          const view = await api.hive(hiveId);
          return view?.liveness === 'online' ? view : undefined;
        },
        'the real hive online',
        WAIT_MS,
      );
      // A patient impostor: its first failure is the queen's answer, not a timeout of a loaded machine.
      const impostor = await startHive(hiveId, stateDir('impostor'), [
        '--queen-url',
        queen.url,
        '--request-timeout',
        '5s',
      ]);
      await eventually(
        () => (impostor.logs.some((line) => line.msg === 'heartbeat failed') ? true : undefined),
        'the impostor refused',
        WAIT_MS,
      );
      expect(JSON.stringify(impostor.logs.find((line) => line.msg === 'heartbeat failed'))).toContain('403');
      await killed(impostor);
      expect((await api.hive(hiveId))?.boot_id).toBe(registered.boot_id);
      const refused = (await history(queen, hiveId)).filter((event) => event.type === 'identity_refused');
      expect(refused).toHaveLength(1);

      await killed(real);
      const restarted = await startHive(hiveId, hiveState, ['--queen-url', queen.url]);
      await eventually(
        async () => {
          const view = await api.hive(hiveId);
          return view?.liveness === 'online' && view.boot_id !== registered.boot_id ? view : undefined;
        },
        'the real hive back with a new boot',
        WAIT_MS,
      );
      // A loaded machine may time a beat out; what must never happen is the real hive refused as an impostor.
      const failures = restarted.logs.filter((line) => line.msg === 'heartbeat failed');
      expect(failures).not.toContainEqual(
        expect.objectContaining({ failure: expect.objectContaining({ status: 403 }) }),
      );
    },
    TEST_MS,
  );

  it(
    'finds an expected pull-only hive that starts after the queen within one discovery interval',
    async () => {
      const hivePort = await freePort('127.0.0.1');
      const config = path.join(dir, `config-${randomUUID().slice(0, 8)}`);
      writeFileSync(config, 'Host gpu-late\n  HostName 127.0.0.1\n');
      const queen = await startRole('queen', [
        ...['--port', '0', '--state-dir', 'none', '--hives-config', config, '--hive-port', String(hivePort)],
        ...['--discovery-delay', '0', '--discovery-interval', '500ms', '--discovery-timeout', '1s'],
        ...QUEEN_TIMINGS.filter((arg) => arg !== '--no-discovery'),
      ]);
      const api = new QueenApi(queen.url);
      await eventually(
        async () => ((await api.hive('gpu-late'))?.expected ? true : undefined),
        'gpu-late expected',
        WAIT_MS,
      );
      expect((await api.hive('gpu-late'))?.liveness).toBe('offline');
      await startHive('gpu-late', stateDir('late'), ['--port', String(hivePort)]);
      await eventually(
        async () => ((await api.hive('gpu-late'))?.liveness === 'online' ? true : undefined),
        'gpu-late discovered',
        WAIT_MS,
      );
    },
    TEST_MS,
  );
});
