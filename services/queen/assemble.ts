import { randomBytes } from 'node:crypto';
import type { Hono } from 'hono';
import type { InspectionEvent } from 'xstate';
import type { LivenessSettings } from '../../machines/liveness.js';
import type { RegistryClock } from '../../machines/registry-clock.js';
import type { Leadership } from '../ha/leadership.js';
import { createQueenApp } from '../http/queen-app.js';
import type { Logger } from '../logger.js';
import { createQueenMetrics, type QueenMetrics } from '../metrics.js';
import type { Clock } from '../sender.js';
import { createQueenStream, type QueenStream } from '../stream/queen-stream.js';
import { observeRegistry } from './observe.js';
import { createQueenRegistry, type QueenRegistry } from './registry.js';
import { timedTimers } from './timed-timers.js';

/**
 * Everything of a queen but its socket and discovery timer: registries, stream, metrics and the HTTP app, wired
 * together. Tests drive it through `app.request()` with their own clocks.
 */
export interface QueenParts {
  settings: LivenessSettings;
  streamIntervalMs: number;
  token?: string | undefined;
  logger: Logger;
  queenEpoch?: string;
  clock?: RegistryClock;
  timers?: Clock;
  inspect?: ((event: InspectionEvent) => void) | undefined;
  dashboard?: Hono;
  /** Apply the heartbeats of one event-loop turn as one registry event (see `QueenRegistryOptions.batch`). */
  batchHeartbeats?: boolean;
  /** Bound on the bytes queued for one stream client. */
  streamQueueBytes?: number;
  /** With several queens on etcd (`--etcd`). */
  leadership?: Leadership | undefined;
}

export interface AssembledQueen {
  app: Hono;
  registry: QueenRegistry;
  stream: QueenStream;
  metrics: QueenMetrics;
  queenEpoch: string;
  /** Ends the streams and stops the registries. */
  close(): void;
}

export function newQueenEpoch(): string {
  return `q-${randomBytes(6).toString('hex')}`;
}

export function assembleQueen(parts: QueenParts): AssembledQueen {
  const queenEpoch = parts.queenEpoch ?? newQueenEpoch();
  const metrics = createQueenMetrics();
  const registry = createQueenRegistry({
    settings: parts.settings,
    ...(parts.clock ? { clock: parts.clock } : {}),
    // The registries' only timers are their sweeps: timing them gives the queen's tick cost.
    timers: timedTimers((ms) => metrics.sweep(ms), parts.timers),
    inspect: parts.inspect,
    batch: parts.batchHeartbeats ?? false,
  });
  const unobserve = observeRegistry(registry, parts.logger, metrics);
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
    stream,
    metrics,
    queenEpoch,
    close() {
      stream.closeAll();
      unobserve();
      registry.stop();
    },
  };
}
