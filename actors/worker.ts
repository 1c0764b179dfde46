import { randomUUID } from 'node:crypto';
import { createActor } from 'xstate';
import type { EngineSpec } from '../contracts/engine.js';
import type { WorkerStatus } from '../contracts/heartbeat.js';
import { wireStatus, workerStatusMachine } from '../machines/worker-status.js';
import { advertiseUrl } from '../services/advertise-url.js';
import type { InferenceBackend } from '../services/backend/backend.js';
import { createDemoBackend } from '../services/backend/demo.js';
import { createUpstreamBackend } from '../services/backend/upstream.js';
import { startWatchdog } from '../services/cluster/watchdog-client.js';
import { parseEngineOption, placeholderValues } from '../services/engine/engine-option.js';
import { createEngineSupervisor, type EngineSupervisor } from '../services/engine/supervisor.js';
import { createNumbering } from '../services/heartbeat-numbering.js';
import { listen } from '../services/http/listen.js';
import { createWorkerApp } from '../services/http/worker-app.js';
import { startInspector } from '../services/inspector.js';
import { createLogger, type Logger } from '../services/logger.js';
import { type ParsedOptions, parseCommandLine, workerOptions } from '../services/options/index.js';
import { freePort } from '../services/ports.js';
import { createQueenClient } from '../services/queen-client.js';
import { type StartStep, startWithRollback } from '../services/role/rollback.js';
import { isEntryPoint, runCommand } from '../services/role/run-role.js';
import { runOnce } from '../services/run-once.js';
import { createSender, senderSetup } from '../services/sender.js';
import { createBusySignal } from '../services/worker/busy-signal.js';
import { createHealthPoller, type HealthPollerOptions } from '../services/worker/health-poller.js';
import { createWorkerPayload } from '../services/worker/heartbeat-payload.js';
import { watchHiveSecret } from '../services/worker/hive-secret.js';
import { ENGINE_STOP_TIMEOUT_MS } from '../services/worker/stop-window.js';

/** A worker process (docs/protocol.md: Roles, The sender lifecycle): an inference backend behind HTTP, reporting its status to the queen. */

export type WorkerOptions = ParsedOptions<typeof workerOptions>;

export interface WorkerOverrides {
  logger?: Logger;
  /** Health-poll periods and timeout (defaults: 1 s while not ready, 5 s while ready). */
  healthPoll?: Pick<HealthPollerOptions, 'startingIntervalMs' | 'readyIntervalMs' | 'timeoutMs'>;
  /** Its hive's identity; by default from the environment, the hive's messages and, when refused, the hive's file. */
  hiveSecret?: () => string | undefined;
}

/** Health polls of a loading engine: `ready` follows its first 200 within this. */
const ENGINE_STARTING_POLL_MS = 200;
/** Health polls and serving numbers of a serving engine. */
const ENGINE_SERVING_POLL_MS = 1_000;

export interface WorkerHandle {
  url: string;
  workerId: string;
  status(): WorkerStatus;
  /** Status STOPPED, the final `stopped` heartbeat, then the server closes. */
  stop(): Promise<void>;
}

/** Starts the worker; `signal` (SIGTERM while starting) stops what has started. */
export function startWorker(
  options: WorkerOptions,
  overrides: WorkerOverrides = {},
  signal?: AbortSignal,
): Promise<WorkerHandle> {
  const logger = overrides.logger ?? createLogger({ level: options.logLevel });
  return startWithRollback((step) => startParts(options, overrides, logger, step), { logger, signal });
}

