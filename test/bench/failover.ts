import { LeaderRedirect } from '../../contracts/heartbeat.js';
import { QUEEN_PATHS } from '../../contracts/paths.js';
import type { RoleProcess } from '../../services/cluster/role-process.js';
import { startEtcd, stopAllEtcd } from '../support/etcd.js';
import { settled } from '../support/queen-election.js';
import { ChildGroup } from './support/children.js';
import { forEachBounded, HttpClient, postOk, waitFor } from './support/http.js';
import { forgetSecrets, fullHiveHeartbeat, periodicHiveHeartbeat } from './support/payloads.js';
import { fixed, note, printTable, printVerdict, type Verdict } from './support/report.js';
import { median } from './support/stats.js';

/**
 * Queens on etcd (one real member): heartbeats a second sent through a follower, each answered 307 and sent again to
 * the leader it names, beside the same heartbeats sent straight to the leader, in alternating rounds; then the time
 * from `kill -9` of the leader to a new leader taking heartbeats, over 5 runs. Target: every failover within
 * `--leader-ttl` + 2 s.
 */

const LEADER_TTL_S = 2;
const TARGET_FAILOVER_MS = LEADER_TTL_S * 1_000 + 2_000;
const HIVES = 200;
const LANES = 16;
const ROUNDS = 3;
const ROUND_MS = 4_000;
const FAILOVERS = 5;

interface Queen {
  process: RoleProcess;
  client: HttpClient;
}

/** The queen that leads once every running queen names it. */
async function settledLeader(queens: readonly Queen[]): Promise<Queen> {
  const [leader] = await settled(queens.map((queen) => queen.process));
  const found = queens.find((queen) => queen.process === leader);
  if (!found) throw new Error('no leader');
  return found;
}

/** Heartbeats completed in `ms` by LANES senders, each beat sent by `send`. */
async function heartbeatsIn(ms: number, send: (index: number) => Promise<void>): Promise<number> {
  const end = performance.now() + ms;
  let done = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: LANES }, async () => {
      while (performance.now() < end) {
        await send(next++ % HIVES);
        done++;
      }
    }),
  );
  return done;
}

