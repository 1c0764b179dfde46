import type { CapabilityChanges } from '../contracts/capabilities.js';
import type { Liveness, LivenessReason } from '../contracts/registry.js';
import type { Fate } from './liveness.js';

/** What a registry tells its host after each event: the host turns these into stream events, logs and metrics. */

export type RegistryKind = 'hive' | 'worker';

/** An entry changed liveness; `from` is null for an entry new to the queen. */
export interface LivenessChange {
  type: 'liveness';
  kind: RegistryKind;
  id: string;
  from: Liveness | null;
  to: Fate;
  reason: LivenessReason;
  /** Queen wall clock (epoch ms) of the transition. */
  at: number;
  /** A worker's hive, so that the hive's history holds its workers' events. */
  hiveId?: string;
}

/** An entry's data changed (a heartbeat was accepted, a hive was discovered or became expected). */
export interface EntryChange {
  type: 'entry';
  kind: RegistryKind;
  id: string;
  /** Time since the entry's previous receipt on the queen's clock; null for a first receipt or no receipt. */
  intervalMs: number | null;
}

/** A hive's capabilities changed: replaced by a different full set, or changed by a delta. */
export interface CapabilitiesChange {
  type: 'capabilities';
  kind: 'hive';
  id: string;
  version: number | null;
  /** The delta applied, or null when a full set replaced the held one. */
  changes: CapabilityChanges | null;
  at: number;
}

/** A heartbeat claimed an identity it could not prove; nothing changed. */
export interface RefusedChange {
  type: 'identity_refused';
  kind: RegistryKind;
  id: string;
  /** Where it came from, as the HTTP layer saw it. */
  source: string;
  at: number;
  /** The hive claimed (a worker's hive, or the hive itself). */
  hiveId?: string;
}

export type RegistryChange = LivenessChange | EntryChange | CapabilitiesChange | RefusedChange;

/** Emitted once per registry event that changed something, with every change in order. */
export interface RegistryChanges {
  type: 'changes';
  changes: RegistryChange[];
}

/** Collects a store's changes until the machine publishes them. */
export class ChangeLog {
  private pending: RegistryChange[] = [];

  push(change: RegistryChange): void {
    this.pending.push(change);
  }

  /** The changes since the last take; the log starts empty again. */
  take(): RegistryChange[] {
    const taken = this.pending;
    if (taken.length > 0) this.pending = [];
    return taken;
  }
}
