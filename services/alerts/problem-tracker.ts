import type { WebhookAlert } from '../../contracts/alert.js';
import type { ProblemChange } from './alert-input.js';

export interface ProblemTrackerOptions {
  /** A problem that opens and resolves (or resolves and opens again) within this long sends nothing. */
  debounceMs: number;
  onAlert(alert: WebhookAlert): void;
  now?: () => Date;
}

export interface ProblemTracker {
  /** A problem opened or resolved; repeats of the state it is already in change nothing. */
  change(change: ProblemChange): void;
  /** Problems open now, the ones whose alert is still held included. */
  openCount(): number;
  /** Drops every timer: nothing is sent afterwards. */
  stop(): void;
}

/**
 * One state per problem: `opening` (opened, its alert held for the debounce), `open` (alert sent), `resolving`
 * (resolved after its alert was sent, the resolution held for the debounce). A flap inside the debounce cancels the
 * held alert, so each problem sends one `open` and one `resolved`, each stamped with when it really happened.
 */
export function createProblemTracker(options: ProblemTrackerOptions): ProblemTracker {
  const now = options.now ?? (() => new Date());
  const problems = new Map<string, Held>();
  let stopped = false;

  function hold(key: string, change: ProblemChange, stage: 'opening' | 'resolving'): void {
    const alert: WebhookAlert = {
      event: change.problem,
      state: stage === 'opening' ? 'open' : 'resolved',
      kind: change.kind,
      id: change.id,
      time: now().toISOString(),
      reason: change.reason,
    };
    const timer = setTimeout(() => {
      if (stage === 'opening') problems.set(key, { stage: 'open' });
      else problems.delete(key);
      options.onAlert(alert);
    }, options.debounceMs);
    timer.unref?.();
    problems.set(key, { stage, timer });
  }

  return {
    change(change) {
      if (stopped) return;
      const key = `${change.problem}\n${change.id}`;
      const held = problems.get(key);
      if (change.open) {
        if (held === undefined) hold(key, change, 'opening');
        else if (held.stage === 'resolving') {
          clearTimeout(held.timer);
          problems.set(key, { stage: 'open' });
        }
      } else if (held?.stage === 'opening') {
        clearTimeout(held.timer);
        problems.delete(key);
      } else if (held?.stage === 'open') hold(key, change, 'resolving');
    },
    openCount: () => [...problems.values()].filter((held) => held.stage !== 'resolving').length,
    stop() {
      stopped = true;
      for (const held of problems.values()) if (held.stage !== 'open') clearTimeout(held.timer);
      problems.clear();
    },
  };
}

type Held = { stage: 'open' } | { stage: 'opening' | 'resolving'; timer: ReturnType<typeof setTimeout> };
