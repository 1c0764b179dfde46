import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { z } from 'zod';
import { SpawnWorkerResponse, WorkerHealth } from '../../contracts/hive-api.js';
import { HIVE_PATHS, QUEEN_PATHS, WORKER_PATHS, withId } from '../../contracts/paths.js';
import { WorkerView } from '../../contracts/registry.js';
import type { RoleProcess } from '../../services/cluster/role-process.js';
import { ChildGroup } from './support/children.js';
import { createHiveDirs, hiveArgs } from './support/hive-dirs.js';
import { sleep, waitFor } from './support/http.js';
import { readCpuTime } from './support/proc.js';
import { startBenchQueen } from './support/queen.js';
import { fixed, note, printTable, printVerdict, type Verdict } from './support/report.js';
import { percentile } from './support/stats.js';

/**
 * Proxy: workers fronting the fake llama-server (test/fixtures), loaded with non-streaming chat completions through the
 * worker, straight to the engine and through a bare Node proxy (the floor of any proxy on this machine), in alternating
 * rounds of the same run, in three comparisons:
 * - an engine at work, as real ones are (each answer takes its generation time in one of a few slots), at as many
 *   clients as slots: what the proxy costs in throughput in front of an engine, judged ≥ 0.9 of the direct rate. Its
 *   added p50 is shown beside the bare proxy's, not judged: between answers every process on the path sleeps, and
 *   waking one on this VM costs more than the proxy's own work (a bare proxy adds over 1 ms there);
 * - one client asking again as soon as it is answered, an engine that answers at once: what the proxy adds to one
 *   request's latency, every process awake, judged < 1 ms at p50;
 * - an engine that answers at once, as fast as 10 clients can ask: the proxy's raw cost per request (two HTTP hops
 *   against one), shown, not judged.
 * Also the time from the engine's first healthy answer to `ready` at the queen, and the CPU time the worker and the
 * engine spend per request (from /proc), which moves less with the machine's load than the rates.
 */

const FAKE_ENGINE = fileURLToPath(new URL('../../../test/fixtures/fake-engine.mjs', import.meta.url));
const WARMUP_S = 2;
const ROUNDS = 3;
const ROUND_S = 5;
const TARGET_RATIO = 0.9;
const TARGET_ADDED_P50_MS = 1;
const LOAD_MS = 1_500;
const BODY = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hello' }] });

type Side = 'direct' | 'worker' | 'bare';
const SIDES: readonly Side[] = ['direct', 'worker', 'bare'];
const BARE_PROXY = fileURLToPath(new URL('./support/bare-proxy.js', import.meta.url));

/** One way of loading the proxy: what the engine does per request, and how many clients ask at once. */
interface Scenario {
  /** Its rows in the tables. */
  name: string;
  workerType: string;
  /** The fake engine's time per answer; 0 answers at once. */
  generationMs: number;
  /** Answers the engine generates at once; requests past them wait in its queue. */
  slots: number;
  /** Clients asking at once (autocannon connections, one request at a time each). */
  connections: number;
}

/**
 * The throughput comparison. 50 ms is a short answer (a few tokens at about 100 tokens a second), the harshest case for a
 * proxy's fixed cost; 4 slots is llama-server's default `--parallel`; 4 clients keep every slot busy without a queue,
 * so what the proxy adds to each request shows in the rate rather than hiding in a queue's wait.
 */
const ENGINE_AT_WORK: Scenario = {
  name: 'engine at work (50 ms an answer, 4 slots, 4 clients)',
  workerType: 'fake-llama-50ms',
  generationMs: 50,
  slots: 4,
  connections: 4,
};

/** The latency comparison: one request at a time, each sent as the last one's answer arrives. */
const ONE_CLIENT: Scenario = {
  name: 'one client (zero-work engine, one request at a time)',
  workerType: 'fake-llama-0ms',
  generationMs: 0,
  slots: 10,
  connections: 1,
};

