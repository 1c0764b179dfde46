import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import readline from 'node:readline';
import type { Capabilities } from '../../contracts/capabilities.js';
import type { WorkerHeartbeat } from '../../contracts/heartbeat.js';
import type { HiveWorker, SpawnWorkerRequest, SpawnWorkerResponse } from '../../contracts/hive-api.js';
import type { SendOutcome } from '../../machines/send-outcome.js';
import { advertiseUrl } from '../advertise-url.js';
import type { Logger } from '../logger.js';
import { freePort, portAvailable } from '../ports.js';
import { type HeartbeatIdentity, withSecret, workerHeartbeat } from '../worker/heartbeat-payload.js';
import { HIVE_SECRET_ENV, type HiveSecretMessage } from '../worker/hive-secret.js';
import type { HiveIdentity } from './identity.js';

/**
 * The hive's spawned workers: starts `worker.js` children, lists and stops them, forwards their log lines, and
 * reports a child that died without its final heartbeat to the queen on its behalf (`status: "error"`).
 */

export interface WorkerManagerOptions {
  hiveId: string;
  /** Address the workers bind. */
  host: string;
  /** The worker entry point, run with this Node binary. */
  workerScript: string;
  /** Flags given to every worker after the per-worker ones (durations, log level). */
  workerArgs: readonly string[];
  /** Handed to the children in their environment, never on the command line. */
  token?: string | undefined;
  /** The hive's queen right now, or null while none is known. */
  queenUrl: () => string | null;
  capabilities: () => Capabilities;
  /** Posts a worker heartbeat to a queen. */
  report: (queenUrl: string, heartbeat: WorkerHeartbeat) => Promise<SendOutcome>;
  /** How long a stopped worker may take for its final heartbeat before it is killed. */
  stopTimeoutMs: number;
  logger: Logger;
  /** Receives each stderr line of a child (they are JSON logs already); the hive's stderr by default. */
  forward?: (line: string) => void;
  /** The environment the children inherit, minus every `APIARY_` variable; `process.env` by default. */
  env?: NodeJS.ProcessEnv;
  /**
   * The hive's identity, handed to each child in its environment and, when it arrives or changes, over the IPC
   * channel (a worker spawned before the hive's first ack learns it that way).
   */
  identity?: Pick<HiveIdentity, 'secret' | 'onChange'>;
}

export type SpawnErrorKind =
  | 'unknown-model'
  | 'unknown-device'
  | 'unknown-worker-type'
  | 'port-taken'
  | 'no-queen'
  | 'stopping'
  | 'spawn-failed';

export type SpawnResult =
  | { ok: true; worker: SpawnWorkerResponse }
  | { ok: false; error: { kind: SpawnErrorKind; message: string } };

export interface WorkerManager {
  spawn(request: SpawnWorkerRequest): Promise<SpawnResult>;
  list(): HiveWorker[];
  /** SIGTERM, then SIGKILL after the stop timeout; false for an unknown id. */
  stop(workerId: string): Promise<boolean>;
  /** Refuses new workers, stops all of them, and waits for the reports of those that died. */
  stopAll(): Promise<void>;
}

interface Managed {
  info: HiveWorker;
  identity: HeartbeatIdentity;
  queenUrl: string;
  child: ChildProcess;
  startedAt: number;
  stopRequested: boolean;
  exited: Promise<void>;
}

/** A worker to start: the request resolved against the hive's capabilities. */
interface Plan {
  model: string;
  device: string;
  workerType: string;
  queenUrl: string;
}

const fail = (kind: SpawnErrorKind, message: string): SpawnResult => ({ ok: false, error: { kind, message } });

