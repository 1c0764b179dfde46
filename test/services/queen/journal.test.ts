import { describe, expect, it } from 'vitest';
import { HiveStore } from '../../../machines/hive-store.js';
import { WorkerStore } from '../../../machines/worker-store.js';
import { createLogger, silentLogger } from '../../../services/logger.js';
import {
  createJournal,
  type Journal,
  type JournalOptions,
  MAX_BUFFERED_EVENTS,
} from '../../../services/queen/journal.js';
import { type StateBatch, type StateStore, StateWriteError } from '../../../services/store/state-store.js';
import { deferred } from '../../support/deferred.js';
import { DEFAULT_LIVENESS, steppedClocks } from '../../support/queen-registry.js';

/** A store recording every batch it is handed, as it was then: its first write ends as `first` says, later ones succeed. */
function recordingStore(first: (batch: StateBatch) => Promise<void>): { store: StateStore; batches: StateBatch[] } {
  const batches: StateBatch[] = [];
  const store: StateStore = {
    describe: () => ({ path: null, bytes: 0 }),
    load: async () => ({ hives: [], workers: [] }),
    write: (batch) => {
      batches.push(structuredClone(batch));
      return batches.length === 1 ? first(batch) : Promise.resolve();
    },
    events: async () => ({ events: [], next: null }),
    prune: async () => 0,
    close: async () => {},
  };
  return { store, batches };
}

/** A store whose first write fails (a full disk). */
const failingOnce = () => recordingStore(() => Promise.reject(new Error('SQLITE_FULL: database or disk is full')));

/** A journal on empty registries that flushes only when told. */
function journalOn(store: StateStore, options: Partial<JournalOptions> = {}): Journal {
  const { clock } = steppedClocks();
  return createJournal({
    store,
    hives: new HiveStore(DEFAULT_LIVENESS, clock),
    workers: new WorkerStore(DEFAULT_LIVENESS, clock),
    logger: silentLogger,
    flushMs: 60_000,
    ...options,
  });
}

/** A worker's history events, `count` of them from `from` on. */
function forgottenWorkers(from: number, count: number) {
  return Array.from({ length: count }, (_, i) => ({
    type: 'liveness' as const,
    kind: 'worker' as const,
    id: `w${from + i}`,
    from: 'offline' as const,
    to: 'forgotten' as const,
    reason: 'forgotten' as const,
    at: from + i,
  }));
}

