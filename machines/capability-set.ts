import type {
  Capabilities,
  CapabilityChanges,
  Device,
  DeviceChange,
  Model,
  WorkerType,
} from '../contracts/capabilities.js';
import { LIMITS } from '../contracts/common.js';
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

/** The UTF-8 bytes of one listed item in the set's JSON, its comma included. */
export function itemBytes(item: Device | Model | WorkerType): number {
  return Buffer.byteLength(JSON.stringify(item)) + 1;
}

/**
 * The UTF-8 size of a set's JSON, counting a comma after each list's last item too (so at most 3 over), the way
 * changes keep it up to date item by item. `json` is the set's JSON when the caller has it already.
 */
export function capabilityBytes(capabilities: Capabilities, json = JSON.stringify(capabilities)): number {
  const { devices, models, workers } = capabilities;
  return Buffer.byteLength(json) + [devices, models, workers].filter((list) => list.length > 0).length;
}

/** What a set would hold after a change: its counts and bytes, to bound before anything is applied. */
export interface CapabilityMeasure {
  devices: number;
  models: number;
  workers: number;
  bytes: number;
}

/**
 * The bounds of what one hive holds, whatever path its capabilities took (a full set, or deltas on top of one): the
 * contract's list limits and `LIMITS.capabilityBytes`. Null when within them, else why not.
 */
export function capabilityExcess(measure: CapabilityMeasure): string | null {
  const counts = [
    ['devices', measure.devices, LIMITS.devices],
    ['models', measure.models, LIMITS.models],
    ['worker types', measure.workers, LIMITS.workerTypes],
    ['bytes of capabilities', measure.bytes, LIMITS.capabilityBytes],
  ] as const;
  for (const [what, count, limit] of counts) {
    if (count > limit) return `${count} ${what}, over the limit of ${limit} a hive may hold`;
  }
  return null;
}

/** One list's changes as (key, item after it) pairs: null for removed. */
type Keyed<T> = readonly (readonly [string, T | null])[];

/**
 * Applies one list's changes to `held`, or with `dryRun` only counts them (a dry run sees its own earlier changes,
 * never `held` changed): the change in items and in bytes.
 */
function applyKeyed<T extends Model | WorkerType>(
  held: Map<string, T>,
  changes: Keyed<T>,
  dryRun: boolean,
): { count: number; bytes: number } {
  const overlay = new Map<string, T | null>();
  let count = 0;
  let bytes = 0;
  for (const [key, after] of changes) {
    const seen = overlay.get(key);
    const before = seen === undefined ? held.get(key) : seen;
    if (before) {
      count--;
      bytes -= itemBytes(before);
    }
    if (after) {
      count++;
      bytes += itemBytes(after);
    }
    if (dryRun) overlay.set(key, after);
    else if (after) held.set(key, after);
    else held.delete(key);
  }
  return { count, bytes };
}

/** The UTF-8 bytes of a list's items in the set's JSON, a comma after each. */
export function sumBytes(items: readonly (Device | Model | WorkerType)[]): number {
  let bytes = 0;
  for (const item of items) bytes += itemBytes(item);
  return bytes;
}

/** Whether two JSON values are equal as their JSON text would be (key order aside), built without making that text. */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    // Loops, not `every`: this runs on each full set a hive sends, item by item.
    for (let index = 0; index < a.length; index++) if (!sameJson(a[index], b[index])) return false;
    return true;
  }
  let keys = 0;
  for (const key in a) {
    if (!Object.hasOwn(b, key) || !sameJson(Reflect.get(a, key), Reflect.get(b, key))) return false;
    keys++;
  }
  for (const _ in b) keys--;
  return keys === 0;
}

/** A set's JSON is kept up to this size: the queen's memory at its capability cap stays that of the sets alone. */
const KEPT_JSON_BYTES = 4 * 1024;

/**
 * A hive's capabilities as the queen holds them: the full set as received, and once a change comes, models and
 * worker types keyed by id so each change costs O(its size); the wire form is rebuilt only after a change. Devices
 * (at most 64) are replaced as a list. Its size in bytes is kept up to date, for the queen's bounds.
 */
export class CapabilitySet {
  private keyed: { models: Map<string, Model>; workers: Map<string, WorkerType> } | null = null;
  private wire: Capabilities | null;
  /** The wire form's JSON, kept while small (a few KiB: what real sets weigh), else made again when asked. */
  private text: string | null;
  private devices: Device[];
  private size: number;
  /** Bytes of the items a full set listed twice under one id: keyed, one of each is held, so `size` counts them over. */
  private collapsed = 0;