export function createWorkerManager(options: WorkerManagerOptions): WorkerManager {
  const { logger } = options;
  const forward = options.forward ?? ((line: string) => process.stderr.write(`${line}\n`));
  const workers = new Map<string, Managed>();
  const reservedPorts = new Set<number>();
  /** Death reports still being posted: the hive's own stop waits for them. */
  const reports = new Set<Promise<void>>();
  let closing = false;

  const childEnv = (): NodeJS.ProcessEnv => {
    const inherited = Object.entries(options.env ?? process.env).filter(([name]) => !name.startsWith('APIARY_'));
    const env: NodeJS.ProcessEnv = Object.fromEntries(inherited);
    if (options.token) env.APIARY_TOKEN = options.token;
    const secret = options.identity?.secret();
    if (secret !== undefined) env[HIVE_SECRET_ENV] = secret;
    return env;
  };
  options.identity?.onChange((secret) => {
    for (const worker of workers.values()) {
      if (worker.child.connected) worker.child.send({ hive_secret: secret } satisfies HiveSecretMessage);
    }
  });

  const portInUse = (port: number): boolean =>
    reservedPorts.has(port) || [...workers.values()].some((w) => w.info.port === port);

  const pickPort = async (requested: number | undefined): Promise<number | null> => {
    if (requested !== undefined) {
      return !portInUse(requested) && (await portAvailable(requested, options.host)) ? requested : null;
    }
    for (;;) {
      const port = await freePort(options.host);
      if (!portInUse(port)) return port;
    }
  };

  const plan = (request: SpawnWorkerRequest): Plan | SpawnResult => {
    const capabilities = options.capabilities();
    if (!capabilities.models.some((m) => m.model_id === request.model)) {
      return fail('unknown-model', `Model ${JSON.stringify(request.model)} is not among this hive's models.`);
    }
    const gpu = capabilities.devices.find((d) => d.device_type === 'gpu');
    const deviceId = request.device ?? gpu?.id ?? 'CPU-0';
    const device = capabilities.devices.find((d) => d.id === deviceId);
    if (!device) return fail('unknown-device', `Device ${JSON.stringify(deviceId)} is not on this hive.`);
    const hasType = (type: string): boolean => capabilities.workers.some((w) => w.worker_type === type);
    const workerType = request.worker_type ?? (device.device_type === 'gpu' && hasType('cuda') ? 'cuda' : 'cpu');
    if (!hasType(workerType)) {
      return fail('unknown-worker-type', `Worker type ${JSON.stringify(workerType)} is not on this hive.`);
    }
    const queenUrl = options.queenUrl();
    if (queenUrl === null) {
      return fail('no-queen', 'No queen is known yet: start the hive with --queen-url, or let a queen discover it.');
    }
    return { model: request.model, device: deviceId, workerType, queenUrl };
  };

  const reportDeath = async (worker: Managed, code: number | null, signal: NodeJS.Signals | null): Promise<void> => {
    const heartbeat = workerHeartbeat(worker.identity, {
      status: 'error',
      // The dead child's own count died with it; a report must still carry one.
      requestsServed: 0,
      uptimeMs: Date.now() - worker.startedAt,
      now: new Date(),
    });
    const outcome = await options.report(worker.queenUrl, withSecret(heartbeat, options.identity?.secret()));
    const fields = { worker_id: worker.info.worker_id, exit_code: code, signal, queen_url: worker.queenUrl };
    if (outcome.ok) logger.warn('worker died; reported to the queen', fields);
    else logger.warn('worker died; reporting it failed', { ...fields, failure: outcome.failure });
  };

  const launch = async (planned: Plan, port: number): Promise<SpawnResult> => {
    const workerId = `${options.hiveId}-${port}`;
    const args = [
      options.workerScript,
      ...['--queen-url', planned.queenUrl, '--hive-id', options.hiveId, '--worker-id', workerId],
      ...['--host', options.host, '--port', String(port), '--model', planned.model, '--device', planned.device],
      ...options.workerArgs,
    ];
    // The IPC channel is how a worker learns that its hive died, even by SIGKILL: it closes with the hive.
    const child = spawn(process.execPath, args, { env: childEnv(), stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    child.channel?.unref();
    const exited = once(child, 'exit').then(
      () => undefined,
      () => undefined,
    );
    const started = await new Promise<Error | null>((resolve) => {
      child.once('spawn', () => resolve(null));
      child.once('error', (error) => resolve(error));
    });
    if (started !== null || child.pid === undefined) {
      return fail('spawn-failed', `The worker could not be started: ${started?.message ?? 'no process id'}.`);
    }
    child.on('error', (error) => logger.warn('worker process error', { worker_id: workerId, error }));
    const worker: Managed = {
      info: {
        worker_id: workerId,
        port,
        pid: child.pid,
        model: planned.model,
        device: planned.device,
        worker_type: planned.workerType,
      },
      identity: {
        workerId,
        hiveId: options.hiveId,
        model: planned.model,
        device: planned.device,
        port,
        workerUrl: advertiseUrl(options.host, port),
      },
      queenUrl: planned.queenUrl,
      child,
      startedAt: Date.now(),
      stopRequested: false,
      exited,
    };
    workers.set(workerId, worker);
    if (child.stderr) readline.createInterface({ input: child.stderr }).on('line', forward);
    child.once('exit', (code, signal) => {
      workers.delete(workerId);
      if (worker.stopRequested && code === 0) logger.info('worker stopped', { worker_id: workerId });
      else {
        const report = reportDeath(worker, code, signal)
          .catch((error: unknown) => logger.warn('reporting a dead worker failed', { worker_id: workerId, error }))
          .finally(() => reports.delete(report));
        reports.add(report);
      }
    });
    logger.info('worker spawned', { worker_id: workerId, pid: child.pid, port, model: planned.model });
    return { ok: true, worker: { worker_id: workerId, port, pid: child.pid } };
  };

  const stopOne = async (worker: Managed): Promise<void> => {
    worker.stopRequested = true;
    worker.child.kill('SIGTERM');
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<'expired'>((resolve) => {
      timer = setTimeout(() => resolve('expired'), options.stopTimeoutMs);
    });
    const result = await Promise.race([worker.exited, expired]);
    clearTimeout(timer);
    if (result === 'expired') {
      logger.warn('worker did not stop in time; killing it', { worker_id: worker.info.worker_id });
      worker.child.kill('SIGKILL');
      await worker.exited;
    }
  };

  return {
    async spawn(request) {
      if (closing) return fail('stopping', 'The hive is stopping.');
      const planned = plan(request);
      if ('ok' in planned) return planned;
      const port = await pickPort(request.port);
      if (port === null) return fail('port-taken', `Port ${request.port} is already in use.`);
      if (closing) return fail('stopping', 'The hive is stopping.');
      reservedPorts.add(port);
      try {
        return await launch(planned, port);
      } finally {
        reservedPorts.delete(port);
      }
    },
    list: () => [...workers.values()].map((w) => ({ ...w.info })),
    async stop(workerId) {
      const worker = workers.get(workerId);
      if (!worker) return false;
      await stopOne(worker);
      return true;
    },
    async stopAll() {
      closing = true;
      await Promise.all([...workers.values()].map(stopOne));
      await Promise.all(reports);
    },
  };
}
