import { z } from 'zod';
import { QUEEN_PATHS } from '../../contracts/paths.js';
import { ChildGroup } from './support/children.js';
import { HttpClient, postOk, sleep } from './support/http.js';
import { periodicHiveHeartbeat, workerHeartbeatOf } from './support/payloads.js';
import { histogramDelta, quantileBound, scrape } from './support/prometheus.js';
import { startBenchQueen } from './support/queen.js';
import { registerCluster } from './support/register.js';
import { fixed, note, printTable, printVerdict, type Verdict } from './support/report.js';
import { firstMessage } from './support/sse.js';
import { MB, mean, median, percentile } from './support/stats.js';

/**
 * Scale: 100, 1 000 and 10 000 hives with 8 workers each registered over HTTP in a fresh queen process per size.
 * Read from the queen: RSS and heap (`/metrics`), time to the first `snapshot` on a new stream, the cost of its
 * periodic liveness sweep (`apiary_registry_sweep_seconds`), and single-heartbeat latency. Baseline: 100 hives.
 * Target at 1 000 × 8: RSS < 250 MB, sweep < 5 ms, p99 heartbeat < 10 ms.
 */

const SIZES = [100, 1_000, 10_000] as const;
const BASELINE = 100;
const TARGET_SIZE = 1_000;
const WORKERS_PER_HIVE = 8;
const REGISTER_CONCURRENCY = 16;
const REGISTER_DEADLINE_MS = 300_000;
const SNAPSHOT_SAMPLES = 5;
const SNAPSHOT_TIMEOUT_MS = 60_000;
const LATENCY_WARMUP = 100;
const LATENCY_SAMPLES = 1_000;
const LATENCY_DEADLINE_MS = 60_000;
/** Long enough for ~20 sweeps (one per registry per second). */
const SWEEP_WINDOW_MS = 10_000;
/** The steady state: every hive and worker heartbeats once per default interval. */
const HEARTBEAT_INTERVAL_S = 30;
const LOAD_IN_FLIGHT = 16;
const SWEEP_METRIC = 'apiary_registry_sweep_seconds';
/** Nothing may turn suspect while thousands register: the sweeps measured are steady-state ones. */
const QUEEN_ARGS = ['--suspect-after', '10m', '--offline-after', '20m', '--forget-after', '1h'];
const TARGET = { rssMb: 250, sweepMs: 5, p99Ms: 10 };

const SnapshotCounts = z.object({
  type: z.literal('snapshot'),
  hives: z.array(z.unknown()),
  workers: z.array(z.unknown()),
});

interface SizeResult {
  hives: number;
  workers: number;
  registerS: number;
  loadRate: number;
  rssMb: number;
  heapMb: number;
  snapshotMs: number;
  snapshotMb: number;
  sweeps: number;
  sweepMeanMs: number;
  sweepP99Ms: number;
  p50Ms: number;
  p99Ms: number;
}

