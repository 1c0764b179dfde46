import type { MetricsHistory } from './metrics-history.js';
import type { QueenRegistry } from './registry.js';

/** Feeds the metrics history from the registry's changes: each accepted hive reading, and forgotten hives. */
export function feedMetricsHistory(registry: QueenRegistry, history: MetricsHistory): () => void {
  return registry.onChanges((kind, changes) => {
    if (kind !== 'hive') return;
    for (const change of changes) {
      if (change.type === 'liveness') {
        if (change.to === 'forgotten') history.forget(change.id);
        continue;
      }
      const entry = registry.hives.get(change.id);
      // A change that carried no new reading (discovery, expected) repeats the last time and is skipped.
      const reading = entry?.report?.monitor_data;
      if (reading && entry.seenWall !== null) history.record(change.id, entry.seenWall, reading);
    }
  });
}
