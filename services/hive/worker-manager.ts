import { spawn } from 'node:child_process';
import readline from 'node:readline';
import type { Capabilities } from '../../contracts/capabilities.js';
import { type EngineSpec, optionLikePlaceholders } from '../../contracts/engine.js';
import type { WorkerHeartbeat } from '../../contracts/heartbeat.js';
import {
  type HiveWorker,
  type SpawnWorkerRequest,
  type SpawnWorkerResponse,
  WorkerHealth,
} from '../../contracts/hive-api.js';
import type { WorkerRecord } from '../../contracts/worker-records.js';
import { fail, ok, type Result } from '../../machines/result.js';
import type { SendOutcome } from '../../machines/send-outcome.js';
import { advertiseUrl } from '../advertise-url.js';
import { placeholderValues } from '../engine/engine-option.js';
import type { Logger } from '../logger.js';
import { freePort, portAvailable } from '../ports.js';
import { type HeartbeatIdentity, withSecret, workerHeartbeat } from '../worker/heartbeat-payload.js';
import { HIVE_IDENTITY_FILE_ENV, HIVE_SECRET_ENV, type HiveSecretMessage } from '../worker/hive-secret.js';
import type { HiveIdentity } from './identity.js';
import type { WorkerRecordStore } from './worker-records.js';

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
  /** The hive's other queens (`--queen-url` with several), handed on to its workers after the current one. */
  queenUrls?: readonly string[];
  capabilities: () => Capabilities;
  /** The engine a worker type starts (null: the built-in demo backend). */
  engine: (workerType: string) => EngineSpec | null;
  /** A model's file, for the engine's `{model_path}`. */
  modelPath: (modelId: string) => string | null;
  /** More running workers than this are refused (429). */
  maxWorkers: number;
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
  identity?: Pick<HiveIdentity, 'secret' | 'onChange' | 'file'>;
  /** Where the running workers are recorded, for the next start of this hive to adopt them. */
  records?: WorkerRecordStore;
  /** How often an adopted worker (not this process's child) is checked for life. */
  adoptedPollMs?: number;
}

export type SpawnErrorKind =
  | 'unknown-model'
  | 'unknown-device'
  | 'unknown-worker-type'
  | 'option-like-value'
  | 'port-taken'
  | 'no-queen'
  | 'too-many'
  | 'stopping'
  | 'spawn-failed';

export type SpawnResult = Result<SpawnWorkerResponse, { kind: SpawnErrorKind; message: string }>;

export interface WorkerManager {
  spawn(request: SpawnWorkerRequest): Promise<SpawnResult>;
  list(): HiveWorker[];
  /** SIGTERM, then SIGKILL after the stop timeout; false for an unknown id. */
  stop(workerId: string): Promise<boolean>;
  /** Refuses new workers, stops all of them, and waits for the reports of those that died. */
  stopAll(): Promise<void>;
  /** Takes over the recorded workers still alive and answering as themselves; resolves to their ids. */
  adopt(): Promise<string[]>;
}

/** A worker's process, whether this hive spawned it or adopted it from a previous run. */
interface WorkerProcess {
  kill(signal: NodeJS.Signals): void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** A new hive secret for a child of this hive; an adopted worker keeps the one it was started with. */
  tell?: (message: HiveSecretMessage) => void;
}

interface Managed {
  info: HiveWorker;
  identity: HeartbeatIdentity;
  queenUrl: string;
  process: WorkerProcess;
  startedAt: number;
  stopRequested: boolean;
}

/** A worker to start: the request resolved against the hive's capabilities. */
interface Plan {
  model: string;
  device: string;
  workerType: string;
  queenUrl: string;
  engine: EngineSpec | null;
  modelPath: string | null;
}

const refuse = (kind: SpawnErrorKind, message: string): SpawnResult => fail({ kind, message });

