import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Liveness, LivenessReason } from '../contracts/registry.js';
import type { ResyncReason } from '../machines/capability-set.js';
import type { Fate } from '../machines/liveness.js';
import type { RegistryKind } from '../machines/registry-changes.js';
import type { Refusal } from './queen/registry.js';

/**
 * The queen's Prometheus metrics (`GET /metrics`), on a registry of its own so several queens in one process (tests,
 * the simulation) never share counts. Hot-path label sets are bound once.
 */

export type HeartbeatResult =
  | 'accepted'
  | 'invalid'
  | 'unauthorized'
  | 'too_large'
  | 'unsupported_media_type'
  | 'identity_refused'
  /** A worker of a hive the queen does not know: 409. */
  | 'unknown_hive'
  /** A heartbeat older than the last one taken from its sender's process, or a hive's first registration late: 409. */
  | 'stale'
  /** The registry was full: 503. */
  | 'over_capacity'
  /** A follower sent it on to the leader. */
  | 'redirected'
  | 'error';

/** The queen's bounded queues that drop what does not fit. */
export type OverflowQueue = 'history' | 'metrics_archive' | 'webhook' | 'stream_clients' | 'connections';

export interface MetricSources {
  count: (kind: RegistryKind, liveness: Liveness) => number;
  available: () => number;
  streamClients: () => number;
}

export interface QueenMetrics {
  readonly contentType: string;
  render(): Promise<string>;
  heartbeat(kind: RegistryKind, result: HeartbeatResult): void;
  transition(kind: RegistryKind, to: Fate, reason: LivenessReason): void;
  /** Time between two receipts from one sender, on the queen's clock. */
  interArrival(kind: RegistryKind, ms: number): void;
  /** Event-loop time of one registry's liveness sweep, the changes it published included. */
  sweep(ms: number): void;
  resync(reason: ResyncReason): void;
  streamDropped(count: number): void;
  discovery(result: 'registered' | 'identified' | 'failed' | 'skipped'): void;
  /** Items a full bounded queue dropped, or stream connections refused at its limit. */
  overflow(queue: OverflowQueue, count: number): void;
  /** Where the gauges read their values at scrape time. */
  watch(sources: MetricSources): void;
}

const KINDS: readonly RegistryKind[] = ['hive', 'worker'];
const LIVENESS: readonly Liveness[] = ['online', 'suspect', 'offline'];

/** What each refusal of the registry is counted as: its status alone does not tell (409 is two of them). */
const REFUSAL_RESULTS: Record<Refusal['kind'], HeartbeatResult> = {
  identity: 'identity_refused',
  capacity: 'over_capacity',
  'too-large': 'too_large',
  'unknown-hive': 'unknown_hive',
  stale: 'stale',
};

/** A heartbeat answer as a result label: the registry's refusal when there was one, else its HTTP status. */
export function heartbeatResult(status: number, refusal?: Refusal['kind']): HeartbeatResult {
  if (refusal !== undefined) return REFUSAL_RESULTS[refusal];
  switch (status) {
    case 200:
      return 'accepted';
    case 400:
      return 'invalid';
    case 401:
      return 'unauthorized';
    case 403:
      return 'identity_refused';
    case 503:
      return 'over_capacity';
    case 413:
      return 'too_large';
    case 415:
      return 'unsupported_media_type';
    case 307:
      return 'redirected';
    default:
      return 'error';
  }
}

export function createQueenMetrics(): QueenMetrics {
  const registry = new Registry();
  const registers = [registry];
  // Process CPU, memory, GC and event-loop lag (nodejs_eventloop_lag_seconds and its percentiles).
  collectDefaultMetrics({ register: registry });
  let sources: MetricSources | undefined;

  const heartbeats = new Counter({
    name: 'apiary_heartbeats_received_total',
    help: 'Heartbeats received, by sender kind and result',
    labelNames: ['kind', 'result'] as const,
    registers,
  });
  const transitions = new Counter({
    name: 'apiary_liveness_transitions_total',
    help: 'Liveness transitions, by entry kind, new liveness and reason',
    labelNames: ['kind', 'to', 'reason'] as const,
    registers,
  });
  const resyncs = new Counter({
    name: 'apiary_resyncs_total',
    help: 'Acks that asked a hive for its full capabilities, by reason',
    labelNames: ['reason'] as const,
    registers,
  });
  const dropped = new Counter({
    name: 'apiary_stream_dropped_messages_total',
    help: 'Stream messages a slow client lost (it got a fresh snapshot instead)',
    registers,
  });
  const overflows = new Counter({
    name: 'apiary_overflow_dropped_total',
    help: 'Items a full bounded queue dropped (history events, archive rows, webhook alerts), stream connections refused at the limit, or sockets closed at --max-connections',
    labelNames: ['queue'] as const,
    registers,
  });
  const discoveries = new Counter({
    name: 'apiary_discovery_hives_total',
    help: 'Hives of the hives config by discovery result',
    labelNames: ['result'] as const,
    registers,
  });
  const interArrival = new Histogram({
    name: 'apiary_heartbeat_interarrival_seconds',
    help: 'Time between two heartbeats of one sender, on the queen clock',
    labelNames: ['kind'] as const,
    buckets: [0.5, 1, 2.5, 5, 10, 15, 20, 25, 30, 35, 40, 45, 60, 90, 120, 300],
    registers,
  });
  const sweeps = new Histogram({
    name: 'apiary_registry_sweep_seconds',
    help: "Event-loop time of one registry's periodic liveness sweep, its published changes included",
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers,
  });
  new Gauge({
    name: 'apiary_registry_entries',
    help: 'Registry entries by kind and liveness',
    labelNames: ['kind', 'liveness'] as const,
    registers,
    collect() {
      if (!sources) return;
      for (const kind of KINDS)
        for (const liveness of LIVENESS) this.set({ kind, liveness }, sources.count(kind, liveness));
    },
  });
  new Gauge({
    name: 'apiary_workers_available',
    help: 'Workers online and ready',
    registers,
    collect() {
      if (sources) this.set(sources.available());
    },
  });
  new Gauge({
    name: 'apiary_stream_subscribers',
    help: 'Open connections to the heartbeat stream',
    registers,
    collect() {
      if (sources) this.set(sources.streamClients());
    },
  });

  const accepted = { hive: heartbeats.labels('hive', 'accepted'), worker: heartbeats.labels('worker', 'accepted') };
  const arrivals = { hive: interArrival.labels('hive'), worker: interArrival.labels('worker') };

  return {
    contentType: registry.contentType,
    render: () => registry.metrics(),
    heartbeat: (kind, result) => {
      if (result === 'accepted') accepted[kind].inc();
      else heartbeats.inc({ kind, result });
    },
    transition: (kind, to, reason) => transitions.inc({ kind, to, reason }),
    interArrival: (kind, ms) => arrivals[kind].observe(ms / 1000),
    sweep: (ms) => sweeps.observe(ms / 1000),
    resync: (reason) => resyncs.inc({ reason }),
    streamDropped: (count) => dropped.inc(count),
    discovery: (result) => discoveries.inc({ result }),
    overflow: (queue, count) => overflows.inc({ queue }, count),
    watch: (next) => {
      sources = next;
    },
  };
}
