import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type QueenHandle, startQueen } from '../../actors/queen.js';
import { HeartbeatAck } from '../../contracts/heartbeat.js';
import { QUEEN_PATHS } from '../../contracts/paths.js';
import { createLogger } from '../../services/logger.js';
import { parseCommandLine, queenOptions } from '../../services/options/index.js';
import { discoveryHeartbeat, HIVE_ID, periodicHeartbeat, workerHeartbeat } from '../fixtures/examples.js';
import { startHiveServers } from '../services/discovery/hive-servers.js';
import { type EtcdCluster, startEtcd, stopAllEtcd, withEtcdLock } from '../support/etcd.js';
import { settled } from '../support/queen-election.js';
import { eventually } from '../support/role-process.js';
import { StreamRecorder } from '../support/stream-recorder.js';

/**
 * Two queens in this process on one real etcd: a follower serves the leader's views and stream (which ends with the
 * leader's), and only the queen that leads discovers hives.
 */

const TOKEN = 'ha-queen-token';
const AUTH = { authorization: `Bearer ${TOKEN}` };

let etcd: EtcdCluster | undefined;
beforeAll(async () => {
  etcd = await startEtcd(1);
}, withEtcdLock(60_000));
afterAll(() => stopAllEtcd());

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Two queens sharing `prefix`, once one leads and the other names it. */
async function twoQueens(
  prefix: string,
  argv: readonly string[],
  env: Record<string, string> = {},
): Promise<{ leader: QueenHandle; follower: QueenHandle }> {
  if (!etcd) throw new Error('etcd did not start');
  const options = parseCommandLine(queenOptions, {
    command: 'apiary-queen',
    summary: '',
    argv: ['--port', '0', '--etcd', etcd.endpoints.join(','), '--etcd-prefix', prefix, ...argv],
    env: { APIARY_TOKEN: TOKEN, ...env },
    exit: (code) => {
      throw new Error(`exit ${code}`);
    },
  });
  const queens = await Promise.all(
    [0, 1].map(() => startQueen(options, { logger: createLogger({ write: () => {} }), dashboard: null })),
  );
  for (const queen of queens) cleanups.push(() => queen.stop());
  const [leader, follower] = await settled(queens);
  if (!leader || !follower) throw new Error('no leader');
  return { leader, follower };
}

/** POSTs a heartbeat, again while the leader is still loading the state (503). */
function post(queen: QueenHandle, route: string, body: unknown): Promise<Response> {
  return eventually(async () => {
    const response = await fetch(`${queen.url}${route}`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return response.status === 503 ? undefined : response;
  }, `${route} taken by the leader`);
}

/** Status and body of a GET, without the ages, which move between two reads. */
async function read(queen: QueenHandle, route: string): Promise<[number, unknown]> {
  const response = await fetch(`${queen.url}${route}`, { headers: AUTH });
  const text = await response.text();
  return [response.status, JSON.parse(text, (key, value) => (key === 'last_seen_age_ms' ? undefined : value))];
}

describe('queens on etcd', () => {
  it("a follower serves the leader's views and stream; the stream ends with the leader's, and comes back through the follower", async () => {
    const { leader, follower } = await twoQueens('/ha-reads', ['--no-discovery']);
    const registered = await post(leader, QUEEN_PATHS.hiveHeartbeat, discoveryHeartbeat);
    expect(registered.status).toBe(200);
    const secret = HeartbeatAck.parse(await registered.json()).hive_secret;
    const worker = await post(leader, QUEEN_PATHS.workerHeartbeat, { ...workerHeartbeat, hive_secret: secret });
    expect(worker.status).toBe(200);
    for (const route of [QUEEN_PATHS.hives, QUEEN_PATHS.workers, `${QUEEN_PATHS.events}?hive=${HIVE_ID}`]) {
      const fromLeader = await read(leader, route);
      expect(fromLeader[0]).toBe(200);
      expect(await read(follower, route), route).toEqual(fromLeader);
    }

    const stream = await StreamRecorder.open(follower.url, TOKEN);
    expect(stream.events[0]?.event).toMatchObject({ type: 'snapshot', hives: [{ hive_id: HIVE_ID }] });
    const monitor = { ...periodicHeartbeat.monitor_data, cpu_usage_percent: 97 };
    await post(leader, QUEEN_PATHS.hiveHeartbeat, { ...periodicHeartbeat, monitor_data: monitor, hive_secret: secret });
    await stream.waitFor(
      (event) => (event.type === 'hive' && event.monitor_data?.cpu_usage_percent === 97 ? event : undefined),
      'the live change relayed',
    );

    await leader.stop();
    await eventually(() => (stream.failure === undefined ? undefined : stream.failure), "the relayed stream's end");
    expect(String(stream.failure)).toContain('the stream ended');
    // The follower leads now, on the state the leader kept: a client reconnecting through it finds the hive.
    const again = await eventually(() => StreamRecorder.open(follower.url, TOKEN), 'a stream from the new leader');
    cleanups.push(() => again.close());
    expect(again.events[0]?.event).toMatchObject({ type: 'snapshot', hives: [{ hive_id: HIVE_ID }] });
  });

  it('discovers only on the queen that leads, and on the new leader after a takeover', async () => {
    const host = '127.0.0.3';
    // A host that answers nothing valid stays expected and not online: every discovery run probes it again.
    const servers = await startHiveServers({ [host]: { kind: 'invalid' } });
    cleanups.push(servers.close);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'apiary-ha-discovery-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const config = path.join(dir, 'config');
    await writeFile(config, `Host gpu-x\n  HostName ${host}\n`);
    const { leader, follower } = await twoQueens(
      '/ha-discovery',
      ['--hives-config', config, '--hive-port', String(servers.port), '--discovery-interval', '200ms'],
      { APIARY_DISCOVERY_DELAY: '0' },
    );
    const probesBy = (queen: QueenHandle): number =>
      (servers.requests.get(host) ?? []).filter((request) => request.queenUrl === queen.advertiseUrl).length;
    // Both queens run discovery on the same timer period: in the leader's three runs the follower had as many.
    await eventually(() => (probesBy(leader) >= 3 ? true : undefined), 'the leader probing the host at every run');
    expect(probesBy(follower)).toBe(0);
    await leader.stop();
    await eventually(() => (probesBy(follower) > 0 ? true : undefined), 'the new leader probing the host');
  });
});
