import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import type { WorkerStatus } from '../../contracts/heartbeat.js';
import { WorkerHealth } from '../../contracts/hive-api.js';
import { freePort } from '../../services/ports.js';
import { type FakeUpstream, sseEvent, startFakeUpstream } from '../services/backend/fake-upstream.js';
import { type FakeQueen, startFakeQueen } from '../support/fake-queen.js';
import { eventually, killAll, roleScript, startRole, withoutApiaryEnv } from '../support/role-process.js';

const FAST = [
  '--heartbeat-interval',
  '200ms',
  '--backoff',
  '0s,300ms,300ms',
  '--request-timeout',
  '500ms',
  '--jitter',
  '0',
];

afterEach(() => killAll());

/** Distinct statuses in the order the queen heard them. */
function statusRuns(queen: FakeQueen): WorkerStatus[] {
  return queen.workerHeartbeats().reduce<WorkerStatus[]>((runs, hb) => {
    if (runs.at(-1) !== hb.status) runs.push(hb.status);
    return runs;
  }, []);
}

describe('worker process', () => {
  it('prints --help and exits 0', () => {
    const result = spawnSync(process.execPath, [roleScript('worker'), '--help'], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('--upstream');
    expect(result.stdout).toContain('--queen-url');
  });

  it('fronts an OpenAI-compatible upstream: starting while it loads, busy while streaming, the stream intact', async () => {
    let loaded = false;
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const chunks = [
      sseEvent({ id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { role: 'assistant' } }] }),
      sseEvent({ id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: 'Héllo' } }] }),
      sseEvent({ id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: ', 世界' } }] }),
      sseEvent('[DONE]'),
    ];
    const upstream: FakeUpstream = await startFakeUpstream((request, res) => {
      if (request.path === '/health') {
        res.writeHead(loaded ? 200 : 503, { 'content-type': 'application/json' }).end('{}');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunks[0]);
      void held.then(() => {
        for (const chunk of chunks.slice(1)) res.write(chunk);
        res.end();
      });
    });
    const queen = await startFakeQueen();
    const port = await freePort('127.0.0.1');
    const worker = await startRole('worker', [
      ...['--queen-url', queen.url, '--port', String(port), '--hive-id', 'hive-t', '--model', 'llama-tiny'],
      ...['--upstream', upstream.url, ...FAST],
    ]);

    await eventually(() => (queen.workerHeartbeats().length >= 3 ? true : undefined), 'three heartbeats');
    expect(statusRuns(queen)).toEqual(['starting']);
    expect(queen.workerHeartbeats()[0]).toMatchObject({
      worker_id: `hive-t-${port}`,
      hive_id: 'hive-t',
      model: 'llama-tiny',
      device: 'CPU-0',
      port,
      worker_url: `http://127.0.0.1:${port}`,
    });
    loaded = true;
    await eventually(() => (statusRuns(queen).at(-1) === 'ready' ? true : undefined), 'ready');

    const body = { model: 'llama-tiny', stream: true, messages: [{ role: 'user', content: 'Say hello' }] };
    const response = await fetch(`${worker.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    await eventually(() => (statusRuns(queen).at(-1) === 'busy' ? true : undefined), 'busy while streaming');
    release();
    expect(await response.text()).toBe(chunks.join(''));
    expect(JSON.parse(upstream.requests.find((r) => r.path === '/v1/chat/completions')?.body ?? '')).toEqual(body);

    const served = await eventually(
      () => queen.workerHeartbeats().find((hb) => hb.status === 'ready' && hb.requests_served === 1),
      'ready again with one request served',
    );
    expect(served.requests_served).toBe(1);
    expect(statusRuns(queen)).toEqual(['starting', 'ready', 'busy', 'ready']);
    const health = WorkerHealth.parse(await (await fetch(`${worker.url}/health`)).json());
    expect(health).toMatchObject({ status: 'ready', requests_served: 1, in_flight: 0, upstream: upstream.url });
  });

  it('takes its token from the environment, shows the inspector, and on SIGTERM sends a final stopped heartbeat', async () => {
    const queen = await startFakeQueen();
    const [port, inspectPort] = [await freePort('127.0.0.1'), await freePort('127.0.0.1')];
    const worker = await startRole(
      'worker',
      ['--queen-url', queen.url, '--port', String(port), `--inspect=${inspectPort}`, ...FAST],
      { env: { ...withoutApiaryEnv(process.env), APIARY_TOKEN: 'worker-secret' } },
    );
    expect(worker.logs.some((line) => line.url === `http://127.0.0.1:${inspectPort}`)).toBe(true);
    await eventually(() => (statusRuns(queen).at(-1) === 'ready' ? true : undefined), 'ready');
    expect(new Set(queen.received.map((r) => r.authorization))).toEqual(new Set(['Bearer worker-secret']));
    const completion = (headers: Record<string, string>) =>
      fetch(`${worker.url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ model: 'demo', prompt: 'hi', max_tokens: 2 }),
      });
    expect((await completion({})).status).toBe(401);
    expect((await completion({ authorization: 'Bearer worker-secret' })).status).toBe(200);

    worker.child.kill('SIGTERM');
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    expect(queen.workerHeartbeats().at(-1)).toMatchObject({ status: 'stopped', requests_served: 1 });
    expect(statusRuns(queen).slice(0, 2)).toEqual(['starting', 'ready']);
  });
});
