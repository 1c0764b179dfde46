import { Etcd3 } from 'etcd3';
import { afterEach, describe, expect, it } from 'vitest';
import { type QueenElection, startQueenElection } from '../../../services/ha/election.js';
import { createLogger, type Logger, silentLogger } from '../../../services/logger.js';
import { openEtcdStore } from '../../../services/store/etcd-store.js';
import { type EtcdCluster, startEtcd, stopAllEtcd, withEtcdLock } from '../../support/etcd.js';
import { eventually } from '../../support/role-process.js';

/** A test that may start this file's first etcd: it may wait for the other etcd files first. */
const ETCD_TEST_MS = withEtcdLock(120_000);

/** Three queens' elections on real etcd: one leader, a successor when it loses its lease, none without quorum. */

/** Two seconds: on two loaded cores a one-second lease can lapse between keep-alives. */
const TTL_SECONDS = 2;
/**
 * The quorum test's lease: the default `--leader-ttl`. The lease must outlast the time etcd takes to elect a raft leader
 * once quorum is back and the client's time to reach it; at 2 s that margin was missed about once in eight runs on a
 * loaded two-core machine, and the leader's key expired right after quorum came back.
 */
const QUORUM_TTL_SECONDS = 5;
/** The bound on a failover: the leader's TTL plus two seconds. */
const FAILOVER_MS = TTL_SECONDS * 1_000 + 2_000;

const elections: QueenElection[] = [];
afterEach(async () => {
  await Promise.all(elections.splice(0).map((election) => election.stop()));
  await stopAllEtcd();
});

function startQueens(
  cluster: EtcdCluster,
  prefix = '/apiary-test',
  names = ['a', 'b', 'c'],
  loggerOf: (name: string) => Logger = () => silentLogger,
  ttlSeconds = TTL_SECONDS,
): QueenElection[] {
  const started = names.map((name) =>
    startQueenElection({
      endpoints: cluster.endpoints,
      prefix,
      ttlSeconds,
      self: { url: `http://queen-${name}.test:7833`, epoch: `q-${name}` },
      logger: loggerOf(name),
    }),
  );
  elections.push(...started);
  return started;
}

/** Once exactly one queen leads and every other follows it: the leader. */
function settledLeader(queens: readonly QueenElection[], timeoutMs = 45_000): Promise<QueenElection> {
  return eventually(
    () => {
      const leaders = queens.filter((queen) => queen.role() === 'leader');
      const [leader] = leaders;
      if (leaders.length !== 1 || !leader) return undefined;
      const url = leader.leaderUrl();
      const others = queens.filter((queen) => queen !== leader);
      return others.every((queen) => queen.role() === 'follower' && queen.leaderUrl() === url) ? leader : undefined;
    },
    'one leader, the others following it',
    timeoutMs,
  );
}

/** Revokes the lease behind the election key of `url`, as an operator (or etcd, on expiry) would. */
async function revokeLeaseOf(cluster: EtcdCluster, prefix: string, url: string): Promise<void> {
  const admin = new Etcd3({ hosts: cluster.endpoints });
  try {
    const keys = await admin.getAll().prefix(`${prefix}/election/queen/`).strings();
    const entry = Object.entries(keys).find(([, value]) => value.includes(url));
    if (!entry) throw new Error(`no election key holds ${url}`);
    const leaseId = entry[0].slice(entry[0].lastIndexOf('/') + 1);
    await admin.leaseClient.leaseRevoke({ ID: leaseId });
  } finally {
    admin.close();
  }
}

