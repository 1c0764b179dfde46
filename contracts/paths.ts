/** Every HTTP path of the protocol, imported by both the clients and the servers. */
export const QUEEN_PATHS = {
  hiveHeartbeat: '/v1/hive-heartbeat',
  workerHeartbeat: '/v1/worker-heartbeat',
  hives: '/v1/hives',
  hive: '/v1/hives/:id',
  hiveMetrics: '/v1/hives/:id/metrics',
  workers: '/v1/workers',
  worker: '/v1/workers/:id',
  stream: '/v1/heartbeats/stream',
  events: '/v1/events',
  health: '/health',
  metrics: '/metrics',
  dashboard: '/',
} as const;

export const HIVE_PATHS = {
  capabilities: '/capabilities',
  health: '/health',
  workers: '/v1/workers',
  worker: '/v1/workers/:id',
} as const;

export const WORKER_PATHS = {
  health: '/health',
  chatCompletions: '/v1/chat/completions',
  completions: '/v1/completions',
  models: '/v1/models',
} as const;

/** Fills the `:id` of a path template, escaping it. */
export function withId(template: string, id: string): string {
  return template.replace(':id', encodeURIComponent(id));
}
