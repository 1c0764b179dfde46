import type { WebhookAlert } from '../../contracts/alert.js';
import type { Capabilities } from '../../contracts/capabilities.js';
import type { EventPage, EventQuery, HistoryEvent } from '../../contracts/events.js';
import type { HiveReport, WorkerReport } from '../../contracts/heartbeat.js';
import type { Liveness } from '../../contracts/registry.js';

/**
 * The queen's durable state, whatever keeps it (SQLite here; another backend implements the same interface):
 * hives, workers and the event history. Writes are handed over in batches and may complete later; reads happen at
 * start-up and for the history.
 */

/** A hive as kept: what the queen knew of it at the last write. */
export interface HiveRecord {
  id: string;
  liveness: Liveness;
  expected: boolean;
  /** Queen wall clock (epoch ms) of its latest heartbeat; null while never heard from. */
  lastSeen: number | null;
  clockOffsetMs: number | null;
  hiveUrl: string | null;
  /** Its latest heartbeat without capabilities or secret. */
  report: HiveReport | null;
  capabilities: Capabilities | null;
  capabilitiesVersion: number | null;
  /** Hash of its identity secret; null before its first heartbeat. */
  secretHash: string | null;
  /** Whether the hive has sent its secret back; absent in records kept before it was tracked. */
  secretProven?: boolean;
  /** Hashes of secrets issued earlier while none was proven, newest first; absent in records kept before them. */
  earlierHashes?: string[];
}

export interface WorkerRecord {
  id: string;
  liveness: Liveness;
  lastSeen: number;
  heartbeat: WorkerReport;
  /** The process its hive reported gone (`WorkerEntry.endedBoot`); absent in records kept before it existed. */
  endedBoot?: string;
}

/** An event to append; the store numbers it. */
export type NewEvent = Omit<HistoryEvent, 'seq'>;

/** One batch of writes, applied all or nothing. */
export interface StateBatch {
  hives: HiveRecord[];
  workers: WorkerRecord[];
  removedHives: string[];
  removedWorkers: string[];
  events: NewEvent[];
  /** The open alert problems, all of them, when they changed since the last batch; null when they did not. */
  problems: WebhookAlert[] | null;
}

export interface StoredState {
  hives: HiveRecord[];
  workers: WorkerRecord[];
  /** The alert problems a queen had open, for its successor (or itself, restarted) to resolve; absent if none kept. */
  problems?: WebhookAlert[] | undefined;
}

export interface StateStore {
  /** Where the state lives (null: nowhere that outlives the process) and its size in bytes. */
  describe(): { path: string | null; bytes: number };
  load(): Promise<StoredState>;
  /**
   * Rejects when not everything was written; with a `StateWriteError` its `unwritten` part is what to hand over again
   * (what was written must not be: its events would be numbered twice), else the whole batch.
   */
  write(batch: StateBatch): Promise<void>;
  events(query: EventQuery): Promise<EventPage>;
  /** Drops the events older than `before` (epoch ms); resolves to how many (none where this queen may not write). */
  prune(before: number): Promise<number>;
  close(): Promise<void>;
}

/** The state cannot be used (corrupt, held by another queen, not writable): the queen must not start. */
export class StateStoreError extends Error {
  override name = 'StateStoreError';
}

/** A batch written in part, or not at all: what is left to write. */
export class StateWriteError extends Error {
  override name = 'StateWriteError';
  constructor(
    message: string,
    readonly unwritten: StateBatch,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
