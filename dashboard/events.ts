import type { StreamEvent } from '../contracts/stream.js';

/**
 * Reads one stream message. The queen builds every message from the zod schemas, so the browser (which ships
 * no zod) checks only the discriminant and the fields it keys its state by.
 */
export function parseStreamEvent(data: unknown): StreamEvent | null {
  if (typeof data !== 'string') return null;
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return null;
  }
  return isStreamEvent(value) ? value : null;
}

function isStreamEvent(value: unknown): value is StreamEvent {
  if (!isRecord(value)) return false;
  switch (value.type) {
    case 'snapshot':
      return Array.isArray(value.hives) && Array.isArray(value.workers);
    case 'hive':
      return typeof value.hive_id === 'string' && typeof value.liveness === 'string';
    case 'worker':
      return typeof value.worker_id === 'string' && typeof value.hive_id === 'string';
    case 'liveness':
      return (value.kind === 'hive' || value.kind === 'worker') && typeof value.id === 'string';
    case 'queen':
      return typeof value.hives_online === 'number' && typeof value.workers_online === 'number';
    default:
      return false;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
