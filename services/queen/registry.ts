import { type Actor, createActor, type InspectionEvent } from 'xstate';
import type { WebhookAlert } from '../../contracts/alert.js';
import type { Capabilities } from '../../contracts/capabilities.js';
import type { EventPage, EventQuery } from '../../contracts/events.js';
import type { HiveHeartbeat, WorkerHeartbeat, WorkerReport } from '../../contracts/heartbeat.js';
import {
  type CapabilityMeasure,
  capabilitiesOf,
  capabilityExcess,
  measureAfter,
  measureSet,
  planCapabilitySync,
  type ResyncReason,
} from '../../machines/capability-set.js';
import {
  type AdmittedHive,
  type DiscoveredHive,
  type ExpectedHive,
  type HiveEntry,
  type HiveRegistryReader,
  HiveStore,
  heldCapabilities,
  type JudgedSet,
} from '../../machines/hive-store.js';
import { type LivenessSettings, orderedLiveness, sweepPeriodMs } from '../../machines/liveness.js';
import { registryMachine } from '../../machines/registry.js';
import type { RegistryChange, RegistryKind } from '../../machines/registry-changes.js';
import { type Received, type RegistryClock, received, systemClock } from '../../machines/registry-clock.js';
import { type Failure, fail, ok, type Result } from '../../machines/result.js';
import { type WorkerRegistryReader, WorkerStore } from '../../machines/worker-store.js';
import { type Logger, silentLogger } from '../logger.js';
import type { StateStore, StoredState } from '../store/state-store.js';
import { realTimers, type Timers } from '../timers.js';
import { hashSecret, issueSecret, secretMatches } from './identity.js';
import { createJournal, type Journal } from './journal.js';
import { byLastSeen, hiveEntryOf, hiveRecord, latest, workerEntryOf, workerRecord } from './records.js';

/**
 * The one owner of the queen's registries: the hive and worker stores, the registry actors that apply heartbeats to
 * them and sweep their liveness, the identities, and the state store that keeps them across restarts. A heartbeat is
 * judged when it is submitted (identity, resync) and the verdict is that call's answer; admitted heartbeats are then
 * applied by the actors, batched (see `batch`).
 */
export interface QueenRegistryOptions {
  settings: LivenessSettings;
  /** The queen's clocks; `performance.now()` and `Date.now()` unless a test or the simulation drives them. */
  clock?: RegistryClock;
  /** XState's timer source for the sweeps: real timers unless a test gives a SimulatedClock. */
  timers?: Timers;
  inspect?: ((event: InspectionEvent) => void) | undefined;
  /**
   * Gather the heartbeats submitted in one event-loop turn into one event per registry (a served queen: an actor
   * event costs far more than applying a heartbeat). Off, each submitted heartbeat is applied before its promise
   * settles, with no macrotask between: what a promise-only simulation needs.
   */
  batch?: boolean;
  /** Where the registries are kept; nothing outlives the process without one. */
  store?: StateStore;
  /** What the store held at start-up, to restore. */
  restored?: StoredState;
  /** The longest a change waits to be written (default 500 ms). */
  flushMs?: number;
  /** Told how many history events gave way while the store was behind. */
  onHistoryDropped?: ((count: number) => void) | undefined;
  /** Most entries held: a heartbeat that would register one more is refused (known entries keep working). */
  capacity?: RegistryCapacity;
  logger?: Logger;
}

export interface RegistryCapacity {
  hives: number;
  workers: number;
  /** The bytes of capabilities held over all hives (`--max-capability-bytes`); no bound without it. */
  capabilityBytes?: number;
}

/**
 * Why a heartbeat (or a discovery answer) changed nothing: an identity it could not prove, a registry already full,
 * capabilities past what one hive may hold, or a worker of a hive the queen does not know.
 */
export interface Refusal {
  kind: 'identity' | 'capacity' | 'too-large' | 'unknown-hive' | 'stale';
  message: string;
}

/** What an admitted hive heartbeat is acknowledged with. */
export interface HiveAdmission {
  /** Why the ack asks for the full capabilities; null when it does not. */
  resync: ResyncReason | null;
  /** Issued with this ack: the hive id's first heartbeat. */
  secret: string | null;
  /** The hash of the issued secret the heartbeat carried: the held one, or one issued earlier that the hive kept. */
  provenHash: string | null;
  /** With a new secret: the hash of the one the heartbeat showed from an identity no longer held, if any. */
  shownHash?: string | null;
}

