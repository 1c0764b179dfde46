import type { Capabilities, Model, WorkerType } from '../../contracts/capabilities.js';
import { LIMITS } from '../../contracts/common.js';
import { capabilityBytes, itemBytes, sumBytes } from '../../machines/capability-set.js';

/** A set cut to fit, and how many of each list were left out. */
export interface FittedCapabilities {
  capabilities: Capabilities;
  leftOut: { workers: number; models: number };
}

/**
 * The set a hive sends: within what a queen holds of one hive, measured as the queen measures it (the bytes of its
 * JSON, `LIMITS.capabilityBytes`, and the list limits), so no heartbeat of it is refused with 413. The devices stay
 * whole; worker types, then models, are kept in their order while they fit, so the same files always give the same set.
 */
export function fitCapabilities(
  capabilities: Capabilities,
  maxBytes: number = LIMITS.capabilityBytes,
): FittedCapabilities {
  const { devices } = capabilities;
  const room = { bytes: maxBytes - capabilityBytes({ devices: [], models: [], workers: [] }) - sumBytes(devices) };
  const workers = leading(capabilities.workers, LIMITS.workerTypes, room);
  const models = leading(capabilities.models, LIMITS.models, room);
  return {
    capabilities: { devices, models, workers },
    leftOut: {
      workers: capabilities.workers.length - workers.length,
      models: capabilities.models.length - models.length,
    },
  };
}

/** The first items, at most `max`, that fit in `room`, which they use up. */
function leading<T extends Model | WorkerType>(items: readonly T[], max: number, room: { bytes: number }): T[] {
  let count = 0;
  for (const item of items.slice(0, max)) {
    const bytes = itemBytes(item);
    if (bytes > room.bytes) break;
    room.bytes -= bytes;
    count++;
  }
  return items.slice(0, count);
}
