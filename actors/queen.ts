import type { Hono } from 'hono';
import type { LivenessSettings } from '../machines/liveness.js';
import type { RegistryClock } from '../machines/registry-clock.js';
import { advertiseUrl } from '../services/advertise-url.js';
import { createAlerts } from '../services/alerts/index.js';
import { defined } from '../services/defined.js';
import { type DiscoverySummary, runDiscovery } from '../services/discovery/run.js';
import type { QueenElection } from '../services/ha/election.js';
import { type FollowedElection, followElection } from '../services/ha/follow-election.js';
import { lateLeadership } from '../services/ha/leadership.js';
import { createDashboardApp } from '../services/http/dashboard/index.js';
import { listen } from '../services/http/listen.js';
import type { QueenApp } from '../services/http/queen-app.js';
import { DEFAULT_SOCKET_LIMITS } from '../services/http/socket-limits.js';
import { startInspector } from '../services/inspector.js';
import { createLogger, type Logger } from '../services/logger.js';
import { createQueenMetrics } from '../services/metrics.js';
import { type ParsedOptions, parseCommandLine, queenOptions } from '../services/options/index.js';
import { createQueenClock } from '../services/queen/queen-clock.js';
import type { QueenRegistry } from '../services/queen/registry.js';
import { type StartStep, startWithRollback } from '../services/role/rollback.js';
import { isEntryPoint, runCommand } from '../services/role/run-role.js';
import { runOnce } from '../services/run-once.js';
import { etcdSecurity } from '../services/store/etcd-security.js';
import type { WriteFence } from '../services/store/etcd-writer.js';
import { openSqliteStore } from '../services/store/sqlite-store.js';
import { type StateStore, StateStoreError, type StoredState } from '../services/store/state-store.js';
import type { Timers } from '../services/timers.js';
import { assembleQueen } from './assemble-queen.js';

/**
 * The queen process (docs/protocol.md: Roles, Queen HTTP API, The sender lifecycle, Security): receives heartbeats, keeps the hive and worker registries, discovers
 * the hives of its hives config, and streams the live view to the dashboard.
 */

export type QueenOptions = ParsedOptions<typeof queenOptions>;

export interface QueenOverrides {
  logger?: Logger;
  clock?: RegistryClock;
  timers?: Timers;
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
  app: QueenApp;
  /** Settles when the discovery run is over: its summary, or null when off or stopped first. */
  discovery: Promise<DiscoverySummary | null>;
  /** Stops accepting, ends the streams, closes the server; resolves when the port is free. */
  stop(): Promise<void>;
}

/** The senders' default backoff: an alert is tried at about 0, 2, 6, 14 and 30 s. */
const WEBHOOK_BACKOFF_MS = [0, 2_000, 4_000, 8_000, 16_000];
/** One webhook attempt, answer included. */
const WEBHOOK_TIMEOUT_MS = 5_000;

/** A stall this long is worth a warning; shorter ones (a GC pause) only a debug line. */
const STALL_WARN_MS = 1_000;

/** Wait before a new leader tries again to load a state it could not read. */
const LOAD_RETRY_MS = 1_000;

/** How long open connections may take to finish once the queen stops. */
const CLOSE_GRACE_MS = 250;

/** Starts the queen; `signal` (SIGTERM while starting) stops what has started. */
export function startQueen(
  options: QueenOptions,
  overrides: QueenOverrides = {},
  signal?: AbortSignal,
): Promise<QueenHandle> {
  const logger = overrides.logger ?? createLogger({ level: options.logLevel });
  return startWithRollback((step) => assembleAndListen(options, overrides, logger, step), { logger, signal });
}