describe('queen election on etcd', () => {
  it(
    'three queens on one etcd member elect exactly one leader, the only one that may write',
    async () => {
      const cluster = await startEtcd(1);
      const queens = startQueens(cluster);
      const leader = await settledLeader(queens);
      expect(leader.judging()).toBe(true);
      expect(leader.fence.current()?.key).toMatch(/^election\/queen\//);
      for (const follower of queens.filter((queen) => queen !== leader)) {
        expect(follower.judging()).toBe(false);
        expect(follower.leaderUrl()).toBe(leader.leaderUrl());
        expect(follower.fence.current()).toBeNull();
      }
    },
    ETCD_TEST_MS,
  );

  it(
    'a leader whose lease is revoked stops judging, and another leads within the TTL plus 2 s',
    async () => {
      const cluster = await startEtcd(1);
      const prefix = '/apiary-revoke';
      const queens = startQueens(cluster, prefix);
      const leader = await settledLeader(queens);
      const revokedAt = Date.now();
      await revokeLeaseOf(cluster, prefix, leader.leaderUrl() ?? '');
      await eventually(
        () => queens.find((queen) => queen !== leader && queen.role() === 'leader'),
        'a new leader',
        FAILOVER_MS,
      );
      expect(Date.now() - revokedAt).toBeLessThan(FAILOVER_MS);
      // etcd deleted its key with the lease: its observer or its next keep-alive says so.
      await eventually(() => (leader.judging() ? undefined : true), 'the old leader no longer judging', FAILOVER_MS);
      // The revoked queen campaigns again, and all end up under one leader.
      const after = await settledLeader(queens);
      expect(queens.filter((queen) => queen.judging())).toEqual([after]);
    },
    ETCD_TEST_MS,
  );

  it(
    'a leader whose campaign key is gone is deposed by its next write, and stops judging at once',
    async () => {
      const cluster = await startEtcd(1);
      const prefix = '/apiary-deposed';
      // One queen: nobody else's bid shows it another leader, so only the fenced write can tell it.
      const [queen] = startQueens(cluster, prefix, ['a']);
      if (!queen) throw new Error('no queen');
      await eventually(() => (queen.judging() ? true : undefined), 'the queen leading', 45_000);
      const store = openEtcdStore({ endpoints: cluster.endpoints, prefix, fence: queen.fence });
      const write = () =>
        store.write({ hives: [], workers: [], removedHives: [], removedWorkers: [], events: [], problems: [] });
      await write();
      const admin = new Etcd3({ hosts: cluster.endpoints });
      // Its key goes while its lease lives on: as if etcd had expired it while the queen was cut off.
      await admin.delete().key(`${prefix}/${queen.fence.current()?.key}`);
      admin.close();
      // Its observer sees no leader: that alone does not end its judging (it may be behind the queen's own bid).
      await eventually(() => (queen.leaderUrl() === null ? true : undefined), 'no leader observed', 10_000);
      expect(queen.judging()).toBe(true);
      await expect(write()).rejects.toThrow(/campaign key .* is gone/);
      expect(queen.judging()).toBe(false);
      await store.close();
    },
    ETCD_TEST_MS,
  );

  it(
    'with etcd quorum lost no second leader appears and the leader keeps judging; quorum back, it leads on with the same key and writes',
    async () => {
      const cluster = await startEtcd(3);
      const prefix = '/apiary-quorum';
      const lines = new Map<string, string[]>();
      const queens = startQueens(
        cluster,
        prefix,
        ['a', 'b', 'c'],
        (name) => {
          const own: string[] = [];
          lines.set(`http://queen-${name}.test:7833`, own);
          return createLogger({ write: (line) => own.push(line) });
        },
        QUORUM_TTL_SECONDS,
      );
      const leader = await settledLeader(queens);
      const key = leader.fence.current();
      expect(key).not.toBeNull();
      const [first, second] = cluster.members;
      await first?.kill();
      await second?.kill();
      // Over four TTLs without quorum — twice what etcd3's own keep-alive held a lease without an answer — nobody
      // else leads, and the leader keeps its bid.
      const until = Date.now() + 4 * QUORUM_TTL_SECONDS * 1_000;
      while (Date.now() < until) {
        const roles = queens.map((queen) => `${queen.role()} ${queen.actor.getSnapshot().value}`);
        expect(
          queens.filter((queen) => queen.role() === 'leader'),
          roles.join('; '),
        ).toEqual([leader]);
        expect(leader.fence.current()).toEqual(key);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const logged = lines.get(leader.leaderUrl() ?? '') ?? [];
      const renewals = (): number =>
        logged.filter((line) => line.includes('"msg":"election lease renewed again"')).length;
      const renewedBefore = renewals();
      await first?.start();
      await second?.start();
      await cluster.healthy();
      // etcd expired no lease without quorum: the leader's bid still leads, and fences the writes it buffered.
      expect(await settledLeader(queens)).toBe(leader);
      expect(leader.fence.current()).toEqual(key);
      const store = openEtcdStore({ endpoints: cluster.endpoints, prefix, fence: leader.fence });
      const time = new Date().toISOString();
      await store.write({
        hives: [],
        workers: [],
        removedHives: [],
        removedWorkers: [],
        events: [{ time, kind: 'hive', id: 'judged-alone', type: 'registered', to: 'online', reason: 'heartbeat' }],
        problems: null,
      });
      expect((await store.events({ order: 'oldest', after: 0, limit: 10 })).events).toMatchObject([
        { id: 'judged-alone', time },
      ]);
      // Its renewals reach etcd again, which keeps the bid on past the TTL etcd gave every lease as quorum came back.
      await eventually(() => (renewals() > renewedBefore ? true : undefined), "the leader's lease renewed", 30_000);
      expect(leader.fence.current()).toEqual(key);
      await store.close();
    },
    ETCD_TEST_MS,
  );
});
