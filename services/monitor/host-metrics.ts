import si from 'systeminformation';

/** What `systeminformation` says about this host; each read is asynchronous and may be slow. */
export interface MemoryReading {
  /** `active`: memory in use by processes, without the reclaimable page cache that `used` counts. */
  usedBytes: number;
  totalBytes: number;
}

/** CPU load in percent (0–100) since the previous call; the first call measures over half a second. */
export async function readCpuLoad(): Promise<number> {
  const { currentLoad } = await si.currentLoad();
  return Number.isFinite(currentLoad) ? Math.min(100, Math.max(0, currentLoad)) : 0;
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
