import type { HiveView, QueenHealth, WorkerFilter, WorkerView } from '../../contracts/registry.js';
import type { QueenEvent, SnapshotEvent } from '../../contracts/stream.js';
import type { HiveEntry } from '../../machines/hive-store.js';
import { isAvailable, type WorkerEntry } from '../../machines/worker-store.js';
import type { JsonPart } from '../json-pieces.js';
import type { QueenRegistry } from './registry.js';

/** The wire views of the registries (docs/protocol.md: Liveness): ages on the queen's monotonic clock, times on its wall clock. */

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

/** Hive ids in order, sorted natively (a comparator costs twice as much). */
function sortedHiveIds(registry: QueenRegistry): string[] {
  return [...registry.hives.entries()].map((entry) => entry.id).sort();
}

/**
 * Each hive's view in id order, made as it is reached: a view of 10 000 hives is written in pieces, each entry as it
 * is then (`now` read per entry, an entry forgotten meanwhile skipped).
 */
export function* hiveViewsOf(registry: QueenRegistry): Generator<HiveView> {
  const { hives, clock } = registry;
  for (const id of sortedHiveIds(registry)) {
    const entry = hives.get(id);
    if (entry) yield hiveView(entry, clock.now());
  }
}

/**
 * Worker views by hive id, then worker id, filtered by hive and model; workers of a hive the queen does not know
 * come last, as they arrived. Never one sort of every worker: that alone blocks for tens of ms at 80 000.
 */
export function* workerViewsOf(registry: QueenRegistry, filter: WorkerFilter = {}): Generator<WorkerView> {
  const { hives, workers, clock } = registry;
  const view = (entry: WorkerEntry | undefined): WorkerView | undefined =>
    entry && (filter.model === undefined || entry.heartbeat.model === filter.model)
      ? workerView(entry, clock.now())
      : undefined;
  const hiveIds = filter.hive_id === undefined ? sortedHiveIds(registry) : [filter.hive_id];
  let listed = 0;
  for (const hiveId of hiveIds) {
    const ids = workers.idsOfHive(hiveId) ?? new Set<string>();
    for (const id of [...ids].sort()) {
      const worker = view(workers.get(id));
      if (worker) yield worker;
    }
    listed += ids.size;
  }
  // The walk over every worker only when some worker's hive is not a known one.
  if (filter.hive_id !== undefined || listed >= workers.size) return;
  for (const entry of workers.entries()) {
    const worker = hives.get(entry.heartbeat.hive_id) ? undefined : view(entry);
    if (worker) yield worker;
  }
}

export function hiveViews(registry: QueenRegistry): HiveView[] {
  return [...hiveViewsOf(registry)];
}

export function workerViews(registry: QueenRegistry, filter: WorkerFilter = {}): WorkerView[] {
  return [...workerViewsOf(registry, filter)];
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

/** The stream's `snapshot` as of revision `rev`, as JSON parts to write in pieces. */
export function snapshotParts(registry: QueenRegistry, rev: number): JsonPart[] {
  const head = { type: 'snapshot', rev } satisfies Pick<SnapshotEvent, 'type' | 'rev'>;
  return [
    `${JSON.stringify(head).slice(0, -1)},"hives":`,
    { array: hiveViewsOf(registry) },
    ',"workers":',
    { array: workerViewsOf(registry) },
    '}',
  ];
}
