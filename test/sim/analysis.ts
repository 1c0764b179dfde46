import type { Capabilities } from '../../contracts/capabilities.js';
import { type Cluster, MODEL_POOL } from './cluster.js';
import type { SimHive } from './hive.js';
import type { NetworkEvent } from './network.js';
import type { Receipt, Transition } from './queen.js';

/** Reading the simulation's logs. */

export const isRegistration = (t: Transition): boolean => t.from === null && t.to === 'online';

/** Transitions other than a hive's first registration with a queen. */
export function laterTransitions(cluster: Cluster): Transition[] {
  return cluster.queen.transitions.filter((t) => !isRegistration(t));
}

export function transitionsOf(cluster: Cluster, id: string): Transition[] {
  return cluster.queen.transitions.filter((t) => t.id === id);
}

/**
 * Gaps between consecutive receipts of each hive, on the interval's schedule: a hive's first two heartbeats go out
 * back to back (discovery, then the first beat) and a capability change goes out at once, so gaps ending in either
 * are left out.
 */
export function interArrivals(receipts: readonly Receipt[]): number[] {
  const gaps: number[] = [];
  const last = new Map<string, number>();
  const seen = new Map<string, number>();
  for (const receipt of receipts) {
    const count = (seen.get(receipt.hiveId) ?? 0) + 1;
    seen.set(receipt.hiveId, count);
    const previous = last.get(receipt.hiveId);
    last.set(receipt.hiveId, receipt.at);
    if (previous !== undefined && count > 2 && !receipt.changes) gaps.push(receipt.at - previous);
  }
  return gaps;
}

/**
 * Per hive, the lengths of its runs of consecutive lost requests once it was first answered (losses during its first
 * discovery precede its registration); a request that gets through ends a run, and a run still open is left out.
 */
export function lossRuns(events: readonly NetworkEvent[]): Map<string, number[]> {
  const runs = new Map<string, number[]>();
  const open = new Map<string, number>();
  for (const event of events) {
    const length = open.get(event.hiveId);
    if (event.kind === 'lost' && length !== undefined) open.set(event.hiveId, length + 1);
    else if (event.kind === 'answered') {
      if (length !== undefined && length > 0) runs.set(event.hiveId, [...(runs.get(event.hiveId) ?? []), length]);
      open.set(event.hiveId, 0);
    }
  }
  return runs;
}

/** Picks `count` distinct items with the seeded `random`, in their original order. */
export function sample<T>(items: readonly T[], count: number, random: () => number): T[] {
  const chosen = new Set<number>();
  while (chosen.size < Math.min(count, items.length)) chosen.add(Math.floor(random() * items.length));
  return items.filter((_, i) => chosen.has(i));
}

/** A capability set in a canonical order, so the queen's copy and the hive's compare equal when they hold the same. */
export function canonical(capabilities: Capabilities | null): Capabilities | null {
  if (capabilities === null) return null;
  const by =
    <T>(key: (item: T) => string) =>
    (a: T, b: T) =>
      key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
  return {
    devices: [...capabilities.devices].sort(by((d) => d.id)),
    models: [...capabilities.models].sort(by((m) => m.model_id)),
    workers: [...capabilities.workers].sort(by((w) => w.worker_type)),
  };
}

/** Hives whose capabilities at the queen differ from their own, with both sides. */
export async function capabilityMismatches(cluster: Cluster): Promise<string[]> {
  const views = new Map((await cluster.queen.hives()).map((view) => [view.hive_id, view]));
  const mismatches: string[] = [];
  for (const hive of cluster.hives) {
    const view = views.get(hive.id);
    const held = JSON.stringify(canonical(view?.capabilities ?? null));
    const own = JSON.stringify(canonical(hive.capabilities.current()));
    if (held !== own || view?.capabilities_version !== hive.capabilities.version()) {
      mismatches.push(
        `${hive.id}: queen v${view?.capabilities_version} ${held} / hive v${hive.capabilities.version()} ${own}`,
      );
    }
  }
  return mismatches;
}

/** A model of the pool added when the hive lacks it, removed when it has it: one capability change. */
export function toggleModel(hive: SimHive, random: () => number): void {
  const current = hive.capabilities.current();
  const model = MODEL_POOL[Math.floor(random() * MODEL_POOL.length)];
  if (model === undefined) return;
  const has = current.models.some((m) => m.model_id === model.model_id);
  hive.capabilities.change({
    ...current,
    models: has ? current.models.filter((m) => m.model_id !== model.model_id) : [...current.models, model],
  });
}

/** A worker type added, or its version bumped: one capability change. */
export function upgradeWorker(hive: SimHive, workerType: string, version: string): void {
  const current = hive.capabilities.current();
  hive.capabilities.change({
    ...current,
    workers: [...current.workers.filter((w) => w.worker_type !== workerType), { worker_type: workerType, version }],
  });
}
