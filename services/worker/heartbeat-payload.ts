import type { WorkerHeartbeat, WorkerStatus } from '../../contracts/heartbeat.js';
import type { SendRequest } from '../../machines/lifecycle.js';
import type { SendOutcome } from '../../machines/send-outcome.js';

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
  /** A new random `boot_id`: one per worker process, its heartbeats numbered from 0 under it. */
  newBootId: () => string;
  /** Its hive's identity, as the hive handed it down. */
  hiveSecret: () => string | undefined;
  now?: () => number;
}

export interface WorkerPayload {
  /** The heartbeat the lifecycle asked for: the final one always says `stopped`. */
  build(request: SendRequest): WorkerHeartbeat;
  /**
   * After a send. A 409 to the heartbeat being sent cannot be about its age (each is numbered anew): the queen holds a
   * later number for this `boot_id` than the worker ever sent, or the process for gone. Numbering under a new
   * `boot_id` makes the next one count.
   */
  sent(outcome: SendOutcome): void;
}

export function createWorkerPayload(deps: WorkerPayloadDeps): WorkerPayload {
  const now = deps.now ?? Date.now;
  let bootId = deps.newBootId();
  let built = 0;
  return {
    build(request) {
      const at = now();
      const heartbeat = workerHeartbeat(deps.identity, {
        status: request.reason === 'final' ? 'stopped' : deps.status(),
        requestsServed: deps.requestsServed(),
        ...(deps.engine ? { engine: deps.engine() } : {}),
        uptimeMs: at - deps.startedAt,
        now: new Date(at),
      });
      return withSecret({ ...heartbeat, boot_id: bootId, seq: built++ }, deps.hiveSecret());
    },
    sent(outcome) {
      if (outcome.ok || outcome.error.kind !== 'http' || outcome.error.status !== 409) return;
      bootId = deps.newBootId();
      built = 0;
    },
  };
}

/** The heartbeat carrying its hive's identity, when there is one. */
export function withSecret(heartbeat: WorkerHeartbeat, secret: string | undefined): WorkerHeartbeat {
  return secret === undefined ? heartbeat : { ...heartbeat, hive_secret: secret };
}