/** The raw per-request cost: an engine that answers at once, as fast as 10 clients can ask. */
const ZERO_WORK: Scenario = {
  name: 'zero-work engine (answers at once, 10 clients)',
  workerType: 'fake-llama-0ms',
  generationMs: 0,
  slots: 10,
  connections: 10,
};

/** The fake engine's `GET /pid`. */
const EnginePid = z.object({ pid: z.number() });

/** One side's load of one round. */
interface Load {
  served: number;
  failed: number;
  seconds: number;
  /** Each 2xx answer's latency, ms, with sub-millisecond precision. */
  latencies: number[];
}

interface Round extends Load {
  side: Side;
  round: number;
  /** CPU time spent during the round, ms. */
  /** `front`: the proxy in front of the engine on this side (the worker or the bare proxy); none straight. */
  cpu: { front: number; engine: number };
}

/** What one side did over every round of a comparison. */
interface SideFigures {
  rate: number;
  p50: number;
  p99: number;
  failed: number;
  /** CPU time per request served, µs. */
  frontCpuUs: number;
  engineCpuUs: number;
}

interface Comparison {
  scenario: Scenario;
  direct: SideFigures;
  worker: SideFigures;
  bare: SideFigures;
  ratio: number;
  addedP50: number;
}

/** A worker spawned through the hive, and the engine it fronts. */
interface Fronted {
  workerId: string;
  worker: string;
  engine: string;
  workerPid: number;
  /** The bare Node proxy in front of the same engine. */
  bare: string;
  barePid: number;
  enginePid: number;
}

export async function proxy(): Promise<Verdict> {
  const group = new ChildGroup();
  const dirs = await createHiveDirs();
  try {
    for (const scenario of [ENGINE_AT_WORK, ZERO_WORK]) {
      await writeFile(
        path.join(dirs.workersDir, `${scenario.workerType}.json`),
        JSON.stringify({
          worker_type: scenario.workerType,
          version: '1',
          engine: 'llama.cpp',
          command: [
            ...[process.execPath, FAKE_ENGINE, '--port', '{engine_port}', '--load-ms', String(LOAD_MS)],
            ...['--slots', String(scenario.slots), '--generation-ms', String(scenario.generationMs)],
          ],
        }),
      );
    }
    const queen = await startBenchQueen(group, ['--heartbeat-interval', '1s']);
    const hive = await group.role('hive', [
      ...hiveArgs(dirs, queen.url, 'bench-proxy'),
      ...['--state-dir', path.join(dirs.workersDir, '..', 'state')],
    ]);

    const atWork = await spawnFronted(group, hive, ENGINE_AT_WORK);
    note('proxy: engine healthy → ready at the queen');
    const healthyAt = await firstMoment('the engine healthy', async () => {
      const reply = await fetch(`${atWork.engine}/health`).catch(() => null);
      await reply?.body?.cancel();
      return reply?.ok === true;
    });
    const readyAt = await firstMoment('ready at the queen', () => readyAtQueen(queen.url, atWork.workerId));
    const toReady = readyAt - healthyAt;
    const zeroWork = await spawnFronted(group, hive, ZERO_WORK);
    await firstMoment('the second worker ready at the queen', () => readyAtQueen(queen.url, zeroWork.workerId));

    const judged = await compare(ENGINE_AT_WORK, atWork);
    const single = await compare(ONE_CLIENT, zeroWork);
    const raw = await compare(ZERO_WORK, zeroWork);
    printTable(
      'Proxy: the three comparisons, every round of each side together',
      [
        'comparison',
        'direct req/s',
        'worker req/s',
        'ratio',
        'direct p50 ms',
        'worker p50 ms',
        'p50 added ms',
        'worker CPU µs/req',
        'bare proxy: p50 added ms',
      ],
      [judged, single, raw].map((c) => [
        c.scenario.name,
        fixed(c.direct.rate, 0),
        fixed(c.worker.rate, 0),
        fixed(c.ratio, 3),
        fixed(c.direct.p50, 2),
        fixed(c.worker.p50, 2),
        fixed(c.addedP50, 2),
        fixed(c.worker.frontCpuUs, 0),
        fixed(c.bare.p50 - c.direct.p50, 2),
      ]),
    );
    // The worker outlives a killed hive by design: stopped through the hive, it takes its engine with it.
    for (const fronted of [atWork, zeroWork]) {
      await fetch(`${hive.url}${withId(HIVE_PATHS.worker, fronted.workerId)}`, { method: 'DELETE' });
    }
    process.stdout.write(
      `\nengine healthy → ready at the queen: ${fixed(toReady, 0)} ms; ` +
        `load average (1 min) at the end: ${fixed(os.loadavg()[0] ?? Number.NaN, 2)}\n`,
    );
    return printVerdict({
      bench: 'proxy',
      pass: judged.ratio >= TARGET_RATIO && single.addedP50 < TARGET_ADDED_P50_MS && toReady < 1_000,
      text:
        `engine at work: worker / direct ${fixed(judged.ratio, 2)} (target ≥ ${TARGET_RATIO}); one client: p50 added ` +
        `${fixed(single.addedP50, 2)} ms (target < ${TARGET_ADDED_P50_MS} ms; the bare proxy ` +
        `${fixed(single.bare.p50 - single.direct.p50, 2)} ms); healthy → ready at the queen ${fixed(toReady, 0)} ms ` +
        `(target < 1000 ms); not judged: p50 added to the engine at work ${fixed(judged.addedP50, 2)} ms (the bare proxy ` +
        `${fixed(judged.bare.p50 - judged.direct.p50, 2)} ms), zero-work engine at 10 clients ratio ` +
        `${fixed(raw.ratio, 2)}, p50 added ${fixed(raw.addedP50, 2)} ms, worker CPU ${fixed(raw.worker.frontCpuUs, 0)} ` +
        `µs a request (the bare proxy ${fixed(raw.bare.frontCpuUs, 0)} µs)`,
    });
  } finally {
    await group.killAll();
    await dirs.remove();
  }
}

