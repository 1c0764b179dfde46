import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { z } from 'zod';
import { SpawnWorkerResponse, WorkerHealth } from '../../contracts/hive-api.js';
import { HIVE_PATHS, QUEEN_PATHS, WORKER_PATHS, withId } from '../../contracts/paths.js';
import { WorkerView } from '../../contracts/registry.js';
import { ChildGroup } from './support/children.js';
import { createHiveDirs, hiveArgs } from './support/hive-dirs.js';
import { sleep, waitFor } from './support/http.js';
import { readCpuTime } from './support/proc.js';
import { startBenchQueen } from './support/queen.js';
import { fixed, note, printTable, printVerdict, type Verdict } from './support/report.js';
import { median } from './support/stats.js';

/**
 * Proxy: a worker whose engine is the fake llama-server (test/fixtures), loaded with non-streaming chat completions
 * through the worker and straight to the engine, in alternating rounds of the same run. Targets: ≥ 0.9 of the direct
 * throughput and < 1 ms added at p50. Also the time from the engine's first healthy answer to `ready` at the queen,
 * and the CPU time the worker and the engine spend per request (from /proc): what the proxy costs, whatever the
 * machine's load does to the rates.
 */

const FAKE_ENGINE = fileURLToPath(new URL('../../../test/fixtures/fake-engine.mjs', import.meta.url));
const CONNECTIONS = 10;
const WARMUP_S = 2;
const ROUNDS = 3;
const ROUND_S = 4;
const TARGET_RATIO = 0.9;
const TARGET_ADDED_P50_MS = 1;
const LOAD_MS = 1_500;
const BODY = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hello' }] });

type Side = 'direct' | 'worker';

/** The fake engine's `GET /pid`. */
const EnginePid = z.object({ pid: z.number() });

