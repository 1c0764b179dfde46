import { createQueenRegistry } from '../../services/queen/registry.js';
import { openEtcdStore } from '../../services/store/etcd-store.js';
import { startEtcd, stopAllEtcd } from '../support/etcd.js';
import { leaderFence } from '../support/etcd-fence.js';
import { fullHiveHeartbeat, periodicHiveHeartbeat, workerHeartbeatOf } from './support/payloads.js';
import { parsePrometheus, type Scrape } from './support/prometheus.js';
import { fixed, note, printTable, printVerdict, type Verdict } from './support/report.js';

/**
 * etcd writes at 1 000 hives × 8 workers: a leader's registry on the etcd store (one real etcd member), fed the
 * heartbeats of that cluster at its default 30 s interval, evenly spread, for one interval. etcd's own counters give
 * the keys written and the transactions per second; the ratio is keys written per heartbeat received (every
 * heartbeat renews its entry's record; the history adds its events). Target: at most one key per heartbeat.
 */

const HIVES = 1_000;
const WORKERS_PER_HIVE = 8;
const INTERVAL_MS = 30_000;
/** Heartbeats go out in slices this often, each an even share of the interval's. */
const SLICE_MS = 100;
const TARGET_RATIO = 1;

async function etcdCounters(endpoint: string): Promise<Scrape> {
  const response = await fetch(`${endpoint}/metrics`);
  return parsePrometheus(await response.text());
}

export async function etcd(): Promise<Verdict> {
  const cluster = await startEtcd(1);
  const [endpoint] = cluster.endpoints;
  if (!endpoint) throw new Error('etcd did not start');
  const leader = await leaderFence(cluster.endpoints, '/apiary-bench');
  const store = openEtcdStore({ endpoints: cluster.endpoints, prefix: '/apiary-bench', fence: leader.fence });
  const registry = createQueenRegistry({
    settings: { suspectAfterMs: 45_000, offlineAfterMs: 90_000, forgetAfterMs: 600_000 },
    store,
    batch: false,
  });
  const secrets = new Map<number, string>();
  const beat = (index: number, full: boolean): void => {
    const secret = secrets.get(index);
    const heartbeat = full ? fullHiveHeartbeat(index) : periodicHiveHeartbeat(index);
    const verdict = registry.receiveHive(secret === undefined ? heartbeat : { ...heartbeat, hive_secret: secret });
    if (verdict.ok && verdict.value.secret !== null) secrets.set(index, verdict.value.secret);
    for (let slot = 0; slot < WORKERS_PER_HIVE; slot++) {
      const worker = workerHeartbeatOf(index, slot);
      registry.receiveWorker({ ...worker, hive_secret: secrets.get(index) ?? '' });
    }
  };
  try {
    note(`etcd: registering ${HIVES} hives × ${WORKERS_PER_HIVE} workers`);
    for (let index = 0; index < HIVES; index++) beat(index, true);
    await registry.events({ order: 'oldest', after: 0, limit: 1 });
    const before = await etcdCounters(endpoint);
    note(`etcd: one ${INTERVAL_MS / 1_000} s heartbeat interval of steady state`);
    const slices = INTERVAL_MS / SLICE_MS;
    const perSlice = HIVES / slices;
    const start = performance.now();
    let sent = 0;
    for (let slice = 0; slice < slices; slice++) {
      const due = Math.round((slice + 1) * perSlice);
      for (; sent < due; sent++) beat(sent, false);
      const wait = start + (slice + 1) * SLICE_MS - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    await registry.events({ order: 'oldest', after: 0, limit: 1 });
    const seconds = (performance.now() - start) / 1_000;
    const after = await etcdCounters(endpoint);
    const delta = (name: string): number => after.require(name) - before.require(name);
    const puts = delta('etcd_mvcc_put_total');
    const received = delta('etcd_network_client_grpc_received_bytes_total');
    const txns = delta('etcd_mvcc_txn_total');
    const heartbeats = sent * (1 + WORKERS_PER_HIVE);
    const ratio = puts / heartbeats;
    const bytes = after.require('etcd_mvcc_db_total_size_in_bytes');
    printTable(
      `etcd writes: ${HIVES} hives × ${WORKERS_PER_HIVE} workers, heartbeat every ${INTERVAL_MS / 1_000} s, one interval`,
      ['measure', 'value'],
      [
        ['heartbeats received', `${fixed(heartbeats / seconds, 0)} /s`],
        ['keys written to etcd', `${fixed(puts / seconds, 0)} /s`],
        ['bytes sent to etcd', `${fixed(received / seconds / 1024, 1)} KiB/s`],
        ['transactions', `${fixed(txns / seconds, 1)} /s`],
        ['keys per heartbeat (ratio)', fixed(ratio, 2)],
        ['etcd database after registration and one interval', `${fixed(bytes / 1024 ** 2, 1)} MB`],
      ],
    );
    return printVerdict({
      bench: 'etcd',
      pass: ratio <= TARGET_RATIO,
      text: `${fixed(puts / seconds, 0)} keys/s (${fixed(received / seconds / 1024, 1)} KiB/s) in ${fixed(txns / seconds, 1)} transactions/s for ${fixed(heartbeats / seconds, 0)} heartbeats/s: ratio ${fixed(ratio, 2)} (target ≤ ${TARGET_RATIO})`,
    });
  } finally {
    await registry.stop();
    leader.close();
    await stopAllEtcd();
  }
}
