import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Hono } from 'hono';
import type { ErrorBody } from '../contracts/heartbeat.js';
import { advertiseUrl } from '../services/advertise-url.js';
import { builtInWorkerTypes, createCapabilityTracker, scanDevices } from '../services/capabilities/index.js';
import { formatDuration } from '../services/duration.js';
import { createNumbering } from '../services/heartbeat-numbering.js';
import { createHivePayload } from '../services/hive/heartbeat-payload.js';
import { loadHiveIdentity } from '../services/hive/identity.js';
import { queenTrust } from '../services/hive/queen-trust.js';
import { createWorkerManager } from '../services/hive/worker-manager.js';
import { createWorkerRecordStore } from '../services/hive/worker-records.js';
import { createHiveApp } from '../services/http/hive-app.js';
import { listen } from '../services/http/listen.js';
import { startInspector } from '../services/inspector.js';
import { createLogger, type Logger } from '../services/logger.js';
import { createAmdGpuReader, createAppleGpuReader, createMonitor } from '../services/monitor/index.js';
import { hiveOptions, type ParsedOptions, parseCommandLine } from '../services/options/index.js';
import { createQueenClient } from '../services/queen-client.js';
import { type StartStep, startWithRollback } from '../services/role/rollback.js';
import { isEntryPoint, runCommand } from '../services/role/run-role.js';
import { runOnce } from '../services/run-once.js';
import { createSender, senderSetup } from '../services/sender.js';
import { workerStopWindowMs } from '../services/worker/stop-window.js';

/** A hive process (docs/protocol.md: Roles, The sender lifecycle): monitor data and capabilities to the queen, and the workers it spawns. */

export type HiveOptions = ParsedOptions<typeof hiveOptions>;

export interface HiveOverrides {
  logger?: Logger;
  /** The worker entry point to spawn; `worker.js` beside this file by default. */
  workerScript?: string;
  /** Receives each log line of a spawned worker; the hive's stderr by default. */
  forwardWorkerLog?: (line: string) => void;
  /** The `nvidia-smi` binary the monitor runs. */
  nvidiaSmi?: string;
}

export interface HiveHandle {
  /** Where this hive listens. */
  url: string;
  hiveId: string;
  /** What its heartbeats are numbered under now: new with each process, and after a 409 (see `HeartbeatNumbering`). */
  readonly bootId: string;
  /** The lifecycle's top-level state. */
  lifecycle(): string;
  /** Stops the workers (their final heartbeats go out), then the hive's own `stopping` heartbeat. */
  stop(): Promise<void>;
}

/** Monitor data is read in the background at most this far apart, whatever the heartbeat interval. */
const MONITOR_PERIOD_MS = 5_000;
/** A metrics source slower than this keeps its last reading (CPU load alone needs half a second at first). */
const MONITOR_SOURCE_TIMEOUT_MS = 2_000;

/** Starts the hive; `signal` (SIGTERM while starting) stops what has started. */
export function startHive(
  options: HiveOptions,
  overrides: HiveOverrides = {},
  signal?: AbortSignal,
): Promise<HiveHandle> {
  const logger = (overrides.logger ?? createLogger({ level: options.logLevel })).child({ hive_id: options.hiveId });
  return startWithRollback((step) => startParts(options, overrides, logger, step), { logger, signal });
}

