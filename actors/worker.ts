import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { createActor } from 'xstate';
import type { WorkerStatus } from '../contracts/heartbeat.js';
import { wireStatus, workerStatusMachine } from '../machines/worker-status.js';
import { advertiseUrl } from '../services/advertise-url.js';
import type { InferenceBackend } from '../services/backend/backend.js';
import { createDemoBackend } from '../services/backend/demo.js';
import { createUpstreamBackend } from '../services/backend/upstream.js';
import { listen } from '../services/http/listen.js';
import { bearerAuth } from '../services/http/middleware/auth.js';
import { createWorkerApp } from '../services/http/worker-app.js';
import { startInspector } from '../services/inspector.js';
import { createLogger, type Logger } from '../services/logger.js';
import { type ParsedOptions, parseCommandLine, workerOptions } from '../services/options.js';
import { freePort } from '../services/ports.js';
import { createQueenClient } from '../services/queen-client.js';
import { createSender } from '../services/sender.js';
import { createHealthPoller, type HealthPollerOptions } from '../services/worker/health-poller.js';
import { createWorkerPayload } from '../services/worker/heartbeat-payload.js';
import { watchHiveSecret } from '../services/worker/hive-secret.js';

/** A worker process (PROTOCOL §1, §4): an inference backend behind HTTP, reporting its status to the queen. */

export type WorkerOptions = ParsedOptions<typeof workerOptions>;

export interface WorkerOverrides {
  logger?: Logger;
  /** Health-poll periods and timeout (defaults: 1 s while not ready, 5 s while ready). */
  healthPoll?: Pick<HealthPollerOptions, 'startingIntervalMs' | 'readyIntervalMs' | 'timeoutMs'>;
  /** Its hive's identity; from the environment and the hive's messages by default. */
  hiveSecret?: () => string | undefined;
}

export interface WorkerHandle {
  url: string;
  workerId: string;
  status(): WorkerStatus;
  /** Status STOPPED, the final `stopped` heartbeat, then the server closes. */
  stop(): Promise<void>;
}

export async function startWorker(options: WorkerOptions, overrides: WorkerOverrides = {}): Promise<WorkerHandle> {
  const startedAt = Date.now();
  const baseLogger = overrides.logger ?? createLogger({ level: options.logLevel });
  const inspector = await startInspector(options.inspect, baseLogger);
  const inspect = inspector.inspect;

  const status = createActor(workerStatusMachine, {
    systemId: 'worker-status',
    input: {},
    ...(inspect ? { inspect } : {}),
  });
  const currentStatus = (): WorkerStatus => wireStatus(status.getSnapshot().value.status);
  status.start();

  const backend: InferenceBackend = options.upstream
    ? createUpstreamBackend({ url: options.upstream })
    : createDemoBackend({ model: options.model, latencyMs: options.demoLatency });

  // Port 0 asks the OS; the id and the heartbeats need the real port before the server is up.
  const port = options.port === 0 ? await freePort(options.host) : options.port;
  const workerId = options.workerId ?? `${options.hiveId}-${port}`;
  const logger = baseLogger.child({ worker_id: workerId });
  const workerApp = createWorkerApp({
    backend,
    identity: { workerId, model: options.model, device: options.device, upstream: options.upstream ?? null },
    status: currentStatus,
    startedAt,
    onRequestStart: () => status.send({ type: 'REQUEST_STARTED' }),
    onRequestEnd: () => status.send({ type: 'REQUEST_ENDED' }),
    middleware: [bearerAuth({ token: options.token })],
    logger,
  });
  const server = await listen(workerApp.app, options.host, port).catch(async (error: unknown) => {
    status.stop();
    await inspector.stop();
    throw error;
  });
  const url = advertiseUrl(options.host, server.port);

  const client = createQueenClient({ token: options.token, timeoutMs: options.requestTimeout });
  let registered = false;
  const sender = createSender({
    systemId: 'worker-lifecycle',
    settings: {
      heartbeatIntervalMs: options.heartbeatInterval,
      backoffMs: options.backoff,
      maxFailures: options.maxFailures,
      // A worker always knows its queen: while it is unreachable, keep trying at the heartbeat pace.
      probeIntervalMs: options.heartbeatInterval,
      jitter: options.jitter,
    },
    queenUrl: options.queenUrl[0] ?? null,
    queenUrls: options.queenUrl,
    buildPayload: createWorkerPayload({
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
      startedAt,
      hiveSecret: overrides.hiveSecret ?? watchHiveSecret(),
    }),
    post: (queenUrl, payload, signal) => client.sendWorkerHeartbeat(queenUrl, payload, signal),
    onSent: (_payload, outcome) => {
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

  const poller = createHealthPoller({
    check: (signal) => backend.health(signal),
    send: (event) => status.send(event),
    ...overrides.healthPoll,
  });
  poller.start();
  logger.info('worker listening', { url, backend: backend.kind, model: options.model, queen_url: options.queenUrl });

  let stopped: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    stopping = true;
    poller.stop();
    status.send({ type: 'STOP' });
    await sender.stop();
    await server.close(options.requestTimeout);
    status.stop();
    await inspector.stop();
  };

  return {
    url,
    workerId,
    status: currentStatus,
    stop: () => {
      stopped ??= stop();
      return stopped;
    },
  };
}

async function main(): Promise<void> {
  const options = parseCommandLine(workerOptions, {
    command: 'apiary-worker',
    summary: 'An Apiary worker: serves OpenAI-compatible inference and heartbeats its status to the queen.',
  });
  const worker = await startWorker(options);
  const shutdown = (): void => {
    void worker.stop().then(() => process.exit(0));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  // Spawned by a hive: stop (with the final heartbeat) when the hive is gone, however it died.
  if (process.channel) {
    process.channel.unref();
    process.once('disconnect', () => {
      // The hive held the other end of stderr: logs now go nowhere instead of killing the final heartbeat with EPIPE.
      process.stderr.on('error', () => {});
      shutdown();
    });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  main().catch((error: unknown) => {
    createLogger().error('worker failed to start', { error });
    process.exit(1);
  });
}