async function startParts(
  options: WorkerOptions,
  overrides: WorkerOverrides,
  baseLogger: Logger,
  step: StartStep,
): Promise<WorkerHandle> {
  const startedAt = Date.now();
  const engineSpec = options.engine === undefined ? null : parseEngineOption(options.engine);
  const inspector = await step(
    () => startInspector(options.inspect, baseLogger),
    (started) => started.stop(),
  );
  const inspect = inspector.inspect;

  const status = await step(
    () => createActor(workerStatusMachine, { systemId: 'worker-status', input: {}, ...(inspect ? { inspect } : {}) }),
    (actor) => actor.stop(),
  );
  const currentStatus = (): WorkerStatus => wireStatus(status.getSnapshot().value.status);
  status.start();

  // Port 0 asks the OS; the id and the heartbeats need the real port before the server is up.
  const port = options.port === 0 ? await freePort(options.host) : options.port;
  const workerId = options.workerId ?? `${options.hiveId}-${port}`;
  const logger = baseLogger.child({ worker_id: workerId });

  const engine =
    engineSpec === null
      ? null
      : await step(
          () => superviseEngine(engineSpec, options, logger, inspect),
          (supervisor) => supervisor.stop(),
        );
  const upstreamUrl = engine?.base ?? options.upstream;
  const backend: InferenceBackend = upstreamUrl
    ? createUpstreamBackend({
        url: upstreamUrl,
        requestTimeoutMs: options.upstreamTimeout,
        firstByteTimeoutMs: options.upstreamFirstByteTimeout,
      })
    : createDemoBackend({ model: options.model, latencyMs: options.demoLatency });
  const busy = createBusySignal({ send: (event) => status.send(event), inFlight: () => workerApp.inFlight() });
  const workerApp = createWorkerApp({
    backend,
    identity: { workerId, model: options.model, device: options.device, upstream: upstreamUrl ?? null },
    status: currentStatus,
    startedAt,
    onRequestStart: () => busy.started(),
    onRequestEnd: () => busy.ended(),
    token: options.token,
    logger,
  });
  const server = await listen(
    { fetch: (request, env) => workerApp.app.fetch(request, env), direct: workerApp.direct },
    options.host,
    port,
  );
  const url = advertiseUrl(options.host, server.port);

  const client = createQueenClient({ token: options.token, timeoutMs: options.requestTimeout });
  let registered = false;
  const hiveSecret = overrides.hiveSecret
    ? { current: overrides.hiveSecret, reload: () => undefined }
    : watchHiveSecret(options.hiveId, logger);
  const numbering = createNumbering(randomUUID);
  const buildPayload = createWorkerPayload({
    identity: {
      workerId,
      hiveId: options.hiveId,
      model: options.model,
      device: options.device,
      port: server.port,
      workerUrl: url,
    },
    status: currentStatus,
    requestsServed: workerApp.requestsServed,
    engine: () => engine?.report() ?? { engine: options.upstream ? 'openai' : 'demo' },
    startedAt,
    numbering,
    hiveSecret: hiveSecret.current,
  });
  const sender = createSender({
    systemId: 'worker-lifecycle',
    // A worker always knows its queen: while it is unreachable, keep trying at the heartbeat pace.
    ...senderSetup(options, options.heartbeatInterval),
    buildPayload,
    post: (queenUrl, payload, signal) => client.sendWorkerHeartbeat(queenUrl, payload, signal),
    onSent: (_payload, outcome) => {
      numbering.sent(outcome);
      if (!outcome.ok && outcome.error.kind === 'http' && outcome.error.status === 403) hiveSecret.reload();
      if (!outcome.ok || registered) return;
      registered = true;
      status.send({ type: 'REGISTERED' });
    },
    logger,
    inspect,
  });

  let stopping = false;
  status.on('report', () => {
    if (!stopping) sender.changed();
  });

  // An engine's own machine says when it is up; a plain upstream or the demo backend is polled.
  const poller = createHealthPoller({
    check: (signal) => backend.health(signal),
    send: (event) => status.send(event),
    ...overrides.healthPoll,
  });
  if (engine) {
    engine.on((event) => status.send({ type: event.type === 'up' ? 'BACKEND_HEALTHY' : 'BACKEND_UNHEALTHY' }));
    engine.start();
  } else poller.start();
  logger.info('worker listening', { url, backend: backend.kind, model: options.model, queen_url: options.queenUrl });

  const stop = async (): Promise<void> => {
    stopping = true;
    poller.stop();
    busy.stop();
    status.send({ type: 'STOP' });
    await Promise.all([sender.stop(), engine?.stop()]);
    await server.close(options.requestTimeout);
    status.stop();
    await inspector.stop();
  };

  return {
    url,
    workerId,
    status: currentStatus,
    stop: runOnce(stop),
  };
}

/** Starts nothing yet: the engine's supervisor, on a free loopback port, from the `--engine` spec. */
async function superviseEngine(
  spec: EngineSpec,
  options: WorkerOptions,
  logger: Logger,
  inspect: Parameters<typeof createEngineSupervisor>[0]['inspect'],
): Promise<EngineSupervisor> {
  const enginePort = await freePort('127.0.0.1');
  return createEngineSupervisor({
    spec,
    values: placeholderValues({
      modelPath: options.modelPath ?? options.model,
      modelId: options.model,
      enginePort,
      device: options.device,
    }),
    backoffMs: options.backoff,
    maxFailures: options.maxFailures,
    stopTimeoutMs: ENGINE_STOP_TIMEOUT_MS,
    health: {
      startingIntervalMs: ENGINE_STARTING_POLL_MS,
      servingIntervalMs: ENGINE_SERVING_POLL_MS,
      timeoutMs: options.requestTimeout,
      failuresToFail: 2,
    },
    statsIntervalMs: Math.min(ENGINE_SERVING_POLL_MS, options.heartbeatInterval),
    watchdog: startWatchdog(),
    logger: logger.child({ engine: spec.engine }),
    inspect,
  });
}

/** A last resort: stopping (the final heartbeat beside the engine's stop, then the server) has ample room on a loaded machine. */
function exitDeadlineMs(options: WorkerOptions): number {
  return ENGINE_STOP_TIMEOUT_MS + 2 * options.requestTimeout + 30_000;
}

if (isEntryPoint(import.meta.url)) {
  // A hive that spawned this worker may die (SIGKILL) and take stderr's reader with it: the worker serves on.
  process.stderr.on('error', () => {});
  runCommand({
    role: 'worker',
    command: 'apiary-worker',
    summary: 'An Apiary worker: serves OpenAI-compatible inference and heartbeats its status to the queen.',
    parse: (cli) => parseCommandLine(workerOptions, cli),
    start: (options, logger, signal) => startWorker(options, { logger }, signal),
    exitDeadlineMs,
  });
}