async function startParts(
  options: HiveOptions,
  overrides: HiveOverrides,
  logger: Logger,
  step: StartStep,
): Promise<HiveHandle> {
  const numbering = createNumbering(randomUUID);

  // Bound before anything talks to a queen: a hive that cannot listen must not register.
  let app: Hono | undefined;
  const server = await step(
    () => listen({ fetch: (request) => app?.fetch(request) ?? notYet() }, options.host, options.port),
    (listening) => listening.close(),
  );
  const url = advertiseUrl(options.host, server.port);
  const hiveUrl = options.advertiseUrl ?? url;

  const inspector = await step(
    () => startInspector(options.inspect, logger),
    (started) => started.stop(),
  );
  const monitor = await step(
    async () => {
      const created = createMonitor({
        periodMs: Math.min(options.heartbeatInterval, MONITOR_PERIOD_MS),
        sourceTimeoutMs: MONITOR_SOURCE_TIMEOUT_MS,
        ...(overrides.nvidiaSmi ? { nvidiaSmi: overrides.nvidiaSmi } : {}),
        otherGpus:
          process.platform === 'darwin'
            ? createAppleGpuReader({ timeoutMs: MONITOR_SOURCE_TIMEOUT_MS })
            : createAmdGpuReader({ timeoutMs: MONITOR_SOURCE_TIMEOUT_MS }),
        logger,
      });
      await created.start();
      return created;
    },
    (started) => started.stop(),
  );
  const gpus = monitor.gpus();
  const tracker = await step(
    async () => {
      const created = createCapabilityTracker({
        modelsDir: options.modelsDir,
        workersDir: options.workersDir,
        devices: scanDevices(gpus, monitor.cpuName()),
        builtInWorkers: builtInWorkerTypes(monitor.nvidia()),
        settleMs: options.settle,
        logger,
      });
      await created.start().catch((error: unknown) => {
        created.stop();
        throw error;
      });
      return created;
    },
    (started) => started.stop(),
  );

  const client = createQueenClient({ token: options.token, timeoutMs: options.requestTimeout });
  const identity = loadHiveIdentity(options.stateDir, options.hiveId, logger);
  const payload = createHivePayload({
    hiveId: options.hiveId,
    numbering,
    hiveUrl,
    monitor,
    capabilities: tracker,
    identity,
  });
  const sender = createSender({
    systemId: 'hive-lifecycle',
    ...senderSetup(options, options.probeInterval),
    buildPayload: payload.build,
    post: (queenUrl, body, signal) => client.sendHiveHeartbeat(queenUrl, body, signal),
    onSent: payload.sent,
    logger,
    inspect: inspector.inspect,
  });
  const unsubscribe = tracker.onChange(() => sender.changed());
  const unwatchGpus = monitor.onGpusChanged(() => tracker.setDevices(scanDevices(monitor.gpus(), monitor.cpuName())));

  const workers = createWorkerManager({
    hiveId: options.hiveId,
    host: options.host,
    workerScript: overrides.workerScript ?? fileURLToPath(new URL('./worker.js', import.meta.url)),
    workerArgs: [
      ...['--heartbeat-interval', formatDuration(options.heartbeatInterval)],
      ...['--backoff', options.backoff.map(formatDuration).join(',')],
      ...['--max-failures', String(options.maxFailures), '--request-timeout', formatDuration(options.requestTimeout)],
      ...['--jitter', String(options.jitter), '--log-level', options.logLevel],
      ...(options.insecure ? ['--insecure'] : []),
    ],
    token: options.token,
    identity,
    queenUrl: () => sender.queenUrl(),
    queenUrls: options.queenUrl,
    capabilities: () => tracker.current(),
    engine: (workerType) => tracker.engine(workerType),
    modelPath: (modelId) => tracker.modelPath(modelId),
    maxWorkers: options.maxWorkers,
    // With --state-dir none nothing is recorded: a crashed hive's workers are not adopted again.
    ...(options.stateDir === null
      ? {}
      : { records: createWorkerRecordStore(options.stateDir, options.hiveId, logger) }),
    report: (queenUrl, heartbeat) => client.sendWorkerHeartbeat(queenUrl, heartbeat),
    // A worker stops its engine before its final heartbeat: killed sooner, a slow engine would be cut short.
    stopTimeoutMs: workerStopWindowMs(options.requestTimeout),
    logger,
    ...(overrides.forwardWorkerLog ? { forward: overrides.forwardWorkerLog } : {}),
  });

  // Workers a previous run of this hive left serving (it was killed) are this run's again.
  await workers.adopt();

  app = createHiveApp({
    hiveId: options.hiveId,
    token: options.token,
    lifecycle: sender,
    trust: queenTrust(identity, options.queenUrl),
    capabilities: () => tracker.current(),
    monitor: () => monitor.latest(),
    workers,
    logger,
  });
  logger.info('hive listening', {
    url,
    hive_url: hiveUrl,
    boot_id: numbering.bootId(),
    queen_url: options.queenUrl.length > 0 ? options.queenUrl : null,
    state_dir: options.stateDir,
    identity: identity.secret() === undefined ? 'none yet' : 'kept',
  });

  const stop = async (): Promise<void> => {
    await workers.stopAll();
    unwatchGpus();
    unsubscribe();
    await sender.stop();
    await server.close(options.requestTimeout);
    tracker.stop();
    monitor.stop();
    await inspector.stop();
  };
  return {
    url,
    hiveId: options.hiveId,
    get bootId() {
      return numbering.bootId();
    },
    lifecycle: () => sender.state(),
    stop: runOnce(stop),
  };
}

function notYet(): Response {
  return Response.json({ error: 'The hive is starting.' } satisfies ErrorBody, {
    status: 503,
    headers: { 'retry-after': '1' },
  });
}

/** A last resort: stopping (the workers, then the final heartbeat and the server) has ample room on a loaded machine. */
function exitDeadlineMs(options: HiveOptions): number {
  return workerStopWindowMs(options.requestTimeout) + 2 * options.requestTimeout + 30_000;
}

if (isEntryPoint(import.meta.url)) {
  runCommand({
    role: 'hive',
    command: 'apiary-hive',
    summary: 'An Apiary hive: reports this machine and its models to the queen, and spawns workers.',
    parse: (cli) => parseCommandLine(hiveOptions, cli),
    start: (options, logger, signal) => startHive(options, { logger }, signal),
    exitDeadlineMs,
  });
}
