import { CapabilitySet } from '../../machines/capability-set.js';
import type { HiveEntry } from '../../machines/hive-store.js';
import type { RegistryClock } from '../../machines/registry-clock.js';
import type { WorkerEntry } from '../../machines/worker-store.js';
import type { HiveRecord, WorkerRecord } from '../store/state-store.js';

/** Registry entries as the state store keeps them, and back: times on the wall clock, which outlives the process. */

export function hiveRecord(entry: HiveEntry): HiveRecord {
  return {
    id: entry.id,
    liveness: entry.liveness,
    expected: entry.expected,
    lastSeen: entry.seenWall,
    clockOffsetMs: entry.clockOffsetMs,
    hiveUrl: entry.hiveUrl,
    report: entry.report,
    capabilities: entry.capabilities?.toJSON() ?? null,
    capabilitiesVersion: entry.capabilitiesVersion,
    secretHash: entry.secretHash,
    secretProven: entry.secretProven,
    earlierHashes: [...entry.earlierHashes],
  };
}

export function workerRecord(entry: WorkerEntry): WorkerRecord {
  const { endedBoot } = entry;
  const record = { id: entry.id, liveness: entry.liveness, lastSeen: entry.seenWall, heartbeat: entry.heartbeat };
  return endedBoot === undefined ? record : { ...record, endedBoot };
}

/** The monotonic time of a past wall-clock moment, read now: ages stay true across the restart. */
function monotonicOf(wall: number, clock: RegistryClock): number {
  return clock.now() - (clock.wallNow() - wall);
}

export function hiveEntryOf(record: HiveRecord, clock: RegistryClock): HiveEntry {
  return {
    id: record.id,
    liveness: record.liveness,
    seenAt: record.lastSeen === null ? null : monotonicOf(record.lastSeen, clock),
    since: null,
    seenWall: record.lastSeen,
    expected: record.expected,
    expectedAt: null,
    clockOffsetMs: record.clockOffsetMs,
    hiveUrl: record.hiveUrl,
    report: record.report,
    capabilities: record.capabilities === null ? null : new CapabilitySet(record.capabilities),
    capabilitiesVersion: record.capabilitiesVersion,
    secretHash: record.secretHash,
    // Kept before this field existed: the stricter reading.
    secretProven: record.secretProven ?? true,
    earlierHashes: record.earlierHashes ?? [],
  };
}

export function workerEntryOf(record: WorkerRecord, clock: RegistryClock): WorkerEntry {
  return {
    id: record.id,
    liveness: record.liveness,
    seenAt: monotonicOf(record.lastSeen, clock),
    since: null,
    seenWall: record.lastSeen,
    heartbeat: record.heartbeat,
    ...(record.endedBoot === undefined ? {} : { endedBoot: record.endedBoot }),
  };
}

/** Oldest heartbeat first, never-seen first of all: the order the liveness tables restore in. */
export function byLastSeen(a: { lastSeen: number | null }, b: { lastSeen: number | null }): number {
  if (a.lastSeen === null || b.lastSeen === null) return (a.lastSeen === null ? 0 : 1) - (b.lastSeen === null ? 0 : 1);
  return a.lastSeen - b.lastSeen;
}

/** Both sets of records merged, the later heartbeat of each id winning, oldest first (the order to restore in). */
export function latest<R extends { id: string; lastSeen: number | null }>(
  held: readonly R[],
  loaded: readonly R[],
): R[] {
  const merged = new Map<string, R>(held.map((record) => [record.id, record]));
  for (const record of loaded) {
    const kept = merged.get(record.id);
    if (!kept || byLastSeen(kept, record) < 0) merged.set(record.id, record);
  }
  return [...merged.values()].sort(byLastSeen);
}
