import type { Capabilities } from '../../contracts/capabilities.js';
import type { HiveRecord } from './state-store.js';

/**
 * Where the queen's state lives in etcd, relative to `<--etcd-prefix>/`: a hive's record without its capabilities
 * (rewritten at every heartbeat), its capabilities on their own key (written when they change), each worker, the
 * history as numbered event keys, and a time index of the events that pruning walks in time order.
 */

export const STATE = 'state/';
export const HIVES = `${STATE}hives/`;
export const CAPABILITIES = `${STATE}capabilities/`;
export const WORKERS = `${STATE}workers/`;
export const EVENTS = `${STATE}events/`;
export const EVENT_TIMES = `${STATE}event-times/`;
/** The open alert problems, all in one value. */
export const PROBLEMS = `${STATE}problems`;
/** The number the next event takes. */
export const SEQ = `${STATE}seq`;

/** Event numbers as fixed-width keys, so that key order is number order. */
const SEQ_DIGITS = 16;

export const eventKey = (seq: number): string => `${EVENTS}${String(seq).padStart(SEQ_DIGITS, '0')}`;

export const seqOfEventKey = (key: string): number => Number(key.slice(EVENTS.length));

/** ISO times of one width sort as they happen: the index key orders by time, then by number. */
export const eventTimeKey = (time: string, seq: number): string =>
  `${EVENT_TIMES}${time}/${String(seq).padStart(SEQ_DIGITS, '0')}`;

/** Every event time-index key of events before `time`. */
export const eventTimesBefore = (time: string): string => `${EVENT_TIMES}${time}`;

/** The event number an index key points at. */
export const seqOfEventTimeKey = (key: string): number => Number(key.slice(key.lastIndexOf('/') + 1));

/** What a hive's capabilities key holds. */
export interface CapabilitiesValue {
  capabilities: Capabilities | null;
  capabilitiesVersion: number | null;
}

/** A hive's record as its key holds it: the record less its capabilities. */
export type HiveValue = Omit<HiveRecord, 'capabilities' | 'capabilitiesVersion'> & Partial<CapabilitiesValue>;

export function splitHive(record: HiveRecord): { hive: HiveValue; capabilities: CapabilitiesValue } {
  const { capabilities, capabilitiesVersion, ...hive } = record;
  return { hive, capabilities: { capabilities, capabilitiesVersion } };
}

/** A hive's record from its two keys; a record written whole, before capabilities had their key, keeps its own. */
export function joinHive(hive: HiveValue, capabilities: CapabilitiesValue | undefined): HiveRecord {
  return {
    ...hive,
    capabilities: capabilities?.capabilities ?? hive.capabilities ?? null,
    capabilitiesVersion: capabilities?.capabilitiesVersion ?? hive.capabilitiesVersion ?? null,
  };
}
