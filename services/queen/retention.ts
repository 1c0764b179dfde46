import type { Logger } from '../logger.js';
import type { MetricsStore } from '../store/metrics-store.js';
import type { StateStore } from '../store/state-store.js';

/**
 * The history's retention: events, and archived metric minutes, older than the retention are pruned in the
 * background, a few times a window.
 */
export interface PruningOptions {
  store: StateStore;
  metrics?: MetricsStore | undefined;
  retentionMs: number;
  /** Epoch ms now. */
  wallNow: () => number;
  logger: Logger;
}

/** Prunes at most this far apart, however long the retention. */
const MAX_PERIOD_MS = 10 * 60_000;

export function prunePeriodMs(retentionMs: number): number {
  return Math.max(1, Math.min(MAX_PERIOD_MS, Math.floor(retentionMs / 4)));
}

/** Prunes once now and then every period; returns the stop. */
export function startPruning(options: PruningOptions): () => void {
  const prune = (): void => {
    const before = options.wallNow() - options.retentionMs;
    Promise.all([options.store.prune(before), options.metrics?.pruneMinutes(before) ?? 0]).then(
      ([events, minutes]) => {
        if (events + minutes > 0) options.logger.debug('history pruned', { events, minutes });
      },
      (error: unknown) => options.logger.warn('pruning the history failed', { error }),
    );
  };
  prune();
  const timer = setInterval(prune, prunePeriodMs(options.retentionMs));
  timer.unref();
  return () => clearInterval(timer);
}
