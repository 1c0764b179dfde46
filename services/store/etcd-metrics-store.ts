import { Etcd3, type Namespace, Range } from 'etcd3';
import type { SeriesKey } from '../../contracts/metric-series.js';
import type { EtcdStoreOptions } from './etcd-store.js';
import { type FencedCommit, fencedCommit, type Guard, TXN_OPS } from './etcd-writer.js';
import type { MetricsStore, MinuteRow } from './metrics-store.js';

/**
 * The per-minute metrics archive in etcd (`--etcd`), under `<prefix>/metrics/`, beside the state (same options): one key per hive
 * and minute (`minutes/<hive>/<minute>`, the hive id URI-encoded so that no id is a prefix of another's keys, the
 * minute fixed-width so that key order is time order) and one key per hive that has rows (`hives/<hive>`), which
 * pruning walks: each hive's old minutes are one range delete. A minute already kept is never rewritten: rows go
 * out in transactions that write them only if none of their keys exists, and one by one when some does. Every write
 * and delete is fenced like the state's: only the leader archives, forgets and prunes.
 */

/** Rows a transaction writes: one comparison and one put each (and the fence), within etcd's default 128 operations. */
const TXN_ROWS = 60;
/** Keys read per request: a week of one hive's minutes is about 3.5 MB, near gRPC's 4 MiB answer limit. */
const PAGE = 1_000;
const DEFAULT_TIMEOUT_MS = 5_000;
const MINUTE_DIGITS = 16;

const MINUTES = 'metrics/minutes/';
const HIVES = 'metrics/hives/';

/** A row as kept: the minute is in its key. */
interface StoredMinute {
  last: number;
  series: [SeriesKey, number][];
}

const hivePart = (hiveId: string): string => `${MINUTES}${encodeURIComponent(hiveId)}/`;
const minuteKey = (hiveId: string, minute: number): string =>
  `${hivePart(hiveId)}${String(minute).padStart(MINUTE_DIGITS, '0')}`;
const hiveKey = (hiveId: string): string => `${HIVES}${encodeURIComponent(hiveId)}`;

export type EtcdMetricsStoreOptions = Pick<
  EtcdStoreOptions,
  'endpoints' | 'security' | 'prefix' | 'fence' | 'timeoutMs'
>;

export function openEtcdMetricsStore(options: EtcdMetricsStoreOptions): MetricsStore & { close(): Promise<void> } {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const client = new Etcd3({
    hosts: [...options.endpoints],
    ...options.security,
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeoutMs }),
  });
  const root = client.namespace(`${options.prefix.replace(/\/+$/, '')}/`);
  const commit = fencedCommit(root, options.fence);
  // Hives whose index key this process has written: it is put once, not with every row.
  const indexed = new Set<string>();

  return {
    writeMinutes: async (batch) => {
      for (const hiveId of batch.forgotten) {
        await commit([root.delete().prefix(hivePart(hiveId)), root.delete().key(hiveKey(hiveId))]);
        indexed.delete(hiveId);
      }
      const unindexed = [...new Set(batch.rows.map((row) => row.hiveId))].filter((hiveId) => !indexed.has(hiveId));
      for (let start = 0; start < unindexed.length; start += TXN_OPS) {
        const hives = unindexed.slice(start, start + TXN_OPS);
        await commit(hives.map((hiveId) => root.put(hiveKey(hiveId)).value('')));
        for (const hiveId of hives) indexed.add(hiveId);
      }
      // A transaction must not name one key twice; the first row of a minute is the one kept anyway.
      const unique = [
        ...new Map(batch.rows.toReversed().map((row) => [minuteKey(row.hiveId, row.minute), row])).values(),
      ];
      for (let start = 0; start < unique.length; start += TXN_ROWS) {
        const rows = unique.slice(start, start + TXN_ROWS);
        if (await putIfAbsent(root, commit, rows)) continue;
        for (const row of rows) await putIfAbsent(root, commit, [row]);
      }
    },
    minutes: async (hiveId, from, before) => {
      const found: MinuteRow[] = [];
      const end = Range.prefix(hivePart(hiveId)).end;
      let start = minuteKey(hiveId, from);
      for (;;) {
        const page = await root.getAll().inRange(new Range(start, end)).sort('Key', 'Ascend').limit(PAGE).exec();
        for (const kv of page.kvs) {
          const key = kv.key.toString();
          const kept = parseMinute(kv.value.toString());
          if (kept.last < before) {
            found.push({
              hiveId,
              minute: Number(key.slice(hivePart(hiveId).length)),
              last: kept.last,
              values: new Map(kept.series),
            });
          }
        }
        const last = page.kvs.at(-1);
        if (!last || page.kvs.length < PAGE) return found;
        start = `${last.key.toString()}\0`;
      }
    },
    pruneMinutes: async (before) => {
      // Pruning is the leader's: a follower's would be refused by the fence at its first delete anyway.
      if (options.fence.current() === null) return 0;
      let pruned = 0;
      let start = HIVES;
      const end = Range.prefix(HIVES).end;
      for (;;) {
        const keys = await root.getAll().inRange(new Range(start, end)).sort('Key', 'Ascend').limit(PAGE).keys();
        for (let from = 0; from < keys.length; from += TXN_OPS) {
          const deletes = keys.slice(from, from + TXN_OPS).map((key) => {
            const hiveId = decodeURIComponent(key.slice(HIVES.length));
            return root.delete().inRange(new Range(minuteKey(hiveId, 0), minuteKey(hiveId, before)));
          });
          for (const answer of (await commit(deletes)) ?? []) pruned += Number(answer.response_delete_range.deleted);
        }
        const last = keys.at(-1);
        if (last === undefined || keys.length < PAGE) return pruned;
        start = `${last}\0`;
      }
    },
    close: async () => {
      client.close();
    },
  };
}

/** Writes the rows in one transaction if none of their minutes is kept yet; false (nothing written) otherwise. */
async function putIfAbsent(root: Namespace, commit: FencedCommit, rows: readonly MinuteRow[]): Promise<boolean> {
  const written = await commit(
    rows.map((row) => root.put(minuteKey(row.hiveId, row.minute)).value(JSON.stringify(stored(row)))),
    rows.map((row): Guard => ({ key: minuteKey(row.hiveId, row.minute), target: 'Create', value: 0 })),
  );
  return written !== null;
}

function stored(row: MinuteRow): StoredMinute {
  return { last: row.last, series: [...row.values] };
}

function parseMinute(text: string): StoredMinute {
  return JSON.parse(text);
}
