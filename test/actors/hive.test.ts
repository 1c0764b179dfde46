import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HiveHealth, SpawnWorkerResponse } from '../../contracts/hive-api.js';
import { QUEEN_PATHS } from '../../contracts/paths.js';
import type { HiveView, WorkerView } from '../../contracts/registry.js';
import { StreamEvent } from '../../contracts/stream.js';
import { freePort } from '../../services/ports.js';
import { createFakeNvidiaSmi } from '../fixtures/fake-nvidia-smi.js';
import { createHiveDirs } from '../support/hive-dirs.js';
import { isRunning } from '../support/process-tree.js';
import { authHeaders, QueenApi } from '../support/queen-api.js';
import {
  eventually,
  killAll,
  type RoleProcess,
  roleScript,
  startRole,
  track,
  withoutApiaryEnv,
} from '../support/role-process.js';
import { SseReader } from '../support/sse-reader.js';

const FAST = ['--heartbeat-interval', '200ms', '--request-timeout', '500ms', '--jitter', '0'];
const QUEEN_TIMINGS = [
  ...['--heartbeat-interval', '200ms', '--suspect-after', '600ms', '--offline-after', '1200ms'],
  ...['--forget-after', '1m', '--no-discovery'],
];
const MODEL_BYTES = 3 * 1024 * 1024;

let dir = '';
let modelsDir = '';
let workersDir = '';
let optionModelsDir = '';
const streams: AbortController[] = [];

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'apiary-hive-'));
  ({ modelsDir, workersDir } = createHiveDirs(dir, 'hive', ['tiny'], MODEL_BYTES));
  // A model whose id looks like an option of the worker, in a models directory of its own.
  optionModelsDir = path.join(dir, 'option-models');
  mkdirSync(optionModelsDir);
  writeFileSync(path.join(optionModelsDir, '--log-level.gguf'), Buffer.alloc(1024));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  for (const stream of streams.splice(0)) stream.abort();
  killAll();
});

function hiveArgs(hiveId: string, extra: readonly string[] = []): string[] {
  return [
    ...['--port', '0', '--hive-id', hiveId, '--models-dir', modelsDir, '--workers-dir', workersDir],
    ...['--state-dir', path.join(dir, 'state', hiveId)],
    ...['--backoff', '0s,300ms,300ms', '--probe-interval', '0', ...FAST, ...extra],
  ];
}

function startQueen(extra: readonly string[] = []): Promise<RoleProcess> {
  return startRole('queen', ['--port', '0', ...QUEEN_TIMINGS, ...extra]);
}

const auth = authHeaders;

function hiveAt(queen: RoleProcess, hiveId: string, token?: string): Promise<HiveView | undefined> {
  return new QueenApi(queen.url, token).hive(hiveId);
}

function workerAt(queen: RoleProcess, workerId: string, token?: string): Promise<WorkerView | undefined> {
  return new QueenApi(queen.url, token).worker(workerId);
}

function onlineHive(queen: RoleProcess, hiveId: string, token?: string): Promise<HiveView> {
  return eventually(async () => {
    const view = await hiveAt(queen, hiveId, token);
    return view?.liveness === 'online' ? view : undefined;
  }, `hive ${hiveId} online at the queen`);
}

/** The worker's view once the queen shows it `ready`. */
function readyWorker(queen: RoleProcess, workerId: string): Promise<WorkerView> {
  return eventually(async () => {
    const view = await workerAt(queen, workerId);
    return view?.status === 'ready' ? view : undefined;
  }, `worker ${workerId} ready at the queen`);
}

function bootIdOf(hive: RoleProcess): unknown {
  return hive.logs.find((line) => line.msg === 'hive listening')?.boot_id;
}

/** The worker statuses the queen's live stream shows for one hive's workers, in order; resolves once connected. */
async function watchWorkers(queen: RoleProcess, hiveId: string, token: string): Promise<string[]> {
  const statuses: string[] = [];
  const controller = new AbortController();
  streams.push(controller);
  const response = await fetch(`${queen.url}${QUEEN_PATHS.stream}`, {
    headers: auth(token),
    signal: controller.signal,
  });
  const reader = new SseReader(response.body);
  const [first] = await reader.take(1);
  expect(StreamEvent.parse(first?.data).type).toBe('snapshot');
  void (async () => {
    for (let message = await reader.next(); message; message = await reader.next()) {
      if (message.comment !== undefined) continue;
      const event = StreamEvent.parse(message.data);
      if (event.type === 'worker' && event.hive_id === hiveId) statuses.push(event.status);
    }
  })().catch(() => {});
  return statuses;
}

