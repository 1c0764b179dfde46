import type { Logger } from '../logger.js';
import type { QueenMetrics } from '../metrics.js';
import type { QueenRegistry } from './registry.js';

/**
 * The registries' changes as logs and metrics: one line per liveness transition and per refused identity (once per
 * source and id), nothing per heartbeat.
 */
export function observeRegistry(registry: QueenRegistry, logger: Logger, metrics: QueenMetrics): () => void {
  return registry.onChanges((kind, changes) => {
    for (const change of changes) {
      if (change.type === 'entry') {
        if (change.intervalMs !== null) metrics.interArrival(kind, change.intervalMs);
        continue;
      }
      if (change.type === 'identity_refused') {
        logger.warn('heartbeat refused: identity not proven', { kind, id: change.id, source: change.source });
        continue;
      }
      if (change.type !== 'liveness') continue;
      metrics.transition(kind, change.to, change.reason);
      logger.info('liveness', { kind, id: change.id, from: change.from, to: change.to, reason: change.reason });
    }
  });
}
