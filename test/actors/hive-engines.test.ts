import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HiveWorkerList, SpawnWorkerResponse, WorkerHealth } from '../../contracts/hive-api.js';
import type { WorkerView } from '../../contracts/registry.js';
import { createHiveDirs } from '../support/hive-dirs.js';
import { isRunning } from '../support/process-tree.js';
import { QueenApi } from '../support/queen-api.js';
import { eventually, killAll, type RoleProcess, startRole, track } from '../support/role-process.js';

/** Hives that spawn workers whose engine is the fake llama-server or vLLM under test/fixtures, as real processes. */

const FAKE_ENGINE = fileURLToPath(new URL('../fixtures/fake-engine.mjs', import.meta.url));
const FAST = ['--request-timeout', '500ms', '--jitter', '0'];
const QUEEN_TIMINGS = [
  ...['--heartbeat-interval', '300ms', '--suspect-after', '3s', '--offline-after', '6s'],
  ...['--forget-after', '1m', '--no-discovery'],
];
/** Heartbeats so far apart that a status seen at the queen within a test's wait was pushed, not the next beat. */
const SLOW_QUEEN_TIMINGS = [
  ...['--heartbeat-interval', '60s', '--suspect-after', '90s', '--offline-after', '180s'],
  ...['--forget-after', '10m', '--no-discovery'],
];

let dir = '';
let modelsDir = '';
let workersDir = '';

function manifest(workerType: string, engine: 'llama.cpp' | 'vllm', extra: string[], readyTimeout = '10s'): void {
  const flavor = engine === 'vllm' ? 'vllm' : 'llama';
  const command = [
    process.execPath,
    FAKE_ENGINE,
    '--port',
    '{engine_port}',
    '--flavor',
    flavor,
    '--model',
    '{model_id}',
  ];
  writeFileSync(
    path.join(workersDir, `${workerType}.json`),
    JSON.stringify({
      worker_type: workerType,
      version: 'b6000',
      engine,
      command: [...command, ...extra],
      env: { FAKE_DEVICE_INDEX: '{device_index}' },
      health_path: '/health',
      ready_timeout: readyTimeout,
    }),
  );
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'apiary-engines-'));
  ({ modelsDir, workersDir } = createHiveDirs(dir, 'hive', ['tiny'], 1024));
  manifest('llama', 'llama.cpp', []);
  manifest('llama-loading', 'llama.cpp', ['--load-until-told']);
  manifest('vllm', 'vllm', ['--slots', '1']);
  manifest('broken', 'llama.cpp', ['--never-ready'], '1s');
  manifest('llama-slow-stop', 'llama.cpp', ['--stop-ms', '3000']);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => killAll());

/** A hive (and the workers it spawns) heartbeating every `heartbeatInterval`. */
function startHive(queen: RoleProcess, hiveId: string, heartbeatInterval = '300ms'): Promise<RoleProcess> {
  return startRole('hive', [
    ...['--port', '0', '--hive-id', hiveId, '--models-dir', modelsDir, '--workers-dir', workersDir],
    ...['--queen-url', queen.url, '--backoff', '0s,300ms,300ms', '--max-failures', '3', '--probe-interval', '0'],
    ...['--state-dir', path.join(dir, `state-${hiveId}`), '--heartbeat-interval', heartbeatInterval, ...FAST],
  ]);
}

async function cluster(
  slow = false,
): Promise<{ queen: RoleProcess; hive: RoleProcess; api: QueenApi; hiveId: string }> {
  const queen = await startRole('queen', ['--port', '0', ...(slow ? SLOW_QUEEN_TIMINGS : QUEEN_TIMINGS)]);
  const hiveId = `hive-${randomUUID().slice(0, 8)}`;
  const hive = await startHive(queen, hiveId, slow ? '60s' : '300ms');
  return { queen, hive, api: new QueenApi(queen.url), hiveId };
}

async function spawnWorker(hive: RoleProcess, body: object): Promise<SpawnWorkerResponse> {
  const response = await fetch(`${hive.url}/v1/workers`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status, await response.clone().text()).toBe(201);
  const spawned = SpawnWorkerResponse.parse(await response.json());
  track(spawned.pid);
  return spawned;
}

function viewWhere(api: QueenApi, id: string, test: (view: WorkerView) => boolean, what: string, timeoutMs = 45_000) {
  return eventually(
    async () => {
      const view = await api.worker(id);
      return view && test(view) ? view : undefined;
    },
    what,
    timeoutMs,
  );
}

/** The engine's base URL (the worker's /health names its upstream) and its process id, once it listens. */
async function engineOf(port: number): Promise<{ base: string; pid: number }> {
  const health = WorkerHealth.parse(await (await fetch(`http://127.0.0.1:${port}/health`)).json());
  const base = health.upstream;
  if (base === null) throw new Error('no engine');
  const { pid } = await eventually(
    async () => (await (await fetch(`${base}/pid`)).json()) as { pid: number },
    'the engine listening',
    20_000,
  );
  track(pid);
  return { base, pid };
}

