import { createHash } from 'node:crypto';
import type { IOperation, IResponseOp, Namespace } from 'etcd3';
import type { WebhookAlert } from '../../contracts/alert.js';
import { CAPABILITIES, eventKey, eventTimeKey, HIVES, PROBLEMS, SEQ, splitHive, WORKERS } from './etcd-layout.js';
import { openProblemsText } from './open-problems.js';
import { type HiveRecord, type NewEvent, type StateBatch, StateWriteError, type WorkerRecord } from './state-store.js';

/**
 * The one place where the queen writes to etcd: the state here, the metrics archive through `fencedCommit`. Every
 * transaction is fenced: it holds only while the leader's campaign key (as created, by its create revision) is still
 * in etcd, so a queen that is not the leader never writes, and one that was deposed finds out at its next write and
 * steps down. A batch goes out as transactions cut by operations and by bytes (etcd refuses larger requests), in
 * order; when one fails, only what it and the later ones held is given back. A hive's capabilities are written only
 * when they changed.
 */

/** The leader's campaign key (relative to the cluster's prefix) as etcd created it. */
export interface LeaderKey {
  key: string;
  createRevision: string;
}

export interface WriteFence {
  /** This queen's campaign key while it leads; null while it does not. */
  current(): LeaderKey | null;
  /** etcd no longer holds that key: this queen is not the leader any more. */
  lost(): void;
}

export interface EtcdWriterOptions {
  fence: WriteFence;
  /** Bound on the bytes of one transaction, below etcd's request limit (1.5 MiB by default). */
  maxTxnBytes: number;
}

export interface EtcdWriter {
  write(batch: StateBatch): Promise<void>;
  /** Deletes keys, fenced like every write, in transactions of at most the operations etcd takes. */
  remove(keys: readonly string[]): Promise<void>;
  /** What etcd holds of each hive's capabilities now (after a load): written again only when they differ. */
  remember(hives: readonly HiveRecord[]): void;
}

/** The default bound on a transaction's bytes: etcd's request limit (1.5 MiB) less room for the request's framing. */
export const MAX_TXN_BYTES = 1024 * 1024;
/** etcd refuses a transaction of more than 128 operations by default; one is the sequence number. */
export const TXN_OPS = 120;
/** Bytes counted for an operation besides its key and value: its framing in the request. */
const OP_BYTES = 32;
/** Transactions tried again after another writer moved the sequence number, before the write gives up. */
const COMMIT_ATTEMPTS = 5;

type Op = { key: string; value: string } | { key: string; remove: true };

/** One thing of a batch and the operations that write it (an event's are made when it is numbered). */
type Item =
  | { of: 'hive'; record: HiveRecord; ops: Op[]; digest: string }
  | { of: 'worker'; record: WorkerRecord; ops: Op[] }
  | { of: 'removed-hive'; id: string; ops: Op[] }
  | { of: 'removed-worker'; id: string; ops: Op[] }
  | { of: 'event'; event: NewEvent; json: string }
  | { of: 'problems'; open: WebhookAlert[]; ops: Op[] };

const itemBytes = (item: Item): number =>
  item.of === 'event'
    ? 2 * (eventTimeKey(item.event.time, 0).length + OP_BYTES) + item.json.length
    : item.ops.reduce((sum, op) => sum + op.key.length + ('value' in op ? op.value.length : 0) + OP_BYTES, 0);

const itemOps = (item: Item): number => (item.of === 'event' ? 2 : item.ops.length);

const digestOf = (json: string): string => createHash('sha1').update(json).digest('base64');

/** A comparison a fenced transaction holds on besides the campaign key: a key's revision (or 0: none) is `value`. */
export interface Guard {
  key: string;
  target: 'Create' | 'Mod';
  value: string | number;
}

/** Commits `ops` if this queen leads and every guard holds: their answers, or null when only a guard failed. */
export type FencedCommit = (ops: readonly IOperation[], guards?: readonly Guard[]) => Promise<IResponseOp[] | null>;

/**
 * One transaction that holds only while `fence`'s campaign key is in etcd as created (keys relative to `root`, the
 * cluster's prefix). A queen that does not lead writes nothing; one whose key is gone is told so (`lost`) and steps
 * down, and the commit rejects.
 */
export function fencedCommit(root: Namespace, fence: WriteFence): FencedCommit {
  return async (ops, guards = []) => {
    const leader = fence.current();
    if (leader === null) throw new Error('this queen does not lead: it writes nothing to etcd');
    const txn = root.if(leader.key, 'Create', '==', leader.createRevision);
    for (const guard of guards) txn.and(guard.key, guard.target, '==', guard.value);
    const result = await txn
      .then(...ops)
      .else(root.get(leader.key))
      .commit();
    if (result.succeeded) return result.responses;
    const [found] = result.responses[0]?.response_range?.kvs ?? [];
    if (found?.create_revision === leader.createRevision) return null;
    fence.lost();
    throw new Error(`this queen's campaign key ${leader.key} is gone from etcd: another queen leads`);
  };
}