describe('hive process', () => {
  it('prints --help and exits 0', () => {
    const result = spawnSync(process.execPath, [roleScript('hive'), '--help'], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('--models-dir');
  });

  it('started before its queen, finds it on a backoff attempt', async () => {
    const hiveId = `hive-${randomUUID().slice(0, 8)}`;
    const queenPort = await freePort('127.0.0.1');
    const hive = await startRole(
      'hive',
      hiveArgs(hiveId, [
        '--queen-url',
        `http://127.0.0.1:${queenPort}`,
        '--backoff',
        '0s,400ms',
        // Enough attempts (about 40 s) that a queen slow to start on a loaded machine is still found by one.
        '--max-failures',
        '100',
      ]),
    );
    await eventually(() => hive.logs.find((line) => line.msg === 'heartbeat failed'), 'a failed discovery attempt');
    const queen = await startQueen(['--port', String(queenPort)]);
    const view = await onlineHive(queen, hiveId);
    expect(view.boot_id).toBe(bootIdOf(hive));
    expect(view.capabilities?.models).toEqual([{ model_id: 'tiny', size_gb: MODEL_BYTES / 1024 ** 3 }]);
    expect(view.monitor_data?.ram_total_gb).toBeGreaterThan(0);
    await eventually(() => hive.logs.find((line) => line.msg === 'queen reachable again'), 'the hive seeing its ack');
    const lifecycle = hive.logs.filter((line) => line.msg === 'lifecycle').map((line) => line.to);
    // Straight from push discovery to heartbeating: the queen was found before the attempts ran out.
    expect(lifecycle).toEqual(['DISCOVERY_PUSH', 'HEARTBEATING']);
  });

  it('started after its queen, is discovered through ?queen_url=; on SIGTERM stops its workers, then says stopping', async () => {
    const hiveId = `hive-${randomUUID().slice(0, 8)}`;
    const queen = await startQueen();
    const hive = await startRole('hive', hiveArgs(hiveId));
    const waiting = HiveHealth.parse(await (await fetch(`${hive.url}/health`)).json());
    expect(waiting).toMatchObject({ lifecycle: 'DISCOVERY_WAIT', queen_url: null });

    const answer = await fetch(`${hive.url}/capabilities?queen_url=${encodeURIComponent(queen.url)}`);
    expect(answer.status).toBe(200);
    const view = await onlineHive(queen, hiveId);
    expect(view.boot_id).toBe(bootIdOf(hive));
    expect(view.hive_url).toBe(hive.url);
    const health = HiveHealth.parse(await (await fetch(`${hive.url}/health`)).json());
    expect(health).toMatchObject({ lifecycle: 'HEARTBEATING', queen_url: queen.url });

    // A worker spawned now reports to the queen that discovered the hive.
    const spawned = SpawnWorkerResponse.parse(
      await (
        await fetch(`${hive.url}/v1/workers`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'tiny' }),
        })
      ).json(),
    );
    track(spawned.pid);
    await eventually(async () => {
      const worker = await workerAt(queen, spawned.worker_id);
      return worker?.status === 'ready' ? worker : undefined;
    }, 'the spawned worker ready at the queen');
    expect(hive.logs.some((line) => line.msg === 'worker listening' && line.worker_id === spawned.worker_id)).toBe(
      true,
    );

    hive.child.kill('SIGTERM');
    expect(await hive.exited).toEqual({ code: 0, signal: null });
    const stoppedHive = await hiveAt(queen, hiveId);
    const stoppedWorker = await workerAt(queen, spawned.worker_id);
    expect(stoppedHive).toMatchObject({ status: 'stopping', liveness: 'offline' });
    expect(stoppedWorker).toMatchObject({ status: 'stopped', liveness: 'offline' });
    expect(Date.parse(stoppedWorker?.last_seen ?? '')).toBeLessThanOrEqual(Date.parse(stoppedHive?.last_seen ?? ''));
    expect(() => process.kill(spawned.pid, 0)).toThrow();
  });

  it('restarted after a crash, is back online at the queen with a new boot id', async () => {
    const hiveId = `hive-${randomUUID().slice(0, 8)}`;
    const queen = await startQueen();
    const first = await startRole('hive', hiveArgs(hiveId, ['--queen-url', queen.url]));
    expect((await onlineHive(queen, hiveId)).boot_id).toBe(bootIdOf(first));
    first.child.kill('SIGKILL');
    await first.exited;
    await eventually(async () => {
      const view = await hiveAt(queen, hiveId);
      return view && view.liveness !== 'online' ? view : undefined;
    }, 'the crashed hive no longer online');

    const second = await startRole('hive', hiveArgs(hiveId, ['--queen-url', queen.url]));
    const view = await onlineHive(queen, hiveId);
    expect(view.boot_id).toBe(bootIdOf(second));
    expect(view.boot_id).not.toBe(bootIdOf(first));
  });

  it('reads its GPUs through one nvidia-smi loop on its PATH, which ends with the hive, stopped or killed', async () => {
    const fake = await createFakeNvidiaSmi();
    try {
      await fake.answer(['0, NVIDIA L4, 1024, 23034, 40, 12, 8.9', '1, NVIDIA L4, 0, 23034, 35, 0, 8.9'].join('\n'));
      const env = { ...withoutApiaryEnv(process.env), PATH: `${fake.dir}${path.delimiter}${process.env.PATH ?? ''}` };
      const queen = await startQueen();
      const hiveId = `hive-${randomUUID().slice(0, 8)}`;
      for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
        const loopsBefore = (await fake.loops()).length;
        const hive = await startRole('hive', hiveArgs(hiveId, ['--queen-url', queen.url]), { env });
        const view = await onlineHive(queen, hiveId);
        expect(view.capabilities?.devices.map((device) => device.id)).toEqual(['GPU-0', 'GPU-1', 'CPU-0']);
        await fake.answer(['0, NVIDIA L4, 2048, 23034, 41, 55, 8.9', '1, NVIDIA L4, 0, 23034, 35, 0, 8.9'].join('\n'));
        await eventually(async () => {
          const latest = await hiveAt(queen, hiveId);
          return latest?.monitor_data?.devices[0]?.vram_used_gb === 2 ? true : undefined;
        }, 'the new GPU reading at the queen');
        const loops = (await fake.loops()).slice(loopsBefore);
        expect(loops).toHaveLength(1);
        hive.child.kill(signal);
        await hive.exited;
        // Stopped, the hive kills its loop; killed, the loop dies on its next write to the closed pipe.
        await eventually(() => (loops.some(isRunning) ? undefined : true), `the nvidia-smi loop gone after ${signal}`);
      }
    } finally {
      await fake.remove();
    }
  });

  it('reports a GPU that falls off the bus as a capability change, and the same GPU back again', async () => {
    const fake = await createFakeNvidiaSmi();
    try {
      const gpus = ['0, NVIDIA L4, 1024, 23034, 40, 12, 8.9', '1, NVIDIA L4, 0, 23034, 35, 0, 8.9'];
      await fake.answer(gpus.join('\n'));
      const env = { ...withoutApiaryEnv(process.env), PATH: `${fake.dir}${path.delimiter}${process.env.PATH ?? ''}` };
      const queen = await startQueen();
      const hiveId = `hive-${randomUUID().slice(0, 8)}`;
      await startRole('hive', hiveArgs(hiveId, ['--queen-url', queen.url]), { env });
      await onlineHive(queen, hiveId);
      const devicesAtQueen = (ids: string[]) => async () => {
        const view = await hiveAt(queen, hiveId);
        const now = view?.capabilities?.devices.map((device) => device.id);
        return JSON.stringify(now) === JSON.stringify(ids) ? view : undefined;
      };
      await fake.answer(gpus[0] ?? '');
      const lost = await eventually(devicesAtQueen(['GPU-0', 'CPU-0']), 'GPU-1 gone from the capabilities');
      expect(lost.monitor_data?.devices.map((device) => device.device_id)).toEqual(['GPU-0']);
      await fake.answer(gpus.join('\n'));
      const back = await eventually(devicesAtQueen(['GPU-0', 'GPU-1', 'CPU-0']), 'GPU-1 back in the capabilities');
      expect(back.capabilities?.devices[1]).toEqual({
        id: 'GPU-1',
        name: 'NVIDIA L4',
        device_type: 'gpu',
        vram_gb: 22.494,
        compute_capability: '8.9',
      });
    } finally {
      await fake.remove();
    }
  });

  it('serves a model whose id looks like an option: the id reaches the worker as a value, never as a flag', async () => {
    const hiveId = `hive-${randomUUID().slice(0, 8)}`;
    const queen = await startQueen();
    const hive = await startRole(
      'hive',
      hiveArgs(hiveId, ['--queen-url', queen.url]).map((arg) => (arg === modelsDir ? optionModelsDir : arg)),
    );
    await onlineHive(queen, hiveId);
    const response = await fetch(`${hive.url}/v1/workers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: '--log-level', device: 'CPU-0' }),
    });
    expect(response.status).toBe(201);
    const spawned = SpawnWorkerResponse.parse(await response.json());
    track(spawned.pid);
    const ready = await readyWorker(queen, spawned.worker_id);
    expect(ready.model).toBe('--log-level');
    expect(isRunning(spawned.pid)).toBe(true);
  });

  it('leaves its workers serving and heartbeating when killed with SIGKILL', async () => {
    const hiveId = `hive-${randomUUID().slice(0, 8)}`;
    const queen = await startQueen();
    const hive = await startRole('hive', hiveArgs(hiveId, ['--queen-url', queen.url]));
    await onlineHive(queen, hiveId);
    const response = await fetch(`${hive.url}/v1/workers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tiny' }),
    });
    const spawned = SpawnWorkerResponse.parse(await response.json());
    track(spawned.pid);
    const ready = await readyWorker(queen, spawned.worker_id);

    hive.child.kill('SIGKILL');
    await hive.exited;
    // Heartbeats go on: the queen sees the worker's uptime grow, and it still answers.
    await eventually(
      async () => {
        const view = await workerAt(queen, spawned.worker_id);
        return view && view.uptime_seconds > ready.uptime_seconds && view.liveness === 'online' ? view : undefined;
      },
      'the worker heartbeating after its hive died',
      20_000,
    );
    const completion = await fetch(`http://127.0.0.1:${spawned.port}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tiny', prompt: 'still there?', max_tokens: 2 }),
    });
    expect(completion.status).toBe(200);
    expect(isRunning(spawned.pid)).toBe(true);
  });

  it('spawns a worker that goes starting → ready → busy → ready at the queen, and error at once when killed', async () => {
    const token = `token-${randomUUID()}`;
    const hiveId = `hive-${randomUUID().slice(0, 8)}`;
    const queen = await startQueen(['--token', token]);
    const hive = await startRole('hive', hiveArgs(hiveId, ['--queen-url', queen.url, '--token', token]));
    await onlineHive(queen, hiveId, token);

    const unauthorized = await fetch(`${hive.url}/v1/workers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tiny' }),
    });
    expect(unauthorized.status).toBe(401);
    const statuses = await watchWorkers(queen, hiveId, token);
    const response = await fetch(`${hive.url}/v1/workers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth(token) },
      body: JSON.stringify({ model: 'tiny' }),
    });
    expect(response.status).toBe(201);
    const spawned = SpawnWorkerResponse.parse(await response.json());
    track(spawned.pid);

    const ready = await eventually(async () => {
      const view = await workerAt(queen, spawned.worker_id, token);
      return view?.status === 'ready' ? view : undefined;
    }, 'the worker ready at the queen');
    expect(ready).toMatchObject({ hive_id: hiveId, model: 'tiny', device: 'CPU-0', port: spawned.port });

    // The demo backend spends 50 ms a token: 40 tokens keep the request in flight for about 2 s, longer than the
    // 1 s window in which the worker coalesces its status reports after the `ready` one.
    const completion = fetch(`http://127.0.0.1:${spawned.port}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth(token) },
      body: JSON.stringify({ model: 'tiny', prompt: 'lorem '.repeat(40), max_tokens: 40 }),
    });
    await eventually(async () => {
      const view = await workerAt(queen, spawned.worker_id, token);
      return view?.status === 'busy' ? view : undefined;
    }, 'the worker busy at the queen');
    expect((await completion).status).toBe(200);
    await eventually(async () => {
      const view = await workerAt(queen, spawned.worker_id, token);
      return view?.status === 'ready' && view.requests_served === 1 ? view : undefined;
    }, 'the worker ready again');

    process.kill(spawned.pid, 'SIGKILL');
    const killedAt = Date.now();
    await eventually(
      async () => ((await workerAt(queen, spawned.worker_id, token))?.status === 'error' ? true : undefined),
      'the killed worker in error at the queen',
      2_000,
    );
    expect(Date.now() - killedAt).toBeLessThan(2_000);
    expect(statuses.filter((status, i) => status !== statuses[i - 1])).toEqual([
      'starting',
      'ready',
      'busy',
      'ready',
      'error',
    ]);
  });
});
