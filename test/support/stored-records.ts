import type { Capabilities } from '../../contracts/capabilities.js';
import type { HiveRecord, NewEvent, StateBatch, WorkerRecord } from '../../services/store/state-store.js';
import { capabilities, periodicHeartbeat, workerHeartbeat } from '../fixtures/examples.js';

/** Records and batches as the queen hands them to a state store, for the stores' tests. */

export const WALL = Date.parse('2026-01-01T00:00:00.000Z');

export function storedHive(id: string, lastSeen = WALL, held: Capabilities = capabilities): HiveRecord {
  return {
    id,
    liveness: 'online',
    expected: false,
    lastSeen,
    clockOffsetMs: 0,
    hiveUrl: `http://${id}.lan:7835`,
    report: { ...periodicHeartbeat, hive_id: id },
    capabilities: held,
    capabilitiesVersion: 3,
    secretHash: `hash-of-${id}`,
    secretProven: true,
  };
}

export function storedWorker(id: string, hiveId: string): WorkerRecord {
  return { id, liveness: 'online', lastSeen: WALL, heartbeat: { ...workerHeartbeat, worker_id: id, hive_id: hiveId } };
}

export function livenessEvent(id: string, at: number, kind: NewEvent['kind'] = 'hive'): NewEvent {
  return {
    time: new Date(at).toISOString(),
    kind,
    id,
    type: 'liveness',
    from: 'online',
    to: 'suspect',
    reason: 'missed heartbeats',
  };
}

export function batchOf(parts: Partial<StateBatch>): StateBatch {
  return {
    hives: [],
    workers: [],
    removedHives: [],
    removedWorkers: [],
    events: [],
    ...parts,
    problems: parts.problems ?? null,
  };
}
