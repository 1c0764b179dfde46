import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { QUEEN_PATHS } from '../../contracts/paths.js';
import { hashSecret } from '../../services/queen/identity.js';
import { openSqliteStore } from '../../services/store/sqlite-store.js';
import type { HiveRecord, WorkerRecord } from '../../services/store/state-store.js';
import { capabilities } from '../fixtures/examples.js';
import { ChildGroup } from './support/children.js';
import { HttpClient, waitFor } from './support/http.js';
import { fullHiveHeartbeat, workerHeartbeatOf } from './support/payloads.js';
import { readHealth, startBenchQueen } from './support/queen.js';
import { fixed, note, printTable, printVerdict, type Verdict } from './support/report.js';

/**
 * Restart: a queen whose database holds 10 000 hives × 8 workers (written directly, as a long-running queen would
 * have left it) is started; the time from spawning it to its first `/health` answer with every hive back is the
 * figure. Target: serving in < 3 s.
 */

const HIVES = 10_000;
const WORKERS_PER_HIVE = 8;
const TARGET_MS = 3_000;

export async function restart(): Promise<Verdict> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'apiary-bench-restart-'));
  const group = new ChildGroup();
  try {
    note(`restart: writing ${HIVES} hives × ${WORKERS_PER_HIVE} workers into ${dir}`);
    const store = openSqliteStore(dir);
    const now = Date.now();
    const hives: HiveRecord[] = [];
    const workers: WorkerRecord[] = [];
    for (let index = 0; index < HIVES; index++) {
      const { capabilities: _full, ...report } = fullHiveHeartbeat(index);
      hives.push({
        id: report.hive_id,
        liveness: index % 10 === 0 ? 'offline' : 'online',
        expected: false,
        lastSeen: now - 1_000,
        clockOffsetMs: 0,
        hiveUrl: report.hive_url ?? null,
        report,
        capabilities,
        capabilitiesVersion: 0,
        secretHash: hashSecret(`secret-${index}`),
      });
      for (let slot = 0; slot < WORKERS_PER_HIVE; slot++) {
        workers.push({
          id: `${report.hive_id}-w${slot}`,
          liveness: 'online',
          lastSeen: now - 1_000,
          heartbeat: workerHeartbeatOf(index, slot),
        });
      }
    }
    await store.write({ hives, workers, removedHives: [], removedWorkers: [], events: [], problems: null });
    const bytes = store.describe().bytes;
    await store.close();

    note('restart: starting a queen on that state directory');
    const start = performance.now();
    const queen = await startBenchQueen(group, ['--state-dir', dir]);
    const listeningMs = performance.now() - start;
    const client = new HttpClient(queen.url, 1);
    const health = await waitFor('the restored registry', 30_000, async () => {
      const answer = await readHealth(client).catch(() => undefined);
      return answer && answer.hives.suspect + answer.hives.offline === HIVES ? answer : undefined;
    }).finally(() => client.close());
    const servingMs = performance.now() - start;
    printTable(
      `Restart: a queen on a database of ${HIVES} hives × ${WORKERS_PER_HIVE} workers (${fixed(bytes / 1024 ** 2, 1)} MB)`,
      ['measure', 'value'],
      [
        ['spawn → listening', `${fixed(listeningMs, 0)} ms`],
        [`spawn → first ${QUEEN_PATHS.health} with every hive back`, `${fixed(servingMs, 0)} ms`],
        [
          'restored',
          `${health.hives.suspect} suspect, ${health.hives.offline} offline hives; ${health.workers.offline} workers offline`,
        ],
      ],
    );
    return printVerdict({
      bench: 'restart',
      pass: servingMs < TARGET_MS,
      text: `serving ${fixed(servingMs, 0)} ms after spawn with ${HIVES} × ${WORKERS_PER_HIVE} restored (target < ${TARGET_MS} ms)`,
    });
  } finally {
    await group.killAll();
    await rm(dir, { recursive: true, force: true });
  }
}
