import type { AlertKind, AlertProblem } from '../../contracts/alert.js';
import type { WorkerStatus } from '../../contracts/heartbeat.js';
import type { Fate } from '../../machines/liveness.js';

/** What the queen tells the alerts about, small enough that wiring a source stays a line or two. */
export type AlertInput =
  | { type: 'liveness'; kind: 'hive' | 'worker'; id: string; to: Fate; reason: string }
  | { type: 'worker-status'; id: string; status: WorkerStatus }
  | { type: 'identity'; id: string; refused: boolean; reason: string }
  | { type: 'queen-health'; id: string; degraded: boolean; reason: string };

/** A problem that the input opens (`open: true`) or resolves; null when the input says nothing about one. */
export interface ProblemChange {
  problem: AlertProblem;
  kind: AlertKind;
  id: string;
  open: boolean;
  reason: string;
}

export function problemChange(input: AlertInput): ProblemChange | null {
  switch (input.type) {
    case 'liveness': {
      const gone = input.to === 'offline' || input.to === 'forgotten';
      if (input.kind === 'hive') {
        if (!gone && input.to !== 'online') return null;
        return { problem: 'hive_offline', kind: 'hive', id: input.id, open: gone, reason: input.reason };
      }
      // A forgotten worker can no longer recover from its error.
      if (input.to !== 'forgotten') return null;
      return { problem: 'worker_error', kind: 'worker', id: input.id, open: false, reason: input.reason };
    }
    case 'worker-status': {
      const open = input.status === 'error';
      const reason = open ? 'status error' : `status ${input.status}`;
      return { problem: 'worker_error', kind: 'worker', id: input.id, open, reason };
    }
    case 'identity':
      return {
        problem: 'hive_identity_refused',
        kind: 'hive',
        id: input.id,
        open: input.refused,
        reason: input.reason,
      };
    case 'queen-health':
      return { problem: 'queen_degraded', kind: 'queen', id: input.id, open: input.degraded, reason: input.reason };
  }
}