export async function scale(): Promise<Verdict> {
  const results: SizeResult[] = [];
  for (const size of SIZES) results.push(await measure(size));

  printTable(
    `Scale: hives × ${WORKERS_PER_HIVE} workers registered in a fresh queen.js; sweeps (apiary_registry_sweep_seconds) ` +
      `over ${SWEEP_WINDOW_MS / 1000} s of steady heartbeats (each hive and worker every ${HEARTBEAT_INTERVAL_S} s); ` +
      `snapshot = median of ${SNAPSHOT_SAMPLES} new streams; latency of ${LATENCY_SAMPLES} sequential hive ` +
      'heartbeats; RSS and heap read last',
    [
      'hives',
      'workers',
      'register s',
      'steady req/s',
      'RSS MB',
      'heap MB',
      'snapshot ms',
      'snapshot MB',
      'sweeps',
      'sweep mean ms',
      'sweep p99 ≤ ms',
      'heartbeat p50 ms',
      'heartbeat p99 ms',
    ],
    results.map((r) => [
      String(r.hives),
      String(r.workers),
      fixed(r.registerS),
      fixed(r.loadRate, 0),
      fixed(r.rssMb),
      fixed(r.heapMb),
      fixed(r.snapshotMs),
      fixed(r.snapshotMb, 2),
      String(r.sweeps),
      fixed(r.sweepMeanMs, 3),
      fixed(r.sweepP99Ms, 2),
      fixed(r.p50Ms, 2),
      fixed(r.p99Ms, 2),
    ]),
  );

  const base = results.find((r) => r.hives === BASELINE);
  if (!base) throw new Error('the baseline size did not run');
  const growth = (value: number, baseline: number): string => `×${fixed(value / baseline, 1)}`;
  printTable(
    `Scale growth against the ${BASELINE}-hive baseline (entries ×${SIZES.map((s) => s / BASELINE).join(', ×')})`,
    ['hives', 'RSS', 'heap', 'snapshot ms', 'sweep mean', 'heartbeat p99'],
    results.map((r) => [
      String(r.hives),
      growth(r.rssMb, base.rssMb),
      growth(r.heapMb, base.heapMb),
      growth(r.snapshotMs, base.snapshotMs),
      growth(r.sweepMeanMs, base.sweepMeanMs),
      growth(r.p99Ms, base.p99Ms),
    ]),
  );

  const target = results.find((r) => r.hives === TARGET_SIZE);
  if (!target) throw new Error('the target size did not run');
  const pass = target.rssMb < TARGET.rssMb && target.sweepP99Ms < TARGET.sweepMs && target.p99Ms < TARGET.p99Ms;
  return printVerdict({
    bench: 'scale',
    pass,
    text:
      `at ${TARGET_SIZE} × ${WORKERS_PER_HIVE}: RSS ${fixed(target.rssMb)} MB (target < ${TARGET.rssMb}), ` +
      `sweep p99 ≤ ${fixed(target.sweepP99Ms, 2)} ms (target < ${TARGET.sweepMs}), ` +
      `heartbeat p99 ${fixed(target.p99Ms, 2)} ms (target < ${TARGET.p99Ms})`,
  });
}

async function measure(size: number): Promise<SizeResult> {
  const group = new ChildGroup();
  try {
    const queen = await startBenchQueen(group, QUEEN_ARGS);
    const client = new HttpClient(queen.url, REGISTER_CONCURRENCY);
    try {
      note(`scale: registering ${size} hives × ${WORKERS_PER_HIVE} workers`);
      const registerStart = performance.now();
      await registerCluster(client, size, WORKERS_PER_HIVE, REGISTER_CONCURRENCY, REGISTER_DEADLINE_MS);
      const registerS = (performance.now() - registerStart) / 1000;
      await sleep(1_000);

      // The sweeps are timed under the load this registry really carries, and before any snapshot garbage exists.
      note(`scale: ${size} hives: ${SWEEP_WINDOW_MS / 1000} s of steady heartbeats, sweeps timed`);
      const before = await scrape(client);
      const loadRate = await steadyLoad(client, size, SWEEP_WINDOW_MS);
      const sweeps = histogramDelta(before.histogram(SWEEP_METRIC), (await scrape(client)).histogram(SWEEP_METRIC));

      note(`scale: ${size} hives: ${SNAPSHOT_SAMPLES} snapshots`);
      const snapshots: { ms: number; bytes: number }[] = [];
      let firstData = 'null';
      for (let sample = 0; sample < SNAPSHOT_SAMPLES; sample++) {
        // A new revision first: the queen caches a snapshot per revision, and the build is what is measured.
        await postOk(client, QUEEN_PATHS.hiveHeartbeat, JSON.stringify(periodicHiveHeartbeat(sample % size)));
        const first = await firstMessage(`${queen.url}${QUEEN_PATHS.stream}`, SNAPSHOT_TIMEOUT_MS);
        snapshots.push({ ms: first.elapsedMs, bytes: first.bytes });
        if (sample === 0) firstData = first.data;
      }
      const shown = SnapshotCounts.parse(JSON.parse(firstData));
      if (shown.hives.length !== size || shown.workers.length !== size * WORKERS_PER_HIVE) {
        throw new Error(`the snapshot shows ${shown.hives.length} hives and ${shown.workers.length} workers`);
      }

      note(`scale: ${size} hives: ${LATENCY_SAMPLES} heartbeats one at a time`);
      const latencies = await heartbeatLatencies(client, size);

      // Memory last, after the snapshots and heartbeats: the higher, more honest figure.
      const after = await scrape(client);
      return {
        hives: size,
        workers: size * WORKERS_PER_HIVE,
        registerS,
        loadRate,
        rssMb: after.require('process_resident_memory_bytes') / MB,
        heapMb: after.require('nodejs_heap_size_used_bytes') / MB,
        snapshotMs: median(snapshots.map((s) => s.ms)),
        snapshotMb: mean(snapshots.map((s) => s.bytes)) / MB,
        sweeps: sweeps.count,
        sweepMeanMs: sweeps.count === 0 ? Number.NaN : (sweeps.sum / sweeps.count) * 1000,
        sweepP99Ms: quantileBound(sweeps, 0.99) * 1000,
        p50Ms: percentile(latencies, 50),
        p99Ms: percentile(latencies, 99),
      };
    } finally {
      client.close();
    }
  } finally {
    await group.killAll();
  }
}