export type HiveVerdict = Result<HiveAdmission, Refusal>;

export type WorkerVerdict = Result<null, Refusal>;

/** What became of a discovery answer: taken, or left to the hive's own heartbeats (it has an identity). */
export type DiscoveryAdmission = 'taken' | 'identified';

export type DiscoveryVerdict = Result<DiscoveryAdmission, Refusal>;

export type ChangeListener = (kind: RegistryKind, changes: readonly RegistryChange[]) => void;

export interface QueenRegistry {
  readonly hives: HiveRegistryReader;
  readonly workers: WorkerRegistryReader;
  readonly clock: RegistryClock;
  readonly actor: Actor<typeof registryMachine>;
  /** Judges and applies a hive heartbeat at once; a refused one changes nothing. `source` names the sender. */
  receiveHive(heartbeat: HiveHeartbeat, source?: string): HiveVerdict;
  receiveWorker(heartbeat: WorkerHeartbeat, source?: string): WorkerVerdict;
  /** Like `receiveHive`, applied with the other heartbeats of this event-loop turn. */
  submitHive(heartbeat: HiveHeartbeat, source?: string): Promise<HiveVerdict>;
  submitWorker(heartbeat: WorkerHeartbeat, source?: string): Promise<WorkerVerdict>;
  /**
   * A hive's answer to discovery. It carries no secret, so it is taken only for a hive id with no identity yet; one
   * with an identity is left to its own heartbeats, which prove it. It is bound like a heartbeat's full set.
   */
  discovered(hive: DiscoveredHive): DiscoveryVerdict;
  expect(hives: ExpectedHive[]): void;
  /** Forgets a hive, its workers and its identity now; false when unknown. */
  forgetHive(id: string): boolean;
  forgetWorker(id: string): boolean;
  /** The history, up to the latest change. */
  events(query: EventQuery): Promise<EventPage>;
  /** Called with each batch of changes, in order; returns the unsubscribe. */
  onChanges(listener: ChangeListener): () => void;
  /**
   * This queen has just become the leader: `loaded` (what the store holds) merged with what it held, the later
   * heartbeat of each entry winning, replaces its registries, every entry given the restart grace.
   */
  lead(loaded: StoredState): void;
  /** Keeps the open alert problems with the state, for a successor to resolve. */
  noteProblems(open: WebhookAlert[]): void;
  /** Applies what was submitted, writes it, then stops the actors and closes the store. */
  stop(): Promise<void>;
}

interface Pending<H> {
  heartbeats: H[];
  /** Told once the heartbeat at the same index is applied. */
  settle: (() => void)[];
}

/** Distinct refused (source, id) pairs remembered, so an impostor retrying every interval is logged once. */
const REFUSALS_REMEMBERED = 1_000;

const DEFAULT_FLUSH_MS = 500;

/** A full set judged to be the one held: one object for all of them. */
const HELD_SET: JudgedSet = { held: true };

