import { readFile } from 'node:fs/promises';
import { LIMITS } from '../../contracts/common.js';
import { QUEEN_PATHS } from '../../contracts/paths.js';
import { fatHeartbeat } from '../fixtures/examples.js';
import type { ChildGroup } from './support/children.js';
import { HttpClient } from './support/http.js';
import { startBenchQueen } from './support/queen.js';
import { note } from './support/report.js';
import { MB } from './support/stats.js';

/**
 * A queen at its default limits flooded with new hives, each carrying nine tenths of the capabilities one hive may
 * hold, eight at a time, until it refuses them, then as many again: its peak RSS (the kernel's high-water mark) and
 * whether `/health` kept answering. Target: the contract's bound on a queen at its defaults, RSS < 1.5 GB.
 */

const PARALLEL = 8;
/** Far more than the default `--max-capability-bytes` takes: the flood ends at the first refusal, or here. */
const MOST_HIVES = 4_000;
export const TARGET_PEAK_RSS_MB = 1.5 * 1024;

export interface FloodResult {
  taken: number;
  /** The first refusal's status and, after it, how many more were refused as they should be. */
  refusedStatus: number | null;
  refusedAfter: number;
  peakRssMb: number;
  healthFailures: number;
  healthWorstMs: number;
  seconds: number;
}

export async function floodAtDefaults(group: ChildGroup): Promise<FloodResult> {
  const queen = await startBenchQueen(group);
  const client = new HttpClient(queen.url, PARALLEL + 1, 60_000);
  const result: FloodResult = {
    taken: 0,
    refusedStatus: null,
    refusedAfter: 0,
    peakRssMb: 0,
    healthFailures: 0,
    healthWorstMs: 0,
    seconds: 0,
  };
  const start = performance.now();
  const round = async (from: number): Promise<number[]> => {
    const statuses = await Promise.all(
      Array.from({ length: PARALLEL }, async (_, i) => {
        const body = JSON.stringify(fatHeartbeat(`flood-${from + i}`, LIMITS.capabilityBytes * 0.9));
        return (await client.post(QUEEN_PATHS.hiveHeartbeat, body)).status;
      }),
    );
    const asked = performance.now();
    const health = await client.get(QUEEN_PATHS.health).catch(() => ({ status: 0 }));
    result.healthWorstMs = Math.max(result.healthWorstMs, performance.now() - asked);
    if (health.status !== 200) result.healthFailures++;
    return statuses;
  };
  try {
    let sent = 0;
    while (result.refusedStatus === null && sent < MOST_HIVES) {
      const statuses = await round(sent);
      sent += PARALLEL;
      result.taken += statuses.filter((status) => status === 200).length;
      result.refusedStatus = statuses.find((status) => status !== 200) ?? null;
      if (sent % 400 === 0) note(`stress: flood at the default limits, ${result.taken} fat hives taken`);
    }
    // Full, it stays full: as many again, every one refused.
    for (let more = 0; more < result.taken && result.refusedStatus !== null; more += PARALLEL) {
      const statuses = await round(MOST_HIVES + more);
      result.refusedAfter += statuses.filter((status) => status === result.refusedStatus).length;
    }
    result.seconds = (performance.now() - start) / 1000;
    result.peakRssMb = await peakRssMb(queen.pid);
    return result;
  } finally {
    client.close();
  }
}

/** The process's peak resident set so far (`VmHWM`). */
async function peakRssMb(pid: number): Promise<number> {
  const kib = /^VmHWM:\s+(\d+) kB$/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (kib === undefined) throw new Error(`no VmHWM for process ${pid}`);
  return (Number(kib) * 1024) / MB;
}
