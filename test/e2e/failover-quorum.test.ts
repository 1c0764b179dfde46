import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Etcd3 } from 'etcd3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { HistoryEvent } from '../../contracts/events.js';
import { Liveness } from '../../contracts/registry.js';
import type { LivenessEvent } from '../../contracts/stream.js';
import { EVENTS, HIVES } from '../../services/store/etcd-layout.js';
import { type EtcdCluster, type EtcdMember, startEtcd, stopAllEtcd, withEtcdLock } from '../support/etcd.js';
import { QueenApi } from '../support/queen-api.js';
import { type RoleWatch, settled, watchRoles } from '../support/queen-election.js';
import { eventually, killAll, type RoleProcess, startRole } from '../support/role-process.js';
import { StreamRecorder } from '../support/stream-recorder.js';
import { crashHive, createHiveDirs, killHiveGroups, queenArgs, startHive } from './cluster-roles.js';
import { hiveHealth, spawnWorker } from './hive-api.js';

/** A test that may start this file's first etcd: it may wait for the other etcd files first. */
const ETCD_TEST_MS = withEtcdLock(120_000);

/**
 * One real cluster — three etcd members, three queens, three hives each with a worker — through the phases:
 * kill -9 of the leader (a successor within the TTL plus 2 s, nothing offline, the history numbered on); one etcd
 * member down (nothing changes); etcd quorum lost (the leader judges on from memory: a crashed hive goes offline, the
 * others stay online, no second leader); quorum back (the outage's writes land in etcd). Every queen's `/health` is
 * polled throughout: never two leaders at once.
 */

/** Two seconds: on two loaded cores a one-second lease can lapse between keep-alives. */
const TTL_SECONDS = 2;
const FAILOVER_MS = TTL_SECONDS * 1_000 + 2_000;
/** Bound on a hive or a worker process reaching a queen while the cores are busy with the rest of the suite. */
const SETTLE_MS = 15_000;
/** A keep-alive broken by a member's death would lapse the lease within its TTL: one TTL and a second more show it. */
const STILL_MS = TTL_SECONDS * 1_000 + 1_000;
const PREFIX = '/apiary-quorum';
const HIVE_IDS = ['hive-a', 'hive-b', 'hive-c'];
const STATE_WRITE_FAILED = 'state write failed; the queen keeps running from memory';
const STATE_WRITES_WORK = 'state writes work again';

let root = '';
const streams: StreamRecorder[] = [];
const watches: RoleWatch[] = [];

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'apiary-e2e-quorum-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(async () => {
  for (const stream of streams.splice(0)) stream.close();
  await Promise.all(watches.splice(0).map((watch) => watch.stop()));
  killHiveGroups();
  killAll();
  await stopAllEtcd();
});

/** The liveness transitions a stream carried, read within [from, to]. */
function transitions(stream: StreamRecorder, from = 0, to = Number.POSITIVE_INFINITY): LivenessEvent[] {
  return stream.events.flatMap(({ at, event }) => (event.type === 'liveness' && at >= from && at <= to ? [event] : []));
}

/** Whether the stream carried a heartbeat of `hiveId` the queen took after `since`. */
function heartbeatSince(stream: StreamRecorder, hiveId: string, since: number): true | undefined {
  return stream.events.some(({ at, event }) => at > since && event.type === 'hive' && event.hive_id === hiveId)
    ? true
    : undefined;
}

/** Every queen that answered `leader` to a poll started within [from, to]. */
function leadersWithin(watch: RoleWatch, from: number, to: number): string[] {
  return [...new Set(watch.rounds.filter(({ at }) => at >= from && at <= to).flatMap(({ leaders }) => leaders))];
}

/** The last thing the queen logged of its state writes: failing or working again (undefined: neither yet). */
function lastStateWrite(queen: RoleProcess): unknown {
  return queen.logs.findLast((line) => line.msg === STATE_WRITE_FAILED || line.msg === STATE_WRITES_WORK)?.msg;
}

const StoredHive = z.object({ liveness: Liveness, lastSeen: z.number().nullable() });
const StoredEvent = HistoryEvent.omit({ seq: true });

/** Each hive's record and the history as etcd holds them, read straight from the members. */
async function storedInEtcd(
  cluster: EtcdCluster,
): Promise<{ hives: Map<string, z.infer<typeof StoredHive>>; events: HistoryEvent[] }> {
  const client = new Etcd3({ hosts: cluster.endpoints });
  try {
    const state = client.namespace(`${PREFIX}/`);
    const [hives, events] = await Promise.all([
      state.getAll().prefix(HIVES).strings(),
      state.getAll().prefix(EVENTS).strings(),
    ]);
    return {
      hives: new Map(
        Object.entries(hives).map(([key, value]) => [key.slice(HIVES.length), StoredHive.parse(JSON.parse(value))]),
      ),
      events: Object.entries(events).map(([key, value]) =>
        HistoryEvent.parse({ seq: Number(key.slice(EVENTS.length)), ...StoredEvent.parse(JSON.parse(value)) }),
      ),
    };
  } finally {
    client.close();
  }
}

