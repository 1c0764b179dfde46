import type { HiveView, Liveness, LivenessReason, WorkerView } from '../contracts/registry.js';
import type { LivenessEvent, QueenEvent, SnapshotEvent, StreamEvent } from '../contracts/stream.js';

export interface Transition {
  readonly kind: LivenessEvent['kind'];
  readonly id: string;
  readonly from: Liveness | null;
  readonly to: LivenessEvent['to'];
  readonly reason: LivenessReason;
  readonly timestamp: string;
}

export interface Counts {
  readonly hivesOnline: number;
  readonly hivesExpected: number;
  readonly workersOnline: number;
  readonly workersAvailable: number;
  readonly hivesSuspect: number;
  readonly hivesOffline: number;
  /** The queen's epoch once a `queen` event arrived on this connection. */
  readonly queenEpoch: string | null;
}

/** What changed since the view last drew: the view touches only these. */
export interface Changes {
  /** A snapshot replaced everything: every card is reconciled. */
  reset: boolean;
  readonly hiveIds: Set<string>;
  summary: boolean;
  readonly transitions: Transition[];
}

/** The dashboard's copy of the queen's registry, fed by stream events. */
export class DashboardStore {
  private readonly hives = new Map<string, HiveView>();
  private readonly workers = new Map<string, WorkerView>();
  private readonly workerIdsByHive = new Map<string, Set<string>>();
  /** Local monotonic time at which each hive was last seen, so ages tick regardless of the browser's clock. */
  private readonly hiveSeenAt = new Map<string, number>();
  private queen: QueenEvent | null = null;
  private changes: Changes = noChanges();

  apply(event: StreamEvent, now: number): void {
    switch (event.type) {
      case 'snapshot':
        this.applySnapshot(event, now);
        break;
      case 'hive':
        this.putHive(event, now);
        break;
      case 'worker':
        this.putWorker(event);
        break;
      case 'liveness':
        this.applyLiveness(event);
        break;
      case 'queen':
        this.queen = event;
        this.changes.summary = true;
        break;
    }
  }

  /** Hands the accumulated changes to the view and starts a new batch. */
  takeChanges(): Changes {
    const changes = this.changes;
    this.changes = noChanges();
    return changes;
  }

  /** Every hive with a card: those the queen knows and those only their workers mention, sorted by id. */
  cardIds(): string[] {
    const ids = new Set(this.hives.keys());
    for (const [hiveId, workerIds] of this.workerIdsByHive) if (workerIds.size > 0) ids.add(hiveId);
    return [...ids].sort();
  }

  hive(id: string): HiveView | undefined {
    return this.hives.get(id);
  }

  hiveSeenAtOf(id: string): number | undefined {
    return this.hiveSeenAt.get(id);
  }

  workersOf(hiveId: string): WorkerView[] {
    const workers: WorkerView[] = [];
    for (const workerId of this.workerIdsByHive.get(hiveId) ?? []) {
      const worker = this.workers.get(workerId);
      if (worker) workers.push(worker);
    }
    // Code-unit order, as the queen lists them: a locale comparison costs a thousand cards dearly.
    return workers.sort((a, b) => (a.worker_id < b.worker_id ? -1 : a.worker_id > b.worker_id ? 1 : 0));
  }

  /** Counted from the same events the cards show, so the header never disagrees with them between `queen` events. */
  counts(): Counts {
    const hives = [...this.hives.values()];
    const workers = [...this.workers.values()];
    const tally = (liveness: Liveness): number => hives.filter((hive) => hive.liveness === liveness).length;
    return {
      hivesOnline: tally('online'),
      hivesExpected: hives.filter((hive) => hive.expected).length,
      workersOnline: workers.filter((worker) => worker.liveness === 'online').length,
      workersAvailable: workers.filter((worker) => worker.available).length,
      hivesSuspect: tally('suspect'),
      hivesOffline: tally('offline'),
      queenEpoch: this.queen?.queen_epoch ?? null,
    };
  }

  private applySnapshot(snapshot: SnapshotEvent, now: number): void {
    this.hives.clear();
    this.workers.clear();
    this.workerIdsByHive.clear();
    this.hiveSeenAt.clear();
    this.queen = null;
    for (const hive of snapshot.hives) this.putHive(hive, now);
    for (const worker of snapshot.workers) this.putWorker(worker);
    this.changes.reset = true;
    this.changes.summary = true;
  }

  private putHive(hive: HiveView, now: number): void {
    this.hives.set(hive.hive_id, hive);
    if (hive.last_seen_age_ms === null) this.hiveSeenAt.delete(hive.hive_id);
    else this.hiveSeenAt.set(hive.hive_id, now - hive.last_seen_age_ms);
    this.changes.hiveIds.add(hive.hive_id);
    this.changes.summary = true;
  }

  private putWorker(worker: WorkerView): void {
    const previous = this.workers.get(worker.worker_id);
    if (previous && previous.hive_id !== worker.hive_id) this.unindexWorker(previous);
    this.workers.set(worker.worker_id, worker);
    const ids = this.workerIdsByHive.get(worker.hive_id) ?? new Set<string>();
    ids.add(worker.worker_id);
    this.workerIdsByHive.set(worker.hive_id, ids);
    this.changes.hiveIds.add(worker.hive_id);
    this.changes.summary = true;
  }

  private applyLiveness(event: LivenessEvent): void {
    this.changes.transitions.push({
      kind: event.kind,
      id: event.id,
      from: event.from,
      to: event.to,
      reason: event.reason,
      timestamp: event.timestamp,
    });
    if (event.kind === 'hive') this.setHiveLiveness(event.id, event.to);
    else this.setWorkerLiveness(event.id, event.to);
  }

  private setHiveLiveness(id: string, to: LivenessEvent['to']): void {
    const hive = this.hives.get(id);
    if (!hive) return;
    if (to === 'forgotten') {
      this.hives.delete(id);
      this.hiveSeenAt.delete(id);
    } else {
      this.hives.set(id, { ...hive, liveness: to });
    }
    this.changes.hiveIds.add(id);
    this.changes.summary = true;
  }

  private setWorkerLiveness(id: string, to: LivenessEvent['to']): void {
    const worker = this.workers.get(id);
    if (!worker) return;
    if (to === 'forgotten') {
      this.workers.delete(id);
      this.unindexWorker(worker);
    } else {
      // A worker is available only while online and ready; the next queen event confirms the count.
      this.workers.set(id, { ...worker, liveness: to, available: to === 'online' && worker.status === 'ready' });
    }
    this.changes.hiveIds.add(worker.hive_id);
    this.changes.summary = true;
  }

  private unindexWorker(worker: WorkerView): void {
    const ids = this.workerIdsByHive.get(worker.hive_id);
    ids?.delete(worker.worker_id);
    if (ids?.size === 0) this.workerIdsByHive.delete(worker.hive_id);
    this.changes.hiveIds.add(worker.hive_id);
  }
}

function noChanges(): Changes {
  return { reset: false, hiveIds: new Set(), summary: false, transitions: [] };
}
