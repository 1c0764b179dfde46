import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Capabilities } from '../../../contracts/capabilities.js';
import { type WorkerHeartbeat, WorkerHeartbeat as WorkerHeartbeatSchema } from '../../../contracts/heartbeat.js';
import type { SendOutcome } from '../../../machines/send-outcome.js';
import {
  createWorkerManager,
  type WorkerManager,
  type WorkerManagerOptions,
  workerQueens,
} from '../../../services/hive/worker-manager.js';
import { silentLogger } from '../../../services/logger.js';
import { freePort } from '../../../services/ports.js';

/**
 * Stands in for worker.js: behaves as its `--mode` says when asked to stop, then logs what it was given. The log line
 * comes last, so a test that saw it knows the SIGTERM handler is in place.
 */
const FAKE_WORKER = `
const argv = process.argv.slice(2);
const mode = argv[argv.indexOf('--mode') + 1];
process.on('SIGTERM', () => { if (mode !== 'stubborn') process.exit(mode === 'fail-on-stop' ? 3 : 0); });
process.stderr.write(JSON.stringify({ msg: 'fake worker', argv, token: process.env.APIARY_TOKEN ?? null,
  leaked: process.env.APIARY_UPSTREAM ?? null, engine: process.env.APIARY_ENGINE ?? null }) + '\\n');
setInterval(() => {}, 1000);
`;

const OK: SendOutcome = { ok: true, value: { status: 'ok', queen_epoch: 'e1', resync: false } };
const QUEEN = 'http://127.0.0.1:7833';

const CAPABILITIES: Capabilities = {
  devices: [
    { id: 'GPU-0', name: 'Test GPU', device_type: 'gpu', vram_gb: 24 },
    { id: 'CPU-0', name: 'Test CPU', device_type: 'cpu' },
  ],
  models: [{ model_id: 'tiny', size_gb: 0.1 }],
  workers: [
    { worker_type: 'cpu', version: '0.1.0' },
    { worker_type: 'cuda', version: '0.1.0' },
  ],
};

interface Fixture {
  manager: WorkerManager;
  reports: { queenUrl: string; heartbeat: WorkerHeartbeat }[];
  lines: string[];
}

let dir = '';
let script = '';
const managers: WorkerManager[] = [];

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'apiary-manager-'));
  script = path.join(dir, 'fake-worker.js');
  writeFileSync(script, FAKE_WORKER);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.stopAll()));
});

function fixture(overrides: Partial<WorkerManagerOptions> = {}, mode = 'polite'): Fixture {
  const reports: Fixture['reports'] = [];
  const lines: string[] = [];
  const manager = createWorkerManager({
    hiveId: 'hive-a',
    host: '127.0.0.1',
    workerScript: script,
    workerArgs: ['--mode', mode],
    token: 'secret-token',
    queenUrl: () => QUEEN,
    capabilities: () => CAPABILITIES,
    engine: () => null,
    modelPath: () => null,
    maxWorkers: 16,
    report: async (queenUrl, heartbeat) => {
      reports.push({ queenUrl, heartbeat });
      return OK;
    },
    // Far longer than a polite child needs even on a loaded machine; the stubborn test shortens it.
    stopTimeoutMs: 10_000,
    logger: silentLogger,
    forward: (line) => lines.push(line),
    env: { ...process.env, APIARY_UPSTREAM: 'http://should-not-leak:1' },
    ...overrides,
  });
  managers.push(manager);
  return { manager, reports, lines };
}

/** Spawns and waits for the child's first log line: its SIGTERM handler is installed by then. */
async function spawned(f: Fixture, request: Parameters<WorkerManager['spawn']>[0]) {
  const before = f.lines.length;
  const result = await f.manager.spawn(request);
  if (!result.ok) throw new Error(`spawn failed: ${result.error.message}`);
  // A node process can take seconds to start on a loaded machine.
  await vi.waitFor(() => expect(f.lines.length).toBeGreaterThan(before), { timeout: 10_000 });
  return result.value;
}

describe('the queens a spawned worker is given', () => {
  const [A, B, C] = ['http://a.test:7833', 'http://b.test:7833', 'http://c.test:7833'];

  it("hands on the hive's list of several queens, its current one first: redirects stay within that list", () => {
    expect(workerQueens(B, [A, B, C])).toEqual([B, A, C]);
  });

  it('hands on the one queen the hive was given, not a leader it was redirected to, so the worker follows any', () => {
    expect(workerQueens(B, [A])).toEqual([A]);
    expect(workerQueens(B, [])).toEqual([B]);
  });
});

