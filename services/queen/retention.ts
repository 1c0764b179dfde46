import type { Logger } from '../logger.js';
import type { StateStore } from '../store/state-store.js';

/** The history's retention: events older than the retention are pruned in the background, a few times a window. */
export interface PruningOptions {
  store: StateStore;
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
    options.store.prune(options.wallNow() - options.retentionMs).then(
      (pruned) => {
        if (pruned > 0) options.logger.debug('history pruned', { events: pruned });
      },
      (error: unknown) => options.logger.warn('pruning the history failed', { error }),
    );
  };
  prune();
  const timer = setInterval(prune, prunePeriodMs(options.retentionMs));
  timer.unref();
  return () => clearInterval(timer);
}