/** Spawns a worker of the scenario's type and waits until it answers, naming its engine; a bare proxy in front of it too. */
async function spawnFronted(group: ChildGroup, hive: RoleProcess, scenario: Scenario): Promise<Fronted> {
  const spawnedReply = await fetch(`${hive.url}${HIVE_PATHS.workers}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'llama-3.1-8b-instruct-q4_k_m', worker_type: scenario.workerType, device: 'CPU-0' }),
  });
  const spawned = SpawnWorkerResponse.parse(await spawnedReply.json());
  const worker = `http://127.0.0.1:${spawned.port}`;
  const engine = await waitFor('the worker answering', 15_000, async () => {
    const reply = await fetch(`${worker}${WORKER_PATHS.health}`).catch(() => null);
    return reply?.ok ? (WorkerHealth.parse(await reply.json()).upstream ?? undefined) : undefined;
  });
  const enginePid = await waitFor('the engine listening', 15_000, async () => {
    const reply = await fetch(`${engine}/pid`).catch(() => null);
    return reply?.ok ? EnginePid.parse(await reply.json()).pid : undefined;
  });
  const bare = await group.listening(BARE_PROXY, [engine]);
  return {
    workerId: spawned.worker_id,
    worker,
    engine,
    workerPid: spawned.pid,
    enginePid,
    bare: bare.url,
    barePid: bare.pid,
  };
}

async function readyAtQueen(queenUrl: string, workerId: string): Promise<boolean> {
  const reply = await fetch(`${queenUrl}${withId(QUEEN_PATHS.worker, workerId)}`);
  return reply.ok && WorkerView.parse(await reply.json()).status === 'ready';
}

/** Warms both sides up, then loads them in alternating rounds; prints the rounds and answers the totals. */
async function compare(scenario: Scenario, fronted: Fronted): Promise<Comparison> {
  const origins: Record<Side, string> = { direct: fronted.engine, worker: fronted.worker, bare: fronted.bare };
  const fronts: Record<Side, number | null> = { direct: null, worker: fronted.workerPid, bare: fronted.barePid };
  for (const side of SIDES) {
    note(`proxy: ${scenario.name}, ${side} warm-up, ${WARMUP_S} s`);
    await load(origins[side], scenario.connections, WARMUP_S);
  }
  const cpuMs = (side: Side) => {
    const front = fronts[side];
    return { front: front === null ? 0 : readCpuTime(front).selfMs, engine: readCpuTime(fronted.enginePid).selfMs };
  };
  const rounds: Round[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const side of round % 2 === 1 ? SIDES : [...SIDES].reverse()) {
      note(`proxy: ${scenario.name}, round ${round} of ${ROUNDS}, ${side}, ${ROUND_S} s`);
      const before = cpuMs(side);
      const loaded = await load(origins[side], scenario.connections, ROUND_S);
      const after = cpuMs(side);
      rounds.push({
        ...loaded,
        side,
        round,
        cpu: { front: after.front - before.front, engine: after.engine - before.engine },
      });
    }
  }
  const of = (side: Side) => figures(rounds.filter((r) => r.side === side));
  const [direct, worker, bare] = [of('direct'), of('worker'), of('bare')];
  const row = (name: string, f: SideFigures): string[] => [
    name,
    fixed(f.rate, 0),
    fixed(f.p50, 2),
    fixed(f.p99, 2),
    String(f.failed),
    fixed(f.frontCpuUs, 0),
    fixed(f.engineCpuUs, 0),
  ];
  printTable(
    `Proxy, ${scenario.name}: POST ${WORKER_PATHS.chatCompletions} (not streamed) to the fake llama-server, straight, ` +
      `through the worker and through a bare Node proxy, ${ROUNDS} alternating rounds of ${ROUND_S} s per side`,
    ['target', 'req/s', 'p50 ms', 'p99 ms', 'failed', 'proxy CPU µs/req', 'engine CPU µs/req'],
    [
      ...rounds.map((r) => row(`round ${r.round}: ${r.side}`, figures([r]))),
      row('all: direct to the engine', direct),
      row('all: through the worker', worker),
      row('all: through the bare proxy', bare),
    ],
  );
  return { scenario, direct, worker, bare, ratio: worker.rate / direct.rate, addedP50: worker.p50 - direct.p50 };
}

