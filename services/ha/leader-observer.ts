import type { Namespace, Watcher } from 'etcd3';
import type { Logger } from '../logger.js';

/**
 * The leader of an etcd election as etcd holds it: the value of the earliest-created bid under the election's keys
 * that is bound to a lease, read again after every change there. A key without a lease was put by hand, not by a
 * campaign (whose key goes with its lease), so it names nobody. etcd3's own observer takes the last bid of a batch of watch events for the
 * leader: queens whose watches connected at different moments named different leaders, and never settled on one.
 */

export interface LeaderObserverOptions {
  /** The election's keys: one bid each, the earliest created on a lease leads. */
  bids: Namespace;
  /** Bids read per request while looking for the earliest on a lease. */
  pageKeys?: number;
  /** Wait before a failed read or a failed watch is tried again. */
  retryMs: number;
  /** The leader's bid, or undefined for none: at start, then on every change. */
  onLeader(bid: LeaderBid | undefined): void;
  logger: Logger;
}

/** The earliest bid: its value, and its key (in the election's keys) as etcd created it. */
export interface LeaderBid {
  value: string;
  key: string;
  createRevision: string;
}

const DEFAULT_PAGE_KEYS = 10;

/** The earliest-created bid on a lease, read in creation order a page at a time from one revision. */
async function earliestLeasedBid(bids: Namespace, pageKeys: number): Promise<LeaderBid | undefined> {
  let revision: string | undefined;
  let from = '0';
  for (;;) {
    const range = bids.getAll().sort('Create', 'Ascend').minCreateRevision(from).limit(pageKeys);
    const page = await (revision === undefined ? range : range.revision(revision)).exec();
    revision ??= page.header.revision;
    const kv = page.kvs.find((candidate) => candidate.lease !== '0');
    if (kv) return { value: kv.value.toString(), key: kv.key.toString(), createRevision: kv.create_revision };
    const last = page.kvs.at(-1);
    if (!last || !page.more) return undefined;
    from = String(BigInt(last.create_revision) + 1n);
  }
}

/** Observes until the returned function is called. */
export function observeLeader(options: LeaderObserverOptions): () => void {
  const { bids, retryMs, onLeader, logger } = options;
  const pageKeys = options.pageKeys ?? DEFAULT_PAGE_KEYS;
  let stopped = false;
  let readTimer: NodeJS.Timeout | undefined;
  let watchTimer: NodeJS.Timeout | undefined;
  let watcher: Watcher | undefined;
  let reported = false;
  let last: string | undefined;
  let reading = false;
  let again = false;
  let failing = false;

  const failed = (error: unknown): void => {
    if (!failing) logger.warn('etcd unreachable: leader not observed', { error });
    failing = true;
  };

  // Reads never overlap, and a change seen during a read is followed by one more: the last read is after the last change.
  const read = async (): Promise<void> => {
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    try {
      do {
        again = false;
        const bid = await earliestLeasedBid(bids, pageKeys);
        failing = false;
        // The same queen bidding again has a new key: a change, which writes must be fenced with.
        const seen = bid && `${bid.key} ${bid.createRevision} ${bid.value}`;
        if (stopped || (reported && seen === last)) continue;
        reported = true;
        last = seen;
        onLeader(bid);
      } while (again && !stopped);
    } catch (error) {
      failed(error);
      clearTimeout(readTimer);
      if (!stopped) readTimer = setTimeout(() => void read(), retryMs);
    } finally {
      reading = false;
    }
  };

  const watch = (): void => {
    const started = bids.watch().prefix('').watcher();
    watcher = started;
    started.on('connected', () => void read());
    started.on('data', () => void read());
    // A watch etcd cancelled (not a lost connection: that one resumes by itself) is started afresh.
    started.on('error', (error) => {
      void started.cancel().catch(() => undefined);
      failed(error);
      if (!stopped) watchTimer = setTimeout(watch, retryMs);
    });
  };

  watch();
  void read();
  return () => {
    stopped = true;
    clearTimeout(readTimer);
    clearTimeout(watchTimer);
    void watcher?.cancel().catch(() => undefined);
  };
}
