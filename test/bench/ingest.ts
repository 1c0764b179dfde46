import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { QUEEN_PATHS } from '../../contracts/paths.js';
import { ChildGroup } from './support/children.js';
import { forEachBounded, HttpClient, postOk } from './support/http.js';
import { fullHiveHeartbeat } from './support/payloads.js';
import { readCpuTime } from './support/proc.js';
import { readHealth, startBenchQueen } from './support/queen.js';
import { fixed, note, printTable, printVerdict, type Verdict } from './support/report.js';
import { median } from './support/stats.js';

/**
 * Ingest: hive heartbeats at 50 connections into a real queen process, beside a bare @hono/node-server process that
 * only parses the same JSON, and one that also validates it with the queen's schema and keeps it in a Map. They take
 * turns (ABBA order, after a warm-up each) so drift in a shared machine's load falls on all. Target: the queen keeps
 * ≥ 0.8 of the bare throughput with p99 < 25 ms; the same queen with a state directory (SQLite) keeps ≥ 0.9 of its
 * throughput with `--state-dir none`, measured in the same rounds. The validating store is shown, not judged: what
 * separates it from the bare server is validation, which the queen cannot skip; what separates the queen from it is
 * the queen's own work. Each server's own CPU time per heartbeat (Linux's account of the process) is shown beside its
 * throughput: the client shares the machine, so throughput also carries the cost of waking it, CPU time does not.
 */

const CONNECTIONS = 50;
const HIVES = 500;
const WARMUP_S = 3;
/** Each side runs ROUNDS × ROUND_S seconds in all. */
const ROUNDS = 3;
const ROUND_S = 4;
const TARGET_RATIO = 0.8;
const TARGET_P99_MS = 25;

type Side = 'bare' | 'zod' | 'queen' | 'state';
const SIDE_NAMES: Record<Side, string> = {
  bare: 'bare @hono/node-server',
  zod: 'zod-validated Map store',
  queen: 'queen.js --state-dir none',
  state: 'queen.js with a state dir',
};
const SIDES: readonly Side[] = ['bare', 'zod', 'queen', 'state'];
/** The queen with a state directory keeps at least this share of the stateless queen's throughput. */
const TARGET_STATE_RATIO = 0.9;

interface Round {
  side: Side;
  round: number;
  result: autocannon.Result;
  /** The server's CPU time over the round, ms. */
  cpuMs: number;
}

