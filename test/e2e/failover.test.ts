import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd, stopAllEtcd, withEtcdLock } from '../support/etcd.js';
import { QueenApi } from '../support/queen-api.js';
import { settled } from '../support/queen-election.js';
import { eventually, killAll, startRole } from '../support/role-process.js';
import { StreamRecorder } from '../support/stream-recorder.js';
import { createHiveDirs, killHiveGroups, queenArgs, startHive } from './cluster-roles.js';
import { hiveHealth, spawnWorker } from './hive-api.js';

/** A test that may start this file's first etcd: it may wait for the other etcd files first. */
const ETCD_TEST_MS = withEtcdLock(180_000);

/**
 * Three real queens on a real etcd, a hive (and its worker) given every queen: the leader is killed with kill -9,
 * another leads within the leader TTL plus 2 s, loads the state from etcd, and the hive and worker follow it with no
 * offline transition, their capabilities, history and identity kept. Followers serve the leader's views and stream.
 */

/** Two seconds: on two loaded cores a one-second lease can lapse between keep-alives. */
const TTL_SECONDS = 2;
const FAILOVER_MS = TTL_SECONDS * 1_000 + 2_000;
/** Bound on a hive or a worker process reaching a queen while the cores are busy with the rest of the suite. */
const SETTLE_MS = 15_000;

let root = '';
const streams: StreamRecorder[] = [];

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'apiary-e2e-failover-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(async () => {
  for (const stream of streams.splice(0)) stream.close();
  killHiveGroups();
  killAll();
  await stopAllEtcd();
});

describe('failover between queens on etcd', () => {
  it(
    'kill -9 of the leader: a new leader within the TTL plus 2 s, and the hive follows it without going offline',
    async () => {
      const etcd = await startEtcd(1);
      const haArgs = ['--etcd', etcd.endpoints.join(','), '--etcd-prefix', '/apiary-failover'];
      // Three queens starting at once on loaded cores (load 20 on two) may take far longer than one to start.
      const queens = await Promise.all(
        [0, 1, 2].map(() =>
          startRole('queen', queenArgs([...haArgs, '--leader-ttl', `${TTL_SECONDS}s`]), { timeoutMs: 60_000 }),
        ),
      );
      const [leader, ...followers] = await settled(queens);
      if (!leader) throw new Error('no leader');
      // The hive knows every queen, a follower first: it is redirected to the leader.
      const queenUrls = [...followers, leader].map((queen) => queen.url).join(',');
      const hiveId = 'following-hive';
      const hive = await startHive(hiveId, createHiveDirs(root, hiveId), [
        '--queen-url',
        queenUrls,
        '--max-failures',
        '50',
      ]);
      const atLeader = new QueenApi(leader.url);
      await eventually(
        async () => {
          const view = await atLeader.hive(hiveId);
          return view?.liveness === 'online' && view.capabilities !== null ? view : undefined;
        },
        'the hive online at the leader',
        SETTLE_MS,
      );
      const worker = await spawnWorker(hive.url, 'tiny');
      await eventually(
        async () => ((await atLeader.worker(worker.worker_id))?.available ? true : undefined),
        'the worker available at the leader',
        SETTLE_MS,
      );
      // Followers take no heartbeat, and read from the leader: the hive is online on them too.
      for (const follower of followers) {
        expect((await new QueenApi(follower.url).hive(hiveId))?.liveness).toBe('online');
      }
      // Their streams are the leader's, relayed: they end with it, for their clients to reconnect to the next leader.
      const relayed = await Promise.all(followers.map((follower) => StreamRecorder.open(follower.url)));
      streams.push(...relayed);

      const killedAt = Date.now();
      leader.child.kill('SIGKILL');
      await leader.exited;
      const [successor] = await settled(followers, FAILOVER_MS + 2_000);
      if (!successor) throw new Error('no successor');
      expect(Date.now() - killedAt).toBeLessThan(FAILOVER_MS);
      await eventually(
        () => (relayed.every((stream) => stream.failure !== undefined) ? true : undefined),
        "the followers' relayed streams ended with the leader",
        SETTLE_MS,
      );
      // Reconnected through either survivor: the new leader's stream, from its takeover on.
      const after = await Promise.all(
        followers.map((follower) =>
          eventually(() => StreamRecorder.open(follower.url), 'a stream through a survivor', SETTLE_MS),
        ),
      );
      streams.push(...after);

      // On loaded cores a lease may lapse and hand over once more: each check asks whichever queen leads now.
      const atCurrentLeader = async (): Promise<QueenApi | undefined> => {
        const [current] = await settled(followers, FAILOVER_MS + 2_000);
        return current ? new QueenApi(current.url) : undefined;
      };
      await eventually(
        async () => {
          const view = await (await atCurrentLeader())?.hive(hiveId);
          return view?.liveness === 'online' && view.capabilities !== null ? view : undefined;
        },
        'the hive online at the new leader',
        SETTLE_MS,
      );
      await eventually(
        async () => ((await (await atCurrentLeader())?.worker(worker.worker_id))?.available ? true : undefined),
        'the worker available at the new leader',
        SETTLE_MS,
      );
      await eventually(
        async () => {
          const [current] = await settled(followers, FAILOVER_MS + 2_000);
          return (await hiveHealth(hive.url)).queen_url === current?.url ? true : undefined;
        },
        'the hive sending to the leader',
        SETTLE_MS,
      );
      // Neither leader ever judged the hive or its worker offline: the new leader took them over with the restart
      // grace (suspect, `queen restart`) and their next heartbeats found them online again. The streams saw every
      // transition but the takeover's own, and the history in etcd holds those too.
      const transitions = streams.flatMap((stream) =>
        stream.events.flatMap(({ event }) => (event.type === 'liveness' ? [event] : [])),
      );
      expect(transitions.filter((event) => event.to === 'offline' || event.to === 'forgotten')).toEqual([]);
      const atSuccessor = await atCurrentLeader();
      if (!atSuccessor) throw new Error('no leader');
      const history = await atSuccessor.history(hiveId);
      const workerHistory = await atSuccessor.history(worker.worker_id, 'worker');
      expect(
        [...history, ...workerHistory].filter((event) => event.to === 'offline' || event.to === 'forgotten'),
      ).toEqual([]);
      // The history goes on: the hive's registration by the dead leader, and no identity refused since.
      expect(history[0]).toMatchObject({ type: 'registered', to: 'online' });
      expect(history.filter((event) => event.type === 'identity_refused')).toEqual([]);
      for (const stream of after) expect(stream.events[0]?.event.type).toBe('snapshot');
      // An etcd, three queens, a hive and its worker start before the kill: more than the default 20 s when loaded.
    },
    ETCD_TEST_MS,
  );
});
