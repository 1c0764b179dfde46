import { Etcd3 } from 'etcd3';
import { afterEach, describe, expect, it } from 'vitest';
import { observeLeader } from '../../../services/ha/leader-observer.js';
import { silentLogger } from '../../../services/logger.js';
import { startEtcd, stopAllEtcd, withEtcdLock } from '../../support/etcd.js';
import { eventually } from '../../support/role-process.js';

/** A test that may start this file's first etcd: it may wait for the other etcd files first. */
const ETCD_TEST_30S_MS = withEtcdLock(30_000);
const ETCD_TEST_60S_MS = withEtcdLock(60_000);

/** The leader observer on real etcd: the earliest bid on a lease leads, however the changes reach the watch. */

const clients: Etcd3[] = [];
const stops: (() => void)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) stop();
  for (const client of clients.splice(0)) client.close();
  await stopAllEtcd();
});

describe('leader observer', () => {
  it(
    'names the earliest bid when several land before its watch connects, and the next one when it goes',
    async () => {
      const cluster = await startEtcd(1);
      const observing = new Etcd3({ hosts: cluster.endpoints });
      const admin = new Etcd3({ hosts: cluster.endpoints });
      clients.push(observing, admin);
      // Rounds on fresh prefixes: etcd3's own observer named the last of these bids in nearly every round.
      for (const round of [1, 2, 3]) {
        const prefix = `/observer-${round}/election/queen/`;
        const seen: (string | undefined)[] = [];
        const stop = observeLeader({
          bids: observing.namespace(prefix),
          retryMs: 100,
          logger: silentLogger,
          onLeader: (bid) => seen.push(bid?.value),
        });
        stops.push(stop);
        const bids = admin.namespace(prefix);
        const lease = bids.lease(30);
        for (const bid of ['a', 'b', 'c']) await lease.put(bid).value(`queen-${bid}`);
        await eventually(() => (seen.at(-1) === 'queen-a' ? true : undefined), `round ${round}: queen-a leads`, 10_000);
        await bids.delete().key('a');
        await eventually(() => (seen.at(-1) === 'queen-b' ? true : undefined), `round ${round}: queen-b next`, 10_000);
        expect(seen).not.toContain('queen-c');
        await bids.delete().all();
        await eventually(() => (seen.at(-1) === undefined && seen.length > 1 ? true : undefined), 'no leader', 10_000);
        await lease.revoke();
      }
    },
    ETCD_TEST_60S_MS,
  );

  it(
    'passes over bids put without a lease, however many pages of them come first',
    async () => {
      const cluster = await startEtcd(1);
      const observing = new Etcd3({ hosts: cluster.endpoints });
      const admin = new Etcd3({ hosts: cluster.endpoints });
      clients.push(observing, admin);
      const prefix = '/planted/election/queen/';
      const bids = admin.namespace(prefix);
      // Written by hand, as whoever can write to etcd could: older than any campaign, and bound to no lease.
      for (const planted of ['0', '00', '000']) await bids.put(planted).value('queen-planted');
      const seen: (string | undefined)[] = [];
      stops.push(
        observeLeader({
          bids: observing.namespace(prefix),
          retryMs: 100,
          pageKeys: 2,
          logger: silentLogger,
          onLeader: (bid) => seen.push(bid?.value),
        }),
      );
      await eventually(() => (seen.length > 0 ? true : undefined), 'first reading', 10_000);
      expect(seen).toEqual([undefined]);
      const lease = bids.lease(30);
      await lease.put('real').value('queen-real');
      await eventually(() => (seen.at(-1) === 'queen-real' ? true : undefined), 'the leased bid leads', 10_000);
      await bids.put('0000').value('queen-planted');
      await lease.put('later').value('queen-later');
      await bids.delete().key('real');
      await eventually(() => (seen.at(-1) === 'queen-later' ? true : undefined), 'the next leased bid leads', 10_000);
      expect(seen).not.toContain('queen-planted');
      await lease.revoke();
    },
    ETCD_TEST_30S_MS,
  );
});