/** Steady-state heartbeats of registered hives, one at a time, in a random order (seeded: the same every run). */
async function heartbeatLatencies(client: HttpClient, size: number): Promise<number[]> {
  const latencies: number[] = [];
  const deadline = performance.now() + LATENCY_DEADLINE_MS;
  let seed = 42;
  for (let sample = 0; sample < LATENCY_WARMUP + LATENCY_SAMPLES; sample++) {
    if (performance.now() > deadline) throw new Error(`heartbeat latency gave up after ${LATENCY_DEADLINE_MS} ms`);
    seed = (seed * 48_271) % 2_147_483_647;
    const body = JSON.stringify(periodicHiveHeartbeat(seed % size));
    const start = performance.now();
    await postOk(client, QUEEN_PATHS.hiveHeartbeat, body);
    if (sample >= LATENCY_WARMUP) latencies.push(performance.now() - start);
  }
  return latencies;
}

/**
 * Every hive and worker of the registry heartbeating once per interval, for `ms`: each request goes out when it is
 * due, at most LOAD_IN_FLIGHT at a time. Returns the rate reached.
 */
async function steadyLoad(client: HttpClient, size: number, ms: number): Promise<number> {
  const perSecond = (size * (1 + WORKERS_PER_HIVE)) / HEARTBEAT_INTERVAL_S;
  const total = Math.round((perSecond * ms) / 1000);
  const start = performance.now();
  const deadline = start + ms + 5_000;
  let sent = 0;
  let inFlight = 0;
  let failure: unknown;
  const pump = (): void => {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * perSecond));
    while (sent < due && inFlight < LOAD_IN_FLIGHT && failure === undefined) {
      const k = sent++;
      const index = Math.floor(k / (1 + WORKERS_PER_HIVE)) % size;
      const slot = k % (1 + WORKERS_PER_HIVE);
      const body =
        slot === 0 ? JSON.stringify(periodicHiveHeartbeat(index)) : JSON.stringify(workerHeartbeatOf(index, slot - 1));
      inFlight++;
      postOk(client, slot === 0 ? QUEEN_PATHS.hiveHeartbeat : QUEEN_PATHS.workerHeartbeat, body).then(
        () => {
          inFlight--;
          pump();
        },
        (error: unknown) => {
          inFlight--;
          failure ??= error;
        },
      );
    }
  };
  while (sent < total || inFlight > 0) {
    if (failure !== undefined) throw failure;
    if (performance.now() > deadline) throw new Error(`the steady load did not finish within ${ms + 5_000} ms`);
    pump();
    await sleep(10);
  }
  if (failure !== undefined) throw failure;
  return sent / ((performance.now() - start) / 1000);
}
