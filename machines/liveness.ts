import type { Liveness, LivenessReason } from '../contracts/registry.js';

/**
 * Liveness bookkeeping of one registry (docs/protocol.md: Liveness), judged on the queen's clock at receipt: online → suspect →
 * offline → forgotten. Entries sit in one Map per liveness state, the online and suspect ones in last-seen order
 * (a heartbeat deletes and re-inserts), plus one Map of every seen entry in last-seen order for forgetting, so a
 * heartbeat costs O(1) and a sweep walks only the fronts that expire: O(transitions), never O(entries).
 */

export interface LivenessSettings {
  suspectAfterMs: number;
  offlineAfterMs: number;
  forgetAfterMs: number;
}

/** Orders the thresholds: offline never before suspect, forgotten never before offline. */
export function orderedLiveness(settings: LivenessSettings): LivenessSettings {
  const offlineAfterMs = Math.max(settings.offlineAfterMs, settings.suspectAfterMs);
  return {
    suspectAfterMs: settings.suspectAfterMs,
    offlineAfterMs,
    forgetAfterMs: Math.max(settings.forgetAfterMs, offlineAfterMs),
  };
}

/** A transition is judged at most this late: sweeps cost O(transitions), so sweeping often is cheap. */
const MAX_SWEEP_PERIOD_MS = 200;

export function sweepPeriodMs(settings: LivenessSettings): number {
  return Math.max(1, Math.min(MAX_SWEEP_PERIOD_MS, Math.floor(settings.suspectAfterMs / 20)));
}

export interface Tracked {
  readonly id: string;
  liveness: Liveness;
  /** Queen monotonic clock at the latest receipt; null while never heard from. */
  seenAt: number | null;
  /** Where the silence deadlines count from: the latest receipt, or the queen's start for a restored entry. */
  since: number | null;
}

/** Where an entry goes: a liveness, or out of the registry. */
export type Fate = Liveness | 'forgotten';

export type TransitionSink<E> = (entry: E, from: Liveness, to: Fate, reason: LivenessReason) => void;

export class LivenessTable<E extends Tracked> {
  private readonly all = new Map<string, E>();
  private readonly byState: Record<Liveness, Map<string, E>> = {
    online: new Map(),
    suspect: new Map(),
    offline: new Map(),
  };
  /** Every entry heard from and not yet past forget-after, oldest receipt first. */
  private readonly bySeen = new Map<string, E>();

  /** @param retain entries kept (offline) past forget-after instead of forgotten, e.g. expected hives. */
  constructor(private readonly retain: (entry: E) => boolean = () => false) {}

  get(id: string): E | undefined {
    return this.all.get(id);
  }

  get size(): number {
    return this.all.size;
  }

  count(liveness: Liveness): number {
    return this.byState[liveness].size;
  }

  values(): IterableIterator<E> {
    return this.all.values();
  }

  ids(liveness: Liveness): IterableIterator<string> {
    return this.byState[liveness].keys();
  }

  /** Adds an entry never heard from, in its current liveness (an expected hive: offline). */
  addUnseen(entry: E): void {
    this.all.set(entry.id, entry);
    this.byState[entry.liveness].set(entry.id, entry);
  }

  /** A receipt at `now`: the entry becomes online and youngest. Returns its liveness before, null when new. */
  seen(entry: E, now: number): Liveness | null {
    const known = this.all.has(entry.id);
    const from = known ? entry.liveness : null;
    if (!known) this.all.set(entry.id, entry);
    else this.byState[entry.liveness].delete(entry.id);
    entry.seenAt = now;
    entry.since = now;
    entry.liveness = 'online';
    this.byState.online.set(entry.id, entry);
    this.bySeen.delete(entry.id);
    this.bySeen.set(entry.id, entry);
    return from;
  }

  /**
   * Adds an entry kept from before a queen restart: offline stays offline, online and suspect come back suspect, and
   * its deadlines count from `now`, so however long the queen was down, a sender gets the whole window to be heard
   * again. Restore in last-seen order. Returns the liveness it was kept with.
   */
  restore(entry: E, now: number): Liveness {
    const kept = entry.liveness;
    if (kept !== 'offline') entry.liveness = 'suspect';
    entry.since = now;
    this.all.set(entry.id, entry);
    this.byState[entry.liveness].set(entry.id, entry);
    if (entry.seenAt !== null) this.bySeen.set(entry.id, entry);
    return kept;
  }

  /** Offline at once (graceful stop, hive offline). Returns the liveness before, or null when already offline. */
  setOffline(entry: E): Liveness | null {
    const from = entry.liveness;
    if (from === 'offline') return null;
    this.byState[from].delete(entry.id);
    entry.liveness = 'offline';
    this.byState.offline.set(entry.id, entry);
    return from;
  }

  remove(entry: E): void {
    this.all.delete(entry.id);
    this.byState[entry.liveness].delete(entry.id);
    this.bySeen.delete(entry.id);
  }

  /** Moves every entry whose silence crossed a threshold at `now`, telling `sink` of each transition in order. */
  sweep(now: number, settings: LivenessSettings, sink: TransitionSink<E>): void {
    this.expire('online', 'suspect', now - settings.suspectAfterMs, sink);
    this.expire('suspect', 'offline', now - settings.offlineAfterMs, sink);
    const forgetBefore = now - settings.forgetAfterMs;
    for (const entry of this.bySeen.values()) {
      if ((entry.since ?? Number.NEGATIVE_INFINITY) > forgetBefore) break;
      this.bySeen.delete(entry.id);
      // Ordered thresholds make every expiring entry offline by now; retained ones stay so, unswept.
      if (this.retain(entry)) continue;
      const from = entry.liveness;
      this.remove(entry);
      sink(entry, from, 'forgotten', 'forgotten');
    }
  }

  private expire(from: 'online' | 'suspect', to: Liveness, seenBefore: number, sink: TransitionSink<E>): void {
    const source = this.byState[from];
    for (const entry of source.values()) {
      if ((entry.since ?? Number.NEGATIVE_INFINITY) > seenBefore) break;
      source.delete(entry.id);
      entry.liveness = to;
      this.byState[to].set(entry.id, entry);
      sink(entry, from, to, 'missed heartbeats');
    }
  }
}
