import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import si from 'systeminformation';

/** What `systeminformation` says about this host; each read is asynchronous and may be slow. */
export interface MemoryReading {
  /** `active`: memory in use by processes, without the reclaimable page cache that `used` counts. */
  usedBytes: number;
  totalBytes: number;
}

interface CpuTimes {
  busy: number;
  total: number;
}

function cpuTimes(): CpuTimes {
  let busy = 0;
  let total = 0;
  for (const { times } of os.cpus()) {
    const all = times.user + times.nice + times.sys + times.idle + times.irq;
    busy += all - times.idle;
    total += all;
  }
  return { busy, total };
}

const FIRST_SAMPLE_MS = 500;
let previous: CpuTimes | null = null;

/**
 * CPU load in percent (0–100) since the previous call; the first call measures over half a second. From
 * `os.cpus()` deltas: `si.currentLoad()` shells out synchronously on Linux (`execSync('cat /proc/stat')`), which
 * blocks the event loop and cost most of the hive's CPU per heartbeat in the agent benchmark.
 */
export async function readCpuLoad(): Promise<number> {
  if (previous === null) {
    previous = cpuTimes();
    await sleep(FIRST_SAMPLE_MS, undefined, { ref: false });
  }
  const now = cpuTimes();
  const busy = now.busy - previous.busy;
  const total = now.total - previous.total;
  previous = now;
  const load = total > 0 ? (100 * busy) / total : 0;
  return Number.isFinite(load) ? Math.min(100, Math.max(0, load)) : 0;
}

export async function readMemory(): Promise<MemoryReading> {
  const { active, total } = await si.mem();
  return { usedBytes: Math.max(0, active), totalBytes: Math.max(0, total) };
}

/** The CPU's brand, e.g. `Intel Xeon Gold 6338`; empty when the platform does not tell. */
export async function readCpuName(): Promise<string> {
  const { manufacturer, brand } = await si.cpu();
  return `${manufacturer} ${brand}`.trim();
}
