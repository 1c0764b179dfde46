import type { Capabilities, CapabilityChanges, ChangeAction, Device } from '../../contracts/capabilities.js';
import { applyDeviceChanges } from '../../machines/capability-set.js';

/**
 * The changes that turn `before` into `after`: devices, models and worker types that appeared or went away; one whose
 * size, version or description changed is `added` again, which the queen applies as a replacement. `devices` is only
 * there when a device changed, so a heartbeat without one is what a queen that predates it expects.
 */
export function diffCapabilities(before: Capabilities, after: Capabilities): CapabilityChanges {
  const devices = diffBy(before.devices, after.devices, (device) => device.id, sameDevice);
  return {
    ...(devices.length > 0 ? { devices } : {}),
    models: diffBy(
      before.models,
      after.models,
      (model) => model.model_id,
      (a, b) => a.size_gb === b.size_gb,
    ),
    workers: diffBy(
      before.workers,
      after.workers,
      (worker) => worker.worker_type,
      (a, b) => a.version === b.version,
    ),
  };
}

/** `capabilities` with `changes` applied, as the queen holds it afterwards. */
export function applyCapabilityChanges(capabilities: Capabilities, changes: CapabilityChanges): Capabilities {
  return {
    devices: applyDeviceChanges(capabilities.devices, changes.devices ?? []),
    models: applyBy(
      capabilities.models,
      changes.models.map(({ action, ...model }) => ({ action, item: model })),
      (model) => model.model_id,
    ),
    workers: applyBy(
      capabilities.workers,
      changes.workers.map(({ action, ...worker }) => ({ action, item: worker })),
      (worker) => worker.worker_type,
    ),
  };
}

export function hasChanges(changes: CapabilityChanges): boolean {
  return changes.models.length > 0 || changes.workers.length > 0 || (changes.devices ?? []).length > 0;
}

function sameDevice(a: Device, b: Device): boolean {
  return (
    a.name === b.name &&
    a.device_type === b.device_type &&
    a.vram_gb === b.vram_gb &&
    a.compute_capability === b.compute_capability
  );
}

type Change<T> = { action: ChangeAction } & T;

function diffBy<T>(
  before: readonly T[],
  after: readonly T[],
  key: (item: T) => string,
  same: (a: T, b: T) => boolean,
): Change<T>[] {
  const old = new Map(before.map((item) => [key(item), item]));
  const now = new Map(after.map((item) => [key(item), item]));
  const removed = [...old].filter(([id]) => !now.has(id));
  const added = [...now].filter(([id, item]) => {
    const previous = old.get(id);
    return previous === undefined || !same(previous, item);
  });
  return [
    ...sortedById(removed).map(([, item]): Change<T> => ({ action: 'removed', ...item })),
    ...sortedById(added).map(([, item]): Change<T> => ({ action: 'added', ...item })),
  ];
}

function applyBy<T>(
  items: readonly T[],
  changes: readonly { action: ChangeAction; item: T }[],
  key: (item: T) => string,
): T[] {
  const result = new Map(items.map((item) => [key(item), item]));
  for (const { action, item } of changes) {
    if (action === 'added') result.set(key(item), item);
    else result.delete(key(item));
  }
  return sortedById([...result]).map(([, item]) => item);
}

function sortedById<T>(entries: [string, T][]): [string, T][] {
  return entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