describe('spawned-worker manager', () => {
  it("starts a worker with the hive's queen, a free port and the token in its environment only", async () => {
    const f = fixture();
    const worker = await spawned(f, { model: 'tiny', device: 'CPU-0' });
    expect(worker.worker_id).toBe(`hive-a-${worker.port}`);
    expect(f.manager.list()).toEqual([
      { ...worker, model: 'tiny', device: 'CPU-0', worker_type: 'cpu', engine: 'demo' },
    ]);
    const logged = JSON.parse(f.lines[0] ?? '{}');
    expect(logged.token).toBe('secret-token');
    expect(logged.leaked).toBeNull();
    expect(logged.argv).not.toContain('secret-token');
    expect(logged.argv).toEqual([
      ...[`--queen-url=${QUEEN}`, '--hive-id=hive-a', `--worker-id=${worker.worker_id}`, '--host=127.0.0.1'],
      ...[`--port=${worker.port}`, '--model=tiny', '--device=CPU-0'],
      ...['--mode', 'polite'],
    ]);
    expect(logged.engine).toBeNull();
  });

  it('hands an engine worker its spec in the environment and its model file on the command line', async () => {
    const engine = {
      engine: 'llama.cpp',
      command: ['llama-server'],
      env: {},
      health_path: '/health',
      ready_timeout: 5,
    };
    const f = fixture({
      engine: (type) => (type === 'cuda' ? { ...engine, engine: 'llama.cpp' } : null),
      modelPath: (id) => `/models/${id}.gguf`,
    });
    const worker = await spawned(f, { model: 'tiny', worker_type: 'cuda' });
    const logged = JSON.parse(f.lines[0] ?? '{}');
    expect(JSON.parse(logged.engine)).toEqual(engine);
    expect(logged.argv).toContain('--model-path=/models/tiny.gguf');
    expect(f.manager.list()).toEqual([expect.objectContaining({ worker_id: worker.worker_id, engine: 'llama.cpp' })]);
  });

  it('refuses a worker beyond its maximum, and takes one again once a slot is free', async () => {
    const f = fixture({ maxWorkers: 1 });
    const first = await spawned(f, { model: 'tiny', device: 'CPU-0' });
    expect(await f.manager.spawn({ model: 'tiny', device: 'CPU-0' })).toMatchObject({
      ok: false,
      error: { kind: 'too-many' },
    });
    await f.manager.stop(first.worker_id);
    await spawned(f, { model: 'tiny', device: 'CPU-0' });
  });

  it('counts spawns still starting against the maximum, and gives a requested port to one of two parallel spawns', async () => {
    const f = fixture({ maxWorkers: 2 });
    const results = await Promise.all(
      Array.from({ length: 5 }, () => f.manager.spawn({ model: 'tiny', device: 'CPU-0' })),
    );
    expect(results.filter((result) => result.ok)).toHaveLength(2);
    expect(results.filter((result) => !result.ok).map((result) => !result.ok && result.error.kind)).toEqual([
      'too-many',
      'too-many',
      'too-many',
    ]);
    expect(f.manager.list()).toHaveLength(2);

    const g = fixture();
    const port = await freePort('127.0.0.1');
    const same = await Promise.all([1, 2].map(() => g.manager.spawn({ model: 'tiny', device: 'CPU-0', port })));
    expect(same.map((result) => (result.ok ? 'ok' : result.error.kind)).sort()).toEqual(['ok', 'port-taken']);
    expect(g.manager.list().map((worker) => worker.port)).toEqual([port]);
  });

  it('defaults to the first GPU with the cuda worker type', async () => {
    const f = fixture();
    await spawned(f, { model: 'tiny' });
    expect(f.manager.list()[0]).toMatchObject({ device: 'GPU-0', worker_type: 'cuda' });
  });

  it('reports a worker killed behind its back as error to its queen at once', async () => {
    const f = fixture();
    const worker = await spawned(f, { model: 'tiny', device: 'CPU-0' });
    process.kill(worker.pid, 'SIGKILL');
    await vi.waitFor(() => expect(f.reports).toHaveLength(1), { timeout: 2_000 });
    const report = f.reports[0];
    expect(report?.queenUrl).toBe(QUEEN);
    expect(WorkerHeartbeatSchema.parse(report?.heartbeat)).toMatchObject({
      worker_id: worker.worker_id,
      hive_id: 'hive-a',
      status: 'error',
      model: 'tiny',
      device: 'CPU-0',
      port: worker.port,
      worker_url: `http://127.0.0.1:${worker.port}`,
    });
    expect(f.manager.list()).toEqual([]);
  });

  it('does not report a worker it stopped that exited cleanly', async () => {
    const f = fixture();
    const worker = await spawned(f, { model: 'tiny', device: 'CPU-0' });
    expect(await f.manager.stop(worker.worker_id)).toBe(true);
    expect(f.manager.list()).toEqual([]);
    expect(await f.manager.stop(worker.worker_id)).toBe(false);
    // stopAll settles once every death report has been posted: none was.
    await f.manager.stopAll();
    expect(f.reports).toEqual([]);
  });

  it('reports a worker that fails while stopping, and kills one that ignores SIGTERM', async () => {
    const failing = fixture({}, 'fail-on-stop');
    await spawned(failing, { model: 'tiny', device: 'CPU-0' });
    await failing.manager.stopAll();
    await vi.waitFor(() => expect(failing.reports.map((r) => r.heartbeat.status)).toEqual(['error']));

    const stubborn = fixture({ stopTimeoutMs: 300 }, 'stubborn');
    const worker = await spawned(stubborn, { model: 'tiny', device: 'CPU-0' });
    const started = Date.now();
    await stubborn.manager.stop(worker.worker_id);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    await vi.waitFor(() => expect(stubborn.reports.map((r) => r.heartbeat.status)).toEqual(['error']));
  });

  it('refuses new workers once stopping', async () => {
    const f = fixture();
    await f.manager.stopAll();
    expect(await f.manager.spawn({ model: 'tiny' })).toMatchObject({ ok: false, error: { kind: 'stopping' } });
  });

  it('refuses a model whose id would reach its engine as an option, and serves it joined to its flag', async () => {
    const models = [{ model_id: '--never-ready', size_gb: 0.1 }];
    const command = (argument: string) => ({
      engine: 'openai' as const,
      command: ['fake-engine', '--model', argument, '--port', '{engine_port}'],
      env: {},
      health_path: '/health',
      ready_timeout: 5,
    });
    const bare = fixture({ capabilities: () => ({ ...CAPABILITIES, models }), engine: () => command('{model_id}') });
    const refused = await bare.manager.spawn({ model: '--never-ready', device: 'CPU-0' });
    expect(refused).toMatchObject({ ok: false, error: { kind: 'option-like-value' } });
    expect(refused.ok || refused.error.message).toMatch(/"--never-ready".*\{model_id\}/);
    expect(bare.manager.list()).toEqual([]);
    const joined = fixture({
      capabilities: () => ({ ...CAPABILITIES, models }),
      engine: () => command('{model_id}=x'),
    });
    expect((await joined.manager.spawn({ model: '--never-ready', device: 'CPU-0' })).ok).toBe(false);
    const safe = fixture({
      capabilities: () => ({ ...CAPABILITIES, models }),
      engine: () => command('--m={model_id}'),
    });
    await spawned(safe, { model: '--never-ready', device: 'CPU-0' });
    expect(safe.manager.list()).toHaveLength(1);
  });

  it('refuses unknown models, devices and worker types, a missing queen and a taken port, starting nothing', async () => {
    const f = fixture();
    expect(await f.manager.spawn({ model: 'huge' })).toMatchObject({ ok: false, error: { kind: 'unknown-model' } });
    expect(await f.manager.spawn({ model: 'tiny', device: 'GPU-7' })).toMatchObject({
      ok: false,
      error: { kind: 'unknown-device' },
    });
    expect(await f.manager.spawn({ model: 'tiny', worker_type: 'rocm' })).toMatchObject({
      ok: false,
      error: { kind: 'unknown-worker-type' },
    });
    const lost = fixture({ queenUrl: () => null });
    expect(await lost.manager.spawn({ model: 'tiny' })).toMatchObject({ ok: false, error: { kind: 'no-queen' } });

    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      expect(await f.manager.spawn({ model: 'tiny', port })).toMatchObject({
        ok: false,
        error: { kind: 'port-taken' },
      });
    } finally {
      blocker.close();
    }
    expect(f.manager.list()).toEqual([]);
    expect(lost.manager.list()).toEqual([]);
  });
});
