import { Etcd3, type Namespace, Range } from 'etcd3';
import { LIMITS } from '../../contracts/common.js';
import type { EventPage, EventQuery, HistoryEvent } from '../../contracts/events.js';
import {
  CAPABILITIES,
  type CapabilitiesValue,
  EVENT_TIMES,
  EVENTS,
  eventKey,
  eventTimesBefore,
  HIVES,
  type HiveValue,
  joinHive,
  PROBLEMS,
  STATE,
  seqOfEventKey,
  seqOfEventTimeKey,
  WORKERS,
} from './etcd-layout.js';
import type { EtcdSecurity } from './etcd-security.js';
import { createEtcdWriter, MAX_TXN_BYTES, TXN_OPS, type WriteFence } from './etcd-writer.js';
import { matchesFilter, pageOf } from './event-query.js';
import { parseOpenProblems } from './open-problems.js';
import type { NewEvent, StateStore, StoredState, WorkerRecord } from './state-store.js';

/**
 * The queen's state in etcd (`--etcd`), under `<prefix>/state/` (see etcd-layout). Every queen reads it (the new
 * leader loads it); only the leader writes it, through the fenced writer (etcd-writer), one batch at a time as the
 * journal hands them over. Reads go page by page: one answer of etcd is bounded (gRPC's 4 MiB by default), whatever
 * the cluster's size.
 */

export interface EtcdStoreOptions {
  endpoints: readonly string[];
  /** Client TLS and etcd user, as the options give them. */
  security?: EtcdSecurity;
  /** `--etcd-prefix`: this cluster's keys. */
  prefix: string;
  /** Whether this queen leads, by its campaign key: no write is taken without it. */
  fence: WriteFence;
  /** Bound on one request to etcd. */
  timeoutMs?: number;
  /** Keys read per request. */
  pageKeys?: number;
  /** Event keys one history query reads at most before it answers with what it found and where to resume. */
  scanKeys?: number;
  /** Bound on the bytes of one transaction. */
  maxTxnBytes?: number;
}

const DEFAULT_PAGE_KEYS = 100;
/** Ten requests of a page: a filter that takes few events answers within this, however long the history. */
const DEFAULT_SCAN_KEYS = 1_000;
const DEFAULT_TIMEOUT_MS = 5_000;
/** A page of the largest records (a heartbeat and its capabilities each) must fit in one answer. */
const MAX_ANSWER_BYTES = DEFAULT_PAGE_KEYS * 2 * LIMITS.bodyBytes + 1024 * 1024;

export function openEtcdStore(options: EtcdStoreOptions): StateStore {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const pageKeys = Math.min(options.pageKeys ?? DEFAULT_PAGE_KEYS, DEFAULT_PAGE_KEYS);
  const client = new Etcd3({
    hosts: [...options.endpoints],
    ...options.security,
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeoutMs }),
    grpcOptions: { 'grpc.max_receive_message_length': MAX_ANSWER_BYTES },
  });
  const prefix = `${options.prefix.replace(/\/+$/, '')}/`;
  const root = client.namespace(prefix);
  const writer = createEtcdWriter(root, { fence: options.fence, maxTxnBytes: options.maxTxnBytes ?? MAX_TXN_BYTES });
  const scan: Scan = (from, end, order = 'Ascend') => scanRange(root, { from, end, order }, pageKeys);

  return {
    describe: () => ({ path: `etcd ${options.endpoints.join(',')} ${prefix}${STATE}`, bytes: 0 }),
    load: async (): Promise<StoredState> => {
      const [hives, capabilities, workers, problems] = await Promise.all([
        collect(scan, HIVES, (text): HiveValue => JSON.parse(text)),
        collect(scan, CAPABILITIES, (text): CapabilitiesValue => JSON.parse(text)),
        collect(scan, WORKERS, (text): WorkerRecord => JSON.parse(text)),
        root.get(PROBLEMS).string(),
      ]);
      const loaded = {
        hives: [...hives].map(([id, hive]) => joinHive(hive, capabilities.get(id))),
        workers: [...workers.values()],
        problems: parseOpenProblems(problems),
      };
      writer.remember(loaded.hives);
      return loaded;
    },
    write: (batch) => writer.write(batch),
    events: (query) => readEvents(scan, query, options.scanKeys ?? DEFAULT_SCAN_KEYS),
    prune: async (before) => {
      if (options.fence.current() === null) return 0;
      let pruned = 0;
      let keys: string[] = [];
      const remove = async (): Promise<void> => {
        await writer.remove(keys);
        pruned += keys.length / 2;
        keys = [];
      };
      // Walked in time order, whatever order the events were numbered in: a younger event is never taken.
      for await (const { key } of scan(EVENT_TIMES, eventTimesBefore(new Date(before).toISOString()))) {
        keys.push(key, eventKey(seqOfEventTimeKey(key)));
        if (keys.length >= TXN_OPS) await remove();
      }
      await remove();
      return pruned;
    },
    close: async () => {
      client.close();
    },
  };
}

type Scan = (from: string, end: string, order?: 'Ascend' | 'Descend') => AsyncGenerator<{ key: string; value: string }>;

/** Every key in [from, end), in key order (or its reverse), one page of `pageKeys` a request. */
async function* scanRange(
  root: Namespace,
  range: { from: string; end: string; order: 'Ascend' | 'Descend' },
  pageKeys: number,
): AsyncGenerator<{ key: string; value: string }> {
  let { from: start, end: stop } = range;
  for (;;) {
    const page = await root.getAll().inRange(new Range(start, stop)).sort('Key', range.order).limit(pageKeys).exec();
    for (const kv of page.kvs) yield { key: kv.key.toString(), value: kv.value.toString() };
    const last = page.kvs.at(-1);
    if (!last || !page.more) return;
    if (range.order === 'Ascend') start = `${last.key.toString()}\0`;
    else stop = last.key.toString();
  }
}

/** Every key under `under`, by the rest of its key. */
async function collect<T>(scan: Scan, under: string, parse: (text: string) => T): Promise<Map<string, T>> {
  const found = new Map<string, T>();
  for await (const { key, value } of scan(under, Range.prefix(under).end.toString())) {
    found.set(key.slice(under.length), parse(value));
  }
  return found;
}

/**
 * Reads the window's keys in the query's order, a scan page at a time, until one more than a page is taken, or
 * `scanKeys` keys are read: a filter has no index here, so a query answers then with what it found (maybe nothing)
 * and the last key read as its cursor, from which the next page resumes.
 */
async function readEvents(scan: Scan, query: EventQuery, scanKeys: number): Promise<EventPage> {
  const found: HistoryEvent[] = [];
  const end = query.before === undefined ? Range.prefix(EVENTS).end.toString() : eventKey(query.before);
  const order = query.order === 'newest' ? 'Descend' : 'Ascend';
  let scanned = 0;
  for await (const { key, value } of scan(eventKey(query.after + 1), end, order)) {
    const stored: NewEvent = JSON.parse(value);
    const event: HistoryEvent = { seq: seqOfEventKey(key), ...stored };
    if (matchesFilter(event, query)) found.push(event);
    if (found.length > query.limit) break;
    scanned += 1;
    if (scanned >= scanKeys) return { events: found, next: event.seq };
  }
  return pageOf(found, query.limit);
}
