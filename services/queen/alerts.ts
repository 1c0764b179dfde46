import type { Alerts } from '../alerts/index.js';
import type { QueenRegistry } from './registry.js';

/** Feeds the alerts from the registries' changes: liveness transitions, worker statuses and the queen's health. */
export function watchAlerts(registry: QueenRegistry, alerts: Alerts, queenEpoch: string): () => void {
  let degraded = false;
  return registry.onChanges((kind, changes) => {
    for (const change of changes) {
      if (change.type === 'liveness') {
        alerts.observe({ type: 'liveness', kind, id: change.id, to: change.to, reason: change.reason });
        continue;
      }
      const status = kind === 'worker' ? registry.workers.get(change.id)?.heartbeat.status : undefined;
      if (status) alerts.observe({ type: 'worker-status', id: change.id, status });
    }
    if (kind !== 'hive') return;
    const { expectedCount, expectedOnline } = registry.hives;
    const now = expectedOnline < expectedCount;
    if (now === degraded) return;
    degraded = now;
    const reason = `${expectedOnline} of ${expectedCount} expected hives online`;
    alerts.observe({ type: 'queen-health', id: queenEpoch, degraded, reason });
  });
}