  /** `json` is the set's JSON when the caller has made it already. */
  constructor(
    private readonly full: Capabilities,
    json?: string,
  ) {
    this.wire = full;
    this.devices = full.devices;
    this.size = capabilityBytes(full, json);
    this.text = json !== undefined && this.size <= KEPT_JSON_BYTES ? json : null;
  }

  get bytes(): number {
    return this.size;
  }

  /** The set's JSON: what tells whether a full set sent again changed anything. */
  get json(): string {
    const json = this.text ?? JSON.stringify(this.toJSON());
    if (this.size <= KEPT_JSON_BYTES) this.text = json;
    return json;
  }

  /**
   * Whether `capabilities` is this very set, item for item: a hive that sends its full set again unchanged leaves the
   * held one in place, with no JSON made to tell.
   */
  sameAs(capabilities: Capabilities): boolean {
    return sameJson(this.toJSON(), capabilities);
  }

  /** What the set would be after `changes`, leaving it as it is. */
  measure(changes: CapabilityChanges): CapabilityMeasure {
    return this.change(changes, true);
  }

  apply(changes: CapabilityChanges): void {
    this.size = this.change(changes, false).bytes;
    this.collapsed = 0;
    this.wire = null;
    this.text = null;
  }

  toJSON(): Capabilities {
    if (this.wire === null) {
      const models = this.keyed ? [...this.keyed.models.values()] : this.full.models;
      const workers = this.keyed ? [...this.keyed.workers.values()] : this.full.workers;
      this.wire = { devices: this.devices, models, workers };
    }
    return this.wire;
  }

  private change(changes: CapabilityChanges, dryRun: boolean): CapabilityMeasure {
    if (this.keyed === null) {
      const keyed = {
        models: new Map(this.full.models.map((model) => [model.model_id, model])),
        workers: new Map(this.full.workers.map((worker) => [worker.worker_type, worker])),
      };
      if (keyed.models.size < this.full.models.length || keyed.workers.size < this.full.workers.length) {
        this.collapsed =
          sumBytes(this.full.models) -
          sumBytes([...keyed.models.values()]) +
          sumBytes(this.full.workers) -
          sumBytes([...keyed.workers.values()]);
      }
      this.keyed = keyed;
    }
    const { models, workers } = this.keyed;
    const modelChanges: Keyed<Model> = changes.models.map(({ action, ...model }) => [
      model.model_id,
      action === 'added' ? model : null,
    ]);
    const workerChanges: Keyed<WorkerType> = changes.workers.map(({ action, ...worker }) => [
      worker.worker_type,
      action === 'added' ? worker : null,
    ]);
    const modelDelta = applyKeyed(models, modelChanges, dryRun);
    const workerDelta = applyKeyed(workers, workerChanges, dryRun);
    const devices = changes.devices ? applyDeviceChanges(this.devices, changes.devices) : this.devices;
    const deviceBytes = changes.devices ? sumBytes(devices) - sumBytes(this.devices) : 0;
    if (!dryRun) this.devices = devices;
    // A dry run left the maps as they were: its counts are theirs plus its own.
    const pending = dryRun ? 1 : 0;
    return {
      devices: devices.length,
      models: models.size + pending * modelDelta.count,
      workers: workers.size + pending * workerDelta.count,
      bytes: this.size - this.collapsed + modelDelta.bytes + workerDelta.bytes + deviceBytes,
    };
  }
}

/**
 * What a hive would hold after a heartbeat the plan `replace`s with or `apply`s, before anything changes; null when
 * the heartbeat leaves its capabilities as they are.
 */
export function measureAfter(
  held: CapabilitySet | null,
  heartbeat: HiveHeartbeat,
  action: CapabilityPlan['action'],
  json?: string,
): CapabilityMeasure | null {
  const { capabilities, capability_changes: changes } = heartbeat;
  if (action === 'replace' && capabilities) return measureSet(capabilities, json);
  if (action === 'apply' && changes && held) return held.measure(changes);
  return null;
}

/** A full set's counts and bytes. */
export function measureSet(capabilities: Capabilities, json?: string): CapabilityMeasure {
  const { devices, models, workers } = capabilities;
  return {
    devices: devices.length,
    models: models.length,
    workers: workers.length,
    bytes: capabilityBytes(capabilities, json),
  };
}

/** The capabilities alone of a payload that carries other fields beside them (a discovery answer). */
export function capabilitiesOf({ devices, models, workers }: Capabilities): Capabilities {
  return { devices, models, workers };
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
