import type { WorkerView } from '../contracts/registry.js';

/** One line of what a worker's engine reports (`llama.cpp · slots 1/4 · queue 2 · KV 31% · restarts 1`); null for none. */
export function engineSummary(worker: WorkerView): string | null {
  if (worker.engine === undefined) return null;
  const parts: string[] = [worker.engine];
  if (worker.slots_busy !== undefined) {
    parts.push(`slots ${worker.slots_busy}${worker.slots_total === undefined ? '' : `/${worker.slots_total}`}`);
  }
  if (worker.queue_depth !== undefined) parts.push(`queue ${worker.queue_depth}`);
  if (worker.kv_cache_usage !== undefined) parts.push(`KV ${Math.round(worker.kv_cache_usage * 100)}%`);
  if (worker.restarts) parts.push(`restarts ${worker.restarts}`);
  return parts.join(' · ');
}
