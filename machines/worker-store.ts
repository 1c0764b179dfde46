import type { WorkerReport } from '../contracts/heartbeat.js';
import type { Liveness, LivenessReason } from '../contracts/registry.js';
import { type Fate, type LivenessSettings, LivenessTable } from './liveness.js';
import { ChangeLog, type RegistryChange } from './registry-changes.js';
import type { Received, RegistryClock } from './registry-clock.js';

/** One worker as the queen holds it: its latest heartbeat and liveness on the queen's clock. */
export interface WorkerEntry {
  readonly id: string;
  liveness: Liveness;
  seenAt: number | null;
  since: number | null;
  seenWall: number;
  heartbeat: WorkerReport;
  /** The process (`boot_id`) its hive reported gone: whatever it sent and is still on the way is late. */
  endedBoot?: string;
}

/** What the queen's HTTP routes and stream read; only the registry machine mutates. */
export interface WorkerRegistryReader {
  get(id: string): WorkerEntry | undefined;
  entries(): IterableIterator<WorkerEntry>;
  /** The workers of one hive, by id. */
  idsOfHive(hiveId: string): ReadonlySet<string> | undefined;
  count(liveness: Liveness): number;
  onlineIds(): IterableIterator<string>;
  readonly size: number;
  /** Online and `ready`. */
  readonly availableCount: number;
}

/** A worker takes requests while online and ready. */
export function isAvailable(entry: WorkerEntry): boolean {
  return entry.liveness === 'online' && entry.heartbeat.status === 'ready';
}

export class WorkerStore implements WorkerRegistryReader {
  private readonly table = new LivenessTable<WorkerEntry>();
  private readonly changes = new ChangeLog();
  private readonly byHive = new Map<string, Set<string>>();
  private available = 0;

  constructor(
    private readonly settings: LivenessSettings,
    private readonly clock: RegistryClock,
  ) {}

  get size(): number {
    return this.table.size;
  }

  get availableCount(): number {
    return this.available;
  }

  get(id: string): WorkerEntry | undefined {
    return this.table.get(id);
  }

  entries(): IterableIterator<WorkerEntry> {
    return this.table.values();
  }

  idsOfHive(hiveId: string): ReadonlySet<string> | undefined {
    return this.byHive.get(hiveId);
  }

  count(liveness: Liveness): number {
    return this.table.count(liveness);
  }

  onlineIds(): IterableIterator<string> {
    return this.table.ids('online');
  }

  receive({ heartbeat, at: now, wall }: Received<WorkerReport>): void {
    let entry = this.table.get(heartbeat.worker_id);
    const previous = entry?.seenAt ?? null;
    if (entry) {
      this.available -= isAvailable(entry) ? 1 : 0;
      if (entry.heartbeat.hive_id !== heartbeat.hive_id) this.unindex(entry);
      // Only a hive's report on a dead worker's behalf comes without the process's `boot_id`.
      if (heartbeat.boot_id === undefined && entry.heartbeat.boot_id !== undefined) {
        entry.endedBoot = entry.heartbeat.boot_id;
      }
      entry.heartbeat = heartbeat;
      entry.seenWall = wall;
    } else {
      entry = { id: heartbeat.worker_id, liveness: 'offline', seenAt: null, since: null, seenWall: wall, heartbeat };
    }
    this.index(entry);
    const from = this.table.seen(entry, now);
    if (heartbeat.status === 'stopped') {
      this.table.setOffline(entry);
      if (from !== 'offline') this.transition(entry, from, 'offline', 'graceful stop', wall);
    } else if (from !== 'online') {
      this.transition(entry, from, 'online', 'heartbeat', wall);
    }
    this.available += isAvailable(entry) ? 1 : 0;
    this.changes.push({
      type: 'entry',
      kind: 'worker',
      id: entry.id,
      intervalMs: previous === null ? null : now - previous,
    });
  }

  /** These hives went offline: their workers go with them. */
  hivesOffline(hiveIds: readonly string[]): void {
    const wall = this.clock.wallNow();
    for (const hiveId of hiveIds) {
      for (const workerId of this.byHive.get(hiveId) ?? []) {
        const entry = this.table.get(workerId);
        if (!entry) continue;
        const wasAvailable = isAvailable(entry);
        const from = this.table.setOffline(entry);
        if (from === null) continue;
        if (wasAvailable) this.available--;
        this.transition(entry, from, 'offline', 'hive offline', wall);
      }
    }
  }

  /** The operator forgets workers now; the unknown ids are left out of the answer. */
  forget(workerIds: Iterable<string>): string[] {
    const wall = this.clock.wallNow();
    const forgotten: string[] = [];
    for (const id of [...workerIds]) {
      const entry = this.table.get(id);
      if (!entry) continue;
      if (isAvailable(entry)) this.available--;
      this.table.remove(entry);
      this.unindex(entry);
      this.transition(entry, entry.liveness, 'forgotten', 'forgotten', wall);
      forgotten.push(id);
    }
    return forgotten;
  }

  /** Workers kept from before a restart, oldest heartbeat first: as for hives, online and suspect come back suspect. */
  restore(entries: readonly WorkerEntry[]): void {
    const now = this.clock.now();
    const wall = this.clock.wallNow();
    for (const entry of entries) {
      const kept = this.table.restore(entry, now);
      this.index(entry);
      if (kept === 'online') this.transition(entry, kept, 'suspect', 'queen restart', wall);
    }
  }

  /** As for hives: the loaded and merged workers, oldest heartbeat first, in place of those held. */
  reload(entries: readonly WorkerEntry[]): void {
    for (const entry of [...this.table.values()]) this.table.remove(entry);
    this.byHive.clear();
    this.available = 0;
    this.restore(entries);
  }

  sweep(): void {
    const wall = this.clock.wallNow();
    this.table.sweep(this.clock.now(), this.settings, (entry, from, to, reason) => {
      // The table has moved the entry already: it was available only if it was online and ready.
      if (from === 'online' && entry.heartbeat.status === 'ready') this.available--;
      if (to === 'forgotten') this.unindex(entry);
      this.transition(entry, from, to, reason, wall);
    });
  }

  takeChanges(): RegistryChange[] {
    return this.changes.take();
  }

  toJSON(): Record<string, number> {
    return {
      workers: this.table.size,
      online: this.count('online'),
      available: this.available,
      suspect: this.count('suspect'),
      offline: this.count('offline'),
    };
  }

  private index(entry: WorkerEntry): void {
    const hiveId = entry.heartbeat.hive_id;
    let ids = this.byHive.get(hiveId);
    if (!ids) {
      ids = new Set();
      this.byHive.set(hiveId, ids);
    }
    ids.add(entry.id);
  }

  private unindex(entry: WorkerEntry): void {
    const ids = this.byHive.get(entry.heartbeat.hive_id);
    ids?.delete(entry.id);
    if (ids?.size === 0) this.byHive.delete(entry.heartbeat.hive_id);
  }

  private transition(entry: WorkerEntry, from: Liveness | null, to: Fate, reason: LivenessReason, at: number): void {
    const hiveId = entry.heartbeat.hive_id;
    this.changes.push({ type: 'liveness', kind: 'worker', id: entry.id, from, to, reason, at, hiveId });
  }
}