/** The totals of some rounds of one side: latencies pooled, CPU time per request served. */
function figures(rounds: readonly Round[]): SideFigures {
  const served = rounds.reduce((sum, r) => sum + r.served, 0);
  const latencies = rounds.flatMap((r) => r.latencies);
  const perRequestUs = (cpu: 'front' | 'engine') => (rounds.reduce((sum, r) => sum + r.cpu[cpu], 0) / served) * 1000;
  return {
    rate: served / rounds.reduce((sum, r) => sum + r.seconds, 0),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    failed: rounds.reduce((sum, r) => sum + r.failed, 0),
    frontCpuUs: perRequestUs('front'),
    engineCpuUs: perRequestUs('engine'),
  };
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

async function load(origin: string, connections: number, seconds: number): Promise<Load> {
  const latencies: number[] = [];
  const run = autocannon({
    url: `${origin}${WORKER_PATHS.chatCompletions}`,
    connections,
    duration: seconds,
    timeout: 10,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: BODY,
  });
  // autocannon's histogram keeps whole milliseconds: too coarse for a sub-millisecond difference.
  run.on('response', (_client, status, _bytes, ms) => {
    if (status >= 200 && status < 300) latencies.push(ms);
  });
  const result = await run;
  return { served: result['2xx'], failed: result.non2xx + result.errors, seconds: result.duration, latencies };
}