/**
 * The queens a worker is given: the hive's current one, then the hive's list when it was given several (a worker
 * follows a redirect only within such a list, as the hive does); a hive given one or none hands on that one (or its
 * current queen), so that its worker follows any redirect as the hive does.
 */
export function workerQueens(current: string, given: readonly string[]): string[] {
  return given.length > 1 ? [...new Set([current, ...given])] : [given[0] ?? current];
}

export function createWorkerManager(options: WorkerManagerOptions): WorkerManager {
  const { logger } = options;
  const forward = options.forward ?? ((line: string) => process.stderr.write(`${line}\n`));
  const workers = new Map<string, Managed>();
  const reservedPorts = new Set<number>();
  /** Spawns between their cap check and their worker's registration. */
  let starting = 0;
  /** Death reports still being posted: the hive's own stop waits for them. */
  const reports = new Set<Promise<void>>();
  let closing = false;

  const childEnv = (engine: EngineSpec | null): NodeJS.ProcessEnv => {
    const inherited = Object.entries(options.env ?? process.env).filter(([name]) => !name.startsWith('APIARY_'));
    const env: NodeJS.ProcessEnv = Object.fromEntries(inherited);
    if (options.token) env.APIARY_TOKEN = options.token;
    const secret = options.identity?.secret();
    if (secret !== undefined) env[HIVE_SECRET_ENV] = secret;
    // Read again by a worker its queen refuses: one adopted by a restarted hive has no IPC channel to hear a new one.
    const file = options.identity?.file;
    if (file) env[HIVE_IDENTITY_FILE_ENV] = file;
    // The engine's spec may carry secrets in its env: never on the command line.
    if (engine) env.APIARY_ENGINE = JSON.stringify(engine);
    return env;
  };
  options.identity?.onChange((secret) => {
    for (const worker of workers.values()) worker.process.tell?.({ hive_secret: secret });
  });

  const portInUse = (port: number): boolean =>
    reservedPorts.has(port) || [...workers.values()].some((w) => w.info.port === port);

  /** A port for a new worker, reserved in the same turn it is judged free: two spawns never get the same one. */
  const reservePort = async (requested: number | undefined): Promise<number | null> => {
    if (requested !== undefined) {
      if (portInUse(requested)) return null;
      reservedPorts.add(requested);
      if (await portAvailable(requested, options.host)) return requested;
      reservedPorts.delete(requested);
      return null;
    }
    for (;;) {
      const port = await freePort(options.host);
      if (!portInUse(port)) {
        reservedPorts.add(port);
        return port;
      }
    }
  };

  const plan = (request: SpawnWorkerRequest): Plan | SpawnResult => {
    const capabilities = options.capabilities();
    if (!capabilities.models.some((m) => m.model_id === request.model)) {
      return refuse('unknown-model', `Model ${JSON.stringify(request.model)} is not among this hive's models.`);
    }
    const gpu = capabilities.devices.find((d) => d.device_type === 'gpu');
    const deviceId = request.device ?? gpu?.id ?? 'CPU-0';
    const device = capabilities.devices.find((d) => d.id === deviceId);
    if (!device) return refuse('unknown-device', `Device ${JSON.stringify(deviceId)} is not on this hive.`);
    const hasType = (type: string): boolean => capabilities.workers.some((w) => w.worker_type === type);
    const workerType = request.worker_type ?? (device.device_type === 'gpu' && hasType('cuda') ? 'cuda' : 'cpu');
    if (!hasType(workerType)) {
      return refuse('unknown-worker-type', `Worker type ${JSON.stringify(workerType)} is not on this hive.`);
    }
    const queenUrl = options.queenUrl();
    if (queenUrl === null) {
      return refuse('no-queen', 'No queen is known yet: start the hive with --queen-url, or let a queen discover it.');
    }
    const engine = options.engine(workerType);
    const modelPath = options.modelPath(request.model);
    if (engine) {
      // The worker fills these the same way; its engine port, digits, is never an option.
      const values = placeholderValues({
        modelPath: modelPath ?? request.model,
        modelId: request.model,
        enginePort: 0,
        device: deviceId,
      });
      const names = optionLikePlaceholders(engine.command, values);
      if (names.length > 0) {
        const which = names.map((name) => `{${name}}`).join(', ');
        return refuse(
          'option-like-value',
          `Model ${JSON.stringify(request.model)} would reach the ${workerType} engine's command line as an option ` +
            `through ${which}: rename its file so that it does not begin with "-", or write the argument as ` +
            '--flag={placeholder} in the manifest.',
        );
      }
    }
    return { model: request.model, device: deviceId, workerType, queenUrl, engine, modelPath };
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
    else logger.warn('worker died; reporting it failed', { ...fields, failure: outcome.error });
  };

  const launch = async (planned: Plan, port: number): Promise<SpawnResult> => {
    const workerId = `${options.hiveId}-${port}`;
    // Every value joined to its flag: a model named `--log-level` stays a value, never becomes an option.
    const values = {
      'queen-url': workerQueens(planned.queenUrl, options.queenUrls ?? []).join(','),
      'hive-id': options.hiveId,
      'worker-id': workerId,
      host: options.host,
      port: String(port),
      model: planned.model,
      device: planned.device,
      ...(planned.modelPath ? { 'model-path': planned.modelPath } : {}),
    };
    const args = [
      options.workerScript,
      ...Object.entries(values).map(([flag, value]) => `--${flag}=${value}`),
      ...options.workerArgs,
    ];
    // The IPC channel only carries a new hive secret: a worker outlives a hive killed by SIGKILL (its channel closes
    // with it) and is adopted by the next one.
    const child = spawn(process.execPath, args, {
      env: childEnv(planned.engine),
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    child.channel?.unref();
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', () => {
        if (child.pid === undefined) resolve({ code: null, signal: null });
      });
    });
    const started = await new Promise<Error | null>((resolve) => {
      child.once('spawn', () => resolve(null));
      child.once('error', (error) => resolve(error));
    });
    if (started !== null || child.pid === undefined) {
      return refuse('spawn-failed', `The worker could not be started: ${started?.message ?? 'no process id'}.`);
    }
    child.on('error', (error) => logger.warn('worker process error', { worker_id: workerId, error }));
    if (child.stderr) readline.createInterface({ input: child.stderr }).on('line', forward);
    manage(
      {
        worker_id: workerId,
        port,
        pid: child.pid,
        model: planned.model,
        device: planned.device,
        worker_type: planned.workerType,
        engine: planned.engine?.engine ?? 'demo',
        queen_url: planned.queenUrl,
        worker_url: advertiseUrl(options.host, port),
        started_at: Date.now(),
      },
      {
        kill: (signal) => child.kill(signal),
        exited,
        tell: (message) => {
          if (child.connected) child.send(message);
        },
      },
    );
    logger.info('worker spawned', { worker_id: workerId, pid: child.pid, port, model: planned.model });
    return ok({ worker_id: workerId, port, pid: child.pid });
  };

  const saveRecords = (): void => {
    void options.records?.save([...workers.values()].map(recordOf));
  };

  /** Tracks a running worker until it exits; a death it did not ask for is reported to the worker's queen. */
  const manage = (record: WorkerRecord, workerProcess: WorkerProcess): void => {
    const { queen_url, worker_url, started_at, ...info } = record;
    const worker: Managed = {
      info,
      identity: {
        workerId: info.worker_id,
        hiveId: options.hiveId,
        model: info.model,
        device: info.device,
        port: info.port,
        workerUrl: worker_url,
      },
      queenUrl: queen_url,
      process: workerProcess,
      startedAt: started_at,
      stopRequested: false,
    };
    workers.set(info.worker_id, worker);
    saveRecords();
    void workerProcess.exited.then(({ code, signal }) => {
      workers.delete(info.worker_id);
      saveRecords();
      // An adopted worker's exit code is not this process's to read: asked to stop, it stopped.
      if (worker.stopRequested && (code === 0 || (code === null && signal === null))) {
        logger.info('worker stopped', { worker_id: info.worker_id });
        return;
      }
      const report = reportDeath(worker, code, signal)
        .catch((error: unknown) => logger.warn('reporting a dead worker failed', { worker_id: info.worker_id, error }))
        .finally(() => reports.delete(report));
      reports.add(report);
    });
  };

  /** A recorded worker is adopted when its process lives and its HTTP server answers with the recorded id. */
  const answersAs = async (record: WorkerRecord): Promise<boolean> => {
    if (!processAlive(record.pid)) return false;
    try {
      const response = await fetch(`${record.worker_url}/health`, {
        signal: AbortSignal.timeout(options.stopTimeoutMs),
      });
      const health = WorkerHealth.safeParse(await response.json());
      return health.success && health.data.worker_id === record.worker_id;
    } catch {
      return false;
    }
  };

  const stopOne = async (worker: Managed): Promise<void> => {
    worker.stopRequested = true;
    worker.process.kill('SIGTERM');
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<'expired'>((resolve) => {
      timer = setTimeout(() => resolve('expired'), options.stopTimeoutMs);
    });
    const result = await Promise.race([worker.process.exited, expired]);
    clearTimeout(timer);
    if (result === 'expired') {
      logger.warn('worker did not stop in time; killing it', { worker_id: worker.info.worker_id });
      worker.process.kill('SIGKILL');
      await worker.process.exited;
    }
  };

  return {
    async spawn(request) {
      if (closing) return refuse('stopping', 'The hive is stopping.');
      // Spawns still starting count too: parallel requests never get past the cap.
      if (workers.size + starting >= options.maxWorkers) {
        return refuse('too-many', `This hive already runs its maximum of ${options.maxWorkers} workers.`);
      }
      const planned = plan(request);
      if ('ok' in planned) return planned;
      starting += 1;
      let port: number | null = null;
      try {
        port = await reservePort(request.port);
        if (port === null) return refuse('port-taken', `Port ${request.port} is already in use.`);
        if (closing) return refuse('stopping', 'The hive is stopping.');
        return await launch(planned, port);
      } finally {
        starting -= 1;
        if (port !== null) reservedPorts.delete(port);
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
    async adopt() {
      const records = (await options.records?.load()) ?? [];
      const alive = await Promise.all(records.map(async (record) => ((await answersAs(record)) ? record : null)));
      const adopted: string[] = [];
      for (const record of alive) {
        if (record === null || workers.has(record.worker_id)) continue;
        manage(record, adoptedProcess(record.pid, options.adoptedPollMs ?? ADOPTED_POLL_MS));
        adopted.push(record.worker_id);
        logger.info('worker adopted', { worker_id: record.worker_id, pid: record.pid, port: record.port });
      }
      saveRecords();
      return adopted;
    },
  };
}

/** An adopted worker is checked this often: its death reaches the queen well within 2 s. */
const ADOPTED_POLL_MS = 500;

function recordOf(worker: Managed): WorkerRecord {
  return {
    ...worker.info,
    queen_url: worker.queenUrl,
    worker_url: worker.identity.workerUrl,
    started_at: worker.startedAt,
  };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it lives, as another user's process; only ESRCH means gone.
    return error instanceof Error && 'code' in error && error.code === 'EPERM';
  }
}

/** A process this hive did not start: signalled by pid, its end seen by polling (no exit code to read). */
function adoptedProcess(pid: number, pollMs: number): WorkerProcess {
  const exited = new Promise<{ code: null; signal: null }>((resolve) => {
    const timer = setInterval(() => {
      if (processAlive(pid)) return;
      clearInterval(timer);
      resolve({ code: null, signal: null });
    }, pollMs);
  });
  return {
    kill(signal) {
      try {
        process.kill(pid, signal);
      } catch {
        // Already gone: the poll sees it.
      }
    },
    exited,
  };
}