async function assembleAndListen(
  options: QueenOptions,
  overrides: QueenOverrides,
  logger: Logger,
  step: StartStep,
): Promise<QueenHandle> {
  const settings: LivenessSettings = {
    suspectAfterMs: options.suspectAfter,
    offlineAfterMs: options.offlineAfter,
    forgetAfterMs: options.forgetAfter,
  };
  warnAboutTimings(options, logger);
  const late = options.etcd.length > 0 ? lateLeadership() : undefined;
  const security = etcdSecurity(options);
  // With several queens only the leader judges, from the moment it has loaded the state, and only it writes to etcd.
  let election: QueenElection | undefined;
  let followed: FollowedElection | undefined;
  // The election starts once the queen listens: until then this queen leads nothing, and writes nothing.
  const fence: WriteFence = { current: () => election?.fence.current() ?? null, lost: () => election?.fence.lost() };
  // Several queens keep one state in etcd, which the leader loads once elected; a lone queen restores its own now.
  // The per-minute metrics archive lives beside the state, in SQLite or in etcd.
  const sqlite = late
    ? undefined
    : await step(
        () => openSqliteStore(options.stateDir),
        (opened) => opened.close(),
      );
  const store: StateStore =
    sqlite ??
    (await step(
      async () =>
        (
          await import('../services/store/etcd-store.js')
        ).openEtcdStore({
          endpoints: options.etcd,
          security,
          prefix: options.etcdPrefix,
          fence,
        }),
      (opened) => opened.close(),
    ));
  const etcdMetrics = late
    ? await step(
        async () =>
          (await import('../services/store/etcd-metrics-store.js')).openEtcdMetricsStore({
            endpoints: options.etcd,
            security,
            prefix: options.etcdPrefix,
            fence,
          }),
        (opened) => opened.close(),
      )
    : undefined;
  const metricsStore = sqlite ?? etcdMetrics;
  const restored: StoredState = sqlite
    ? await sqlite.load().catch((error: unknown) => {
        throw new StateStoreError(`state database in ${options.stateDir}: it cannot be read (${String(error)})`);
      })
    : { hives: [], workers: [] };
  const inspector = await step(
    () => startInspector(options.inspect, logger),
    (started) => started.stop(),
  );
  const judging = (): boolean => late === undefined || followed?.judging() === true;
  const dashboard = overrides.dashboard === undefined ? createDashboardApp() : overrides.dashboard;
  const metrics = createQueenMetrics();
  const queen = await step(
    () =>
      assembleQueen({
        settings,
        streamIntervalMs: options.streamInterval,
        token: options.token,
        logger,
        inspect: inspector.inspect,
        batchHeartbeats: true,
        store,
        restored,
        ...(metricsStore ? { metricsStore } : {}),
        historyRetentionMs: options.historyRetention,
        capacity: {
          hives: options.maxHives,
          workers: options.maxWorkers,
          capabilityBytes: options.maxCapabilityBytes,
        },
        ...(options.webhook.length > 0
          ? {
              alerts: createAlerts({
                webhooks: options.webhook,
                token: options.token,
                debounceMs: options.webhookDebounce,
                backoffMs: WEBHOOK_BACKOFF_MS,
                timeoutMs: WEBHOOK_TIMEOUT_MS,
                logger,
                onDropped: (count) => metrics.overflow('webhook', count),
              }),
            }
          : {}),
        metrics,
        leadership: late?.leadership,
        judging,
        clock:
          overrides.clock ??
          createQueenClock({
            maxHoldMs: settings.offlineAfterMs,
            onStall: (ms) =>
              logger[ms >= STALL_WARN_MS ? 'warn' : 'debug']('queen stalled: liveness deadlines moved by the stall', {
                stalled_ms: Math.round(ms),
              }),
          }),
        ...defined({ queenEpoch: overrides.queenEpoch, timers: overrides.timers }),
        ...(dashboard ? { dashboard } : {}),
      }),
    (assembled) => assembled.close(),
  );
  const server = await listen(
    queen.app,
    options.host,
    options.port,
    { ...DEFAULT_SOCKET_LIMITS, idleTimeoutMs: options.idleTimeout, maxConnections: options.maxConnections },
    () => queen.metrics.overflow('connections', 1),
  );
  const url = advertiseUrl(options.host, server.port);
  const queenUrl = options.advertiseUrl ?? url;
  const state = store.describe();
  logger.info('queen listening', {
    url,
    advertise_url: queenUrl,
    queen_epoch: queen.queenEpoch,
    state_db: state.path,
    state_bytes: state.bytes,
    restored: { hives: restored.hives.length, workers: restored.workers.length },
  });
  if (server.maxConnections < options.maxConnections) {
    logger.warn('max-connections lowered to fit the open-files limit', {
      max_connections: options.maxConnections,
      effective: server.maxConnections,
    });
  }
  // Without --etcd nothing of etcd is loaded.
  if (late) {
    const { startQueenElection } = await import('../services/ha/election.js');
    election = startQueenElection({
      endpoints: options.etcd,
      security,
      prefix: options.etcdPrefix,
      ttlSeconds: Math.ceil(options.leaderTtl / 1_000),
      self: { url: queenUrl, epoch: queen.queenEpoch },
      logger,
      inspect: inspector.inspect,
    });
    followed = followElection({
      election,
      selfUrl: queenUrl,
      queen,
      store,
      logger,
      retryMs: LOAD_RETRY_MS,
    });
    late.attach(followed);
  }

  const stopDiscovery = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  // Only the queen that judges discovers: a follower's findings would be its own, never the cluster's.
  const discoverOnce = (repeat: boolean): Promise<DiscoverySummary | null> =>
    !judging()
      ? Promise.resolve(null)
      : runDiscovery({
          hivesConfig: options.hivesConfig,
          hivePort: options.hivePort,
          queenUrl,
          token: options.token,
          timeoutMs: options.discoveryTimeout,
          registry: queen.registry,
          metrics: queen.metrics,
          logger,
          signal: stopDiscovery.signal,
          repeat,
          ...(overrides.fetch ? { fetch: overrides.fetch } : {}),
        }).then(
          (summary) => (stopDiscovery.signal.aborted ? null : summary),
          (error: unknown) => {
            logger.error('discovery failed', { hives_config: options.hivesConfig, error });
            return null;
          },
        );
  // Every interval after the first run, the expected hives not online are probed again.
  const repeatDiscovery = (): void => {
    clearTimeout(timer);
    if (options.discoveryInterval === 0 || stopDiscovery.signal.aborted) return;
    timer = setTimeout(probeAgain, options.discoveryInterval);
  };
  let probing = false;
  let probeWanted = false;
  const probeAgain = (): void => {
    if (stopDiscovery.signal.aborted) return;
    if (probing) {
      probeWanted = true;
      return;
    }
    clearTimeout(timer);
    probing = true;
    void discoverOnce(true).then(() => {
      probing = false;
      if (!probeWanted) return repeatDiscovery();
      probeWanted = false;
      probeAgain();
    });
  };
  // A heartbeat only claims its address: a hive claiming a placeholder's has the address probed at once, and takes
  // the placeholder's place only if the hive there answers under its id.
  const claimsPlaceholder = (id: string): boolean => {
    const entry = queen.registry.hives.get(id);
    return entry?.seenAt != null && entry.hiveUrl !== null && queen.registry.hives.placeholderAt(entry.hiveUrl);
  };
  const stopClaims = options.discovery
    ? queen.registry.onChanges((kind, changes) => {
        const registered = (change: (typeof changes)[number]): boolean =>
          kind === 'hive' && change.type === 'liveness' && change.from === null && claimsPlaceholder(change.id);
        if (changes.some(registered)) probeAgain();
      })
    : () => {};
  const discovery = options.discovery
    ? new Promise<DiscoverySummary | null>((resolve) => {
        timer = setTimeout(
          () =>
            void discoverOnce(false).then((summary) => {
              resolve(summary);
              // Hives that registered while the first calls were out may claim the placeholders just made.
              const claimed = [...queen.registry.hives.entries()].some((entry) => claimsPlaceholder(entry.id));
              if (claimed) probeAgain();
              else repeatDiscovery();
            }),
          options.discoveryDelay,
        );
        stopDiscovery.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve(null);
        });
      })
    : Promise.resolve(null);

  const stop = async (): Promise<void> => {
    stopDiscovery.abort();
    stopClaims();
    // A leader resigns first, so that another queen takes over at once.
    await election?.stop();
    // Streams first: a server with an open stream never finishes closing.
    queen.stream.closeAll();
    await server.close(CLOSE_GRACE_MS);
    await queen.close();
    await etcdMetrics?.close();
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
    stop: runOnce(stop),
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

/** Exit deadline after a signal, should closing hang: room for the last state write on a loaded machine. */
const EXIT_DEADLINE_MS = 5_000;

if (isEntryPoint(import.meta.url)) {
  runCommand({
    role: 'queen',
    command: 'apiary-queen',
    summary: 'The Apiary queen: receives heartbeats, keeps the hive and worker registries, streams the live view.',
    parse: (cli) => parseCommandLine(queenOptions, cli, (options) => void etcdSecurity(options)),
    start: (options, logger, signal) => startQueen(options, { logger }, signal),
    exitDeadlineMs: () => EXIT_DEADLINE_MS,
  });
}