export async function proxy(): Promise<Verdict> {
  const group = new ChildGroup();
  const dirs = await createHiveDirs();
  try {
    await writeFile(
      path.join(dirs.workersDir, 'fake-llama.json'),
      JSON.stringify({
        worker_type: 'fake-llama',
        version: '1',
        engine: 'llama.cpp',
        command: [process.execPath, FAKE_ENGINE, '--port', '{engine_port}', '--load-ms', String(LOAD_MS)],
      }),
    );
    const queen = await startBenchQueen(group, ['--heartbeat-interval', '1s']);
    const hive = await group.role('hive', [
      ...hiveArgs(dirs, queen.url, 'bench-proxy'),
      ...['--state-dir', path.join(dirs.workersDir, '..', 'state')],
    ]);
    const spawnedReply = await fetch(`${hive.url}/v1/workers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'llama-3.1-8b-instruct-q4_k_m', worker_type: 'fake-llama', device: 'CPU-0' }),
    });
    const spawned = SpawnWorkerResponse.parse(await spawnedReply.json());
    const worker = `http://127.0.0.1:${spawned.port}`;
    const engine = await waitFor('the worker answering', 15_000, async () => {
      const reply = await fetch(`${worker}${WORKER_PATHS.health}`).catch(() => null);
      return reply?.ok ? (WorkerHealth.parse(await reply.json()).upstream ?? undefined) : undefined;
    });

    note('proxy: engine healthy → ready at the queen');
    const healthyAt = await firstMoment('the engine healthy', async () => {
      const reply = await fetch(`${engine}/health`).catch(() => null);
      await reply?.body?.cancel();
      return reply?.ok === true;
    });
    const readyAt = await firstMoment('ready at the queen', async () => {
      const reply = await fetch(`${queen.url}${withId(QUEEN_PATHS.worker, spawned.worker_id)}`);
      return reply.ok && WorkerView.parse(await reply.json()).status === 'ready';
    });

    const origins: Record<Side, string> = { direct: engine, worker };
    for (const side of ['direct', 'worker'] as const) {
      note(`proxy: ${side} warm-up, ${WARMUP_S} s`);
      await load(origins[side], WARMUP_S);
    }
    const enginePid = EnginePid.parse(await (await fetch(`${engine}/pid`)).json()).pid;
    const cpuMs = () => ({ worker: readCpuTime(spawned.pid).selfMs, engine: readCpuTime(enginePid).selfMs });
    const rounds: { side: Side; round: number; result: autocannon.Result; cpu: { worker: number; engine: number } }[] =
      [];
    for (let round = 1; round <= ROUNDS; round++) {
      for (const side of round % 2 === 1 ? (['direct', 'worker'] as const) : (['worker', 'direct'] as const)) {
        note(`proxy: round ${round} of ${ROUNDS}, ${side}, ${ROUND_S} s at ${CONNECTIONS} connections`);
        const before = cpuMs();
        const result = await load(origins[side], ROUND_S);
        const after = cpuMs();
        rounds.push({
          side,
          round,
          result,
          cpu: { worker: after.worker - before.worker, engine: after.engine - before.engine },
        });
      }
    }
    const roundsOf = (side: Side) => rounds.filter((r) => r.side === side);
    const of = (side: Side) => roundsOf(side).map((r) => r.result);
    const rate = (results: readonly autocannon.Result[]): number =>
      results.reduce((sum, r) => sum + r['2xx'], 0) / results.reduce((sum, r) => sum + r.duration, 0);
    const p50 = (results: readonly autocannon.Result[]): number => median(results.map((r) => r.latency.p50));
    const row = (name: string, picked: readonly (typeof rounds)[number][]): string[] => {
      const results = picked.map((r) => r.result);
      const served = results.reduce((sum, r) => sum + r['2xx'], 0);
      const perRequest = (cpu: 'worker' | 'engine') => picked.reduce((sum, r) => sum + r.cpu[cpu], 0) / served;
      return [
        name,
        fixed(rate(results), 0),
        fixed(p50(results), 1),
        fixed(Math.max(...results.map((r) => r.latency.p99)), 1),
        String(results.reduce((sum, r) => sum + r.non2xx + r.errors, 0)),
        fixed(perRequest('worker'), 3),
        fixed(perRequest('engine'), 3),
      ];
    };
    printTable(
      `Proxy: POST ${WORKER_PATHS.chatCompletions} (not streamed) to the fake llama-server, straight and through the ` +
        `worker, ${CONNECTIONS} connections, ${ROUNDS} alternating rounds of ${ROUND_S} s per side`,
      ['target', 'req/s', 'p50 ms', 'p99 ms', 'failed', 'worker CPU ms/req', 'engine CPU ms/req'],
      [
        ...rounds.map((r) => row(`round ${r.round}: ${r.side}`, [r])),
        row('all: direct to the engine', roundsOf('direct')),
        row('all: through the worker', roundsOf('worker')),
      ],
    );
    // The worker outlives a killed hive by design: stopped through the hive, it takes its engine with it.
    await fetch(`${hive.url}${withId(HIVE_PATHS.worker, spawned.worker_id)}`, { method: 'DELETE' });
    const ratio = rate(of('worker')) / rate(of('direct'));
    const added = p50(of('worker')) - p50(of('direct'));
    const toReady = readyAt - healthyAt;
    process.stdout.write(`\nengine healthy → ready at the queen: ${fixed(toReady, 0)} ms\n`);
    return printVerdict({
      bench: 'proxy',
      pass: ratio >= TARGET_RATIO && added < TARGET_ADDED_P50_MS && toReady < 1_000,
      text:
        `worker / direct ${fixed(ratio, 2)} (target ≥ ${TARGET_RATIO}), p50 added ${fixed(added, 2)} ms ` +
        `(target < ${TARGET_ADDED_P50_MS} ms), healthy → ready at the queen ${fixed(toReady, 0)} ms (target < 1000 ms)`,
    });
  } finally {
    await group.killAll();
    await dirs.remove();
  }
}

/** When `check` first holds, polled every 5 ms: fine enough to time a sub-second step. */
async function firstMoment(what: string, check: () => Promise<boolean>): Promise<number> {
  const deadline = performance.now() + 15_000;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
  return performance.now();
}

function load(origin: string, seconds: number): PromiseLike<autocannon.Result> {
  return autocannon({
    url: `${origin}${WORKER_PATHS.chatCompletions}`,
    connections: CONNECTIONS,
    duration: seconds,
    timeout: 10,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: BODY,
  });
}
