import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Hono } from 'hono';
import type { LivenessSettings } from '../machines/liveness.js';
import type { RegistryClock } from '../machines/registry-clock.js';
import { advertiseUrl } from '../services/advertise-url.js';
import { type DiscoverySummary, runDiscovery } from '../services/discovery/run.js';
import type { QueenElection } from '../services/ha/election.js';
import { lateLeadership } from '../services/ha/leadership.js';
import { createDashboardApp } from '../services/http/dashboard/index.js';
import { listen } from '../services/http/listen.js';
import { startInspector } from '../services/inspector.js';
import { createLogger, type Logger } from '../services/logger.js';
import { type ParsedOptions, parseCommandLine, queenOptions } from '../services/options.js';
import { type AssembledQueen, assembleQueen } from '../services/queen/assemble.js';
import type { QueenRegistry } from '../services/queen/registry.js';
import type { Clock } from '../services/sender.js';

/**
 * The queen process (PROTOCOL §1, §2, §4–§6): receives heartbeats, keeps the hive and worker registries, discovers
 * the hives of its hives config, and streams the live view to the dashboard.
 */

export type QueenOptions = ParsedOptions<typeof queenOptions>;

export interface QueenOverrides {
  logger?: Logger;
  clock?: RegistryClock;
  timers?: Clock;
  queenEpoch?: string;
  fetch?: typeof fetch;
  /** The dashboard routes; the built page by default, null for none. */
  dashboard?: Hono | null;
}

export interface QueenHandle {
  /** Where the queen listens, as others reach it. */
  url: string;
  port: number;
  /** The queen address sent to hives. */
  advertiseUrl: string;
  queenEpoch: string;
  registry: QueenRegistry;
  app: Hono;
  /** Settles when the discovery run is over: its summary, or null when off or stopped first. */
  discovery: Promise<DiscoverySummary | null>;
  /** Stops accepting, ends the streams, closes the server; resolves when the port is free. */
  stop(): Promise<void>;
}

/** How long open connections may take to finish once the queen stops. */
const CLOSE_GRACE_MS = 250;

export async function startQueen(options: QueenOptions, overrides: QueenOverrides = {}): Promise<QueenHandle> {
  const logger = overrides.logger ?? createLogger({ level: options.logLevel });
  const settings: LivenessSettings = {
    suspectAfterMs: options.suspectAfter,
    offlineAfterMs: options.offlineAfter,
    forgetAfterMs: options.forgetAfter,
  };
  warnAboutTimings(options, logger);
  const inspector = await startInspector(options.inspect, logger);
  const late = options.etcd ? lateLeadership() : undefined;
  let queen: AssembledQueen;
  try {
    const dashboard = overrides.dashboard === undefined ? createDashboardApp() : overrides.dashboard;
    queen = assembleQueen({
      settings,
      streamIntervalMs: options.streamInterval,
      token: options.token,
      logger,
      inspect: inspector.inspect,
      batchHeartbeats: true,
      leadership: late?.leadership,
      ...(overrides.queenEpoch ? { queenEpoch: overrides.queenEpoch } : {}),
      ...(overrides.clock ? { clock: overrides.clock } : {}),
      ...(overrides.timers ? { timers: overrides.timers } : {}),
      ...(dashboard ? { dashboard } : {}),
    });
  } catch (error) {
    await inspector.stop();
    throw error;
  }

  let server: Awaited<ReturnType<typeof listen>>;
  try {
    server = await listen(queen.app, options.host, options.port);
  } catch (error) {
    queen.close();
    await inspector.stop();
    throw error;
  }
  const url = advertiseUrl(options.host, server.port);
  const queenUrl = options.advertiseUrl ?? url;
  logger.info('queen listening', { url, advertise_url: queenUrl, queen_epoch: queen.queenEpoch });
  // Without --etcd nothing of etcd is loaded.
  let election: QueenElection | undefined;
  if (options.etcd && late) {
    const { startQueenElection } = await import('../services/ha/election.js');
    election = startQueenElection({
      endpoints: options.etcd,
      prefix: options.etcdPrefix,
      ttlSeconds: Math.ceil(options.leaderTtl / 1_000),
      self: { url: queenUrl, epoch: queen.queenEpoch },
      logger,
      inspect: inspector.inspect,
    });
    late.attach(election);
  }

  const stopDiscovery = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const discovery = options.discovery
    ? new Promise<DiscoverySummary | null>((resolve) => {
        const run = (): void => {
          runDiscovery({
            hivesConfig: options.hivesConfig,
            hivePort: options.hivePort,
            queenUrl,
            token: options.token,
            timeoutMs: options.discoveryTimeout,
            registry: queen.registry,
            metrics: queen.metrics,
            logger,
            signal: stopDiscovery.signal,
            ...(overrides.fetch ? { fetch: overrides.fetch } : {}),
          }).then(
            (summary) => resolve(stopDiscovery.signal.aborted ? null : summary),
            (error: unknown) => {
              logger.error('discovery failed', { hives_config: options.hivesConfig, error });
              resolve(null);
            },
          );
        };
        timer = setTimeout(run, options.discoveryDelay);
        stopDiscovery.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve(null);
        });
      })
    : Promise.resolve(null);

  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    stopDiscovery.abort();
    // A leader resigns first, so that another queen takes over at once.
    await election?.stop();
    // Streams first: a server with an open stream never finishes closing.
    queen.stream.closeAll();
    await server.close(CLOSE_GRACE_MS);
    queen.close();
    await inspector.stop();
  };

  return {
    url,
    port: server.port,
    advertiseUrl: queenUrl,
    queenEpoch: queen.queenEpoch,
    registry: queen.registry,
    app: queen.app,
    discovery,
    stop: () => {
      stopping ??= stop();
      return stopping;
    },
  };
}

function warnAboutTimings(options: QueenOptions, logger: Logger): void {
  if (options.offlineAfter < options.suspectAfter || options.forgetAfter < options.offlineAfter) {
    logger.warn('liveness thresholds out of order: offline-after is raised to suspect-after, forget-after to it', {
      suspect_after_ms: options.suspectAfter,
      offline_after_ms: options.offlineAfter,
      forget_after_ms: options.forgetAfter,
    });
  }
  if (options.suspectAfter <= options.heartbeatInterval) {
    logger.warn('suspect-after is not longer than the heartbeat interval: healthy senders will flap to suspect', {
      suspect_after_ms: options.suspectAfter,
      heartbeat_interval_ms: options.heartbeatInterval,
    });
  }
}

/** Exit deadline after a signal, should closing hang. */
const EXIT_DEADLINE_MS = 900;

async function main(): Promise<void> {
  const options = parseCommandLine(queenOptions, {
    command: 'apiary-queen',
    summary: 'The Apiary queen: receives heartbeats, keeps the hive and worker registries, streams the live view.',
  });
  const logger = createLogger({ level: options.logLevel });
  const queen = await startQueen(options, { logger });
  const shutdown = (signal: string): void => {
    logger.info('queen stopping', { signal });
    setTimeout(() => process.exit(0), EXIT_DEADLINE_MS).unref();
    void queen.stop().then(() => process.exit(0));
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  main().catch((error: unknown) => {
    createLogger().error('queen failed to start', { error });
    process.exit(1);
  });
}
