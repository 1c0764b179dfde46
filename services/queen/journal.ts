import type { WebhookAlert } from '../../contracts/alert.js';
import type { HistoryEvent } from '../../contracts/events.js';
import type { HiveRegistryReader } from '../../machines/hive-store.js';
import type { RegistryChange, RegistryKind } from '../../machines/registry-changes.js';
import type { WorkerRegistryReader } from '../../machines/worker-store.js';
import type { Logger } from '../logger.js';
import { type NewEvent, type StateBatch, type StateStore, StateWriteError } from '../store/state-store.js';
import { hiveRecord, workerRecord } from './records.js';
import { writeBehind } from './write-behind.js';

/**
 * Writes the registries to the state store off the heartbeat path: a change only marks its entry dirty and queues
 * its history event; every flush period one batch writes the dirty entries as they are then, and the events.
 */
export interface JournalOptions {
  store: StateStore;
  hives: HiveRegistryReader;
  workers: WorkerRegistryReader;
  logger: Logger;
  /** The longest a change waits for its write. */
  flushMs: number;
  /** History events held for a store that is slow or unavailable; the oldest give way past it. */
  maxEvents?: number;
  /** Told how many events gave way. */
  onDropped?: ((count: number) => void) | undefined;
}

export interface Journal {
  /** Queues the history events of `changes`, and their entries for the next write unless `written` already. */
  note(kind: RegistryKind, changes: readonly RegistryChange[], options?: { written: boolean }): void;
  /** Queues the open alert problems, all of them, for the next write. */
  noteProblems(open: WebhookAlert[]): void;
  /** Writes what is pending now. */
  flush(): Promise<void>;
  /**
   * Resolves once every history event noted so far is written (or its write failed): at once when none waits, and
   * callers in the meantime share one write, so a burst of history reads costs one write, not one each.
   */
  written(): Promise<void>;
  stop(): Promise<void>;
}

/** History events kept for a store that cannot be written; entries need no bound: one record per entry held. */
export const MAX_BUFFERED_EVENTS = 100_000;

export function createJournal(options: JournalOptions): Journal {
  const { store, hives, workers, logger } = options;
  const maxEvents = options.maxEvents ?? MAX_BUFFERED_EVENTS;
  const dirty: Record<RegistryKind, Set<string>> = { hive: new Set(), worker: new Set() };
  let events: NewEvent[] = [];
  let problems: WebhookAlert[] | null = null;
  let failing = false;
  let dropping = false;
  let batchesTaken = 0;

  const batch = (): StateBatch => {
    batchesTaken += 1;
    const taken: StateBatch = { hives: [], workers: [], removedHives: [], removedWorkers: [], events, problems };
    problems = null;
    for (const id of dirty.hive) {
      const entry = hives.get(id);
      if (entry) taken.hives.push(hiveRecord(entry));
      else taken.removedHives.push(id);
    }
    for (const id of dirty.worker) {
      const entry = workers.get(id);
      if (entry) taken.workers.push(workerRecord(entry));
      else taken.removedWorkers.push(id);
    }
    dirty.hive.clear();
    dirty.worker.clear();
    events = [];
    return taken;
  };

  /** While the store is slow or unavailable the history waits in memory, bounded: the oldest events give way. */
  const bound = (): void => {
    const over = events.length - maxEvents;
    if (over <= 0) return;
    events = events.slice(over);
    options.onDropped?.(over);
    if (!dropping) logger.warn('state store behind: oldest history events dropped', { dropped: over, kept: maxEvents });
    dropping = true;
  };

  const writeBatch = async (): Promise<void> => {
    const taken = batch();
    try {
      await store.write(taken);
      if (failing) logger.info('state writes work again');
      failing = false;
      dropping = false;
    } catch (error) {
      // Kept for the next flush: a forget or an event must not be lost to one failed write, nor written twice.
      const unwritten = error instanceof StateWriteError ? error.unwritten : taken;
      for (const record of unwritten.hives) dirty.hive.add(record.id);
      for (const id of unwritten.removedHives) dirty.hive.add(id);
      for (const record of unwritten.workers) dirty.worker.add(record.id);
      for (const id of unwritten.removedWorkers) dirty.worker.add(id);
      events = [...unwritten.events, ...events];
      problems ??= unwritten.problems;
      bound();
      // Logged once per run of failures: a full disk must not flood the log every flush.
      if (!failing) logger.error('state write failed; the queen keeps running from memory', { error });
      failing = true;
    }
  };

  // One write at a time: a batch that failed goes back before the next is taken, so the history keeps its order.
  let writing: Promise<void> | undefined;
  // A flush started when `taken` batches were taken: until it takes the next, whoever waits for the events noted so
  // far can wait for that flush.
  let joinable: { taken: number; done: Promise<void> } | undefined;
  const flush = async (): Promise<void> => {
    writes.flushing();
    while (writing) await writing;
    writing = writeBatch().finally(() => {
      writing = undefined;
    });
    await writing;
  };

  const writes = writeBehind(flush, options.flushMs);

  return {
    note(kind, changes, { written } = { written: false }) {
      for (const change of changes) {
        if (change.type !== 'identity_refused' && !written) dirty[kind].add(change.id);
        const event = historyEvent(kind, change);
        if (event) events.push(event);
      }
      bound();
      writes.changed();
    },
    noteProblems(open) {
      problems = open;
      writes.changed();
    },
    flush,
    written() {
      if (events.length === 0) return writing ?? Promise.resolve();
      if (joinable?.taken !== batchesTaken) joinable = { taken: batchesTaken, done: flush() };
      return joinable.done;
    },
    async stop() {
      await flush();
    },
  };
}

/** The history event of a change; none for a plain heartbeat. */
function historyEvent(kind: RegistryKind, change: RegistryChange): NewEvent | null {
  switch (change.type) {
    case 'entry':
      return null;
    case 'capabilities':
      return {
        time: iso(change.at),
        kind,
        id: change.id,
        type: 'capabilities',
        detail: {
          capabilities_version: change.version,
          ...(change.changes ? { changes: change.changes } : { replaced: true }),
        },
      };
    case 'identity_refused':
      return {
        time: iso(change.at),
        kind,
        id: change.id,
        ...workerHive(kind, change.hiveId),
        type: 'identity_refused',
        detail: { source: change.source },
      };
    case 'liveness': {
      const type: HistoryEvent['type'] =
        change.from === null ? 'registered' : change.to === 'forgotten' ? 'forgotten' : 'liveness';
      return {
        time: iso(change.at),
        kind,
        id: change.id,
        ...workerHive(kind, change.hiveId),
        type,
        ...(change.from === null ? {} : { from: change.from }),
        to: change.to,
        reason: change.reason,
      };
    }
  }
}

/** A hive event names its hive already; a worker event names its own. */
function workerHive(kind: RegistryKind, hiveId: string | undefined): { hive_id?: string } {
  return kind === 'worker' && hiveId !== undefined ? { hive_id: hiveId } : {};
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