export async function failover(): Promise<Verdict> {
  const group = new ChildGroup();
  const cluster = await startEtcd(1);
  const queens: Queen[] = [];
  try {
    const startQueen = async (): Promise<Queen> => {
      const process = await group.role('queen', [
        ...['--host', '127.0.0.1', '--port', '0', '--no-discovery'],
        ...['--etcd', cluster.endpoints.join(','), '--etcd-prefix', '/apiary-bench-failover'],
        ...['--leader-ttl', `${LEADER_TTL_S}s`],
      ]);
      const queen = { process, client: new HttpClient(process.url, LANES) };
      queens.push(queen);
      return queen;
    };
    forgetSecrets();
    note('failover: two queens on etcd');
    await startQueen();
    await startQueen();
    const leader = await settledLeader(queens);
    const follower = queens.find((queen) => queen !== leader);
    if (!follower) throw new Error('no follower');
    // Registered at the leader once it has loaded the state (503 until then).
    await waitFor('the leader taking heartbeats', 30_000, async () => {
      const reply = await leader.client.post(QUEEN_PATHS.hiveHeartbeat, JSON.stringify(fullHiveHeartbeat(0)));
      return reply.status === 200 ? true : undefined;
    });
    forgetSecrets();
    const indices = Array.from({ length: HIVES }, (_, index) => index);
    await forEachBounded(indices, LANES, 60_000, (index) =>
      postOk(leader.client, QUEEN_PATHS.hiveHeartbeat, JSON.stringify(fullHiveHeartbeat(index))),
    );

    const direct = (index: number) =>
      postOk(leader.client, QUEEN_PATHS.hiveHeartbeat, JSON.stringify(periodicHiveHeartbeat(index)));
    // What a sender does with a 307: send the same heartbeat again to the leader the answer names.
    const redirected = async (index: number): Promise<void> => {
      const body = JSON.stringify(periodicHiveHeartbeat(index));
      const reply = await follower.client.post(QUEEN_PATHS.hiveHeartbeat, body);
      if (reply.status !== 307) throw new Error(`the follower answered ${reply.status}, not 307`);
      const named = LeaderRedirect.parse(JSON.parse(reply.body)).leader_url;
      if (named !== leader.process.url) throw new Error(`the follower named ${named}, not the leader`);
      await postOk(leader.client, QUEEN_PATHS.hiveHeartbeat, body);
    };
    const rates: Record<'direct' | 'redirected', number[]> = { direct: [], redirected: [] };
    const rows: string[][] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const order = round % 2 === 1 ? (['direct', 'redirected'] as const) : (['redirected', 'direct'] as const);
      for (const side of order) {
        note(`failover: round ${round} of ${ROUNDS}, heartbeats ${side}, ${ROUND_MS / 1000} s`);
        const done = await heartbeatsIn(ROUND_MS, side === 'direct' ? direct : redirected);
        const rate = done / (ROUND_MS / 1000);
        rates[side].push(rate);
        rows.push([
          `round ${round}: ${side === 'direct' ? 'straight to the leader' : 'through a follower'}`,
          fixed(rate, 0),
        ]);
      }
    }
    const directRate = median(rates.direct);
    const redirectedRate = median(rates.redirected);
    rows.push(
      ['median: straight to the leader', fixed(directRate, 0)],
      ['median: through a follower', fixed(redirectedRate, 0)],
    );
    printTable(
      `Heartbeats through a follower's 307 vs straight to the leader: ${HIVES} hives, ${LANES} senders at once, ${ROUNDS} alternating rounds of ${ROUND_MS / 1000} s`,
      ['path', 'heartbeats/s'],
      rows,
    );

    note('failover: a third queen');
    await startQueen();
    const times: number[] = [];
    for (let run = 1; run <= FAILOVERS; run++) {
      const current = await settledLeader(queens);
      const body = JSON.stringify(periodicHiveHeartbeat(0));
      note(`failover: run ${run} of ${FAILOVERS}, kill -9 of the leader`);
      const killedAt = performance.now();
      await group.kill(current.process.child);
      current.client.close();
      queens.splice(queens.indexOf(current), 1);
      // Taken by whichever queen leads now, once it has loaded the state.
      await waitFor('a new leader taking heartbeats', 30_000, async () => {
        for (const queen of queens) {
          const reply = await queen.client.post(QUEEN_PATHS.hiveHeartbeat, body).catch(() => undefined);
          if (reply?.status === 200) return true;
        }
        return undefined;
      });
      times.push(performance.now() - killedAt);
      await startQueen();
    }
    const sorted = [...times].sort((a, b) => a - b);
    const [fastest] = sorted;
    const slowest = sorted.at(-1) ?? Number.NaN;
    printTable(
      `Failover: kill -9 of the leader → a new leader taking heartbeats, --leader-ttl ${LEADER_TTL_S}s, ${FAILOVERS} runs (polled every 100 ms)`,
      ['run', 'ms'],
      [
        ...times.map((ms, i) => [`run ${i + 1}`, fixed(ms, 0)]),
        [
          'min / median / max',
          `${fixed(fastest ?? Number.NaN, 0)} / ${fixed(median(times), 0)} / ${fixed(slowest, 0)}`,
        ],
      ],
    );
    const ratio = redirectedRate / directRate;
    return printVerdict({
      bench: 'failover',
      pass: slowest <= TARGET_FAILOVER_MS,
      text:
        `failover min / median / max ${fixed(fastest ?? Number.NaN, 0)} / ${fixed(median(times), 0)} / ` +
        `${fixed(slowest, 0)} ms (target ≤ ${TARGET_FAILOVER_MS} ms); heartbeats through a follower's 307 ` +
        `${fixed(redirectedRate, 0)}/s vs ${fixed(directRate, 0)}/s straight to the leader (ratio ${fixed(ratio, 2)}, not judged)`,
    });
  } finally {
    for (const queen of queens) queen.client.close();
    await group.killAll();
    await stopAllEtcd();
  }
}