export async function ingest(): Promise<Verdict> {
  const group = new ChildGroup();
  try {
    const bare = await group.listening(fileURLToPath(new URL('./support/bare-server.js', import.meta.url)));
    const zod = await group.listening(fileURLToPath(new URL('./support/zod-store-server.js', import.meta.url)));
    // Each queen registers the hives first: every heartbeat after that carries the identity it issued.
    const registered = async (args: readonly string[]): Promise<{ url: string; pid: number; bodies: string[] }> => {
      const started = await startBenchQueen(group, args);
      const client = new HttpClient(started.url, 16);
      const indices = Array.from({ length: HIVES }, (_, index) => index);
      await forEachBounded(indices, 16, 60_000, (index) =>
        postOk(client, QUEEN_PATHS.hiveHeartbeat, JSON.stringify(fullHiveHeartbeat(index))),
      ).finally(() => client.close());
      const bodies = indices.map((index) => JSON.stringify(fullHiveHeartbeat(index)));
      return { url: started.url, pid: started.pid, bodies };
    };
    const queen = await registered([]);
    const state = await registered(['--state-dir', await mkdtemp(path.join(os.tmpdir(), 'apiary-bench-ingest-'))]);
    const origins: Record<Side, string> = { bare: bare.url, zod: zod.url, queen: queen.url, state: state.url };
    const pids: Record<Side, number> = { bare: bare.pid, zod: zod.pid, queen: queen.pid, state: state.pid };
    const sideBodies: Record<Side, string[]> = {
      bare: queen.bodies,
      zod: queen.bodies,
      queen: queen.bodies,
      state: state.bodies,
    };
    const bodies = queen.bodies;
    const bytes = bodies.reduce((sum, body) => sum + Buffer.byteLength(body), 0) / bodies.length;

    for (const side of SIDES) {
      note(`ingest: ${SIDE_NAMES[side]} warm-up, ${WARMUP_S} s`);
      await load(origins[side], sideBodies[side], WARMUP_S);
    }
    const rounds: Round[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const order: Side[] = round % 2 === 1 ? [...SIDES] : [...SIDES].reverse();
      for (const side of order) {
        note(`ingest: round ${round} of ${ROUNDS}, ${SIDE_NAMES[side]}, ${ROUND_S} s at ${CONNECTIONS} connections`);
        const before = readCpuTime(pids[side]).selfMs;
        const result = await load(origins[side], sideBodies[side], ROUND_S);
        rounds.push({ side, round, result, cpuMs: readCpuTime(pids[side]).selfMs - before });
      }
    }
    const client = new HttpClient(queen.url, 1);
    const health = await readHealth(client).finally(() => client.close());

    const rate = (results: readonly autocannon.Result[]): number =>
      results.reduce((sum, r) => sum + r['2xx'], 0) / results.reduce((sum, r) => sum + r.duration, 0);
    const of = (side: Side): autocannon.Result[] => rounds.filter((r) => r.side === side).map((r) => r.result);
    /** The server's CPU time per answered heartbeat, µs. */
    const cpuPer = (sideRounds: readonly Round[]): number =>
      (sideRounds.reduce((sum, r) => sum + r.cpuMs, 0) * 1000) /
      sideRounds.reduce((sum, r) => sum + r.result['2xx'], 0);
    const cpuOf = (side: Side): number => cpuPer(rounds.filter((r) => r.side === side));
    const row = (name: string, results: readonly autocannon.Result[], cpuUs: number): string[] => [
      name,
      fixed(rate(results), 0),
      fixed(cpuUs, 0),
      fixed(median(results.map((r) => r.latency.p50)), 0),
      fixed(Math.max(...results.map((r) => r.latency.p99)), 0),
      fixed(Math.max(...results.map((r) => r.latency.max)), 0),
      String(results.reduce((sum, r) => sum + r.non2xx, 0)),
      String(results.reduce((sum, r) => sum + r.errors, 0)),
    ];
    printTable(
      `Ingest: POST ${QUEEN_PATHS.hiveHeartbeat}, ${fixed(bytes, 0)} B heartbeats (2 GPUs, full capabilities) over ` +
        `${HIVES} hive ids, ${CONNECTIONS} connections, ${ROUNDS} alternating rounds of ${ROUND_S} s per side ` +
        `(after ${WARMUP_S} s warm-up each); p50 = median of rounds, p99 and max = worst round`,
      ['server', 'req/s', 'CPU µs/req', 'p50 ms', 'p99 ms', 'max ms', 'non-2xx', 'errors'],
      [
        ...rounds.map((r) => row(`round ${r.round}: ${SIDE_NAMES[r.side]}`, [r.result], cpuPer([r]))),
        ...SIDES.map((side) => row(`all: ${SIDE_NAMES[side]}`, of(side), cpuOf(side))),
      ],
    );
    const ratio = rate(of('queen')) / rate(of('bare'));
    const stateRatio = rate(of('state')) / rate(of('queen'));
    const zodRatio = rate(of('zod')) / rate(of('bare'));
    const queenZodRatio = rate(of('queen')) / rate(of('zod'));
    const queenP99 = Math.max(...of('queen').map((r) => r.latency.p99));
    const refused = [...of('queen'), ...of('state')].reduce((sum, r) => sum + r.non2xx + r.errors, 0);
    process.stdout.write(
      `\nqueen / bare throughput: ${fixed(ratio, 2)}; zod-validated store / bare: ${fixed(zodRatio, 2)}; ` +
        `queen / zod-validated store: ${fixed(queenZodRatio, 2)}; with a state dir / without: ${fixed(stateRatio, 2)}; ` +
        `server CPU per heartbeat: bare ${fixed(cpuOf('bare'), 0)} µs, zod-validated store ${fixed(cpuOf('zod'), 0)} µs, ` +
        `queen ${fixed(cpuOf('queen'), 0)} µs; ` +
        `queen registry after the run: ${health.hives.online} hives online\n`,
    );
    // Idle through the other sides' rounds, some of its hives may have turned suspect: none may be missing.
    const clean = refused === 0 && health.hives.online + health.hives.suspect === HIVES;
    return printVerdict({
      bench: 'ingest',
      pass: clean && ratio >= TARGET_RATIO && stateRatio >= TARGET_STATE_RATIO && queenP99 < TARGET_P99_MS,
      text:
        `ratio ${fixed(ratio, 2)} (target ≥ ${TARGET_RATIO}), state dir / none ${fixed(stateRatio, 2)} ` +
        `(target ≥ ${TARGET_STATE_RATIO}), queen p99 ${fixed(queenP99, 0)} ms ` +
        `(target < ${TARGET_P99_MS} ms); not judged: zod-validated store / bare ${fixed(zodRatio, 2)}, queen / ` +
        `zod-validated store ${fixed(queenZodRatio, 2)}` +
        (clean ? '' : `, but ${refused} queen requests failed and ${health.hives.online} of ${HIVES} hives are online`),
    });
  } finally {
    await group.killAll();
  }
}

/**
 * Each request carries the next hive's heartbeat, whichever connection sends it: 500 hives each sending in turn. Given
 * the list itself, every connection would walk it from the start at once, 50 heartbeats of one hive in flight together.
 */
function load(origin: string, bodies: readonly string[], seconds: number): PromiseLike<autocannon.Result> {
  let next = 0;
  const nextBody = (): string => {
    const body = bodies[next % bodies.length] ?? '';
    next += 1;
    return body;
  };
  return autocannon({
    url: `${origin}${QUEEN_PATHS.hiveHeartbeat}`,
    connections: CONNECTIONS,
    duration: seconds,
    timeout: 10,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    requests: [{ setupRequest: (request) => ({ ...request, body: nextBody() }) }],
  });
}
