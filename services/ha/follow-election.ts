import type { Logger } from '../logger.js';
import type { QueenRegistry } from '../queen/registry.js';
import type { StateStore, StoredState } from '../store/state-store.js';
import type { QueenElection } from './election.js';

/**
 * Judging follows the election: a queen that leads loads the state and gives every entry the restart grace before it
 * judges; one that stops leading stops judging at once.
 */
export function followElection(
  election: QueenElection,
  registry: QueenRegistry,
  store: StateStore,
  logger: Logger,
  setJudging: (judging: boolean) => void,
): void {
  let loading = false;
  let judging = false;
  const follow = (): void => {
    if (!election.judging()) {
      judging = false;
      setJudging(false);
      return;
    }
    if (judging || loading) return;
    loading = true;
    const lead = (loaded: StoredState): void => {
      loading = false;
      if (!election.judging()) return;
      registry.lead(loaded);
      judging = true;
      setJudging(true);
      logger.info('leading: state loaded', { hives: loaded.hives.length, workers: loaded.workers.length });
    };
    store.load().then(lead, (error: unknown) => {
      logger.error('leading: the state could not be loaded, judging from memory', { error });
      lead({ hives: [], workers: [] });
    });
  };
  election.onChange(follow);
  follow();
}
