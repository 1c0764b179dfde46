import { assign, emit, raise, setup } from 'xstate';
import type { WorkerStatus } from '../contracts/heartbeat.js';

/**
 * A worker's own status (docs/protocol.md: Worker status): SPAWNED → REGISTERED → READY ⇄ BUSY → STOPPED, with ERROR while the backend
 * is unhealthy. Beside it, a reporting region coalesces status heartbeats: a change is reported at once, then at most
 * one report per coalescing window, so a flapping READY ⇄ BUSY never floods the queen.
 */

export interface WorkerStatusInput {
  /** At most one status report per window. */
  coalesceMs?: number;
}

export interface WorkerStatusContext {
  coalesceMs: number;
  /** Requests in flight; BUSY while above zero. */
  inFlight: number;
  /** The backend's last health check passed. */
  healthy: boolean;
  /** The status changed during the current coalescing window. */
  dirty: boolean;
}

export type WorkerStatusEvent =
  /** The queen acknowledged the worker's first heartbeat. */
  | { type: 'REGISTERED' }
  | { type: 'BACKEND_HEALTHY' }
  | { type: 'BACKEND_UNHEALTHY' }
  | { type: 'REQUEST_STARTED' }
  | { type: 'REQUEST_ENDED' }
  | { type: 'STOP' }
  /** Internal: the status region changed state. */
  | { type: 'STATUS_CHANGED' };

/** Emitted to the host when a status heartbeat should go out now. */
export type WorkerStatusEmitted = { type: 'report' };

export const DEFAULT_COALESCE_MS = 1_000;

export const workerStatusMachine = setup({
  types: {
    context: {} as WorkerStatusContext,
    events: {} as WorkerStatusEvent,
    input: {} as WorkerStatusInput,
    emitted: {} as WorkerStatusEmitted,
  },
  delays: {
    coalesce: ({ context }) => context.coalesceMs,
  },
  guards: {
    healthy: ({ context }) => context.healthy,
    busy: ({ context }) => context.inFlight > 0,
    lastRequestEnding: ({ context }) => context.inFlight <= 1,
    dirty: ({ context }) => context.dirty,
  },
  actions: {
    statusChanged: raise({ type: 'STATUS_CHANGED' }),
    report: emit({ type: 'report' }),
    markDirty: assign({ dirty: true }),
    clearDirty: assign({ dirty: false }),
    markHealthy: assign({ healthy: true }),
    markUnhealthy: assign({ healthy: false }),
    requestStarted: assign({ inFlight: ({ context }) => context.inFlight + 1 }),
    requestEnded: assign({ inFlight: ({ context }) => Math.max(0, context.inFlight - 1) }),
  },
}).createMachine({
  id: 'worker-status',
  type: 'parallel',
  context: ({ input }) => ({
    coalesceMs: input.coalesceMs ?? DEFAULT_COALESCE_MS,
    inFlight: 0,
    healthy: false,
    dirty: false,
  }),
  states: {
    status: {
      initial: 'SPAWNED',
      on: {
        REQUEST_STARTED: { actions: 'requestStarted' },
        REQUEST_ENDED: { actions: 'requestEnded' },
        STOP: '.STOPPED',
      },
      states: {
        SPAWNED: {
          on: {
            REGISTERED: [{ guard: 'healthy', target: 'READY' }, { target: 'REGISTERED' }],
            BACKEND_HEALTHY: { actions: 'markHealthy' },
            BACKEND_UNHEALTHY: { actions: 'markUnhealthy' },
          },
        },
        REGISTERED: {
          entry: 'statusChanged',
          on: {
            BACKEND_HEALTHY: { target: 'READY', actions: 'markHealthy' },
            BACKEND_UNHEALTHY: { target: 'ERROR', actions: 'markUnhealthy' },
          },
        },
        READY: {
          entry: 'statusChanged',
          always: { guard: 'busy', target: 'BUSY' },
          on: {
            REQUEST_STARTED: { target: 'BUSY', actions: 'requestStarted' },
            BACKEND_UNHEALTHY: { target: 'ERROR', actions: 'markUnhealthy' },
          },
        },
        BUSY: {
          entry: 'statusChanged',
          on: {
            REQUEST_ENDED: [
              { guard: 'lastRequestEnding', target: 'READY', actions: 'requestEnded' },
              { actions: 'requestEnded' },
            ],
            BACKEND_UNHEALTHY: { target: 'ERROR', actions: 'markUnhealthy' },
          },
        },
        ERROR: {
          entry: 'statusChanged',
          on: {
            BACKEND_HEALTHY: { target: 'READY', actions: 'markHealthy' },
          },
        },
        // A second STOP must not re-enter STOPPED and report it again.
        STOPPED: { entry: 'statusChanged', type: 'final', on: { STOP: {} } },
      },
    },
    reporting: {
      initial: 'idle',
      states: {
        idle: {
          on: { STATUS_CHANGED: { target: 'cooling', actions: 'report' } },
        },
        cooling: {
          on: { STATUS_CHANGED: { actions: 'markDirty' } },
          after: {
            coalesce: [
              { guard: 'dirty', target: 'cooling', reenter: true, actions: ['report', 'clearDirty'] },
              { target: 'idle' },
            ],
          },
        },
      },
    },
  },
});

export type WorkerStatusMachine = typeof workerStatusMachine;

/** The wire status of a status-region state. */
export function wireStatus(state: string): WorkerStatus {
  switch (state) {
    case 'READY':
      return 'ready';
    case 'BUSY':
      return 'busy';
    case 'ERROR':
      return 'error';
    case 'STOPPED':
      return 'stopped';
    default:
      return 'starting';
  }
}
