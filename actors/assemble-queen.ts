import { randomBytes } from 'node:crypto';
import type { Hono } from 'hono';
import type { InspectionEvent } from 'xstate';
import { type LivenessSettings, orderedLiveness, sweepPeriodMs } from '../machines/liveness.js';
import type { RegistryClock } from '../machines/registry-clock.js';
import type { Alerts } from '../services/alerts/index.js';
import { defined } from '../services/defined.js';
import type { Leadership } from '../services/ha/leadership.js';
import { createQueenApp, type QueenApp } from '../services/http/queen-app.js';
import type { Logger } from '../services/logger.js';
import { createQueenMetrics, type QueenMetrics } from '../services/metrics.js';
import { watchAlerts } from '../services/queen/alerts.js';
import { heldTimers } from '../services/queen/held-timers.js';
import { MemoryMetricsArchive } from '../services/queen/metrics-archive.js';
import { feedMetricsHistory } from '../services/queen/metrics-feed.js';
import { MetricsHistory } from '../services/queen/metrics-history.js';
import { observeRegistry } from '../services/queen/observe.js';
import type { QueenClock } from '../services/queen/queen-clock.js';
import { createQueenRegistry, type QueenRegistry, type RegistryCapacity } from '../services/queen/registry.js';
import { startPruning } from '../services/queen/retention.js';
import { createStoredMetricsArchive } from '../services/queen/stored-metrics-archive.js';
import { timedTimers } from '../services/queen/timed-timers.js';
import type { MetricsStore } from '../services/store/metrics-store.js';
import type { StateStore, StoredState } from '../services/store/state-store.js';
import { createQueenStream, type QueenStream } from '../services/stream/queen-stream.js';
import { realTimers, type Timers } from '../services/timers.js';

/**
 * The queen's composition root: everything of a queen but its socket and discovery timer (registries, stream,
 * metrics and the HTTP app) wired together. Tests drive it through `app.request()` with their own clocks.
 */
export interface QueenParts {
  settings: LivenessSettings;
  streamIntervalMs: number;
  token?: string | undefined;
  logger: Logger;
  queenEpoch?: string;
  /** The queen's clocks; a stall-aware `QueenClock` also holds sweeps back after a stall and is stopped on close. */
  clock?: RegistryClock | QueenClock;
  timers?: Timers;
  inspect?: ((event: InspectionEvent) => void) | undefined;
  dashboard?: Hono;
  /** Apply the heartbeats of one event-loop turn as one registry event (see `QueenRegistryOptions.batch`). */
  batchHeartbeats?: boolean;
  /** Bound on the bytes queued for one stream client. */
  streamQueueBytes?: number;
  /** Where the registries and the history are kept, and what it held at start-up (its open alert problems too). */
  store?: StateStore;
  restored?: StoredState;
  /** Where the per-minute metrics archive is kept; in memory, three hours deep, without one. */
  metricsStore?: MetricsStore;
  /** Events older than this are pruned in the background. */
  historyRetentionMs?: number;
  /** Most hives and workers held; unbounded unless given. */
  capacity?: RegistryCapacity;
  /** Fed with the registries' changes; stopped with the queen. */
  alerts?: Alerts;
  /** The queen's metrics, when parts made before it (the alerts) count into them too. */
  metrics?: QueenMetrics;
  /** With several queens on etcd (`--etcd`). */
  leadership?: Leadership | undefined;
  /** Whether this queen judges (the leader, once it has loaded the state); always, unless given. */
  judging?: () => boolean;
}

export interface AssembledQueen {
  app: QueenApp;
  registry: QueenRegistry;
  history: MetricsHistory;
  stream: QueenStream;
  metrics: QueenMetrics;
  queenEpoch: string;
  /** This queen leads now: takes the state a former leader kept, its open alert problems included. */
  lead(loaded: StoredState): void;
  /** This queen leads no more: its streams end, and their clients reconnect to be served by the leader. */
  stepDown(): void;
  /** Ends the streams, stops the registries and writes what is pending. */
  close(): Promise<void>;
}