async function killed(member: EtcdMember | undefined): Promise<EtcdMember> {
  if (!member) throw new Error('no such etcd member');
  await member.kill();
  return member;
}

describe('failover and etcd quorum, every process real', () => {
  it(
    'kill -9 of the leader, one etcd member down, quorum lost and back: one leader judging throughout, no write lost',
    async () => {
      const etcd = await startEtcd(3);
      const haArgs = ['--etcd', etcd.endpoints.join(','), '--etcd-prefix', PREFIX, '--leader-ttl', `${TTL_SECONDS}s`];
      // Slack against a loaded core's pauses where no transition may happen; a crashed hive is offline after 4 s.
      const timings = ['--suspect-after', '2s', '--offline-after', '4s'];
      // Three queens starting at once on loaded cores may take far longer than one to start.
      const queens = await Promise.all(
        [0, 1, 2].map(() => startRole('queen', queenArgs([...haArgs, ...timings]), { timeoutMs: 60_000 })),
      );
      const [first, ...survivors] = await settled(queens);
      if (!first) throw new Error('no leader');
      const roles = watchRoles(queens);
      watches.push(roles);
      // Every hive knows every queen, the leader last: the followers redirect it there.
      const queenUrls = [...survivors, first].map((queen) => queen.url).join(',');
      const hives = await Promise.all(
        HIVE_IDS.map((id) =>
          startHive(id, createHiveDirs(root, id), ['--queen-url', queenUrls, '--max-failures', '50']),
        ),
      );
      const allOnline = async (api: QueenApi, ids = HIVE_IDS): Promise<true | undefined> => {
        const views = await Promise.all(ids.map((id) => api.hive(id)));
        return views.every((view) => view?.liveness === 'online' && view.capabilities !== null) ? true : undefined;
      };
      await eventually(() => allOnline(new QueenApi(first.url)), 'every hive online at the first leader', SETTLE_MS);
      const workers = await Promise.all(hives.map((hive) => spawnWorker(hive.url, 'tiny')));
      const allAvailable = async (api: QueenApi): Promise<true | undefined> => {
        const views = await Promise.all(workers.map((worker) => api.worker(worker.worker_id)));
        return views.every((view) => view?.available) ? true : undefined;
      };
      await eventually(() => allAvailable(new QueenApi(first.url)), 'every worker available at the first', SETTLE_MS);
      const before = await StreamRecorder.open(first.url);
      streams.push(before);

      // kill -9 of the leader: another leads within the TTL plus 2 s, and takes every hive and worker over.
      const killedAt = Date.now();
      first.child.kill('SIGKILL');
      await first.exited;
      const [leader, ...followers] = await settled(survivors, FAILOVER_MS + 2_000);
      if (!leader) throw new Error('no successor');
      expect(Date.now() - killedAt).toBeLessThan(FAILOVER_MS);
      const atLeader = new QueenApi(leader.url);
      await eventually(() => (before.failure === undefined ? undefined : true), 'the first stream ended', SETTLE_MS);
      const stream = await eventually(() => StreamRecorder.open(leader.url), "the successor's stream", SETTLE_MS);
      streams.push(stream);
      await eventually(() => allOnline(atLeader), 'every hive online at the successor', SETTLE_MS);
      await eventually(() => allAvailable(atLeader), 'every worker available at the successor', SETTLE_MS);
      await eventually(
        async () => {
          const healths = await Promise.all(hives.map((hive) => hiveHealth(hive.url)));
          return healths.every((health) => health.queen_url === leader.url) ? true : undefined;
        },
        'every hive sending to the successor',
        SETTLE_MS,
      );
      const settledAt = Date.now();
      // The takeover's restart grace (suspect, `queen restart`) is no offline: nothing that kept sending went offline.
      const failedOver = [...transitions(before), ...transitions(stream)];
      expect(failedOver.filter((event) => event.to === 'offline' || event.to === 'forgotten')).toEqual([]);
      // The history goes on from the first leader's: numbered on without a gap or a repeat, its registrations kept.
      const history = await atLeader.events();
      expect(history.map((event) => event.seq)).toEqual(history.map((_, index) => index + 1));
      for (const id of HIVE_IDS) {
        expect(history.filter((event) => event.id === id && event.type === 'registered')).toHaveLength(1);
      }
      expect(history.filter((event) => event.to === 'offline' || event.to === 'forgotten')).toEqual([]);

      // One etcd member of three down (a raft follower): etcd keeps its quorum, and nothing changes.
      const raftLeader = await eventually(
        async () => {
          const leads = await Promise.all(etcd.members.map((member) => member.leads()));
          return etcd.members.find((_, index) => leads[index]);
        },
        'an etcd raft leader',
        SETTLE_MS,
      );
      const spare = await killed(etcd.members.find((member) => member !== raftLeader));
      const oneDownAt = Date.now();
      await eventually(
        async () => {
          const { hives: stored } = await storedInEtcd(etcd);
          return HIVE_IDS.every((id) => (stored.get(id)?.lastSeen ?? 0) > oneDownAt) ? true : undefined;
        },
        "the leader's writes landing on the two members left",
        SETTLE_MS,
      );
      // Only nothing happening is asserted here, over a window a lapsed lease would show in.
      await new Promise((resolve) => setTimeout(resolve, STILL_MS));
      const stillUntil = Date.now();
      expect(leadersWithin(roles, oneDownAt, stillUntil)).toEqual([leader.url]);
      expect(transitions(stream, oneDownAt, stillUntil)).toEqual([]);
      for (const id of HIVE_IDS) expect(heartbeatSince(stream, id, oneDownAt)).toBe(true);
      expect(await allOnline(atLeader)).toBe(true);

      // A second member down, one of three left: no quorum. The leader judges on from memory: a hive crashes (its
      // worker with it) and goes offline, the others stay online, their heartbeats taken.
      const lost = await killed(etcd.members.find((member) => member.running() && member !== spare));
      const quorumLostAt = Date.now();
      const [, , crashed] = hives;
      const crashedWorker = workers[2]?.worker_id;
      if (!crashed || !crashedWorker) throw new Error('no third hive');
      await crashHive(crashed);
      const hiveOffline = await stream.waitFor(
        (event) => (event.type === 'liveness' && event.id === 'hive-c' && event.to === 'offline' ? event : undefined),
        'the crashed hive offline at the leader',
        SETTLE_MS,
      );
      expect(hiveOffline.reason).toBe('missed heartbeats');
      await stream.waitFor(
        (event) =>
          event.type === 'liveness' && event.id === crashedWorker && event.to === 'offline' ? event : undefined,
        "the crashed hive's worker offline at the leader",
        SETTLE_MS,
      );
      // Its writes fail meanwhile, and wait in memory.
      await eventually(
        () => (lastStateWrite(leader) === STATE_WRITE_FAILED ? true : undefined),
        "the leader's writes failing",
        SETTLE_MS,
      );
      // Only nothing happening is asserted here: quorum stays lost past two TTLs, where etcd3 gave a lease up.
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(0, quorumLostAt + 2 * TTL_SECONDS * 1_000 + 1_000 - Date.now())),
      );
      const offlineSeenAt = Date.now();
      for (const id of ['hive-a', 'hive-b']) {
        await eventually(() => heartbeatSince(stream, id, offlineSeenAt), `a heartbeat of ${id} taken`, SETTLE_MS);
      }
      const outageUntil = Date.now();
      expect(leadersWithin(roles, quorumLostAt, outageUntil)).toEqual([leader.url]);
      const others = transitions(stream, quorumLostAt, outageUntil).filter(
        (event) => event.id !== 'hive-c' && event.id !== crashedWorker,
      );
      expect(others).toEqual([]);
      expect(await allOnline(atLeader, ['hive-a', 'hive-b'])).toBe(true);
      expect((await atLeader.hive('hive-c'))?.liveness).toBe('offline');
      // The others still name the leader, and so send their heartbeats on to it.
      for (const follower of followers) {
        expect(await new QueenApi(follower.url).health()).toMatchObject({ role: 'follower', leader_url: leader.url });
      }

      // Quorum back: both members started again on their data and ports. What the leader judged alone lands in etcd.
      const restoredAt = Date.now();
      await Promise.all([spare.start(), lost.start()]);
      await etcd.healthy();
      const stored = await eventually(
        async () => {
          const found = await storedInEtcd(etcd);
          return found.hives.get('hive-c')?.liveness === 'offline' ? found : undefined;
        },
        "the crashed hive's offline in etcd",
        30_000,
      );
      await eventually(
        () => (lastStateWrite(leader) === STATE_WRITES_WORK ? true : undefined),
        "the leader's writes working again",
        SETTLE_MS,
      );
      const outage = (id: string): HistoryEvent[] =>
        stored.events.filter(
          (event) => event.id === id && event.to === 'offline' && Date.parse(event.time) < restoredAt,
        );
      expect(outage('hive-c')).toHaveLength(1);
      expect(outage(crashedWorker)).toHaveLength(1);
      expect(stored.hives.get('hive-a')?.liveness).toBe('online');
      expect(stored.hives.get('hive-b')?.liveness).toBe('online');
      // Numbered on from the history before the outage, without a gap or a repeat.
      const seqs = stored.events.map((event) => event.seq).sort((a, b) => a - b);
      expect(seqs).toEqual(seqs.map((_, index) => index + 1));
      // Never two leaders at once; one leader, the same, from the takeover on.
      await roles.stop();
      expect(roles.rounds.filter((round) => round.leaders.length > 1)).toEqual([]);
      expect(leadersWithin(roles, settledAt, Date.now())).toEqual([leader.url]);
      // Three etcd members, three queens, three hives and their workers start before the phases: more than 20 s loaded.
    },
    ETCD_TEST_MS,
  );
});
