import type { WebhookAlert } from '../../contracts/alert.js';
import type { Alerts } from '../alerts/index.js';
import type { QueenRegistry } from './registry.js';

export interface AlertWatch {
  /**
   * Takes over the problems a former leader had open: each is resolved when its condition clears, the cluster's
   * degraded health under the id it was opened with.
   */
  adopt(open: readonly WebhookAlert[]): void;
  stop(): void;
}

/**
 * Feeds the alerts from the registries' changes: liveness, worker statuses, refused identities, the queen's health.
 * Only a queen that judges (`judging`, always by default) alerts: the leader's alerts are the cluster's.
 */
export function watchAlerts(
  registry: QueenRegistry,
  alerts: Alerts,
  queenEpoch: string,
  judging: () => boolean = () => true,
): AlertWatch {
  let degraded = false;
  let degradedId = queenEpoch;
  const stop = registry.onChanges((kind, changes) => {
    if (!judging()) return;
    for (const change of changes) {
      if (change.type === 'liveness') {
        alerts.observe({ type: 'liveness', kind, id: change.id, to: change.to, reason: change.reason });
        // Forgetting a hive resets its identity: a refusal has nothing left to be about.
        if (kind === 'hive' && change.to === 'forgotten') {
          alerts.observe({ type: 'identity', id: change.id, refused: false, reason: 'identity reset' });
        }
      } else if (change.type === 'identity_refused' && kind === 'hive') {
        const reason = `a heartbeat from ${change.source} did not carry the hive's secret`;
        alerts.observe({ type: 'identity', id: change.id, refused: true, reason });
      } else if (change.type === 'entry' && kind === 'worker') {
        const status = registry.workers.get(change.id)?.heartbeat.status;
        if (status) alerts.observe({ type: 'worker-status', id: change.id, status });
      }
    }
    if (kind !== 'hive') return;
    const { expectedCount, expectedOnline } = registry.hives;
    const now = expectedOnline < expectedCount;
    if (now === degraded) return;
    degraded = now;
    const reason = `${expectedOnline} of ${expectedCount} expected hives online`;
    alerts.observe({ type: 'queen-health', id: degradedId, degraded, reason });
    if (!degraded) degradedId = queenEpoch;
  });
  return {
    adopt(open) {
      alerts.adopt(open);
      const health = open.find((alert) => alert.event === 'queen_degraded');
      degraded = health !== undefined;
      degradedId = health?.id ?? queenEpoch;
    },
    stop,
  };
}
