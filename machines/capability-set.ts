import type {
  Capabilities,
  CapabilityChanges,
  Device,
  DeviceChange,
  Model,
  WorkerType,
} from '../contracts/capabilities.js';
import type { HiveHeartbeat } from '../contracts/heartbeat.js';

/** `GPU-2` before `GPU-10`. */
const DEVICE_IDS = new Intl.Collator('en', { numeric: true });

/** `devices` with a GPU gone or back applied, GPUs first in index order, then the CPU: as a hive lists them. */
export function applyDeviceChanges(devices: readonly Device[], changes: readonly DeviceChange[]): Device[] {
  const byId = new Map(devices.map((device) => [device.id, device]));
  for (const { action, ...device } of changes) {
    if (action === 'added') byId.set(device.id, device);
    else byId.delete(device.id);
  }
  return [...byId.values()].sort(
    (a, b) =>
      (a.device_type === b.device_type ? 0 : a.device_type === 'gpu' ? -1 : 1) || DEVICE_IDS.compare(a.id, b.id),
  );
}

/**
 * A hive's capabilities as the queen holds them: the full set as received, and once a change comes, models and
 * worker types keyed by id so each change costs O(its size); the wire form is rebuilt only after a change. Devices
 * (at most 64) are replaced as a list.
 */
export class CapabilitySet {
  private keyed: { models: Map<string, Model>; workers: Map<string, WorkerType> } | null = null;
  private wire: Capabilities | null;
  private devices: Device[];

  constructor(private readonly full: Capabilities) {
    this.wire = full;
    this.devices = full.devices;
  }

  apply(changes: CapabilityChanges): void {
    this.keyed ??= {
      models: new Map(this.full.models.map((model) => [model.model_id, model])),
      workers: new Map(this.full.workers.map((worker) => [worker.worker_type, worker])),
    };
    const { models, workers } = this.keyed;
    for (const { action, ...model } of changes.models) {
      if (action === 'added') models.set(model.model_id, model);
      else models.delete(model.model_id);
    }
    for (const { action, ...worker } of changes.workers) {
      if (action === 'added') workers.set(worker.worker_type, worker);
      else workers.delete(worker.worker_type);
    }
    if (changes.devices) this.devices = applyDeviceChanges(this.devices, changes.devices);
    this.wire = null;
  }

  toJSON(): Capabilities {
    if (this.wire === null) {
      const models = this.keyed ? [...this.keyed.models.values()] : this.full.models;
      const workers = this.keyed ? [...this.keyed.workers.values()] : this.full.workers;
      this.wire = { devices: this.devices, models, workers };
    }
    return this.wire;
  }
}

/** Why the queen asks a hive for its full capabilities (`resync: true`). */
export type ResyncReason = 'unknown' | 'gap' | 'restart';

/** What the queen holds of a hive's capabilities, as far as the decision needs it. */
export interface HeldCapabilities {
  hasCapabilities: boolean;
  version: number | null;
  bootId: string | null;
}

export interface CapabilityPlan {
  /** Replace with the heartbeat's full set, apply its changes, or keep what is held. */
  action: 'replace' | 'apply' | 'keep';
  resync: ResyncReason | null;
}

/**
 * docs/protocol.md: Queen HTTP API: a full set replaces; a delta applies only on top of the version just before it; the queen asks for
 * the full set when it holds none, when a version shows a gap, or when a new boot brings none.
 */
export function planCapabilitySync(held: HeldCapabilities | undefined, heartbeat: HiveHeartbeat): CapabilityPlan {
  if (heartbeat.capabilities) return { action: 'replace', resync: null };
  // A hive on its way out is not asked for anything.
  if (heartbeat.status === 'stopping') return { action: 'keep', resync: null };
  if (!held?.hasCapabilities) return { action: 'keep', resync: 'unknown' };
  if (heartbeat.boot_id !== undefined && held.bootId !== null && heartbeat.boot_id !== held.bootId) {
    return { action: 'keep', resync: 'restart' };
  }
  const version = heartbeat.capabilities_version;
  if (heartbeat.capability_changes) {
    if (version === undefined) return { action: 'apply', resync: null };
    if (held.version === null || version !== held.version + 1) return { action: 'keep', resync: 'gap' };
    return { action: 'apply', resync: null };
  }
  if (version !== undefined && version !== held.version) return { action: 'keep', resync: 'gap' };
  return { action: 'keep', resync: null };
}