export function createEtcdWriter(root: Namespace, options: EtcdWriterOptions): EtcdWriter {
  const fenced = fencedCommit(root, options.fence);
  /** The digest of each hive's capabilities as etcd holds them. */
  const written = new Map<string, string>();

  const items = (batch: StateBatch): Item[] => [
    ...batch.hives.map((record): Item => {
      const { hive, capabilities } = splitHive(record);
      const json = JSON.stringify(capabilities);
      const digest = digestOf(json);
      const ops: Op[] = [{ key: `${HIVES}${record.id}`, value: JSON.stringify(hive) }];
      if (written.get(record.id) !== digest) ops.push({ key: `${CAPABILITIES}${record.id}`, value: json });
      return { of: 'hive', record, ops, digest };
    }),
    ...batch.workers.map(
      (record): Item => ({
        of: 'worker',
        record,
        ops: [{ key: `${WORKERS}${record.id}`, value: JSON.stringify(record) }],
      }),
    ),
    ...batch.removedHives.map(
      (id): Item => ({
        of: 'removed-hive',
        id,
        ops: [
          { key: `${HIVES}${id}`, remove: true },
          { key: `${CAPABILITIES}${id}`, remove: true },
        ],
      }),
    ),
    ...batch.removedWorkers.map(
      (id): Item => ({ of: 'removed-worker', id, ops: [{ key: `${WORKERS}${id}`, remove: true }] }),
    ),
    ...batch.events.map((event): Item => ({ of: 'event', event, json: JSON.stringify(event) })),
    ...(batch.problems === null ? [] : [problemsItem(batch.problems)]),
  ];

  /** One transaction; its events numbered on from the sequence number, read again if another writer moved it. */
  const commit = async (txn: readonly Item[]): Promise<void> => {
    const events = txn.flatMap((item) => (item.of === 'event' ? [item] : []));
    const records = txn.flatMap((item) => (item.of === 'event' ? [] : item.ops.map((op) => operation(root, op))));
    for (let attempt = 0; attempt < COMMIT_ATTEMPTS; attempt++) {
      const held = events.length > 0 ? (await root.get(SEQ).exec()).kvs[0] : undefined;
      const next = held ? Number(held.value.toString()) : 1;
      const numbered = events.flatMap((item, index) => [
        root.put(eventKey(next + index)).value(item.json),
        root.put(eventTimeKey(item.event.time, next + index)).value(''),
      ]);
      const seq = events.length > 0 ? [root.put(SEQ).value(String(next + events.length))] : [];
      const done = await fenced(
        [...records, ...numbered, ...seq],
        events.length > 0 ? [{ key: SEQ, target: 'Mod', value: held?.mod_revision ?? '0' }] : [],
      );
      if (done !== null) {
        for (const item of txn) {
          if (item.of === 'hive') written.set(item.record.id, item.digest);
          if (item.of === 'removed-hive') written.delete(item.id);
        }
        return;
      }
    }
    throw new Error(`the event sequence moved under ${COMMIT_ATTEMPTS} transactions in a row: another writer`);
  };

  return {
    write: async (batch) => {
      const { transactions, tooLarge } = cut(items(batch), options.maxTxnBytes);
      for (const [index, txn] of transactions.entries()) {
        try {
          await commit(txn);
        } catch (error) {
          throw new StateWriteError(`etcd write failed: ${String(error)}`, batchOf(transactions.slice(index).flat()), {
            cause: error,
          });
        }
      }
      if (tooLarge.length > 0) {
        // Never given back: it would fail again at every write.
        throw new StateWriteError(
          `not kept in etcd, each over the ${options.maxTxnBytes} bytes one transaction may carry: ` +
            tooLarge.map(describe).join(', '),
          batchOf([]),
        );
      }
    },
    remove: async (keys) => {
      for (let start = 0; start < keys.length; start += TXN_OPS) {
        await fenced(keys.slice(start, start + TXN_OPS).map((key) => root.delete().key(key)));
      }
    },
    remember: (hives) => {
      written.clear();
      for (const record of hives) written.set(record.id, digestOf(JSON.stringify(splitHive(record).capabilities)));
    },
  };
}

/** Items in order, in transactions of at most `maxBytes` and `TXN_OPS` operations; those larger alone apart. */
function cut(all: readonly Item[], maxBytes: number): { transactions: Item[][]; tooLarge: Item[] } {
  const transactions: Item[][] = [];
  const tooLarge: Item[] = [];
  let txn: Item[] = [];
  let bytes = 0;
  let ops = 0;
  for (const item of all) {
    const size = itemBytes(item);
    if (size > maxBytes) {
      tooLarge.push(item);
      continue;
    }
    if (txn.length > 0 && (bytes + size > maxBytes || ops + itemOps(item) > TXN_OPS)) {
      transactions.push(txn);
      txn = [];
      bytes = 0;
      ops = 0;
    }
    txn.push(item);
    bytes += size;
    ops += itemOps(item);
  }
  if (txn.length > 0) transactions.push(txn);
  return { transactions, tooLarge };
}

function problemsItem(open: WebhookAlert[]): Item {
  return { of: 'problems', open, ops: [{ key: PROBLEMS, value: openProblemsText(open) }] };
}

function operation(root: Namespace, op: Op): IOperation {
  return 'value' in op ? root.put(op.key).value(op.value) : root.delete().key(op.key);
}

function describe(item: Item): string {
  switch (item.of) {
    case 'hive':
      return `hive ${item.record.id}`;
    case 'worker':
      return `worker ${item.record.id}`;
    case 'event':
      return `an event of ${item.event.kind} ${item.event.id}`;
    case 'problems':
      return `${item.open.length} open alert problems`;
    default:
      return `the removal of ${item.id}`;
  }
}

/** The batch that writes `items`. */
function batchOf(items: readonly Item[]): StateBatch {
  const batch: StateBatch = {
    hives: [],
    workers: [],
    removedHives: [],
    removedWorkers: [],
    events: [],
    problems: null,
  };
  for (const item of items) {
    if (item.of === 'hive') batch.hives.push(item.record);
    else if (item.of === 'worker') batch.workers.push(item.record);
    else if (item.of === 'removed-hive') batch.removedHives.push(item.id);
    else if (item.of === 'removed-worker') batch.removedWorkers.push(item.id);
    else if (item.of === 'problems') batch.problems = item.open;
    else batch.events.push(item.event);
  }
  return batch;
}
