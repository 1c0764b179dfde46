import { LIMITS } from '../../contracts/common.js';
import { QUEEN_PATHS } from '../../contracts/paths.js';
import { floodAtDefaults, TARGET_PEAK_RSS_MB } from './stress-flood.js';
import { ChildGroup } from './support/children.js';
import { HttpClient } from './support/http.js';
import { scrape } from './support/prometheus.js';
import { startBenchQueen } from './support/queen.js';
import { registerCluster } from './support/register.js';
import { fixed, note, printTable, printVerdict, type Verdict } from './support/report.js';
import { firstMessage } from './support/sse.js';
import { MB } from './support/stats.js';

/**
 * Stress: a queen process holding 10 000 hives × 8 workers writes a stream snapshot and `GET /v1/hives` at the same
 * time; the longest event-loop block meanwhile is the queen's own `nodejs_eventloop_lag_max_seconds` (prom-client's
 * monitorEventLoopDelay, reset at every scrape). Target: < 50 ms. Then a queen at its default limits is flooded with
 * fat hives (see `floodAtDefaults`).
 */

const HIVES = 10_000;
const WORKERS_PER_HIVE = 8;
const REGISTER_CONCURRENCY = 16;
const REGISTER_DEADLINE_MS = 300_000;
const VIEW_TIMEOUT_MS = 120_000;
const SAMPLES = 3;
const TARGET_BLOCK_MS = 50;
const QUEEN_ARGS = ['--suspect-after', '10m', '--offline-after', '20m', '--forget-after', '1h'];
const LAG_MAX = 'nodejs_eventloop_lag_max_seconds';

interface Sample {
  blockMs: number;
  snapshotMs: number;
  snapshotMb: number;
  hivesMs: number;
  hivesMb: number;
}

export async function stress(): Promise<Verdict> {
  const group = new ChildGroup();
  try {
    const queen = await startBenchQueen(group, QUEEN_ARGS);
    const client = new HttpClient(queen.url, REGISTER_CONCURRENCY);
    try {
      note(`stress: registering ${HIVES} hives × ${WORKERS_PER_HIVE} workers`);
      await registerCluster(client, HIVES, WORKERS_PER_HIVE, REGISTER_CONCURRENCY, REGISTER_DEADLINE_MS);
      const samples: Sample[] = [];
      for (let sample = 0; sample < SAMPLES; sample++) {
        note(`stress: snapshot and /v1/hives together, ${sample + 1} of ${SAMPLES}`);
        // This scrape resets the queen's lag histogram: the next one covers exactly the two views.
        await scrape(client);
        const start = performance.now();
        const [snapshot, hives] = await Promise.all([
          firstMessage(`${queen.url}${QUEEN_PATHS.stream}`, VIEW_TIMEOUT_MS),
          fetch(`${queen.url}${QUEEN_PATHS.hives}`).then(async (response) => {
            const bytes = (await response.arrayBuffer()).byteLength;
            return { bytes, ms: performance.now() - start };
          }),
        ]);
        const after = await scrape(client);
        samples.push({
          blockMs: after.require(LAG_MAX) * 1000,
          snapshotMs: snapshot.elapsedMs,
          snapshotMb: snapshot.bytes / MB,
          hivesMs: hives.ms,
          hivesMb: hives.bytes / MB,
        });
      }
      const rss = (await scrape(client)).require('process_resident_memory_bytes') / MB;
      printTable(
        `Stress: ${HIVES} hives × ${WORKERS_PER_HIVE} workers in queen.js; a new stream's snapshot and GET /v1/hives ` +
          `written at the same time, ${SAMPLES} times; longest event-loop block from the queen's ${LAG_MAX}`,
        ['run', 'longest block ms', 'snapshot ms', 'snapshot MB', '/v1/hives ms', '/v1/hives MB', 'RSS MB'],
        samples.map((s, i) => [
          String(i + 1),
          fixed(s.blockMs),
          fixed(s.snapshotMs),
          fixed(s.snapshotMb, 2),
          fixed(s.hivesMs),
          fixed(s.hivesMb, 2),
          fixed(rss),
        ]),
      );
      const worst = Math.max(...samples.map((s) => s.blockMs));
      note('stress: a queen at its default limits, flooded with fat hives');
      const flood = await floodAtDefaults(group);
      printTable(
        `Stress: a queen at its default limits flooded with new hives of ${fixed((LIMITS.capabilityBytes * 0.9) / 1024, 0)} KiB ` +
          'of capabilities each, 8 at a time, until refused, then as many again; /health asked after every 8',
        ['taken', 'refused with', 'refused after', 'peak RSS MB', '/health failures', '/health worst ms', 's'],
        [
          [
            String(flood.taken),
            String(flood.refusedStatus ?? 'never'),
            String(flood.refusedAfter),
            fixed(flood.peakRssMb),
            String(flood.healthFailures),
            fixed(flood.healthWorstMs),
            fixed(flood.seconds),
          ],
        ],
      );
      const floodHeld =
        flood.refusedStatus === 503 &&
        flood.refusedAfter >= flood.taken &&
        flood.healthFailures === 0 &&
        flood.peakRssMb < TARGET_PEAK_RSS_MB;
      return printVerdict({
        bench: 'stress',
        pass: worst < TARGET_BLOCK_MS && floodHeld,
        text:
          `longest event-loop block ${fixed(worst)} ms while writing both views (target < ${TARGET_BLOCK_MS}); ` +
          `flooded at the defaults: ${flood.taken} fat hives taken, then ${flood.refusedStatus ?? 'no'} refusals, ` +
          `peak RSS ${fixed(flood.peakRssMb)} MB (target < ${TARGET_PEAK_RSS_MB}), ${flood.healthFailures} /health failures`,
      });
    } finally {
      client.close();
    }
  } finally {
    await group.killAll();
  }
}
