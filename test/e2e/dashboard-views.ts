import type { HiveView, WorkerView } from '../../contracts/registry.js';
import type { LivenessEvent } from '../../contracts/stream.js';
import { unseenHiveView } from '../fixtures/examples.js';

/** Registry views and stream events for the dashboard's browser tests. */

export const NOW = new Date().toISOString();

export function seenHive(id: string, overrides: Partial<HiveView> = {}): HiveView {
  return {
    hive_id: id,
    liveness: 'online',
    expected: true,
    last_seen: NOW,
    last_seen_age_ms: 4200,
    clock_offset_ms: 120,
    status: 'ready',
    timestamp: NOW,
    boot_id: `${id}-boot-1`,
    hive_url: 'http://10.0.0.11:7070',
    monitor_data: {
      cpu_usage_percent: 37.5,
      ram_used_gb: 22.4,
      ram_total_gb: 64,
      uptime_seconds: 3725,
      devices: [
        { device_id: 'gpu0', vram_used_gb: 18.2, vram_total_gb: 24, temperature_celsius: 67 },
        { device_id: 'gpu1', vram_used_gb: 3.1, vram_total_gb: 24, temperature_celsius: 88 },
      ],
    },
    capabilities: {
      devices: [
        { id: 'gpu0', name: 'NVIDIA RTX 4090', device_type: 'gpu', vram_gb: 24 },
        { id: 'gpu1', name: 'NVIDIA RTX 4090', device_type: 'gpu', vram_gb: 24 },
      ],
      models: [
        { model_id: 'llama-3.1-8b-instruct-q4', size_gb: 4.9 },
        { model_id: 'qwen2.5-0.5b-instruct', size_gb: 0.4 },
      ],
      workers: [{ worker_type: 'llama.cpp', version: 'b4500' }],
    },
    capabilities_version: 3,
    ...overrides,
  };
}

export function neverSeenHive(id: string): HiveView {
  return { ...unseenHiveView, hive_id: id };
}

export function worker(id: string, hiveId: string, overrides: Partial<WorkerView> = {}): WorkerView {
  return {
    worker_id: id,
    hive_id: hiveId,
    timestamp: NOW,
    status: 'ready',
    model: 'llama-3.1-8b-instruct-q4',
    device: 'gpu0',
    port: 8101,
    requests_served: 42,
    uptime_seconds: 600,
    liveness: 'online',
    available: true,
    last_seen: NOW,
    last_seen_age_ms: 800,
    ...overrides,
  };
}

export function transition(
  kind: LivenessEvent['kind'],
  id: string,
  from: LivenessEvent['from'],
  to: LivenessEvent['to'],
  reason: LivenessEvent['reason'],
): LivenessEvent {
  return { type: 'liveness', kind, id, from, to, reason, timestamp: new Date().toISOString() };
}