describe('state journal', () => {
  it('keeps a batch whose write failed for the next flush: no forget and no event is lost', async () => {
    const { store, batches } = failingOnce();
    const journal = journalOn(store);
    // A hive forgotten: it is no longer in the store, so the batch removes it.
    journal.note('hive', [
      { type: 'liveness', kind: 'hive', id: 'gone', from: 'offline', to: 'forgotten', reason: 'forgotten', at: 0 },
    ]);
    await journal.flush();
    journal.note('worker', [
      { type: 'liveness', kind: 'worker', id: 'w1', from: 'online', to: 'forgotten', reason: 'forgotten', at: 1 },
    ]);
    await journal.stop();
    expect(batches).toHaveLength(2);
    const [failed, retried] = batches;
    expect(failed?.removedHives).toEqual(['gone']);
    expect(retried?.removedHives).toEqual(['gone']);
    expect(retried?.removedWorkers).toEqual(['w1']);
    expect(retried?.events.map((event) => `${event.kind} ${event.id}`)).toEqual(['hive gone', 'worker w1']);
  });

  it('buffers the history for a store that is down within a bound: the oldest events give way, the newest land', async () => {
    const { store, batches } = failingOnce();
    const journal = journalOn(store);
    const total = MAX_BUFFERED_EVENTS + 10;
    journal.note('worker', forgottenWorkers(0, total));
    await journal.flush();
    await journal.stop();
    const retried = batches.at(-1)?.events ?? [];
    expect(retried).toHaveLength(MAX_BUFFERED_EVENTS);
    expect(retried[0]?.id).toBe('w10');
    expect(retried.at(-1)?.id).toBe(`w${total - 1}`);
  });

  it('writes one batch at a time: a batch that failed goes back before the next is taken, events in order', async () => {
    const first = deferred();
    const { store, batches } = recordingStore(() => first.promise);
    const journal = journalOn(store);
    const forgotten = (id: string, at: number) =>
      [{ type: 'liveness', kind: 'worker', id, from: 'offline', to: 'forgotten', reason: 'forgotten', at }] as const;
    journal.note('worker', forgotten('first', 1));
    const hanging = journal.flush();
    journal.note('worker', forgotten('second', 2));
    const next = journal.flush();
    // The second flush waits for the first write to end.
    await Promise.resolve();
    expect(batches).toHaveLength(1);
    first.reject(new Error('etcd unavailable'));
    await Promise.all([hanging, next]);
    expect(batches.map((batch) => batch.events.map((event) => event.id))).toEqual([['first'], ['first', 'second']]);
  });

  it('has every noted event written for a history read, with one write for a burst of reads and none when idle', async () => {
    // The first write hangs until released: reads meanwhile queue behind it.
    const first = deferred();
    const { store, batches } = recordingStore(() => first.promise);
    const journal = journalOn(store);
    const registered = (id: string) =>
      [
        { type: 'liveness', kind: 'worker', id, from: null, to: 'online', reason: 'heartbeat', at: 0, hiveId: 'h' },
      ] as const;
    await journal.written();
    expect(batches).toHaveLength(0);
    journal.note('worker', registered('first'));
    const firstReads = [journal.written(), journal.written()];
    journal.note('worker', registered('second'));
    // Noted while the first write is under way: these reads wait for a second write, which they all share.
    const secondReads = Array.from({ length: 20 }, () => journal.written());
    let secondDone = false;
    void Promise.all(secondReads).then(() => (secondDone = true));
    expect(batches).toHaveLength(1);
    first.resolve();
    await Promise.all([...firstReads, ...secondReads]);
    expect(secondDone).toBe(true);
    expect(batches.map((batch) => batch.events.map((event) => `${event.id} of ${event.hive_id}`))).toEqual([
      ['first of h'],
      ['second of h'],
    ]);
    await journal.written();
    expect(batches).toHaveLength(2);
  });

  it('gives back only what the store did not write: events of a batch written in part are never written twice', async () => {
    // The first transaction of the first batch landed: its first two events are in the store.
    const { store, batches } = recordingStore((batch) =>
      Promise.reject(new StateWriteError('second transaction failed', { ...batch, events: batch.events.slice(2) })),
    );
    const journal = journalOn(store);
    journal.note('worker', forgottenWorkers(0, 5));
    await journal.flush();
    journal.note('worker', forgottenWorkers(5, 1));
    await journal.stop();
    const written = [...(batches[0]?.events.slice(0, 2) ?? []), ...(batches[1]?.events ?? [])];
    expect(written.map((event) => event.id)).toEqual(['w0', 'w1', 'w2', 'w3', 'w4', 'w5']);
  });

  it('bounds the history while a write is slow: the oldest events give way, counted, with one warning', async () => {
    const first = deferred();
    const { store, batches } = recordingStore(() => first.promise);
    const lines: string[] = [];
    let dropped = 0;
    const journal = journalOn(store, {
      maxEvents: 5,
      onDropped: (count) => {
        dropped += count;
      },
      logger: createLogger({ level: 'warn', write: (line) => lines.push(line) }),
    });
    journal.note('worker', forgottenWorkers(0, 1));
    const slow = journal.flush();
    // The write hangs; changes keep coming meanwhile.
    for (const from of [1, 5, 9]) journal.note('worker', forgottenWorkers(from, 4));
    expect(dropped).toBe(13 - 1 - 5);
    expect(lines.filter((line) => line.includes('oldest history events dropped'))).toHaveLength(1);
    first.resolve();
    await slow;
    await journal.flush();
    expect(batches[1]?.events.map((event) => event.id)).toEqual(['w8', 'w9', 'w10', 'w11', 'w12']);
  });
});
