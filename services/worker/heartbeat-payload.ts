import type { WorkerHeartbeat, WorkerStatus } from '../../contracts/heartbeat.js';
import type { SendRequest } from '../../machines/lifecycle.js';
import type { HeartbeatNumbering } from '../heartbeat-numbering.js';

/** What stays the same in every heartbeat of one worker. */
export interface HeartbeatIdentity {
  workerId: string;
  hiveId: string;
  model: string;
  device: string;
  port: number;
  workerUrl: string;
}

/** (v2) The engine behind the worker and what it reports: engine, slots, queue, KV cache, restarts, last error. */
export type EngineReport = Pick<
  WorkerHeartbeat,
  'engine' | 'slots_total' | 'slots_busy' | 'queue_depth' | 'kv_cache_usage' | 'last_error' | 'restarts'
>;

export interface WorkerMoment {
  status: WorkerStatus;
  engine?: EngineReport;
  requestsServed: number;
  /** Milliseconds since the worker started. */
  uptimeMs: number;
  now: Date;
}

/** One worker heartbeat; the hive also builds one with it when it reports a dead worker on its behalf. */
export function workerHeartbeat(identity: HeartbeatIdentity, moment: WorkerMoment): WorkerHeartbeat {
  return {
    worker_id: identity.workerId,
    hive_id: identity.hiveId,
    timestamp: moment.now.toISOString(),
    status: moment.status,
    model: identity.model,
    device: identity.device,
    port: identity.port,
    requests_served: moment.requestsServed,
    uptime_seconds: Math.max(0, Math.floor(moment.uptimeMs / 1000)),
    worker_url: identity.workerUrl,
    ...moment.engine,
  };
}

export interface WorkerPayloadDeps {
  identity: HeartbeatIdentity;
  /** The worker-status machine's wire status. */
  status: () => WorkerStatus;
  requestsServed: () => number;
  /** The engine's latest numbers; none for a worker without one. */
  engine?: () => EngineReport;
  /** Epoch milliseconds of the worker's start. */
  startedAt: number;
  /** How its heartbeats are numbered (`boot_id`, `seq`). */
  numbering: HeartbeatNumbering;
  /** Its hive's identity, as the hive handed it down. */
  hiveSecret: () => string | undefined;
  now?: () => number;
}

/** The lifecycle's payload builder for a worker: the final heartbeat always says `stopped`. */
export function createWorkerPayload(deps: WorkerPayloadDeps): (request: SendRequest) => WorkerHeartbeat {
  const now = deps.now ?? Date.now;
  return (request) => {
    const at = now();
    const heartbeat = workerHeartbeat(deps.identity, {
      status: request.reason === 'final' ? 'stopped' : deps.status(),
      requestsServed: deps.requestsServed(),
      ...(deps.engine ? { engine: deps.engine() } : {}),
      uptimeMs: at - deps.startedAt,
      now: new Date(at),
    });
    return withSecret({ ...heartbeat, ...deps.numbering.next() }, deps.hiveSecret());
  };
}

/** The heartbeat carrying its hive's identity, when there is one. */
export function withSecret(heartbeat: WorkerHeartbeat, secret: string | undefined): WorkerHeartbeat {
  return secret === undefined ? heartbeat : { ...heartbeat, hive_secret: secret };
}