/** A hive with one worker of `workerType`, ready at the queen, and that worker's engine. */
async function readyWorker(workerType: string) {
  const started = await cluster();
  const spawned = await spawnWorker(started.hive, { model: 'tiny', worker_type: workerType });
  await viewWhere(started.api, spawned.worker_id, (v) => v.status === 'ready', 'ready');
  return { ...started, spawned, engine: await engineOf(spawned.port) };
}

/** Waits until none of `pids` runs any more. */
function allGone(pids: number[], what: string, timeoutMs?: number) {
  return eventually(() => (pids.some(isRunning) ? undefined : true), what, timeoutMs);
}

const chat = (port: number, content: string, headers: Record<string, string> = {}) =>
  fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content }] }),
  });

// Several processes each (queen, hive, worker, engine): generous bounds for a loaded machine; waits are on events.
const PROCESS_TEST_MS = 60_000;

describe('hive: workers with a real engine', { timeout: 180_000 }, () => {
  it(
    'starting while the engine loads, ready at the queen once its health is 200, busy with a slot, restarted after kill -9',
    async () => {
      const { hive, api } = await cluster();
      const spawned = await spawnWorker(hive, { model: 'tiny', worker_type: 'llama-loading' });
      const starting = await viewWhere(api, spawned.worker_id, (v) => v.status === 'starting', 'starting at the queen');
      expect(starting.engine).toBe('llama.cpp');
      const engine = await engineOf(spawned.port);
      // Still loading: the worker refuses requests until its engine is ready.
      expect((await chat(spawned.port, 'too early')).status).toBe(503);
      await fetch(`${engine.base}/loaded`, { method: 'POST' });

      const ready = await viewWhere(api, spawned.worker_id, (v) => v.status === 'ready', 'ready at the queen');
      expect(ready).toMatchObject({ engine: 'llama.cpp', restarts: 0 });
      const models = (await (await fetch(`http://127.0.0.1:${spawned.port}/v1/models`)).json()) as {
        data: { owned_by: string }[];
      };
      expect(models.data[0]?.owned_by).toBe('llama');

      // The engine refuses any request that carries an Authorization header: the proxy must not pass the client's on.
      const answered = await chat(spawned.port, 'hello', { authorization: 'Bearer client-secret' });
      expect(answered.status).toBe(200);

      const held = chat(spawned.port, 'hold');
      // `/slots` and `/metrics` are read side by side: one read may see the held request and the other not yet.
      const busy = await viewWhere(
        api,
        spawned.worker_id,
        (v) => v.status === 'busy' && v.slots_busy === 1 && v.kv_cache_usage === 0.125,
        'busy with one slot busy and its KV cache in use',
      );
      expect(busy).toMatchObject({ slots_total: 2, queue_depth: 0 });
      await fetch(`${engine.base}/release`, { method: 'POST' });
      expect((await held).status).toBe(200);

      process.kill(engine.pid, 'SIGKILL');
      const killedAt = Date.now();
      const failed = await viewWhere(api, spawned.worker_id, (v) => v.status === 'error', 'error at the queen', 2_000);
      expect(Date.now() - killedAt).toBeLessThan(2_000);
      expect(failed.last_error).toMatch(/engine exited \(SIGKILL\)/);
      // The restarted engine loads again until told.
      const restarted = await engineOf(spawned.port);
      expect(restarted.pid).not.toBe(engine.pid);
      await fetch(`${restarted.base}/loaded`, { method: 'POST' });
      await viewWhere(api, spawned.worker_id, (v) => v.status === 'ready' && v.restarts === 1, 'restarted and ready');

      const deleted = await fetch(`${hive.url}/v1/workers/${spawned.worker_id}`, { method: 'DELETE' });
      expect(deleted.status).toBe(204);
      await allGone([restarted.pid, spawned.pid], 'worker and engine gone');
    },
    PROCESS_TEST_MS,
  );

  it(
    'ready reaches the queen as soon as the engine is healthy, pushed rather than left for the next heartbeat',
    async () => {
      // A minute between heartbeats: ready at the queen within the wait below can only have been pushed at once.
      const { hive, api } = await cluster(true);
      const spawned = await spawnWorker(hive, { model: 'tiny', worker_type: 'llama-loading' });
      await viewWhere(api, spawned.worker_id, (v) => v.status === 'starting', 'starting at the queen');
      const engine = await engineOf(spawned.port);
      await fetch(`${engine.base}/loaded`, { method: 'POST' });
      const ready = await viewWhere(api, spawned.worker_id, (v) => v.status === 'ready', 'ready pushed', 15_000);
      expect(ready).toMatchObject({ engine: 'llama.cpp', restarts: 0 });
    },
    PROCESS_TEST_MS,
  );

  it(
    'an engine that never gets healthy is error after its ready timeout, with the reason',
    async () => {
      const { hive, api } = await cluster();
      const spawned = await spawnWorker(hive, { model: 'tiny', worker_type: 'broken' });
      const failed = await viewWhere(api, spawned.worker_id, (v) => v.status === 'error', 'error after ready_timeout');
      expect(failed.last_error).toMatch(/not healthy within the ready timeout/);
    },
    PROCESS_TEST_MS,
  );

  it(
    "reads vLLM's /metrics: a request running in its one slot, and one waiting in its queue",
    async () => {
      const { api, spawned, engine } = await readyWorker('vllm');
      const held = chat(spawned.port, 'hold');
      await viewWhere(api, spawned.worker_id, (v) => v.slots_busy === 1, 'one request running');
      // Sent once the held request has the slot, so it is the one that waits.
      const queued = chat(spawned.port, 'after the held one');
      const busy = await viewWhere(
        api,
        spawned.worker_id,
        (v) => v.slots_busy === 1 && v.queue_depth === 1,
        'one request running, one queued',
      );
      expect(busy).toMatchObject({ engine: 'vllm', kv_cache_usage: 0.25 });
      await fetch(`${engine.base}/release`, { method: 'POST' });
      expect((await held).status).toBe(200);
      expect((await queued).status).toBe(200);
      await viewWhere(api, spawned.worker_id, (v) => v.slots_busy === 0 && v.queue_depth === 0, 'both served');
    },
    PROCESS_TEST_MS,
  );

  it(
    'a worker outlives its SIGKILLed hive, serving; the hive restarted adopts it and reports its death; its engine dies with it',
    async () => {
      const { queen, hive, api, hiveId, spawned, engine } = await readyWorker('llama');

      hive.child.kill('SIGKILL');
      await hive.exited;
      expect((await chat(spawned.port, 'still serving?')).status).toBe(200);

      const restarted = await startHive(queen, hiveId);
      const listed = HiveWorkerList.parse(await (await fetch(`${restarted.url}/v1/workers`)).json());
      expect(listed.workers).toEqual([
        expect.objectContaining({
          worker_id: spawned.worker_id,
          pid: spawned.pid,
          port: spawned.port,
          engine: 'llama.cpp',
        }),
      ]);

      process.kill(spawned.pid, 'SIGKILL');
      await viewWhere(api, spawned.worker_id, (v) => v.status === 'error', 'the adopted worker error at the queen');
      // The worker could not stop its engine: its watchdog did.
      await allGone([engine.pid], 'the engine of the killed worker gone', 15_000);
      const after = HiveWorkerList.parse(await (await fetch(`${restarted.url}/v1/workers`)).json());
      expect(after.workers).toEqual([]);
    },
    PROCESS_TEST_MS,
  );

  it(
    "a worker adopted by a restarted hive follows the hive's new identity: it reads the new secret when refused",
    async () => {
      const { queen, hive, api, hiveId, spawned } = await readyWorker('llama');
      hive.child.kill('SIGKILL');
      await hive.exited;
      await startHive(queen, hiveId);
      // The identity reset, as after a partition longer than --forget-after: the hive registers anew with a new
      // secret, which the adopted worker (no IPC channel to its new hive) was not told.
      expect((await fetch(`${queen.url}/v1/hives/${hiveId}`, { method: 'DELETE' })).status).toBe(204);
      await eventually(async () => ((await api.hive(hiveId))?.liveness === 'online' ? true : undefined), 'hive back');
      await viewWhere(api, spawned.worker_id, (v) => v.status === 'ready', 'the adopted worker taken again');
      // Taken for good: a second of its heartbeats comes with none refused (the old secret stays good until the hive
      // proves its new one, so the worker may be refused once after that, before it reads the file).
      const refused = () =>
        api.metric('apiary_heartbeats_received_total', { kind: 'worker', result: 'identity_refused' });
      await eventually(
        async () => {
          const before = await refused();
          await new Promise((resolve) => setTimeout(resolve, 1_000));
          return (await refused()) === before ? true : undefined;
        },
        'a second of worker heartbeats, none refused',
        20_000,
      );
      expect(await api.worker(spawned.worker_id)).toMatchObject({ status: 'ready', liveness: 'online' });
    },
    PROCESS_TEST_MS,
  );

  it(
    'SIGTERM of the hive stops its workers and their engines',
    async () => {
      const { hive, api, spawned, engine } = await readyWorker('llama');
      await hive.stop();
      await allGone([spawned.pid, engine.pid], 'worker and engine gone');
      expect((await api.worker(spawned.worker_id))?.status).toBe('stopped');
    },
    PROCESS_TEST_MS,
  );

  it(
    'SIGTERM of the hive waits for an engine that takes 3 s to stop: the worker stops, it is not killed as failed',
    async () => {
      const { hive, api, spawned, engine } = await readyWorker('llama-slow-stop');
      await hive.stop(60_000);
      await allGone([spawned.pid, engine.pid], 'worker and engine gone');
      expect(hive.logs.filter((line) => line.msg === 'worker did not stop in time; killing it')).toEqual([]);
      expect((await api.worker(spawned.worker_id))?.status).toBe('stopped');
    },
    PROCESS_TEST_MS,
  );
});
