import { Etcd3, type Namespace, Range } from 'etcd3';
import type { EventPage, EventQuery, HistoryEvent } from '../../contracts/events.js';
import { matchesFilter, pageOf } from './event-query.js';
import type { HiveRecord, NewEvent, StateBatch, StateStore, StoredState, WorkerRecord } from './state-store.js';

/**
 * The queen's state in etcd (`--etcd`), under `<prefix>/state/`: one key per hive and per worker, the history as
 * numbered event keys and the next number in `seq`. Every queen reads it (the new leader loads it); the leader
 * writes it, one batch at a time as the journal hands them over. A batch goes out as transactions of at most
 * `TXN_OPS` operations, one after the other, each guarded by the number it continues from, so two writers never
 * number two events alike. A write that fails (etcd unavailable) rejects: the journal keeps the batch and writes it
 * with the next one.
 */

export interface EtcdStoreOptions {
  endpoints: readonly string[];
  /** `--etcd-prefix`: this cluster's keys. */
  prefix: string;
  /** Bound on one request to etcd. */
  timeoutMs?: number;
}

/** etcd refuses a transaction of more than 128 operations by default; one is the sequence number. */
const TXN_OPS = 120;
/** Keys read per request when scanning the history. */
const PAGE = 500;
const DEFAULT_TIMEOUT_MS = 5_000;
/** Event numbers as fixed-width keys, so that key order is number order. */
const SEQ_DIGITS = 16;

const HIVES = 'hives/';
const WORKERS = 'workers/';
const EVENTS = 'events/';
const SEQ = 'seq';

type Op = { put: string; value: string } | { remove: string };

const eventKey = (seq: number): string => `${EVENTS}${String(seq).padStart(SEQ_DIGITS, '0')}`;

export function openEtcdStore(options: EtcdStoreOptions): StateStore {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const client = new Etcd3({
    hosts: [...options.endpoints],
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeoutMs }),
  });
  const root = `${options.prefix.replace(/\/+$/, '')}/state/`;
  const state = client.namespace(root);

  const write = async (batch: StateBatch): Promise<void> => {
    const ops: Op[] = [
      ...batch.hives.map((hive): Op => ({ put: `${HIVES}${hive.id}`, value: JSON.stringify(hive) })),
      ...batch.workers.map((worker): Op => ({ put: `${WORKERS}${worker.id}`, value: JSON.stringify(worker) })),
      ...batch.removedHives.map((id): Op => ({ remove: `${HIVES}${id}` })),
      ...batch.removedWorkers.map((id): Op => ({ remove: `${WORKERS}${id}` })),
    ];
    let events = batch.events;
    for (let start = 0; start < ops.length || events.length > 0; start += TXN_OPS) {
      const records = ops.slice(start, start + TXN_OPS);
      const numbered = events.slice(0, TXN_OPS - records.length);
      await commit(state, records, numbered);
      events = events.slice(numbered.length);
    }
  };

  return {
    describe: () => ({ path: `etcd ${options.endpoints.join(',')} ${root}`, bytes: 0 }),
    load: async (): Promise<StoredState> => {
      const [hives, workers] = await Promise.all([
        state.getAll().prefix(HIVES).strings(),
        state.getAll().prefix(WORKERS).strings(),
      ]);
      return {
        hives: Object.values(hives).map((text): HiveRecord => JSON.parse(text)),
        workers: Object.values(workers).map((text): WorkerRecord => JSON.parse(text)),
      };
    },
    write,
    events: (query) => readEvents(state, query),
    prune: (before) => pruneEvents(state, before),
    close: async () => {
      client.close();
    },
  };
}

/** One transaction: the records, and the events numbered on from `seq`, if `seq` is still what was read. */
async function commit(state: Namespace, records: readonly Op[], events: readonly NewEvent[]): Promise<void> {
  for (;;) {
    const current = await state.get(SEQ).exec();
    const held = current.kvs[0];
    const next = held ? Number(held.value.toString()) : 1;
    const puts = [
      ...records.map((op) => ('put' in op ? state.put(op.put).value(op.value) : state.delete().key(op.remove))),
      ...events.map((event, index) => state.put(eventKey(next + index)).value(JSON.stringify(event))),
      ...(events.length > 0 ? [state.put(SEQ).value(String(next + events.length))] : []),
    ];
    const result = await state
      .if(SEQ, 'Mod', '==', held?.mod_revision ?? 0)
      .then(...puts)
      .commit();
    if (result.succeeded) return;
  }
}

/** Reads the window's keys in the query's order, a scan page at a time, until one more than a page is taken. */
async function readEvents(state: Namespace, query: EventQuery): Promise<EventPage> {
  const found: HistoryEvent[] = [];
  const newest = query.order === 'newest';
  let from: string | Buffer = eventKey(query.after + 1);
  let end: string | Buffer = query.before === undefined ? Range.prefix(EVENTS).end : eventKey(query.before);
  while (found.length <= query.limit) {
    const page = await state
      .getAll()
      .inRange(new Range(from, end))
      .sort('Key', newest ? 'Descend' : 'Ascend')
      .limit(PAGE)
      .exec();
    for (const kv of page.kvs) {
      const event = { seq: Number(kv.key.toString().slice(EVENTS.length)), ...parseEvent(kv.value.toString()) };
      if (matchesFilter(event, query)) found.push(event);
    }
    const last = page.kvs.at(-1);
    if (!last || page.kvs.length < PAGE) break;
    const seq = Number(last.key.toString().slice(EVENTS.length));
    if (newest) end = eventKey(seq);
    else from = eventKey(seq + 1);
  }
  return pageOf(found, query.limit);
}

/** Events are numbered in time order: the scan stops at the first one young enough to keep. */
async function pruneEvents(state: Namespace, before: number): Promise<number> {
  let pruned = 0;
  for (;;) {
    const page = await state.getAll().prefix(EVENTS).sort('Key', 'Ascend').limit(PAGE).exec();
    const old = page.kvs.filter((kv) => Date.parse(parseEvent(kv.value.toString()).time) < before);
    const last = old.at(-1);
    if (!last) return pruned;
    await state
      .delete()
      .inRange(new Range(EVENTS, `${last.key.toString()}\0`))
      .exec();
    pruned += old.length;
    if (old.length < page.kvs.length || page.kvs.length < PAGE) return pruned;
  }
}

function parseEvent(text: string): NewEvent {
  return JSON.parse(text);
}