export function createQueenRegistry(options: QueenRegistryOptions): QueenRegistry {
  const clock = options.clock ?? systemClock;
  const timers = options.timers ?? realTimers;
  const settings = orderedLiveness(options.settings);
  const sweepMs = sweepPeriodMs(settings);
  const hiveStore = new HiveStore(settings, clock);
  const workerStore = new WorkerStore(settings, clock);
  if (options.restored) {
    hiveStore.restore([...options.restored.hives].sort(byLastSeen).map((record) => hiveEntryOf(record, clock)));
    workerStore.restore([...options.restored.workers].sort(byLastSeen).map((record) => workerEntryOf(record, clock)));
  }
  const journal: Journal | null = options.store
    ? createJournal({
        store: options.store,
        hives: hiveStore,
        workers: workerStore,
        logger: options.logger ?? silentLogger,
        flushMs: options.flushMs ?? DEFAULT_FLUSH_MS,
        onDropped: options.onHistoryDropped,
      })
    : null;
  // The restart's own transitions (`queen restart`) belong to the history, the hives' at least: their workers follow
  // them, and tens of thousands of worker events would drown it. The database holds these entries already.
  const restartChanges = hiveStore.takeChanges();
  workerStore.takeChanges();
  journal?.note('hive', restartChanges, { written: true });

  let flush = (): void => {};
  const actor = createActor(registryMachine, {
    systemId: 'registry',
    input: { hives: { store: hiveStore, sweepMs }, workers: { store: workerStore, sweepMs } },
    ...(options.inspect ? { inspect: options.inspect } : {}),
    // The registries' timers are their sweeps: each first applies what was received before it.
    clock: {
      setTimeout: (callback, ms) =>
        timers.setTimeout(() => {
          flush();
          callback();
        }, ms),
      clearTimeout: (id) => timers.clearTimeout(id),
    },
  });
  actor.start();
  const { hives, workers } = actor.getSnapshot().children;
  if (!hives || !workers) throw new Error('the registry actors did not start');

  const listeners = new Set<ChangeListener>();
  const publish = (kind: RegistryKind, changes: readonly RegistryChange[]): void => {
    journal?.note(kind, changes);
    for (const listener of listeners) listener(kind, changes);
  };
  hives.on('changes', ({ changes }) => publish('hive', changes));
  workers.on('changes', ({ changes }) => publish('worker', changes));

  // Secrets issued for heartbeats not applied yet: a second heartbeat in the same batch is judged against them.
  const issuing = new Map<string, string>();
  const refusals = new Set<string>();
  const refuse = (
    kind: RegistryKind,
    id: string,
    source: string,
    message: string,
    hiveId: string,
  ): Failure<Refusal> => {
    // Keyed by the hive claimed: random worker ids under one hive must not each add an event.
    const key = `${source}\u0000${kind}\u0000${hiveId}`;
    if (!refusals.has(key)) {
      if (refusals.size >= REFUSALS_REMEMBERED) refusals.clear();
      refusals.add(key);
      publish(kind, [{ type: 'identity_refused', kind, id, source, at: clock.wallNow(), hiveId }]);
    }
    return fail({ kind: 'identity', message });
  };
  const capacity = options.capacity ?? { hives: Number.POSITIVE_INFINITY, workers: Number.POSITIVE_INFINITY };
  const maxCapabilityBytes = capacity.capabilityBytes ?? Number.POSITIVE_INFINITY;
  /** Workers new to the registry and admitted but not applied yet: they count against the capacity already. */
  const arrivingWorkers = new Set<string>();
  /** Bytes of capabilities admitted but not applied yet, likewise. */
  let arrivingBytes = 0;
  /** Hives with a heartbeat in the batch: a second one is judged on what the first leaves, so the batch goes first. */
  const arrivingHives = new Set<string>();
  /** Workers with a heartbeat in the batch, likewise: a late one is judged against the `seq` the batch leaves. */
  const batchedWorkers = new Set<string>();
  /** Each admitted full set as judged, for its admission: the JSON of a new one is made once. */
  const judgedSets = new WeakMap<Capabilities, JudgedSet>();
  const full = (kind: RegistryKind, max: number): Failure<Refusal> =>
    fail({
      kind: 'capacity',
      message: `the queen holds its maximum of ${max} ${kind}s (--max-${kind}s): known ${kind}s keep working`,
    });
  const secretHashOf = (hiveId: string): string | null =>
    issuing.get(hiveId) ?? hiveStore.get(hiveId)?.secretHash ?? null;
  /**
   * The hash of the issued secret that `secret` is: the one held, or, while the hive has proven none, one issued before
   * it (a late registration of the hive's own replaced the secret it kept). Null when it is none of them.
   */
  const provenHashOf = (hiveId: string, secret: string | undefined): string | null => {
    const current = secretHashOf(hiveId);
    if (secret === undefined || current === null) return null;
    // Every heartbeat of a proven hive stops here: the earlier secrets are looked at only while none is proven.
    if (secretMatches(current, secret)) return current;
    const held = hiveStore.get(hiveId);
    if (held === undefined || held.secretProven) return null;
    // A secret issued in the batch not applied yet makes the one held an earlier one too.
    if (held.secretHash !== null && held.secretHash !== current && secretMatches(held.secretHash, secret)) {
      return held.secretHash;
    }
    return held.earlierHashes.find((hash) => secretMatches(hash, secret)) ?? null;
  };
  /**
   * A heartbeat without any secret for a hive that never sent its secret back: the hive was issued one and lost it
   * (it crashed before keeping it, or the ack was lost). It registers again instead of being locked out for good.
   */
  const mayRegisterAgain = (hiveId: string, secret: string | undefined): boolean =>
    secret === undefined && (issuing.has(hiveId) || hiveStore.get(hiveId)?.secretProven === false);

  /**
   * The bounds of what a hive would hold after a change, however it came: its own (413) and the queen's total (503),
   * the bytes it held released first. Within them, the bytes it would grow by.
   */
  const boundCapabilities = (
    id: string,
    held: HiveEntry | undefined,
    after: CapabilityMeasure,
  ): Result<number, Refusal> => {
    const excess = capabilityExcess(after);
    if (excess !== null) {
      return fail({ kind: 'too-large', message: `hive ${id} would hold ${excess}: nothing was changed` });
    }
    const growth = Math.max(after.bytes - (held?.capabilities?.bytes ?? 0), 0);
    if (growth > 0 && hiveStore.capabilityBytes + arrivingBytes + growth > maxCapabilityBytes) {
      return fail({
        kind: 'capacity',
        message:
          `the queen holds its maximum of ${maxCapabilityBytes} bytes of capabilities (--max-capability-bytes): ` +
          'hives that keep theirs keep working',
      });
    }
    return ok(growth);
  };

  const judgeHive = (heartbeat: HiveHeartbeat, source: string): HiveVerdict => {
    const id = heartbeat.hive_id;
    const hash = secretHashOf(id);
    const provenHash = provenHashOf(id, heartbeat.hive_secret);
    if (hash !== null && provenHash === null && !mayRegisterAgain(id, heartbeat.hive_secret)) {
      // The hive's own first registration, delivered after it proved the secret a retry got: no impostor to report.
      if (heartbeat.hive_secret === undefined && sameStart(hiveStore.get(id)?.report, heartbeat)) {
        return fail({
          kind: 'stale',
          message: `a late heartbeat of hive ${id} from before it proved its identity: nothing was changed`,
        });
      }
      return refuse(
        'hive',
        id,
        source,
        `hive ${id} is registered with another identity: this heartbeat ` +
          `${heartbeat.hive_secret === undefined ? 'lacks its hive_secret' : 'carries another hive_secret'} (a second ` +
          `hive with the same --hive-id, or one that lost its --state-dir; DELETE /v1/hives/${id} resets the identity)`,
        id,
      );
    }
    const held = hiveStore.get(id);
    if (olderThanHeld(held?.report, heartbeat)) {
      return fail({
        kind: 'stale',
        message: `a heartbeat of hive ${id} older than the last one taken (seq ${heartbeat.seq}): nothing was changed`,
      });
    }
    // `issuing` holds the new hive ids of the batch not applied yet.
    if (hash === null && !held && hiveStore.size + issuing.size >= capacity.hives) return full('hive', capacity.hives);
    const plan = planCapabilitySync(held && heldCapabilities(held), heartbeat);
    const { capabilities } = heartbeat;
    // The set held sent again changes nothing: nothing to measure, bound or write.
    const unchanged = capabilities !== undefined && held?.capabilities?.sameAs(capabilities) === true;
    // A new full set's JSON, made once: it measures the set here and tells the store whether it changed.
    const json = plan.action === 'replace' && capabilities && !unchanged ? JSON.stringify(capabilities) : undefined;
    if (capabilities && unchanged) judgedSets.set(capabilities, HELD_SET);
    else if (capabilities && json !== undefined) judgedSets.set(capabilities, { held: false, json });
    const after = unchanged ? null : measureAfter(held?.capabilities ?? null, heartbeat, plan.action, json);
    if (after !== null) {
      const bound = boundCapabilities(id, held, after);
      if (!bound.ok) return bound;
      arrivingBytes += bound.value;
    }
    const { resync } = plan;
    if (provenHash !== null) return ok({ resync, secret: null, provenHash });
    const secret = issueSecret();
    issuing.set(id, hashSecret(secret));
    // A hive registering anew with the secret of an identity reset or forgotten here keeps it good until the new one
    // is proven: were the answer carrying the new one lost, the hive would show the old one again, refused for good.
    const shownHash = hash === null && heartbeat.hive_secret !== undefined ? hashSecret(heartbeat.hive_secret) : null;
    return ok({ resync, secret, provenHash: null, shownHash });
  };

  const judgeWorker = (heartbeat: WorkerHeartbeat, source: string): WorkerVerdict => {
    const id = heartbeat.worker_id;
    // A hive is known once heard from (a placeholder of the hives config is not): its workers follow it, never lead.
    if (!issuing.has(heartbeat.hive_id) && !hiveStore.get(heartbeat.hive_id)?.report) {
      return fail({
        kind: 'unknown-hive',
        message:
          `worker ${id} claims hive ${heartbeat.hive_id}, which this queen does not know: a hive registers with its ` +
          'own heartbeat first, and its workers are taken from then on',
      });
    }
    const held = workerStore.get(id)?.heartbeat.hive_id;
    if (held === undefined && !arrivingWorkers.has(id)) {
      if (workerStore.size + arrivingWorkers.size >= capacity.workers) return full('worker', capacity.workers);
    }
    for (const hiveId of held === undefined ? [heartbeat.hive_id] : [heartbeat.hive_id, held]) {
      const hash = secretHashOf(hiveId);
      const lost = mayRegisterAgain(hiveId, heartbeat.hive_secret);
      if (hash !== null && !lost && provenHashOf(hiveId, heartbeat.hive_secret) === null) {
        return refuse(
          'worker',
          heartbeat.worker_id,
          source,
          `worker ${heartbeat.worker_id} claims hive ${hiveId} without that hive's hive_secret`,
          hiveId,
        );
      }
    }
    const entry = workerStore.get(id);
    if (olderThanHeld(entry?.heartbeat, heartbeat)) {
      return fail({
        kind: 'stale',
        message: `a heartbeat of worker ${id} older than the last one taken (seq ${heartbeat.seq}): nothing was changed`,
      });
    }
    if (heartbeat.boot_id !== undefined && heartbeat.boot_id === entry?.endedBoot) {
      return fail({
        kind: 'stale',
        message: `a late heartbeat of worker ${id} from a process its hive reported gone: nothing was changed`,
      });
    }
    return ok(null);
  };

  const admitHive = (heartbeat: HiveHeartbeat, admission: HiveAdmission): AdmittedHive => {
    const { hive_secret: _secret, ...kept } = heartbeat;
    const issuedHash = admission.secret !== null ? hashSecret(admission.secret) : null;
    const fullSet = kept.capabilities ? (judgedSets.get(kept.capabilities) ?? null) : null;
    // The set outlives its admission (the hive holds it): its JSON must not, or the queen holds every set twice.
    if (kept.capabilities) judgedSets.delete(kept.capabilities);
    arrivingHives.add(kept.hive_id);
    return {
      arrival: received(kept, clock),
      issuedHash,
      provenHash: admission.provenHash,
      shownHash: admission.shownHash ?? null,
      fullSet,
    };
  };
  const admitWorker = (heartbeat: WorkerHeartbeat): Received<WorkerReport> => {
    const { hive_secret: _secret, ...kept } = heartbeat;
    if (!workerStore.get(kept.worker_id)) arrivingWorkers.add(kept.worker_id);
    batchedWorkers.add(kept.worker_id);
    return received(kept, clock);
  };
  const applyHives = (admitted: AdmittedHive[]): void => {
    hives.send({ type: 'HIVE_HEARTBEATS', admitted });
    issuing.clear();
    arrivingHives.clear();
    arrivingBytes = 0;
  };
  const applyWorkers = (heartbeats: Received<WorkerReport>[]): void => {
    workers.send({ type: 'WORKER_HEARTBEATS', heartbeats });
    arrivingWorkers.clear();
    batchedWorkers.clear();
  };

  let hivePending: Pending<AdmittedHive> = { heartbeats: [], settle: [] };
  let workerPending: Pending<Received<WorkerReport>> = { heartbeats: [], settle: [] };
  let scheduled: NodeJS.Immediate | undefined;
  flush = (): void => {
    if (scheduled) clearImmediate(scheduled);
    scheduled = undefined;
    const hiveBatch = hivePending;
    const workerBatch = workerPending;
    hivePending = { heartbeats: [], settle: [] };
    workerPending = { heartbeats: [], settle: [] };
    if (hiveBatch.heartbeats.length > 0) {
      applyHives(hiveBatch.heartbeats);
      for (const settle of hiveBatch.settle) settle();
    }
    if (workerBatch.heartbeats.length > 0) {
      applyWorkers(workerBatch.heartbeats);
      for (const settle of workerBatch.settle) settle();
    }
  };
  const schedule = (): void => {
    if (options.batch) scheduled ??= setImmediate(flush);
    else flush();
  };

  return {
    hives: hiveStore,
    workers: workerStore,
    clock,
    actor,
    receiveHive: (heartbeat, source = 'local') => {
      flush();
      const verdict = judgeHive(heartbeat, source);
      if (verdict.ok) applyHives([admitHive(heartbeat, verdict.value)]);
      return verdict;
    },
    receiveWorker: (heartbeat, source = 'local') => {
      flush();
      const verdict = judgeWorker(heartbeat, source);
      if (verdict.ok) applyWorkers([admitWorker(heartbeat)]);
      return verdict;
    },
    submitHive: (heartbeat, source = 'local') => {
      if (arrivingHives.has(heartbeat.hive_id)) flush();
      const verdict = judgeHive(heartbeat, source);
      if (!verdict.ok) return Promise.resolve(verdict);
      return new Promise((resolve) => {
        hivePending.heartbeats.push(admitHive(heartbeat, verdict.value));
        hivePending.settle.push(() => resolve(verdict));
        schedule();
      });
    },
    submitWorker: (heartbeat, source = 'local') => {
      if (batchedWorkers.has(heartbeat.worker_id)) flush();
      const verdict = judgeWorker(heartbeat, source);
      if (!verdict.ok) return Promise.resolve(verdict);
      return new Promise((resolve) => {
        workerPending.heartbeats.push(admitWorker(heartbeat));
        workerPending.settle.push(() => resolve(verdict));
        schedule();
      });
    },
    discovered: (hive) => {
      flush();
      const id = hive.response.hive_id;
      if (secretHashOf(id) !== null) return ok('identified');
      const held = hiveStore.get(id);
      if (!held && hiveStore.size >= capacity.hives) return full('hive', capacity.hives);
      const bound = boundCapabilities(id, held, measureSet(capabilitiesOf(hive.response)));
      if (!bound.ok) return bound;
      hives.send({ type: 'HIVE_DISCOVERED', hive });
      return ok('taken');
    },
    expect: (expected) => hives.send({ type: 'EXPECT_HIVES', hives: expected }),
    forgetHive: (id) => {
      flush();
      if (!hiveStore.get(id)) return false;
      hives.send({ type: 'FORGET_HIVE', id });
      return true;
    },
    forgetWorker: (id) => {
      flush();
      if (!workerStore.get(id)) return false;
      workers.send({ type: 'FORGET_WORKERS', workerIds: [id] });
      return true;
    },
    events: async (query) => {
      if (!options.store || !journal) return { events: [], next: null };
      await journal.written();
      return options.store.events(query);
    },
    lead: (loaded) => {
      flush();
      const hiveRecords = latest([...hiveStore.entries()].map(hiveRecord), loaded.hives);
      const workerRecords = latest([...workerStore.entries()].map(workerRecord), loaded.workers);
      hives.send({ type: 'HIVES_RELOADED', entries: hiveRecords.map((record) => hiveEntryOf(record, clock)) });
      workers.send({ type: 'WORKERS_RELOADED', entries: workerRecords.map((record) => workerEntryOf(record, clock)) });
    },
    noteProblems: (open) => journal?.noteProblems(open),
    onChanges: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop: async () => {
      flush();
      actor.stop();
      await journal?.stop();
      await options.store?.close();
    },
  };
}

/** A heartbeat as numbered by its sender's process: hive and worker heartbeats alike. */
type Numbered = Pick<HiveHeartbeat, 'boot_id' | 'seq'>;

/** `next` comes from the same start of its sender as `last`, the last one taken (the same random `boot_id`). */
function sameStart(last: Numbered | null | undefined, next: Numbered): boolean {
  return next.boot_id !== undefined && last?.boot_id === next.boot_id;
}

/** A heartbeat of its sender's current start built before the last one taken: delivered late, or sent again. */
function olderThanHeld(last: Numbered | null | undefined, next: Numbered): boolean {
  return last?.seq !== undefined && next.seq !== undefined && sameStart(last, next) && next.seq <= last.seq;
}