/** The longest an archived minute waits for its write, as for the registries' changes. */
const METRICS_FLUSH_MS = 500;

export function newQueenEpoch(): string {
  return `q-${randomBytes(6).toString('hex')}`;
}

export function assembleQueen(parts: QueenParts): AssembledQueen {
  const queenEpoch = parts.queenEpoch ?? newQueenEpoch();
  const metrics = parts.metrics ?? createQueenMetrics();
  const clock = parts.clock;
  const stallTimers = clock && 'sweepTimers' in clock ? clock.sweepTimers(parts.timers ?? realTimers) : parts.timers;
  const { judging } = parts;
  // A queen that does not judge holds its sweeps: nothing it holds goes suspect or offline on its word.
  const sweepTimers = judging
    ? heldTimers(stallTimers ?? realTimers, () => (judging() ? 0 : sweepPeriodMs(orderedLiveness(parts.settings))))
    : stallTimers;
  const registry = createQueenRegistry({
    settings: parts.settings,
    ...(clock ? { clock } : {}),
    // The registries' only timers are their sweeps: timing them gives the queen's tick cost.
    timers: timedTimers((ms) => metrics.sweep(ms), sweepTimers),
    inspect: parts.inspect,
    batch: parts.batchHeartbeats ?? false,
    logger: parts.logger,
    onHistoryDropped: (count) => metrics.overflow('history', count),
    ...defined({ store: parts.store, restored: parts.restored, capacity: parts.capacity }),
  });
  const stopPruning =
    parts.store && parts.historyRetentionMs !== undefined
      ? startPruning({
          store: parts.store,
          metrics: parts.metricsStore,
          retentionMs: parts.historyRetentionMs,
          wallNow: registry.clock.wallNow,
          logger: parts.logger,
        })
      : () => {};
  const unobserve = observeRegistry(registry, parts.logger, metrics);
  const alertWatch = parts.alerts ? watchAlerts(registry, parts.alerts, queenEpoch, judging) : undefined;
  // A restarted queen resolves what it alerted on before, rather than open it a second time.
  if (parts.restored?.problems) alertWatch?.adopt(parts.restored.problems);
  // The open problems go with the state: a successor resolves them.
  const unkeepProblems = parts.alerts?.onOpenChange((open) => registry.noteProblems(open));
  const history = new MetricsHistory({
    archive: parts.metricsStore
      ? createStoredMetricsArchive({
          store: parts.metricsStore,
          logger: parts.logger,
          flushMs: METRICS_FLUSH_MS,
          onDropped: (count) => metrics.overflow('metrics_archive', count),
        })
      : new MemoryMetricsArchive(),
  });
  const unfeed = feedMetricsHistory(registry, history);
  const stream = createQueenStream({
    registry,
    queenEpoch,
    intervalMs: parts.streamIntervalMs,
    onDropped: (count) => metrics.streamDropped(count),
    ...(parts.streamQueueBytes !== undefined ? { queueBytes: parts.streamQueueBytes } : {}),
  });
  metrics.watch({
    count: (kind, liveness) => (kind === 'hive' ? registry.hives.count(liveness) : registry.workers.count(liveness)),
    available: () => registry.workers.availableCount,
    streamClients: () => stream.clients,
  });
  const app = createQueenApp({
    registry,
    history,
    stream,
    metrics,
    queenEpoch,
    token: parts.token,
    logger: parts.logger,
    leadership: parts.leadership,
    ...(parts.dashboard ? { dashboard: parts.dashboard } : {}),
  });
  return {
    app,
    registry,
    history,
    stream,
    metrics,
    queenEpoch,
    lead(loaded) {
      registry.lead(loaded);
      alertWatch?.adopt(loaded.problems ?? []);
    },
    stepDown() {
      stream.endAll();
    },
    async close() {
      stream.closeAll();
      unobserve();
      stopPruning();
      alertWatch?.stop();
      unkeepProblems?.();
      parts.alerts?.stop();
      unfeed();
      await history.close();
      await registry.stop();
      if (clock && 'stop' in clock) clock.stop();
    },
  };
}
