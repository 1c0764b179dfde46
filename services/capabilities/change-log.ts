import type { Capabilities, CapabilityChanges } from '../../contracts/capabilities.js';
import { applyCapabilityChanges, diffCapabilities } from './capability-diff.js';

/**
 * Capability versions and what the queen has not acknowledged yet: the set as of the last acknowledged version, plus
 * the batches since. Pending changes are the net difference, so something added and removed again cancels out.
 */
export interface ChangeLog {
  version(): number;
  /** Records one batch and returns its version. */
  record(changes: CapabilityChanges): number;
  /** Net changes from the acknowledged set to `current`; null when every version is acknowledged. */
  pending(current: Capabilities): CapabilityChanges | null;
  acknowledge(version: number): void;
  /** Versions recorded since the last acknowledged one. */
  unacknowledged(): number;
}

export function createChangeLog(initial: Capabilities): ChangeLog {
  let version = 0;
  let acknowledged = 0;
  let base = initial;
  const batches: { version: number; changes: CapabilityChanges }[] = [];
  return {
    version: () => version,
    record(changes) {
      version += 1;
      batches.push({ version, changes });
      return version;
    },
    // Even a net-empty batch is sent, so the queen's version follows without a gap.
    pending: (current) => (acknowledged === version ? null : diffCapabilities(base, current)),
    acknowledge(acked) {
      const upTo = Math.min(acked, version);
      while (batches[0] !== undefined && batches[0].version <= upTo) {
        const batch = batches.shift();
        if (batch) base = applyCapabilityChanges(base, batch.changes);
      }
      acknowledged = Math.max(acknowledged, upTo);
    },
    unacknowledged: () => version - acknowledged,
  };
}
