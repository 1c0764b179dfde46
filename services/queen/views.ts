import type { HiveView, QueenHealth, WorkerFilter, WorkerView } from '../../contracts/registry.js';
import type { QueenEvent, SnapshotEvent } from '../../contracts/stream.js';
import type { HiveEntry } from '../../machines/hive-store.js';
import { isAvailable, type WorkerEntry } from '../../machines/worker-store.js';
import type { QueenRegistry } from './registry.js';

/** The wire views of the registries (PROTOCOL §5): ages on the queen's monotonic clock, times on its wall clock. */

export function hiveView(entry: HiveEntry, now: number): HiveView {
  return {
    hive_id: entry.id,
    liveness: entry.liveness,
    expected: entry.expected,
    last_seen: entry.seenWall === null ? null : new Date(entry.seenWall).toISOString(),
    last_seen_age_ms: entry.seenAt === null ? null : Math.max(0, now - entry.seenAt),
    clock_offset_ms: entry.clockOffsetMs,
    status: entry.report?.status ?? null,
    timestamp: entry.report?.timestamp ?? null,
    boot_id: entry.report?.boot_id ?? null,
    hive_url: entry.hiveUrl,
    monitor_data: entry.report?.monitor_data ?? null,
    capabilities: entry.capabilities?.toJSON() ?? null,
    capabilities_version: entry.capabilitiesVersion,
  };
}

export function workerView(entry: WorkerEntry, now: number): WorkerView {
  return {
    ...entry.heartbeat,
    liveness: entry.liveness,
    available: isAvailable(entry),
    last_seen: new Date(entry.seenWall).toISOString(),
    last_seen_age_ms: entry.seenAt === null ? 0 : Math.max(0, now - entry.seenAt),
  };
}

const byId = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function hiveViews(registry: QueenRegistry): HiveView[] {
  const now = registry.clock.now();
  return [...registry.hives.entries()].sort((a, b) => byId(a.id, b.id)).map((entry) => hiveView(entry, now));
}

export function workerViews(registry: QueenRegistry, filter: WorkerFilter = {}): WorkerView[] {
  const now = registry.clock.now();
  const { workers } = registry;
  const candidates: WorkerEntry[] =
    filter.hive_id === undefined
      ? [...workers.entries()]
      : [...(workers.idsOfHive(filter.hive_id) ?? [])].flatMap((id) => optional(workers.get(id)));
  return candidates
    .filter((entry) => filter.model === undefined || entry.heartbeat.model === filter.model)
    .sort((a, b) => byId(a.id, b.id))
    .map((entry) => workerView(entry, now));
}

function optional<T>(value: T | undefined): T[] {
  return value === undefined ? [] : [value];
}

export function queenHealth(registry: QueenRegistry, queenEpoch: string): QueenHealth {
  const { hives, workers } = registry;
  return {
    status: hives.expectedOnline < hives.expectedCount ? 'degraded' : 'ok',
    queen_epoch: queenEpoch,
    hives: {
      expected: hives.expectedCount,
      online: hives.count('online'),
      suspect: hives.count('suspect'),
      offline: hives.count('offline'),
    },
    workers: {
      online: workers.count('online'),
      available: workers.availableCount,
      offline: workers.count('offline'),
    },
  };
}

/** The queen's own event; hives count as available while online (a stopping hive is offline at once). */
export function queenEvent(registry: QueenRegistry, queenEpoch: string): QueenEvent {
  const { hives, workers } = registry;
  const hivesOnline = hives.count('online');
  return {
    type: 'queen',
    queen_epoch: queenEpoch,
    workers_online: workers.count('online'),
    workers_available: workers.availableCount,
    hives_online: hivesOnline,
    hives_available: hivesOnline,
    hives_expected: hives.expectedCount,
    worker_ids: [...workers.onlineIds()],
    hive_ids: [...hives.onlineIds()],
    timestamp: new Date(registry.clock.wallNow()).toISOString(),
  };
}

export function snapshotEvent(registry: QueenRegistry, rev: number): SnapshotEvent {
  return { type: 'snapshot', rev, hives: hiveViews(registry), workers: workerViews(registry) };
}
